using System;
using System.Threading;

namespace Sanctuary.Demo;

/// <summary>An account whose balance and counters are plain fields guarded by <see cref="Lock"/>.</summary>
/// <remarks>
/// The fields are read and written without atomics on purpose: if the lock ever let two
/// holders in at once, updates would be lost and the reconciliation at the end would show it.
/// </remarks>
internal sealed class Account
{
    // 1 while a transfer is inside this account's critical section. Only the exclusion probe
    // touches it, with atomics, so it detects a second holder even when no update is lost.
    private int _occupied;

    public Account(int index, LockFairness fairness)
    {
        Index = index;
        Lock = new AsyncLock(new AsyncLockOptions { Name = $"account-{index}", Fairness = fairness });
        Balance = LedgerSettings.OpeningBalance;
    }

    public int Index { get; }

    public AsyncLock Lock { get; }

    /// <summary>Balance in cents. Guarded by <see cref="Lock"/>.</summary>
    public long Balance { get; set; }

    /// <summary>Number of committed transfers out of this account. Guarded by <see cref="Lock"/>.</summary>
    public long Debits { get; set; }

    /// <summary>Number of committed transfers into this account. Guarded by <see cref="Lock"/>.</summary>
    public long Credits { get; set; }

    /// <summary>Marks the critical section as entered and returns false if another holder is already inside.</summary>
    public bool TryEnterExclusive() => Interlocked.Exchange(ref _occupied, 1) == 0;

    public void ExitExclusive() => Volatile.Write(ref _occupied, 0);
}

/// <summary>The accounts of one run and an independent journal of every committed transfer.</summary>
internal sealed class Ledger
{
    private readonly Account[] _accounts;

    // The journal is updated with atomics outside the account locks, so it stays correct even
    // if the locks fail, and the accounts are reconciled against it at the end.
    private readonly long[] _journalNetChange;
    private readonly long[] _journalDebits;
    private readonly long[] _journalCredits;

    public Ledger(int accounts, LockFairness fairness)
    {
        _accounts = new Account[accounts];
        for (int i = 0; i < accounts; i++)
        {
            _accounts[i] = new Account(i, fairness);
        }

        _journalNetChange = new long[accounts];
        _journalDebits = new long[accounts];
        _journalCredits = new long[accounts];
    }

    public int Count => _accounts.Length;

    public Account this[int index] => _accounts[index];

    public ReadOnlySpan<Account> Accounts => _accounts;

    /// <summary>Records a committed transfer in the journal.</summary>
    public void Journal(int from, int to, long amount)
    {
        Interlocked.Add(ref _journalNetChange[from], -amount);
        Interlocked.Add(ref _journalNetChange[to], amount);
        Interlocked.Increment(ref _journalDebits[from]);
        Interlocked.Increment(ref _journalCredits[to]);
    }

    public long JournalNetChange(int account) => Volatile.Read(ref _journalNetChange[account]);

    public long JournalDebits(int account) => Volatile.Read(ref _journalDebits[account]);

    public long JournalCredits(int account) => Volatile.Read(ref _journalCredits[account]);

    public void DisposeLocks()
    {
        foreach (Account account in _accounts)
        {
            account.Lock.Dispose();
        }
    }
}
