using System;
using System.Collections.Generic;
using System.Linq;

namespace Sanctuary.Demo;

/// <summary>The checks of the ledger section, run once the workers have stopped.</summary>
internal static class LedgerChecks
{
    public static IReadOnlyList<InvariantCheck> Run(
        Ledger ledger,
        LedgerSettings settings,
        IReadOnlyList<TransferWorker> workers,
        int audits,
        int failedAudits,
        bool hung,
        IReadOnlyList<string> hungLocks,
        IReadOnlyList<string> faults)
    {
        var checks = new List<InvariantCheck>();

        // The final snapshot is read under each account's own lock, taken with the synchronous
        // try-acquire. After the stop no flow may hold a lock, so every try must succeed at once.
        var balances = new long[ledger.Count];
        var debits = new long[ledger.Count];
        var credits = new long[ledger.Count];
        checks.Add(CheckLocksFree(ledger, balances, debits, credits));

        checks.Add(CheckWorkersFinished(workers.Count, hung, hungLocks, faults));
        checks.Add(CheckTotal(balances, settings));
        checks.Add(CheckBalancesReconcile(ledger, balances));
        checks.Add(CheckCountsReconcile(ledger, debits, credits, workers.Sum(worker => worker.Committed)));
        checks.Add(CheckExclusion(workers));
        checks.Add(CheckAudits(audits, failedAudits, settings));
        return checks;
    }

    private static InvariantCheck CheckLocksFree(Ledger ledger, long[] balances, long[] debits, long[] credits)
    {
        const string Name = "Locks free after stop";
        var busy = new List<string>();
        foreach (Account account in ledger.Accounts)
        {
            int waiting = account.Lock.WaitingCount;
            using AsyncLock.Scope scope = account.Lock.TryAcquire(TimeSpan.Zero);
            if (!scope.IsHeld || waiting != 0)
            {
                busy.Add($"{account.Lock.Name} (acquired: {scope.IsHeld}, waiting: {waiting})");
            }

            balances[account.Index] = account.Balance;
            debits[account.Index] = account.Debits;
            credits[account.Index] = account.Credits;
        }

        return busy.Count == 0
            ? new(Name, CheckStatus.Passed, $"all {ledger.Count:N0} acquired at once, no waiters")
            : new(Name, CheckStatus.Failed, $"{busy.Count:N0} busy, first: {string.Join(", ", busy.Take(3))}");
    }

    private static InvariantCheck CheckWorkersFinished(int workers, bool hung, IReadOnlyList<string> hungLocks, IReadOnlyList<string> faults)
    {
        const string Name = "Workers finished";
        if (faults.Count > 0)
        {
            return new(Name, CheckStatus.Failed, $"{faults.Count} failed, first: {faults[0]}");
        }

        if (hung)
        {
            string locks = hungLocks.Count == 0
                ? "no lock was held or waited on"
                : $"{hungLocks.Count:N0} locks were busy, first: {string.Join(", ", hungLocks.Take(3))}";
            return new(Name, CheckStatus.Failed,
                $"still running {LedgerSettings.ShutdownGrace.TotalSeconds:N0} s after the stop (a lost wake-up?); {locks}");
        }

        return new(Name, CheckStatus.Passed, $"{workers:N0} workers stopped within {LedgerSettings.ShutdownGrace.TotalSeconds:N0} s");
    }

    private static InvariantCheck CheckTotal(long[] balances, LedgerSettings settings)
    {
        const string Name = "Total balance unchanged";
        long total = balances.Sum();
        return total == settings.ExpectedTotal
            ? new(Name, CheckStatus.Passed, $"{total:N0} = {settings.Accounts:N0} x {LedgerSettings.OpeningBalance:N0}")
            : new(Name, CheckStatus.Failed, $"{total:N0}, expected {settings.ExpectedTotal:N0} (difference {total - settings.ExpectedTotal:N0})");
    }

    private static InvariantCheck CheckBalancesReconcile(Ledger ledger, long[] balances)
    {
        const string Name = "Balances match journal";
        int mismatched = 0;
        string? first = null;
        for (int i = 0; i < balances.Length; i++)
        {
            long expected = LedgerSettings.OpeningBalance + ledger.JournalNetChange(i);
            if (balances[i] != expected)
            {
                mismatched++;
                first ??= $"account-{i} has {balances[i]:N0}, journal says {expected:N0}";
            }
        }

        return mismatched == 0
            ? new(Name, CheckStatus.Passed, $"all {balances.Length:N0} accounts, no update lost")
            : new(Name, CheckStatus.Failed, $"{mismatched:N0} accounts differ, first: {first}");
    }

    private static InvariantCheck CheckCountsReconcile(Ledger ledger, long[] debits, long[] credits, long committed)
    {
        const string Name = "Transfer counts match";
        int mismatched = 0;
        string? first = null;
        for (int i = 0; i < debits.Length; i++)
        {
            long journalDebits = ledger.JournalDebits(i);
            long journalCredits = ledger.JournalCredits(i);
            if (debits[i] != journalDebits || credits[i] != journalCredits)
            {
                mismatched++;
                first ??= $"account-{i} counted {debits[i]:N0} out / {credits[i]:N0} in, journal {journalDebits:N0} / {journalCredits:N0}";
            }
        }

        long totalDebits = debits.Sum();
        long totalCredits = credits.Sum();
        if (mismatched > 0)
        {
            return new(Name, CheckStatus.Failed, $"{mismatched:N0} accounts differ, first: {first}");
        }

        return totalDebits == committed && totalCredits == committed
            ? new(Name, CheckStatus.Passed, $"{committed:N0} transfers = debits = credits")
            : new(Name, CheckStatus.Failed, $"{committed:N0} committed, but {totalDebits:N0} debits and {totalCredits:N0} credits");
    }

    private static InvariantCheck CheckExclusion(IReadOnlyList<TransferWorker> workers)
    {
        const string Name = "One holder at a time";
        long violations = workers.Sum(worker => worker.ExclusionViolations);
        return violations == 0
            ? new(Name, CheckStatus.Passed, "no section entered while occupied")
            : new(Name, CheckStatus.Failed, $"{violations:N0} entries found another holder inside");
    }

    private static InvariantCheck CheckAudits(int audits, int failedAudits, LedgerSettings settings)
    {
        const string Name = "Snapshots during run";
        if (audits == 0)
        {
            return new(Name, CheckStatus.Skipped, $"no audit ran (one runs every {LedgerSettings.AuditInterval.TotalSeconds:N0} s)");
        }

        return failedAudits == 0
            ? new(Name, CheckStatus.Passed, $"{audits:N0} {(audits == 1 ? "audit" : "audits")} of all {settings.Accounts:N0} locks saw the total")
            : new(Name, CheckStatus.Failed, $"{failedAudits:N0} of {audits:N0} audits saw a wrong total");
    }
}
