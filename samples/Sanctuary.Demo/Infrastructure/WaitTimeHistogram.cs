using System;
using System.Diagnostics;
using System.Numerics;

namespace Sanctuary.Demo;

/// <summary>
/// Log-linear histogram of durations in <see cref="Stopwatch"/> ticks, with a relative error under
/// 1/64 (about 1.6 %) and a fixed size, so tens of millions of samples cost no memory growth.
/// </summary>
/// <remarks>Not thread-safe: each worker records into its own histogram, and the run merges them at the end.</remarks>
internal sealed class WaitTimeHistogram
{
    // Bucket layout: values below 128 ticks get one bucket each. A larger value is split into
    // its top 7 bits (64..127) and a shift of 1..56, because a non-negative long has at most
    // 63 bits. Each shift owns 64 buckets, so bucket i >= 128 covers [top << shift, (top + 1) << shift).
    private const int ExactBuckets = 128;
    private const int SubBuckets = 64;
    private const int MaxShift = 56;
    private const int BucketCount = ExactBuckets + (MaxShift * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long MaxTicks { get; private set; }

    public void Record(long ticks)
    {
        ticks = Math.Max(0, ticks);
        _counts[BucketOf(ticks)]++;
        Count++;
        MaxTicks = Math.Max(MaxTicks, ticks);
    }

    public void Add(WaitTimeHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxTicks = Math.Max(MaxTicks, other.MaxTicks);
    }

    /// <summary>Returns the upper bound of the bucket that contains the given quantile (0..1), capped at the maximum.</summary>
    public long QuantileTicks(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1.0);
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBoundOf(i), MaxTicks);
            }
        }

        return MaxTicks;
    }

    private static int BucketOf(long ticks)
    {
        if (ticks < ExactBuckets)
        {
            return (int)ticks;
        }

        int mostSignificantBit = 63 - BitOperations.LeadingZeroCount((ulong)ticks);
        int shift = mostSignificantBit - 6;
        int top = (int)(ticks >> shift);
        return ExactBuckets + ((shift - 1) * SubBuckets) + (top - SubBuckets);
    }

    private static long UpperBoundOf(int bucket)
    {
        if (bucket < ExactBuckets)
        {
            return bucket;
        }

        int shift = ((bucket - ExactBuckets) / SubBuckets) + 1;
        ulong top = (ulong)(((bucket - ExactBuckets) % SubBuckets) + SubBuckets);

        // Computed unsigned because the last bucket ends at 2^63, one past long.MaxValue.
        return (long)(((top + 1) << shift) - 1);
    }
}
