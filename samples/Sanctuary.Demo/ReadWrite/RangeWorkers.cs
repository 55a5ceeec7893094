using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>A transfer loop: write-locks the ranges of two accounts in ascending order and moves money.</summary>
/// <remarks>Only this worker's flow writes its counters. Other threads read them with <c>Volatile.Read</c>.</remarks>
internal sealed class RangeWriter
{
    private readonly RangeLedger _ledger;
    private readonly Random _random;
    private long _committed;
    private long _rejected;
    private long _violations;

    public RangeWriter(int id, RangeLedger ledger, int seed)
    {
        _ledger = ledger;
        _random = new Random(HashCode.Combine(seed, "writer", id));
    }

    public long Committed => Volatile.Read(ref _committed);

    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Times this writer found a reader or another writer inside a range it had write-locked.</summary>
    public long Violations => Volatile.Read(ref _violations);

    public WaitRecorder Waits { get; } = new();

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            int from = PickAccount();
            int to = PickAccount();
            long amount = _random.Next(1, 101);
            bool awaitsWhileHolding = _random.Next(100) < ReadWriteSection.AwaitingTransferPercent;
            await TransferAsync(from, to, amount, awaitsWhileHolding, abortToken);
        }
    }

    // One pick in ten goes to the first range, so that it is hot and readers and writers meet there.
    private int PickAccount() =>
        _random.Next(10) == 0 ? _random.Next(_ledger.RangeSize) : _random.Next(_ledger.Accounts);

    private async Task TransferAsync(int from, int to, long amount, bool awaitsWhileHolding, CancellationToken abortToken)
    {
        AccountRange fromRange = _ledger.RangeOf(from);
        AccountRange toRange = _ledger.RangeOf(to);

        // Every flow takes range locks in ascending index order, so no cycle of waits can form.
        // A transfer inside one range takes its lock once: the lock is not reentrant.
        AccountRange first = fromRange.Index <= toRange.Index ? fromRange : toRange;
        AccountRange second = fromRange.Index <= toRange.Index ? toRange : fromRange;

        using AsyncReaderWriterLock.WriteLease firstLease = await AcquireWriteAsync(first, abortToken);
        using AsyncReaderWriterLock.WriteLease secondLease = second == first ? default : await AcquireWriteAsync(second, abortToken);
        if (!first.EnterWriter())
        {
            _violations++;
        }

        if (second != first && !second.EnterWriter())
        {
            _violations++;
        }

        try
        {
            int fromOffset = from - fromRange.First;
            int toOffset = to - toRange.First;
            long fromBalance = fromRange.Balances[fromOffset];
            if (fromBalance < amount)
            {
                _rejected++;
                return;
            }

            // The debit and the credit are apart, with an await between them for some transfers:
            // a reader let in meanwhile would find the source range short by the amount.
            fromRange.Balances[fromOffset] = fromBalance - amount;
            if (awaitsWhileHolding)
            {
                await Task.Yield();
            }

            toRange.Balances[toOffset] += amount;
            if (fromRange != toRange)
            {
                fromRange.NetTransferredIn -= amount;
                toRange.NetTransferredIn += amount;
            }

            _ledger.Journal(from, to, amount);
            _committed++;
        }
        finally
        {
            first.ExitWriter();
            if (second != first)
            {
                second.ExitWriter();
            }
        }
    }

    private async ValueTask<AsyncReaderWriterLock.WriteLease> AcquireWriteAsync(AccountRange range, CancellationToken abortToken)
    {
        long start = Stopwatch.GetTimestamp();
        ValueTask<AsyncReaderWriterLock.WriteLease> pending = range.Lock.AcquireWriteAsync(abortToken);
        bool completedAtOnce = pending.IsCompleted;
        AsyncReaderWriterLock.WriteLease lease = await pending;
        Waits.Record(start, completedAtOnce);
        return lease;
    }
}

/// <summary>
/// An auditor: read-locks a run of consecutive ranges in ascending order and checks that each
/// range adds up, so it would catch any reader admitted in the middle of a transfer.
/// </summary>
internal sealed class RangeAuditor
{
    private readonly RangeLedger _ledger;
    private readonly Random _random;
    private long _reads;
    private long _timedOut;
    private long _partialReads;
    private long _violations;
    private string? _firstPartialRead;

    public RangeAuditor(int id, RangeLedger ledger, int seed)
    {
        _ledger = ledger;
        _random = new Random(HashCode.Combine(seed, "auditor", id));
    }

    /// <summary>Ranges read and checked.</summary>
    public long Reads => Volatile.Read(ref _reads);

    /// <summary>Timed read acquires that gave up.</summary>
    public long TimedOut => Volatile.Read(ref _timedOut);

    /// <summary>Range reads whose sum did not match: the reader saw a partial transfer.</summary>
    public long PartialReads => Volatile.Read(ref _partialReads);

    /// <summary>Times this auditor found a writer inside a range it had read-locked.</summary>
    public long Violations => Volatile.Read(ref _violations);

    public string? FirstPartialRead => Volatile.Read(ref _firstPartialRead);

    public WaitRecorder Waits { get; } = new();

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        IReadOnlyList<AccountRange> all = _ledger.Ranges;
        var leases = new AsyncReaderWriterLock.ReadLease[ReadWriteSection.MaxRangesPerAudit];
        while (!stopToken.IsCancellationRequested)
        {
            int span = _random.Next(1, ReadWriteSection.MaxRangesPerAudit + 1);
            int start = _random.Next(Math.Max(1, all.Count - span + 1));
            span = Math.Min(span, all.Count - start);
            bool timed = _random.Next(100) < ReadWriteSection.TimedReadPercent;
            int acquired = 0;
            try
            {
                for (; acquired < span; acquired++)
                {
                    AccountRange range = all[start + acquired];
                    long begin = Stopwatch.GetTimestamp();
                    ValueTask<AsyncReaderWriterLock.ReadLease> pending = timed
                        ? range.Lock.TryAcquireReadAsync(ReadWriteSection.ReadTimeout, abortToken)
                        : range.Lock.AcquireReadAsync(abortToken);
                    bool completedAtOnce = pending.IsCompleted;
                    leases[acquired] = await pending;
                    if (!leases[acquired].IsHeld)
                    {
                        _timedOut++;
                        break;
                    }

                    Waits.Record(begin, completedAtOnce);
                }

                if (acquired < span)
                {
                    continue;
                }

                for (int i = 0; i < span; i++)
                {
                    await CheckRangeAsync(all[start + i]);
                }
            }
            finally
            {
                // Each read lease is released exactly once, in reverse order.
                for (int i = acquired - 1; i >= 0; i--)
                {
                    leases[i].Dispose();
                    leases[i] = default;
                }
            }
        }
    }

    private async ValueTask CheckRangeAsync(AccountRange range)
    {
        if (!range.EnterReader())
        {
            _violations++;
        }

        try
        {
            long sum = range.Sum();
            long expected = range.ExpectedSum;
            _reads++;
            if (sum != expected)
            {
                _partialReads++;
                Volatile.Write(ref _firstPartialRead, _firstPartialRead ?? $"range-{range.Index} summed to {sum:N0}, expected {expected:N0}");
            }

            // Half the reads stay a moment, so readers of one range overlap.
            if (_random.Next(2) == 0)
            {
                await Task.Yield();
            }
        }
        finally
        {
            range.ExitReader();
        }
    }
}

/// <summary>
/// A rebalancer: takes an upgradeable read on a range, looks for the richest and poorest account,
/// and upgrades to write only when the poorest has fallen below a floor. The range total does not change.
/// </summary>
internal sealed class RangeRebalancer
{
    private const long Floor = RangeLedger.OpeningBalance / 2;

    private readonly RangeLedger _ledger;
    private readonly Random _random;
    private long _inspections;
    private long _upgrades;
    private long _violations;

    public RangeRebalancer(RangeLedger ledger, int seed)
    {
        _ledger = ledger;
        _random = new Random(HashCode.Combine(seed, "rebalancer"));
    }

    public long Inspections => Volatile.Read(ref _inspections);

    public long Upgrades => Volatile.Read(ref _upgrades);

    public long Violations => Volatile.Read(ref _violations);

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            AccountRange range = _ledger.Ranges[_random.Next(_ledger.Ranges.Count)];
            using (AsyncReaderWriterLock.UpgradeableReadLease upgradeable = await range.Lock.AcquireUpgradeableReadAsync(abortToken))
            {
                if (!range.EnterReader())
                {
                    _violations++;
                }

                (int richest, int poorest) = Extremes(range.Balances);
                long gap = range.Balances[richest] - range.Balances[poorest];
                bool needed = range.Balances[poorest] < Floor;
                range.ExitReader();
                _inspections++;
                if (needed)
                {
                    // Plain readers may still be inside. The upgrade waits for them and goes ahead of queued writers.
                    using AsyncReaderWriterLock.WriteLease write = await upgradeable.UpgradeAsync(abortToken);
                    if (!range.EnterWriter())
                    {
                        _violations++;
                    }

                    long amount = gap / 2;
                    range.Balances[richest] -= amount;
                    range.Balances[poorest] += amount;
                    _ledger.Journal(range.First + richest, range.First + poorest, amount);
                    range.ExitWriter();
                    _upgrades++;
                }
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

    private static (int Richest, int Poorest) Extremes(long[] balances)
    {
        int richest = 0;
        int poorest = 0;
        for (int i = 1; i < balances.Length; i++)
        {
            if (balances[i] > balances[richest])
            {
                richest = i;
            }

            if (balances[i] < balances[poorest])
            {
                poorest = i;
            }
        }

        return (richest, poorest);
    }
}
