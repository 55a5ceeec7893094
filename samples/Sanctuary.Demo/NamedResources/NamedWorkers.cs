using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>A transfer loop of the bank on one <see cref="INamedTransferPath"/>.</summary>
internal sealed class NamedTransferWorker(int id, INamedTransferPath path, int seed)
{
    private readonly Random _random = new(HashCode.Combine(seed, "named transfer", id));
    private long _committed;
    private long _rejected;
    private long _unavailable;

    public INamedTransferPath Path => path;

    public long Committed => Volatile.Read(ref _committed);

    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Transfers that gave up because a resource stayed busy past the wait timeout.</summary>
    public long Unavailable => Volatile.Read(ref _unavailable);

    /// <summary>Time from the call until the work ran or the transfer gave up.</summary>
    public WaitTimeHistogram Durations { get; } = new();

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            int from = PickAccount();
            int to = PickAccount();
            long amount = _random.Next(1, 101);
            bool awaitInside = _random.Next(4) == 0;
            long start = Stopwatch.GetTimestamp();
            TransferOutcome outcome = await path.TransferAsync(from, to, amount, awaitInside, abortToken);
            Durations.Record(Stopwatch.GetTimestamp() - start);
            switch (outcome)
            {
                case TransferOutcome.Committed:
                    _committed++;
                    break;
                case TransferOutcome.Rejected:
                    _rejected++;
                    break;
                default:
                    _unavailable++;
                    break;
            }
        }
    }

    // One pick in five goes to the first five accounts, which makes them hot.
    private int PickAccount() => _random.Next(5) == 0 ? _random.Next(5) : _random.Next(NamedBank.AccountCount);
}

/// <summary>Publishes new rates: takes <c>fx-rates</c> for writing through a handle and changes the table in two steps.</summary>
internal sealed class RateFeed(ResourceHandle rates, NamedBank bank)
{
    private static readonly LeaseOptions s_options = new() { Mode = LeaseMode.Write, Owner = "rate-feed", Purpose = "publish rates" };

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            await using (await rates.AcquireAsync(s_options, abortToken))
            {
                // Version first, rate after an await: a reader let in meanwhile would see them disagree.
                long version = bank.Rates.Version + 1;
                bank.Rates.Version = version;
                await Task.Yield();
                bank.Rates.Rate = RateTable.RateFor(version);
                bank.Rates.Updates++;
            }

            try
            {
                await Task.Delay(2, stopToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>A settlement loop at one priority on the <c>settlement</c> resource, through <see cref="ResourceRegistry.RunAsync(string, Func{CancellationToken, Task}, LeaseOptions?, CancellationToken)"/>.</summary>
internal sealed class SettlementWorker
{
    private readonly ResourceRegistry _registry;
    private readonly NamedBank _bank;
    private readonly LeaseOptions _options;
    private readonly TimeSpan _pause;
    private long _settled;

    public SettlementWorker(ResourceRegistry registry, NamedBank bank, LockPriority priority)
    {
        _registry = registry;
        _bank = bank;
        Priority = priority;
        _options = new LeaseOptions
        {
            Priority = priority,
            Owner = $"settlement-{priority.ToString().ToLowerInvariant()}",
            Purpose = "net settlement",
            WaitTimeout = TimeSpan.FromSeconds(10),
        };

        // Urgent settlements are rare, and low ones (end-of-day batches) queue all the time.
        // NOTE: the registry's priority resources do not age their waiters, so the higher levels
        // must leave the desk idle part of the time or the low ones would starve.
        _pause = priority switch
        {
            LockPriority.Critical => TimeSpan.FromMilliseconds(12),
            LockPriority.High => TimeSpan.FromMilliseconds(8),
            LockPriority.Normal => TimeSpan.FromMilliseconds(4),
            _ => TimeSpan.Zero,
        };
    }

    public LockPriority Priority { get; }

    public long Settled => Volatile.Read(ref _settled);

    /// <summary>Time from the call until the work started, that is the wait for the resource.</summary>
    public WaitTimeHistogram Waits { get; } = new();

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            await _registry.RunAsync(
                NamedBank.SettlementId,
                async _ =>
                {
                    Waits.Record(Stopwatch.GetTimestamp() - start);
                    _bank.EnterSettlement();
                    try
                    {
                        // A settlement takes a millisecond or more, so the desk is busy and waiters queue.
                        long settled = _bank.Settlements;
                        await Task.Delay(1, CancellationToken.None);
                        _bank.Settlements = settled + 1;
                        _settled++;
                    }
                    finally
                    {
                        _bank.ExitSettlement();
                    }
                },
                _options,
                abortToken);

            if (_pause > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(_pause, stopToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>An export loop: reserves slots of the <c>export-slots</c> pool with a time-to-live and a purpose, works, returns them.</summary>
internal sealed class ExportWorker(ResourceRegistry registry, NamedBank bank, int id, int seed)
{
    private readonly Random _random = new(HashCode.Combine(seed, "export", id));
    private long _reservations;
    private long _unavailable;

    public long Reservations => Volatile.Read(ref _reservations);

    public long Unavailable => Volatile.Read(ref _unavailable);

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        int batch = 0;
        while (!stopToken.IsCancellationRequested)
        {
            long slots = _random.Next(2, 6);
            var options = new LeaseOptions
            {
                Owner = $"exporter-{id}",
                Purpose = $"export batch {++batch}",
                Priority = id == 0 ? LockPriority.High : LockPriority.Normal,
                TimeToLive = TimeSpan.FromSeconds(30),
                WaitTimeout = TimeSpan.FromSeconds(5),
            };

            ResourceLease reservation;
            try
            {
                reservation = await registry.ReserveAsync(NamedBank.ExportPoolId, slots, options, abortToken);
            }
            catch (ResourceUnavailableException)
            {
                _unavailable++;
                continue;
            }

            await using (reservation)
            {
                bank.OnSlotsReserved(reservation.Units);
                _reservations++;
                await Task.Delay(_random.Next(2, 6), CancellationToken.None);
                bank.OnSlotsReleasing(reservation.Units);
            }
        }
    }
}
