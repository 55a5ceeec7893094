using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>
/// What the priority workers share: a clearing lock (a <see cref="PriorityLock"/>) that every
/// posting passes through, and a pool of connections (a <see cref="CapacityPool"/>) that every
/// transfer and batch reserves from first.
/// </summary>
internal sealed class ClearingHouse : IDisposable
{
    private int _inside;
    private long _exclusionViolations;
    private long _unitsHeld;
    private long _peakUnitsHeld;

    public ClearingHouse(long connections, TimeSpan agingInterval)
    {
        Lock = new PriorityLock(new PriorityLockOptions { Name = "clearing", AgingInterval = agingInterval });
        Connections = new CapacityPool(connections, new CapacityPoolOptions { Name = "connections", AgingInterval = agingInterval });
    }

    public PriorityLock Lock { get; }

    public CapacityPool Connections { get; }

    /// <summary>Postings made. Guarded by <see cref="Lock"/>, updated without atomics on purpose.</summary>
    public long Postings { get; set; }

    /// <summary>Times a holder of the clearing lock found another holder inside.</summary>
    public long ExclusionViolations => Volatile.Read(ref _exclusionViolations);

    /// <summary>
    /// Most units that the workers held at once, by their own count: added after each grant and
    /// subtracted before each release, so it never exceeds what the pool had really handed out.
    /// </summary>
    public long PeakUnitsHeld => Volatile.Read(ref _peakUnitsHeld);

    public void EnterClearing()
    {
        if (Interlocked.Exchange(ref _inside, 1) != 0)
        {
            Interlocked.Increment(ref _exclusionViolations);
        }
    }

    public void ExitClearing() => Volatile.Write(ref _inside, 0);

    public void OnReserved(long units)
    {
        long reserved = Interlocked.Add(ref _unitsHeld, units);
        long peak = Volatile.Read(ref _peakUnitsHeld);
        while (reserved > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peakUnitsHeld, reserved, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }
    }

    public void OnReleasing(long units) => Interlocked.Add(ref _unitsHeld, -units);

    public void Dispose()
    {
        Lock.Dispose();
        Connections.Dispose();
    }
}

/// <summary>
/// One loop at one priority. A transfer reserves one connection, then posts under the clearing
/// lock. A batch reserves several connections, works with them a moment, then posts.
/// </summary>
internal sealed class PriorityWorker
{
    private readonly ClearingHouse _house;
    private readonly Random _random;
    private long _postings;

    public PriorityWorker(int id, LockPriority priority, bool isBatch, ClearingHouse house, int seed)
    {
        Priority = priority;
        IsBatch = isBatch;
        _house = house;
        _random = new Random(HashCode.Combine(seed, "priority", id));
    }

    public LockPriority Priority { get; }

    public bool IsBatch { get; }

    public long Postings => Volatile.Read(ref _postings);

    public WaitRecorder LockWaits { get; } = new();

    public WaitRecorder PoolWaits { get; } = new();

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            long units = IsBatch ? _random.Next(PrioritySection.MinBatchUnits, PrioritySection.MaxBatchUnits + 1) : 1;
            long start = Stopwatch.GetTimestamp();
            ValueTask<CapacityPool.Reservation> reserving = _house.Connections.ReserveAsync(units, Priority, abortToken);
            bool reservedAtOnce = reserving.IsCompleted;
            using (CapacityPool.Reservation reservation = await reserving)
            {
                PoolWaits.Record(start, reservedAtOnce);
                _house.OnReserved(units);
                try
                {
                    if (IsBatch)
                    {
                        await Task.Delay(_random.Next(1, 4), CancellationToken.None);
                    }

                    await PostAsync(abortToken);
                }
                finally
                {
                    _house.OnReleasing(units);
                }
            }

            // Urgent work is rare: critical and high transfers pause between postings.
            TimeSpan pause = Priority switch
            {
                LockPriority.Critical => TimeSpan.FromMilliseconds(2),
                LockPriority.High => TimeSpan.FromMilliseconds(1),
                _ => TimeSpan.Zero,
            };
            if (pause > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(pause, stopToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PostAsync(CancellationToken abortToken)
    {
        long start = Stopwatch.GetTimestamp();
        ValueTask<PriorityLock.Lease> acquiring = _house.Lock.AcquireAsync(Priority, abortToken);
        bool acquiredAtOnce = acquiring.IsCompleted;
        using PriorityLock.Lease lease = await acquiring;
        LockWaits.Record(start, acquiredAtOnce);
        _house.EnterClearing();
        try
        {
            // Read, maybe yield, write: a second holder would lose an update or be caught by the probe.
            long postings = _house.Postings;
            if (_random.Next(4) == 0)
            {
                await Task.Yield();
            }

            _house.Postings = postings + 1;
            _postings++;
        }
        finally
        {
            _house.ExitClearing();
        }
    }
}

/// <summary>Sampler of the pool's reserved units, read about every millisecond, for the utilization figures.</summary>
internal sealed class UtilizationSampler(CapacityPool pool)
{
    private long _samples;
    private double _sumUtilization;
    private long _peakReserved;
    private long _overTotal;

    public long Samples => _samples;

    public double MeanUtilization => _samples == 0 ? 0 : _sumUtilization / _samples;

    public long PeakReserved => _peakReserved;

    /// <summary>Samples in which the pool reported more units reserved than its total.</summary>
    public long OverTotal => _overTotal;

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            long reserved = pool.Reserved;
            _samples++;
            _sumUtilization += (double)reserved / pool.Total;
            _peakReserved = Math.Max(_peakReserved, reserved);
            if (reserved > pool.Total)
            {
                _overTotal++;
            }

            try
            {
                await Task.Delay(1, stopToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
