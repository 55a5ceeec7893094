using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>
/// Workflow 2, reader-writer locks: accounts in ranges, one <see cref="AsyncReaderWriterLock"/> per
/// range. Transfers write-lock the ranges they touch, and auditors read-lock runs of ranges and check
/// that each adds up. A rebalancer upgrades from an upgradeable read, and a full audit read-locks all.
/// </summary>
internal sealed class ReadWriteSection : IDemoSection
{
    public const int Accounts = 1_000;
    public const int RangeSize = 50;
    public const int Writers = 24;
    public const int Auditors = 8;
    public const int MaxRangesPerAudit = 4;
    public const int TimedReadPercent = 25;
    public const int AwaitingTransferPercent = 25;
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(5);
    public static readonly TimeSpan FullAuditInterval = TimeSpan.FromSeconds(1);

    public string Key => "rw";

    public string Title => "Read/write: AsyncReaderWriterLock per account range";

    public string Summary =>
        "Transfers write-lock the ranges they touch while auditors read-lock runs of ranges and check every "
        + "range's sum; no reader may ever see half a transfer.";

    public async Task<SectionReport> RunAsync(SectionContext context)
    {
        var ledger = new RangeLedger(Accounts, RangeSize);
        var writers = Enumerable.Range(0, Writers).Select(i => new RangeWriter(i, ledger, context.Seed)).ToArray();
        var auditors = Enumerable.Range(0, Auditors).Select(i => new RangeAuditor(i, ledger, context.Seed)).ToArray();
        var rebalancer = new RangeRebalancer(ledger, context.Seed);
        var fullAudits = new FullAudit(ledger);

        context.Console.MarkupLine(
            $"[bold]{Accounts:N0}[/] accounts in [bold]{ledger.Ranges.Count}[/] ranges; [bold]{Writers}[/] writers, "
            + $"[bold]{Auditors}[/] auditors, 1 rebalancer; [bold]{context.Duration.TotalSeconds:N1} s[/].");

        using var workload = new Workload(context.Duration, _ =>
        {
            long committed = writers.Sum(writer => writer.Committed);
            long reads = auditors.Sum(auditor => auditor.Reads);
            return $"{committed,10:N0} transfers {reads,10:N0} range reads {fullAudits.Count,3} audits";
        });
        foreach (RangeWriter writer in writers)
        {
            workload.Add("writer", writer.RunAsync);
        }

        foreach (RangeAuditor auditor in auditors)
        {
            workload.Add("auditor", auditor.RunAsync);
        }

        workload.Add("rebalancer", rebalancer.RunAsync);
        workload.Add("full audit", fullAudits.RunAsync);

        workload.Start(context.Cancellation);
        await ProgressView.ShowAsync(context.Console, workload);
        WorkloadOutcome outcome = await workload.CompleteAsync(() => DescribeBusy(ledger));

        var checks = new List<InvariantCheck>();
        checks.Add(CheckLocksFree(ledger));
        checks.Add(outcome.FinishedCheck());
        checks.AddRange(CheckBalances(ledger));
        checks.Add(CheckNoPartialReads(auditors));
        checks.Add(CheckExclusion(writers, auditors, rebalancer));
        checks.Add(fullAudits.Check());
        if (outcome.AllFinished)
        {
            ledger.DisposeLocks();
        }

        return new SectionReport
        {
            Tables = Tables(ledger, outcome, writers, auditors, rebalancer, fullAudits),
            Checks = checks,
        };
    }

    private static List<IRenderable> Tables(
        RangeLedger ledger, WorkloadOutcome outcome, RangeWriter[] writers, RangeAuditor[] auditors, RangeRebalancer rebalancer, FullAudit fullAudits)
    {
        long committed = writers.Sum(writer => writer.Committed);
        long reads = auditors.Sum(auditor => auditor.Reads);
        var readWaits = new WaitRecorder();
        var writeWaits = new WaitRecorder();
        foreach (RangeAuditor auditor in auditors)
        {
            readWaits.Add(auditor.Waits);
        }

        foreach (RangeWriter writer in writers)
        {
            writeWaits.Add(writer.Waits);
        }

        Table results = Format.MeasureTable("Read/write run");
        results.AddPlainRow("Accounts / ranges", $"{ledger.Accounts:N0} / {ledger.Ranges.Count} of {ledger.RangeSize}");
        results.AddPlainRow("Writers / auditors", $"{Writers} / {Auditors} + 1 rebalancer");
        results.AddPlainRow("Run time", Format.Seconds(outcome.RunTime));
        results.AddPlainRow("Transfers committed", $"{committed:N0} ({Format.Rate(committed, outcome.RunTime)})");
        results.AddPlainRow("Rejected (insufficient funds)", $"{writers.Sum(writer => writer.Rejected):N0}");
        results.AddPlainRow("Range reads, each sum checked", $"{reads:N0} ({Format.Rate(reads, outcome.RunTime)})");
        results.AddPlainRow(
            $"Timed out ({TimedReadPercent}% of reads wait {ReadTimeout.TotalMilliseconds:N0} ms)",
            $"{auditors.Sum(auditor => auditor.TimedOut):N0}");
        results.AddPlainRow("Upgradeable reads / upgrades", $"{rebalancer.Inspections:N0} / {rebalancer.Upgrades:N0}");
        results.AddPlainRow(
            $"Full audits (all ranges, every {FullAuditInterval.TotalSeconds:N0} s)",
            $"{fullAudits.Count:N0}, longest {Format.Duration(fullAudits.Longest)}");
        results.AddPlainRow("Most readers inside one range", $"{ledger.Ranges.Max(range => range.PeakReaders)}");

        Table waits = new Table()
            .Title("Wait time")
            .AddColumn("Percentile")
            .AddColumn(new TableColumn("Reads").RightAligned())
            .AddColumn(new TableColumn("that waited").RightAligned())
            .AddColumn(new TableColumn("Writes").RightAligned())
            .AddColumn(new TableColumn("that waited").RightAligned());
        foreach ((string label, double quantile) in Format.Percentiles)
        {
            waits.AddRow(
                label,
                Format.Quantile(readWaits.All, quantile),
                Format.Quantile(readWaits.Contended, quantile),
                Format.Quantile(writeWaits.All, quantile),
                Format.Quantile(writeWaits.Contended, quantile));
        }

        waits.AddRow(
            "count",
            $"{readWaits.All.Count:N0}",
            $"{readWaits.Contended.Count:N0}",
            $"{writeWaits.All.Count:N0}",
            $"{writeWaits.Contended.Count:N0}");
        return [results, waits];
    }

    private static InvariantCheck CheckLocksFree(RangeLedger ledger)
    {
        var busy = new List<string>();
        foreach (AccountRange range in ledger.Ranges)
        {
            int waiting = range.Lock.WaitingCount;
            bool free = range.Lock.TryAcquireWrite(out AsyncReaderWriterLock.WriteLease lease);
            lease.Dispose();
            if (!free || waiting != 0)
            {
                busy.Add($"{range.Lock.Name} (write acquired: {free}, waiting: {waiting})");
            }
        }

        return InvariantCheck.That(
            "Locks free after stop",
            busy.Count == 0,
            $"all {ledger.Ranges.Count} free, no waiters",
            $"{busy.Count} busy, first: {string.Join(", ", busy.Take(3))}");
    }

    private static IEnumerable<InvariantCheck> CheckBalances(RangeLedger ledger)
    {
        long total = ledger.Ranges.Sum(range => range.Sum());
        yield return InvariantCheck.That(
            "Total balance unchanged",
            total == ledger.ExpectedTotal,
            $"{total:N0} = {ledger.Accounts:N0} x {RangeLedger.OpeningBalance:N0}",
            $"{total:N0}, expected {ledger.ExpectedTotal:N0} (difference {total - ledger.ExpectedTotal:N0})");

        int mismatched = 0;
        string? first = null;
        foreach (AccountRange range in ledger.Ranges)
        {
            for (int i = 0; i < range.Count; i++)
            {
                long expected = RangeLedger.OpeningBalance + ledger.JournalNetChange(range.First + i);
                if (range.Balances[i] != expected)
                {
                    mismatched++;
                    first ??= $"account-{range.First + i} has {range.Balances[i]:N0}, journal says {expected:N0}";
                }
            }
        }

        yield return InvariantCheck.That(
            "Balances match journal",
            mismatched == 0,
            $"all {ledger.Accounts:N0} accounts, no update lost",
            $"{mismatched:N0} accounts differ, first: {first}");
    }

    private static InvariantCheck CheckNoPartialReads(RangeAuditor[] auditors)
    {
        long reads = auditors.Sum(auditor => auditor.Reads);
        long partial = auditors.Sum(auditor => auditor.PartialReads);
        string? first = auditors.Select(auditor => auditor.FirstPartialRead).FirstOrDefault(text => text is not null);
        if (reads == 0)
        {
            return InvariantCheck.Skip("No reader saw a partial transfer", "no range was read");
        }

        return InvariantCheck.That(
            "No reader saw a partial transfer",
            partial == 0,
            $"{reads:N0} range sums, all matched",
            $"{partial:N0} of {reads:N0} reads saw a wrong sum, first: {first}");
    }

    private static InvariantCheck CheckExclusion(RangeWriter[] writers, RangeAuditor[] auditors, RangeRebalancer rebalancer)
    {
        long writerViolations = writers.Sum(writer => writer.Violations);
        long readerViolations = auditors.Sum(auditor => auditor.Violations);
        long total = writerViolations + readerViolations + rebalancer.Violations;
        return InvariantCheck.That(
            "Writers held ranges alone",
            total == 0,
            "no writer had company inside",
            $"{writerViolations:N0} writer, {readerViolations:N0} reader and {rebalancer.Violations:N0} rebalancer entries found company");
    }

    private static List<string> DescribeBusy(RangeLedger ledger)
    {
        var busy = new List<string>();
        foreach (AccountRange range in ledger.Ranges)
        {
            AsyncReaderWriterLock rangeLock = range.Lock;
            if (rangeLock.IsWriteHeld || rangeLock.CurrentReadCount > 0 || rangeLock.IsUpgradeableReadHeld || rangeLock.WaitingCount > 0)
            {
                busy.Add($"{rangeLock.Name} (writer: {rangeLock.IsWriteHeld}, readers: {rangeLock.CurrentReadCount}, "
                    + $"upgradeable: {rangeLock.IsUpgradeableReadHeld}, waiting: {rangeLock.WaitingCount})");
            }
        }

        return busy;
    }

    /// <summary>Every second, read-locks every range in ascending order and checks the grand total.</summary>
    private sealed class FullAudit(RangeLedger ledger)
    {
        private int _count;
        private int _failed;
        private long _longestTicks;
        private string? _firstFailure;

        public int Count => Volatile.Read(ref _count);

        public TimeSpan Longest => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _longestTicks));

        public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
        {
            var leases = new AsyncReaderWriterLock.ReadLease[ledger.Ranges.Count];
            while (!stopToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(FullAuditInterval, stopToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                long start = Stopwatch.GetTimestamp();
                int acquired = 0;
                try
                {
                    for (; acquired < leases.Length; acquired++)
                    {
                        leases[acquired] = await ledger.Ranges[acquired].Lock.AcquireReadAsync(abortToken);
                    }

                    long total = ledger.Ranges.Sum(range => range.Sum());
                    _count++;
                    if (total != ledger.ExpectedTotal)
                    {
                        _failed++;
                        _firstFailure ??= $"{total:N0} instead of {ledger.ExpectedTotal:N0}";
                    }
                }
                finally
                {
                    for (int i = acquired - 1; i >= 0; i--)
                    {
                        leases[i].Dispose();
                    }

                    _longestTicks = Math.Max(_longestTicks, Stopwatch.GetTimestamp() - start);
                }
            }
        }

        public InvariantCheck Check()
        {
            const string Name = "Full audits saw the total";
            if (_count == 0)
            {
                return InvariantCheck.Skip(Name, $"no audit ran (one runs every {FullAuditInterval.TotalSeconds:N0} s)");
            }

            return InvariantCheck.That(
                Name,
                _failed == 0,
                $"{_count} {(_count == 1 ? "audit" : "audits")} of all {ledger.Ranges.Count} ranges",
                $"{_failed} of {_count} audits saw a wrong total, first: {_firstFailure}");
        }
    }
}
