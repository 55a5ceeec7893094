using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// A bank whose every piece of shared state is a named resource of one <see cref="ResourceRegistry"/>:
/// accounts (<c>account:N</c>, exclusive), the books as a whole (<c>books</c>, read/write), the rate
/// table (<c>fx-rates</c>, read/write), the settlement desk (<c>settlement</c>, by priority) and a pool
/// of export slots (<c>export-slots</c>).
/// </summary>
/// <remarks>
/// The fields are plain, guarded only by the leases, so a lease that let two holders in would
/// show up in the reconciliation, the live audits, the probes or the rate table check.
/// </remarks>
internal sealed class NamedBank
{
    public const int AccountCount = 100;
    public const long OpeningBalance = 10_000;
    public const string RatesId = "fx-rates";

    /// <summary>
    /// Id of the books, that is all account balances together. Every transfer holds it for reading,
    /// so transfers run side by side, and an audit holds it for writing, so no transfer is in
    /// flight while the audit sums the balances.
    /// </summary>
    public const string BooksId = "books";

    public const string SettlementId = "settlement";
    public const string PayrollId = "payroll";
    public const string ExportPoolId = "export-slots";
    public const long ExportSlots = 8;

    private readonly NamedAccount[] _accounts;
    private readonly long[] _journalNetChange;
    private long _tornRateReads;
    private long _fencingRegressions;
    private long _exclusionViolations;
    private long _slotsHeld;
    private long _peakSlotsHeld;
    private int _settlementInside;

    public NamedBank()
    {
        _accounts = new NamedAccount[AccountCount];
        for (int i = 0; i < _accounts.Length; i++)
        {
            _accounts[i] = new NamedAccount();
        }

        _journalNetChange = new long[AccountCount];
    }

    /// <summary>
    /// Returns the primitive that backs an id: a reader-writer lock for the rate table and the books,
    /// a priority lock for the settlement desk and payroll, and an exclusive lock for everything else.
    /// </summary>
    public static ResourceKind KindOf(string resourceId) => resourceId switch
    {
        RatesId or BooksId => ResourceKind.ReaderWriter,
        SettlementId or PayrollId => ResourceKind.Priority,
        _ => ResourceKind.Exclusive,
    };

    public static string AccountId(int index) => $"account:{index}";

    public NamedAccount this[int index] => _accounts[index];

    /// <summary>The rate table. Guarded by the <c>fx-rates</c> resource: read leases to read, a write lease to change.</summary>
    public RateTable Rates { get; } = new();

    /// <summary>Settlements made. Guarded by the <c>settlement</c> resource.</summary>
    public long Settlements { get; set; }

    public long ExpectedTotal => AccountCount * OpeningBalance;

    /// <summary>Reads of the rate table that saw a version and a rate that do not belong together.</summary>
    public long TornRateReads => Interlocked.Read(ref _tornRateReads);

    /// <summary>Account leases whose fencing token was not above the previous lease's token.</summary>
    public long FencingRegressions => Interlocked.Read(ref _fencingRegressions);

    public long ExclusionViolations => Interlocked.Read(ref _exclusionViolations);

    public long PeakSlotsHeld => Interlocked.Read(ref _peakSlotsHeld);

    public long SlotsHeld => Interlocked.Read(ref _slotsHeld);

    /// <summary>
    /// Moves <paramref name="amount"/> while the caller holds both accounts and read leases on the
    /// books and the rate table. A token of 0 means the caller does not know the lease's fencing token.
    /// </summary>
    /// <returns>Whether money moved (false: insufficient funds).</returns>
    public async ValueTask<bool> ApplyAsync(int from, int to, long amount, long fromToken, long toToken, bool awaitInside)
    {
        NamedAccount source = _accounts[from];
        NamedAccount target = _accounts[to];
        Enter(source);
        if (target != source)
        {
            Enter(target);
        }

        try
        {
            CheckFencing(source, fromToken);
            if (target != source)
            {
                CheckFencing(target, toToken);
            }

            // The rate table is read in two steps with an await between: a writer admitted next
            // to this reader would leave a version and a rate that do not match.
            long version = Rates.Version;
            if (awaitInside)
            {
                await Task.Yield();
            }

            if (Rates.Rate != RateTable.RateFor(version))
            {
                Interlocked.Increment(ref _tornRateReads);
            }

            long balance = source.Balance;
            if (balance < amount)
            {
                return false;
            }

            source.Balance = balance - amount;
            target.Balance += amount;
            Interlocked.Add(ref _journalNetChange[from], -amount);
            Interlocked.Add(ref _journalNetChange[to], amount);
            return true;
        }
        finally
        {
            source.Exit();
            if (target != source)
            {
                target.Exit();
            }
        }
    }

    public long JournalNetChange(int account) => Interlocked.Read(ref _journalNetChange[account]);

    public void EnterSettlement()
    {
        if (Interlocked.Exchange(ref _settlementInside, 1) != 0)
        {
            Interlocked.Increment(ref _exclusionViolations);
        }
    }

    public void ExitSettlement() => Volatile.Write(ref _settlementInside, 0);

    public void OnSlotsReserved(long units)
    {
        long reserved = Interlocked.Add(ref _slotsHeld, units);
        long peak = Interlocked.Read(ref _peakSlotsHeld);
        while (reserved > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peakSlotsHeld, reserved, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }
    }

    public void OnSlotsReleasing(long units) => Interlocked.Add(ref _slotsHeld, -units);

    private void Enter(NamedAccount account)
    {
        if (!account.TryEnter())
        {
            Interlocked.Increment(ref _exclusionViolations);
        }
    }

    private void CheckFencing(NamedAccount account, long token)
    {
        if (token == 0)
        {
            return;
        }

        if (token <= account.LastFencingToken)
        {
            Interlocked.Increment(ref _fencingRegressions);
        }

        account.LastFencingToken = token;
    }
}

/// <summary>An account of the named-resource bank. Guarded by its <c>account:N</c> lease.</summary>
internal sealed class NamedAccount
{
    private int _occupied;

    /// <summary>
    /// Balance, written under this account's lease and a read lease on <c>books</c>. Audits read it
    /// under a write lease on <c>books</c>.
    /// </summary>
    public long Balance { get; set; } = NamedBank.OpeningBalance;

    /// <summary>Fencing token of the last lease that wrote this account.</summary>
    public long LastFencingToken { get; set; }

    public bool TryEnter() => Interlocked.Exchange(ref _occupied, 1) == 0;

    public void Exit() => Volatile.Write(ref _occupied, 0);
}

/// <summary>A rate table whose rate must always belong to its version. Guarded by the <c>fx-rates</c> resource.</summary>
internal sealed class RateTable
{
    public long Version { get; set; }

    public long Rate { get; set; } = RateFor(0);

    public long Updates { get; set; }

    public static long RateFor(long version) => 10_000 + (version % 97);
}
