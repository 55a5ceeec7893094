using System;
using System.Threading;

namespace Sanctuary.Resources;

/// <summary>
/// Settings of an all-or-nothing acquire of several resources.
/// </summary>
public sealed record MultiAcquireOptions
{
    private readonly TimeSpan _waitTimeout = Timeout.InfiniteTimeSpan;
    private readonly LeaseOptions _lease = LeaseOptions.Default;

    /// <summary>Options with every default: one attempt, no limit on the wait.</summary>
    public static MultiAcquireOptions Default { get; } = new();

    /// <summary>
    /// Longest wait for the whole set, shared by every resource and every attempt.
    /// <see cref="Timeout.InfiniteTimeSpan"/> (the default) waits without a limit. The
    /// <see cref="LeaseOptions.WaitTimeout"/> of <see cref="Lease"/> is ignored.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not infinite.</exception>
    public TimeSpan WaitTimeout
    {
        get => _waitTimeout;
        init => _waitTimeout = value >= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(WaitTimeout), value, $"WaitTimeout must be TimeSpan.Zero or more, or Timeout.InfiniteTimeSpan, but was {value}.");
    }

    /// <summary>
    /// Priority, time-to-live, heartbeat, owner and purpose of every lease of the set. The mode
    /// comes from each <see cref="ResourceRequest"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public LeaseOptions Lease
    {
        get => _lease;
        init => _lease = value ?? throw new ArgumentNullException(nameof(Lease), "Lease cannot be null. Use LeaseOptions.Default.");
    }

    /// <summary>
    /// Retry after a failed attempt, or <see langword="null"/> (the default) for one attempt.
    /// </summary>
    public RetryPolicy? Retry { get; init; }
}

/// <summary>
/// Exponential backoff with jitter between the attempts of a multi-resource acquire. An
/// attempt that cannot get every resource within <see cref="AttemptTimeout"/> releases what it
/// took, waits, and starts over, until the set's overall wait timeout runs out or
/// <see cref="MaxAttempts"/> attempts have failed.
/// </summary>
public sealed record RetryPolicy
{
    private readonly int _maxAttempts = 5;
    private readonly TimeSpan _attemptTimeout = TimeSpan.FromMilliseconds(100);
    private readonly TimeSpan _initialDelay = TimeSpan.FromMilliseconds(10);
    private readonly TimeSpan _maxDelay = TimeSpan.FromSeconds(1);
    private readonly double _multiplier = 2.0;
    private readonly double _jitter = 0.5;

    /// <summary>Attempts in all, the first included. Must be at least 1; the default is 5.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, $"MaxAttempts must be at least 1, but was {value}.");
    }

    /// <summary>Longest wait of one attempt for the whole set. Must be more than zero; the default is 100 ms.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout;
        init => _attemptTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), value, $"AttemptTimeout must be more than zero, but was {value}.");
    }

    /// <summary>Delay after the first failed attempt, before jitter. The default is 10 ms.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan InitialDelay
    {
        get => _initialDelay;
        init => _initialDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(InitialDelay), value, $"InitialDelay must be TimeSpan.Zero or more, but was {value}.");
    }

    /// <summary>Cap of the delay, before jitter. The default is 1 s.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxDelay), value, $"MaxDelay must be TimeSpan.Zero or more, but was {value}.");
    }

    /// <summary>Factor by which the delay grows after each failed attempt. At least 1; the default is 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or not a number.</exception>
    public double Multiplier
    {
        get => _multiplier;
        init => _multiplier = value >= 1.0 ? value : throw new ArgumentOutOfRangeException(nameof(Multiplier), value, $"Multiplier must be 1 or more, but was {value}.");
    }

    /// <summary>
    /// Fraction of each delay that is random, from 0 (none) to 1 (the delay is uniform between
    /// zero and its computed value). The default is 0.5. Jitter keeps contenders that failed
    /// together from retrying together.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0 to 1.</exception>
    public double Jitter
    {
        get => _jitter;
        init => _jitter = value is >= 0.0 and <= 1.0 ? value : throw new ArgumentOutOfRangeException(nameof(Jitter), value, $"Jitter must be between 0 and 1, but was {value}.");
    }

    /// <summary>The delay before attempt <paramref name="failedAttempts"/> + 1, jitter drawn from <paramref name="random"/>.</summary>
    internal TimeSpan DelayAfter(int failedAttempts, Random random)
    {
        double ticks = _initialDelay.Ticks * Math.Pow(_multiplier, Math.Max(0, failedAttempts - 1));
        ticks = Math.Min(ticks, _maxDelay.Ticks);
        ticks -= ticks * _jitter * random.NextDouble();
        return TimeSpan.FromTicks((long)Math.Max(0, ticks));
    }
}
