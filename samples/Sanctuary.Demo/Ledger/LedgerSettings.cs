using System;

namespace Sanctuary.Demo;

/// <summary>Parameters of the ledger section, as parsed from the command line.</summary>
/// <param name="Accounts">Number of accounts, each guarded by its own lock.</param>
/// <param name="Workers">Number of concurrent transfer loops.</param>
/// <param name="Duration">How long the workers keep starting new transfers.</param>
/// <param name="Fairness">Fairness mode of every account lock.</param>
/// <param name="TransferTimeout">Budget for taking both locks of a timed transfer.</param>
/// <param name="TimedPercent">Share of transfers, in percent, that use the timeout.</param>
/// <param name="Seed">Seed of the per-worker random number generators.</param>
internal sealed record LedgerSettings(
    int Accounts,
    int Workers,
    TimeSpan Duration,
    LockFairness Fairness,
    TimeSpan TransferTimeout,
    int TimedPercent,
    int Seed)
{
    /// <summary>Balance every account opens with, in cents.</summary>
    public const long OpeningBalance = 10_000;

    /// <summary>Maximum amount of one transfer, in cents. Amounts are uniform in 1..MaxAmount.</summary>
    public const int MaxAmount = 100;

    /// <summary>Share of account picks, in percent, that go to the hot accounts.</summary>
    /// <remarks>Real ledgers are skewed (a payroll or merchant account takes part in many transfers),
    /// and the skew is what makes locks contended and timeouts happen.</remarks>
    public const int HotPickPercent = 10;

    /// <summary>Share of accounts, in percent, that are hot (at least one account).</summary>
    public const int HotAccountPercent = 1;

    /// <summary>Share of transfers, in percent, that await once while holding their locks,
    /// as a write to a journal on disk would.</summary>
    public const int AwaitingTransferPercent = 25;

    /// <summary>Interval between two audits that take every lock and sum all balances.</summary>
    public static readonly TimeSpan AuditInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long the workers may take to finish after the stop before the run counts as hung.</summary>
    public static TimeSpan ShutdownGrace => Workload.ShutdownGrace;

    /// <summary>Number of accounts that receive the hot share of picks.</summary>
    public int HotAccounts => Math.Max(1, Accounts * HotAccountPercent / 100);

    /// <summary>Sum of all balances, which no transfer may change.</summary>
    public long ExpectedTotal => Accounts * OpeningBalance;
}
