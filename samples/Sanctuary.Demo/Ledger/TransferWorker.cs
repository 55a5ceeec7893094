using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>One transfer loop: picks two accounts, takes their locks in canonical order and moves money.</summary>
/// <remarks>
/// Only this worker's own flow writes the counters. The progress view reads them from another
/// thread with <c>Volatile.Read</c>, which is enough for monotonic 64-bit counters.
/// </remarks>
internal sealed class TransferWorker
{
    private readonly Ledger _ledger;
    private readonly LedgerSettings _settings;
    private readonly Random _random;
    private readonly long _timeoutTicks;

    private long _committed;
    private long _rejected;
    private long _timedOut;
    private long _exclusionViolations;

    public TransferWorker(int id, Ledger ledger, LedgerSettings settings)
    {
        _ledger = ledger;
        _settings = settings;
        _random = new Random(HashCode.Combine(settings.Seed, id));
        _timeoutTicks = (long)(settings.TransferTimeout.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Transfers that moved money.</summary>
    public long Committed => Volatile.Read(ref _committed);

    /// <summary>Transfers that took both locks but found too little money in the source account.</summary>
    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Timed transfers that could not take both locks within the transfer timeout.</summary>
    public long TimedOut => Volatile.Read(ref _timedOut);

    /// <summary>Times this worker found another holder inside a critical section that it had just locked.</summary>
    public long ExclusionViolations => Volatile.Read(ref _exclusionViolations);

    /// <summary>Wait times of every granted acquire, from the call until the lease was in hand.</summary>
    public WaitTimeHistogram AllWaits { get; } = new();

    /// <summary>Wait times of the granted acquires that did not complete at once (the lock was contended).</summary>
    public WaitTimeHistogram ContendedWaits { get; } = new();

    /// <summary>
    /// Runs transfers until <paramref name="stopToken"/> is cancelled. <paramref name="abortToken"/>
    /// cancels acquires that are still waiting, which only happens when the run has hung.
    /// </summary>
    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            int from = PickAccount();
            int to = PickAccount();
            long amount = _random.Next(1, LedgerSettings.MaxAmount + 1);
            bool timed = _random.Next(100) < _settings.TimedPercent;
            bool awaitsWhileHolding = _random.Next(100) < LedgerSettings.AwaitingTransferPercent;

            await TransferAsync(from, to, amount, timed, awaitsWhileHolding, abortToken);
        }
    }

    private int PickAccount()
    {
        int hot = _settings.HotAccounts;
        return _random.Next(100) < LedgerSettings.HotPickPercent
            ? _random.Next(hot)
            : _random.Next(_settings.Accounts);
    }

    private async Task TransferAsync(int from, int to, long amount, bool timed, bool awaitsWhileHolding, CancellationToken abortToken)
    {
        // Canonical order: the lower index first. Every flow (transfers and the audit) takes
        // locks in ascending index order, so no cycle of waits can form. A transfer to the same
        // account takes its one lock once, because the lock is not reentrant.
        Account first = _ledger[Math.Min(from, to)];
        Account second = _ledger[Math.Max(from, to)];
        long deadline = timed ? Stopwatch.GetTimestamp() + _timeoutTicks : long.MaxValue;

        AsyncLock.Lease firstLease = await AcquireAsync(first.Lock, timed, deadline, abortToken);
        if (!firstLease.IsHeld)
        {
            _timedOut++;
            return;
        }

        using (firstLease)
        {
            AsyncLock.Lease secondLease = default;
            if (second != first)
            {
                secondLease = await AcquireAsync(second.Lock, timed, deadline, abortToken);
                if (!secondLease.IsHeld)
                {
                    _timedOut++;
                    return;
                }
            }

            // Disposing the default lease of a same-account transfer does nothing.
            using (secondLease)
            {
                await ApplyAsync(_ledger[from], _ledger[to], amount, awaitsWhileHolding);
            }
        }
    }

    private async ValueTask<AsyncLock.Lease> AcquireAsync(AsyncLock accountLock, bool timed, long deadline, CancellationToken abortToken)
    {
        long start = Stopwatch.GetTimestamp();
        ValueTask<AsyncLock.Lease> pending;
        if (!timed)
        {
            pending = accountLock.AcquireAsync(abortToken);
        }
        else if (deadline <= start)
        {
            // The first lock used up the whole budget: take the second only if it is free now.
            if (!accountLock.TryAcquire(out AsyncLock.Lease now))
            {
                return default;
            }

            AllWaits.Record(Stopwatch.GetTimestamp() - start);
            return now;
        }
        else
        {
            pending = accountLock.TryAcquireAsync(Stopwatch.GetElapsedTime(start, deadline), abortToken);
        }

        bool completedAtOnce = pending.IsCompleted;
        AsyncLock.Lease lease = await pending;
        if (lease.IsHeld)
        {
            long waited = Stopwatch.GetTimestamp() - start;
            AllWaits.Record(waited);
            if (!completedAtOnce)
            {
                ContendedWaits.Record(waited);
            }
        }

        return lease;
    }

    private async ValueTask ApplyAsync(Account from, Account to, long amount, bool awaitsWhileHolding)
    {
        // The probe must see this flow alone in both critical sections.
        if (!from.TryEnterExclusive())
        {
            _exclusionViolations++;
        }

        if (to != from && !to.TryEnterExclusive())
        {
            _exclusionViolations++;
        }

        try
        {
            // Read, then write later, with an await in between for some transfers: a second
            // holder of either lock would overwrite this update or have its own overwritten.
            long fromBalance = from.Balance;
            if (awaitsWhileHolding)
            {
                await Task.Yield();
            }

            if (fromBalance < amount)
            {
                _rejected++;
                return;
            }

            from.Balance = fromBalance - amount;
            to.Balance += amount;
            from.Debits++;
            to.Credits++;
            _ledger.Journal(from.Index, to.Index, amount);
            _committed++;
        }
        finally
        {
            from.ExitExclusive();
            to.ExitExclusive();
        }
    }
}
