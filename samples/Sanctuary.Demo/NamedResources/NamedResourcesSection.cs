using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>
/// Workflow 4, named resources: a bank whose accounts, books, rate table, settlement desk and
/// export slots are resources of a <see cref="ResourceRegistry"/>, audited live while it runs.
/// Three scenarios run next to it: a lease kept alive by its heartbeat, an owner that crashes and
/// is fenced out by its successor, and a snapshot taken mid-run while waiters of three priorities queue.
/// </summary>
internal sealed class NamedResourcesSection : IDemoSection
{
    public const int TransferWorkers = 12;
    public const int ExportWorkers = 4;

    private static readonly (LockPriority Priority, int Workers)[] s_settlementLevels =
    [
        (LockPriority.Critical, 1),
        (LockPriority.High, 1),
        (LockPriority.Normal, 2),
        (LockPriority.Low, 4),
    ];

    public string Key => "leases";

    public string Title => "Named resources: ResourceRegistry leases";

    public string Summary =>
        "A bank on named resources: sorted multi-resource transfers, live audits that hold the books for writing, "
        + "a read/write rate table, a priority desk and an export pool, next to a heartbeat lease, an owner that "
        + "crashes and is fenced out, and a snapshot taken mid-run.";

    public async Task<SectionReport> RunAsync(SectionContext context)
    {
        long sectionStart = Stopwatch.GetTimestamp();
        ILeaseStore store = context.Store.Store;
        var bank = new NamedBank();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions
        {
            Store = store,
            DefaultOwner = "bank",
            KindSelector = NamedBank.KindOf,
            StoreRetryInterval = TimeSpan.FromMilliseconds(25),
        });
        registry.RegisterPool(NamedBank.ExportPoolId, NamedBank.ExportSlots, "slots");

        // The rate feed acquires through a handle, which pins its resource for the life of the registry.
        ResourceHandle rates = registry.GetHandle(NamedBank.RatesId);

        IReadOnlyList<INamedTransferPath> paths = TransferPaths.Create(registry, bank);
        var transfers = Enumerable.Range(0, TransferWorkers)
            .Select(i => new NamedTransferWorker(i, paths[i % paths.Count], context.Seed))
            .ToArray();
        var settlements = s_settlementLevels
            .SelectMany(level => Enumerable.Range(0, level.Workers).Select(_ => new SettlementWorker(registry, bank, level.Priority)))
            .ToArray();
        var exports = Enumerable.Range(0, ExportWorkers).Select(i => new ExportWorker(registry, bank, i, context.Seed)).ToArray();
        var feed = new RateFeed(rates, bank);
        var auditor = new BookAuditor(registry, bank);

        context.Console.MarkupLine(
            $"Store [bold]{Markup.Escape(context.Store.Description)}[/], shared by registries bank, node-a and node-b; "
            + $"{NamedBank.AccountCount} accounts; {TransferWorkers} transfer, {settlements.Length} settlement and "
            + $"{ExportWorkers} export loops, one audit every {Format.Milliseconds(BookAuditor.Interval)}; "
            + $"[bold]{context.Duration.TotalSeconds:N1} s[/].");

        using var workload = new Workload(context.Duration, _ =>
            $"{transfers.Sum(worker => worker.Committed),9:N0} transfers {settlements.Sum(worker => worker.Settled),7:N0} settled "
            + $"{exports.Sum(worker => worker.Reservations),6:N0} exports {auditor.Audits,4:N0} audits");
        foreach (NamedTransferWorker worker in transfers)
        {
            workload.Add($"transfer ({worker.Path.Name})", worker.RunAsync);
        }

        foreach (SettlementWorker worker in settlements)
        {
            workload.Add($"settlement ({worker.Priority})", worker.RunAsync);
        }

        foreach (ExportWorker worker in exports)
        {
            workload.Add("export", worker.RunAsync);
        }

        workload.Add("rate feed", feed.RunAsync);
        workload.Add("book audit", auditor.RunAsync);

        var heartbeat = new HeartbeatScenario();
        var takeover = new TakeoverScenario();
        var probe = new SnapshotProbe();
        workload.Start(context.Cancellation);
        Task scenarios = Task.WhenAll(
            heartbeat.RunAsync(registry, workload.StopToken),
            takeover.RunAsync(store),
            probe.RunAsync(registry, context.Duration / 2, sectionStart));

        await ProgressView.ShowAsync(context.Console, workload);
        WorkloadOutcome outcome = await workload.CompleteAsync(() => DescribeBusy(registry));
        await scenarios;

        var checks = new List<InvariantCheck> { outcome.FinishedCheck() };
        checks.AddRange(CheckBank(bank, transfers, settlements, exports));
        checks.Add(auditor.Check());
        checks.Add(heartbeat.Check());
        checks.AddRange(takeover.Checks());
        checks.AddRange(probe.Checks(NamedBank.ExportSlots));
        checks.Add(CheckReclaimed(registry));
        checks.Add(await CheckStoreEmptyAsync(store));

        var tables = new List<IRenderable>
        {
            RunTable(context, bank, outcome, transfers, settlements, exports, auditor, heartbeat),
            WaitTable(transfers, paths, settlements),
        };
        if (probe.Snapshot is not null)
        {
            tables.AddRange(SnapshotView.Tables(probe.Snapshot, probe.TakenAt, HeartbeatScenario.Owner));
        }

        tables.Add(takeover.TimelineTable());
        return new SectionReport { Tables = tables, Checks = checks };
    }

    private static Table RunTable(
        SectionContext context,
        NamedBank bank,
        WorkloadOutcome outcome,
        NamedTransferWorker[] transfers,
        SettlementWorker[] settlements,
        ExportWorker[] exports,
        BookAuditor auditor,
        HeartbeatScenario heartbeat)
    {
        Table table = Format.MeasureTable("Named resources run");
        table.AddPlainRow("Store", context.Store.Description);
        table.AddPlainRow("Run time", Format.Seconds(outcome.RunTime));
        foreach (IGrouping<string, NamedTransferWorker> path in transfers.GroupBy(worker => worker.Path.Name))
        {
            long committed = path.Sum(worker => worker.Committed);
            table.AddPlainRow($"Transfers via {path.Key}", $"{committed:N0} ({Format.Rate(committed, outcome.RunTime)})");
        }

        table.AddPlainRow("  rejected / gave up after the wait", $"{transfers.Sum(worker => worker.Rejected):N0} / {transfers.Sum(worker => worker.Unavailable):N0}");
        foreach ((string measure, string value) in auditor.Rows())
        {
            table.AddPlainRow(measure, value);
        }

        table.AddPlainRow("Rate table updates (write leases)", $"{bank.Rates.Updates:N0}");
        table.AddPlainRow("Settlements (priority resource)", $"{settlements.Sum(worker => worker.Settled):N0}");
        table.AddPlainRow(
            $"Export reservations ({NamedBank.ExportSlots} slots)",
            $"{exports.Sum(worker => worker.Reservations):N0}, peak {bank.PeakSlotsHeld} slots");
        foreach ((string measure, string value) in heartbeat.Rows())
        {
            table.AddPlainRow(measure, value);
        }

        return table;
    }

    private static Table WaitTable(NamedTransferWorker[] transfers, IReadOnlyList<INamedTransferPath> paths, SettlementWorker[] settlements)
    {
        Table table = new Table()
            .Title("Time to acquire")
            .Caption("Transfers: the whole call, work included; settlements: the wait until the work ran.")
            .AddColumn("Flow")
            .AddColumn(new TableColumn("Count").RightAligned())
            .AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p90").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned())
            .AddColumn(new TableColumn("max").RightAligned());
        foreach (INamedTransferPath path in paths)
        {
            var merged = new WaitTimeHistogram();
            foreach (NamedTransferWorker worker in transfers.Where(worker => worker.Path == path))
            {
                merged.Add(worker.Durations);
            }

            AddRow(table, path.Name, merged);
        }

        foreach ((LockPriority priority, int _) in s_settlementLevels)
        {
            var merged = new WaitTimeHistogram();
            foreach (SettlementWorker worker in settlements.Where(worker => worker.Priority == priority))
            {
                merged.Add(worker.Waits);
            }

            AddRow(table, $"settle, {priority}", merged);
        }

        return table;

        static void AddRow(Table table, string label, WaitTimeHistogram histogram) =>
            table.AddPlainRow(
                label,
                $"{histogram.Count:N0}",
                Format.Quantile(histogram, 0.50),
                Format.Quantile(histogram, 0.90),
                Format.Quantile(histogram, 0.99),
                Format.Quantile(histogram, 1.0));
    }

    private static IEnumerable<InvariantCheck> CheckBank(NamedBank bank, NamedTransferWorker[] transfers, SettlementWorker[] settlements, ExportWorker[] exports)
    {
        long total = 0;
        int mismatched = 0;
        string? first = null;
        for (int i = 0; i < NamedBank.AccountCount; i++)
        {
            long balance = bank[i].Balance;
            total += balance;
            long expected = NamedBank.OpeningBalance + bank.JournalNetChange(i);
            if (balance != expected)
            {
                mismatched++;
                first ??= $"{NamedBank.AccountId(i)} has {balance:N0}, journal says {expected:N0}";
            }
        }

        yield return InvariantCheck.That(
            "Total balance unchanged",
            total == bank.ExpectedTotal && mismatched == 0,
            $"{total:N0}; all {NamedBank.AccountCount} match the journal",
            $"{total:N0} of {bank.ExpectedTotal:N0}; {mismatched} accounts differ from the journal, first: {first}");

        long settled = settlements.Sum(worker => worker.Settled);
        yield return InvariantCheck.That(
            "One holder at a time",
            bank.ExclusionViolations == 0 && bank.Settlements == settled,
            $"no sharing; {settled:N0} settlements, none lost",
            $"{bank.ExclusionViolations:N0} entries met another holder; {bank.Settlements:N0} settlements recorded of {settled:N0}");

        long fenced = transfers.Where(worker => worker.Path.Name == "AcquireAllAsync").Sum(worker => worker.Committed + worker.Rejected);
        yield return InvariantCheck.That(
            "Fencing tokens only grew",
            bank.FencingRegressions == 0 && fenced > 0,
            $"{fenced:N0} transfers, each token higher",
            $"{bank.FencingRegressions:N0} account leases had a token not above their predecessor's ({fenced:N0} checked)");

        yield return InvariantCheck.That(
            "No reader saw a half-written rate table",
            bank.TornRateReads == 0 && bank.Rates.Updates > 0,
            $"{transfers.Sum(worker => worker.Committed + worker.Rejected):N0} reads, {bank.Rates.Updates:N0} writes",
            $"{bank.TornRateReads:N0} reads saw a version and rate that disagree ({bank.Rates.Updates:N0} writes)");

        long reservations = exports.Sum(worker => worker.Reservations);
        yield return InvariantCheck.That(
            "Reserved never exceeded total",
            bank.PeakSlotsHeld <= NamedBank.ExportSlots && bank.SlotsHeld == 0 && reservations > 0,
            $"peak {bank.PeakSlotsHeld} of {NamedBank.ExportSlots} slots; all returned",
            $"peak {bank.PeakSlotsHeld} of {NamedBank.ExportSlots} slots, {bank.SlotsHeld} still counted as held, {reservations:N0} reservations");
    }

    private static InvariantCheck CheckReclaimed(ResourceRegistry registry)
    {
        // Handles pin their resources for the life of the registry, so two resources may stay.
        // The rate feed's handle pins fx-rates. From the first audit on, the generated code of
        // BookAuditor keeps a handle for its constant id, which pins books. Both must be idle.
        string[] pinned = [NamedBank.RatesId, NamedBank.BooksId];
        RegistrySnapshot snapshot = registry.GetSnapshot();
        var left = snapshot.Resources.Where(resource => !pinned.Contains(resource.ResourceId)).Select(resource => resource.ResourceId).ToList();
        var busyPinned = snapshot.Resources
            .Where(resource => pinned.Contains(resource.ResourceId) && (resource.Holders.Count > 0 || resource.Waiters.Count > 0))
            .Select(resource => $"{resource.ResourceId} ({resource.Holders.Count} holders, {resource.Waiters.Count} waiting)")
            .ToList();
        PoolSnapshot? pool = snapshot.Pools.FirstOrDefault(candidate => candidate.PoolId == NamedBank.ExportPoolId);
        return InvariantCheck.That(
            "Idle resources reclaimed",
            left.Count == 0 && busyPinned.Count == 0 && pool is { Reserved: 0 },
            $"only {string.Join(" and ", snapshot.Resources.Select(resource => resource.ResourceId))} (idle, pinned by handles) left",
            $"{registry.ResourceCount} resources left ({string.Join(", ", left.Take(5))}), busy: {string.Join(", ", busyPinned)}, pool reserved: {pool?.Reserved}");
    }

    private static async Task<InvariantCheck> CheckStoreEmptyAsync(ILeaseStore store)
    {
        // Queries every id the section used through the store interface, so the check works on any store.
        IEnumerable<string> ids = Enumerable.Range(0, NamedBank.AccountCount).Select(NamedBank.AccountId)
            .Concat([NamedBank.BooksId, NamedBank.RatesId, NamedBank.SettlementId, NamedBank.PayrollId, NamedBank.ExportPoolId, HeartbeatScenario.ResourceId, TakeoverScenario.JobId]);
        var held = new List<string>();
        int queried = 0;
        foreach (string id in ids)
        {
            queried++;
            IReadOnlyList<LeaseHolder> holders = await store.GetHoldersAsync(id, CancellationToken.None);
            held.AddRange(holders.Select(holder => $"{id} by {holder.Owner}"));
        }

        return InvariantCheck.That(
            "Store holds no lease after stop",
            held.Count == 0,
            $"{queried} ids, no holder left",
            $"{held.Count} leases left, first: {string.Join(", ", held.Take(3))}");
    }

    private static List<string> DescribeBusy(ResourceRegistry registry) =>
        registry.GetSnapshot().Resources
            .Where(resource => resource.Holders.Count > 0 || resource.Waiters.Count > 0)
            .Select(resource => $"{resource.ResourceId} ({resource.Holders.Count} holders, {resource.Waiters.Count} waiting)")
            .ToList();
}
