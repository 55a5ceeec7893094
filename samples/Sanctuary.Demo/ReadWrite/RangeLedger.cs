using System;
using System.Collections.Generic;
using System.Threading;

namespace Sanctuary.Demo;

/// <summary>
/// A contiguous range of accounts guarded by one <see cref="AsyncReaderWriterLock"/>: transfers
/// write under it, auditors read under it.
/// </summary>
/// <remarks>
/// <para>
/// Balances and <see cref="NetTransferredIn"/> are plain fields, read and written without atomics
/// on purpose. Every transfer keeps the invariant "sum of balances = opening total + net
/// transferred in" for each range it touches, but breaks it for a moment in the middle (after the
/// debit, before the credit). A reader that ever saw that moment saw a partial transfer.
/// </para>
/// <para>
/// The probes count holders with atomics, apart from the lock, so a reader admitted next to a
/// writer (or two writers together) is detected even when no sum comes out wrong.
/// </para>
/// </remarks>
internal sealed class AccountRange
{
    private int _readersInside;
    private int _writerInside;
    private int _peakReaders;

    public AccountRange(int index, int first, int count)
    {
        Index = index;
        First = first;
        Balances = new long[count];
        Array.Fill(Balances, RangeLedger.OpeningBalance);
        Lock = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = $"range-{index}" });
    }

    public int Index { get; }

    /// <summary>Global index of the first account of the range.</summary>
    public int First { get; }

    public int Count => Balances.Length;

    public AsyncReaderWriterLock Lock { get; }

    /// <summary>Balances in cents. Guarded by <see cref="Lock"/>.</summary>
    public long[] Balances { get; }

    /// <summary>Net amount moved into this range from other ranges. Guarded by <see cref="Lock"/>.</summary>
    public long NetTransferredIn { get; set; }

    /// <summary>Most readers seen inside the range at once.</summary>
    public int PeakReaders => Volatile.Read(ref _peakReaders);

    /// <summary>What the balances must add up to whenever no writer is inside.</summary>
    public long ExpectedSum => (Count * RangeLedger.OpeningBalance) + NetTransferredIn;

    public long Sum()
    {
        long sum = 0;
        foreach (long balance in Balances)
        {
            sum += balance;
        }

        return sum;
    }

    /// <summary>Marks a reader inside and returns false if a writer is inside too.</summary>
    public bool EnterReader()
    {
        int readers = Interlocked.Increment(ref _readersInside);
        int peak = Volatile.Read(ref _peakReaders);
        while (readers > peak)
        {
            int seen = Interlocked.CompareExchange(ref _peakReaders, readers, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }

        return Volatile.Read(ref _writerInside) == 0;
    }

    public void ExitReader() => Interlocked.Decrement(ref _readersInside);

    /// <summary>Marks the writer inside and returns false if another writer or any reader is inside too.</summary>
    public bool EnterWriter()
    {
        bool alone = Interlocked.Exchange(ref _writerInside, 1) == 0;
        return alone && Volatile.Read(ref _readersInside) == 0;
    }

    public void ExitWriter() => Volatile.Write(ref _writerInside, 0);
}

/// <summary>The ranges of one read/write run and an independent journal of every committed move.</summary>
internal sealed class RangeLedger
{
    /// <summary>Balance every account opens with, in cents.</summary>
    public const long OpeningBalance = 10_000;

    private readonly AccountRange[] _ranges;

    // Updated with atomics outside the locks, so it stays correct even if the locks fail.
    private readonly long[] _journalNetChange;

    public RangeLedger(int accounts, int rangeSize)
    {
        Accounts = accounts;
        RangeSize = rangeSize;
        int count = (accounts + rangeSize - 1) / rangeSize;
        _ranges = new AccountRange[count];
        for (int i = 0; i < count; i++)
        {
            int first = i * rangeSize;
            _ranges[i] = new AccountRange(i, first, Math.Min(rangeSize, accounts - first));
        }

        _journalNetChange = new long[accounts];
    }

    public int Accounts { get; }

    public int RangeSize { get; }

    public IReadOnlyList<AccountRange> Ranges => _ranges;

    public long ExpectedTotal => Accounts * OpeningBalance;

    public AccountRange RangeOf(int account) => _ranges[account / RangeSize];

    public void Journal(int from, int to, long amount)
    {
        Interlocked.Add(ref _journalNetChange[from], -amount);
        Interlocked.Add(ref _journalNetChange[to], amount);
    }

    public long JournalNetChange(int account) => Volatile.Read(ref _journalNetChange[account]);

    public void DisposeLocks()
    {
        foreach (AccountRange range in _ranges)
        {
            range.Lock.Dispose();
        }
    }
}
