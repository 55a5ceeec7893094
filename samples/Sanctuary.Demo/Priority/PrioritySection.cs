using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>
/// Workflow 3, priority and capacity: transfers of four priorities and low-priority batch jobs
/// reserve connections from a <see cref="CapacityPool"/> and post through one <see cref="PriorityLock"/>.
/// Critical transfers pass the queue, and aging keeps batches from starving.
/// </summary>
internal sealed class PrioritySection : IDemoSection
{
    public const long PoolTotal = 32;
    public const int MinBatchUnits = 4;
    public const int MaxBatchUnits = 12;
    public static readonly TimeSpan AgingInterval = TimeSpan.FromMilliseconds(20);

    // Workers per level. The low ones are batch jobs that reserve several connections.
    private static readonly (LockPriority Priority, int Workers)[] s_levels =
    [
        (LockPriority.Critical, 2),
        (LockPriority.High, 4),
        (LockPriority.Normal, 12),
        (LockPriority.Low, 8),
    ];

    public string Key => "priority";

    public string Title => "Priority and capacity: PriorityLock and CapacityPool";

    public string Summary =>
        "Transfers of four priorities and low-priority batch jobs reserve connections from a pool, then post "
        + "through one priority lock; critical transfers jump the queue and aging keeps batches moving.";

    public async Task<SectionReport> RunAsync(SectionContext context)
    {
        var checks = new List<InvariantCheck>
        {
            await GrantOrderProbes.PriorityLockAsync(),
        };
        checks.AddRange(await GrantOrderProbes.CapacityPoolAsync());

        using var house = new ClearingHouse(PoolTotal, AgingInterval);
        checks.Add(await GrantOrderProbes.OversizedRequestAsync(house.Connections));

        int id = 0;
        var workers = new List<PriorityWorker>();
        foreach ((LockPriority priority, int count) in s_levels)
        {
            for (int i = 0; i < count; i++)
            {
                workers.Add(new PriorityWorker(id++, priority, isBatch: priority == LockPriority.Low, house, context.Seed));
            }
        }

        var sampler = new UtilizationSampler(house.Connections);
        context.Console.MarkupLine(
            $"{Markup.Escape(LevelsText(batchesNamed: false))}; [bold]{PoolTotal}[/] connections; "
            + $"aging [bold]{AgingInterval.TotalMilliseconds:N0} ms[/]; [bold]{context.Duration.TotalSeconds:N1} s[/].");

        using var workload = new Workload(context.Duration, _ =>
        {
            long postings = workers.Sum(worker => worker.Postings);
            return $"{postings,10:N0} postings {house.Connections.Reserved,3}/{PoolTotal} reserved {house.Lock.WaitingCount,3} waiting";
        });
        foreach (PriorityWorker worker in workers)
        {
            workload.Add($"{worker.Priority} {(worker.IsBatch ? "batch" : "transfer")}", worker.RunAsync);
        }

        workload.Add("sampler", sampler.RunAsync);
        workload.Start(context.Cancellation);
        await ProgressView.ShowAsync(context.Console, workload);
        WorkloadOutcome outcome = await workload.CompleteAsync(() => DescribeBusy(house));

        checks.Insert(0, outcome.FinishedCheck());
        checks.Insert(0, CheckFree(house));
        checks.Add(CheckExclusion(house, workers));
        checks.Add(CheckCapacity(house, sampler));
        checks.Add(CheckNoStarvation(workers));
        checks.Add(CheckCriticalFirst(workers));

        return new SectionReport { Tables = Tables(house, workers, sampler, outcome), Checks = checks };
    }

    private static string LevelsText(bool batchesNamed) => string.Join(", ", s_levels.Select(level =>
        $"{level.Priority} {level.Workers}{(batchesNamed && level.Priority == LockPriority.Low ? " batches" : string.Empty)}"));

    private static (WaitRecorder Lock, WaitRecorder Pool, long Postings) Merge(IEnumerable<PriorityWorker> workers)
    {
        var lockWaits = new WaitRecorder();
        var poolWaits = new WaitRecorder();
        long postings = 0;
        foreach (PriorityWorker worker in workers)
        {
            lockWaits.Add(worker.LockWaits);
            poolWaits.Add(worker.PoolWaits);
            postings += worker.Postings;
        }

        return (lockWaits, poolWaits, postings);
    }

    private static List<IRenderable> Tables(ClearingHouse house, List<PriorityWorker> workers, UtilizationSampler sampler, WorkloadOutcome outcome)
    {
        long postings = workers.Sum(worker => worker.Postings);
        long reservations = workers.Sum(worker => worker.PoolWaits.All.Count);
        Table results = Format.MeasureTable("Priority run");
        results.AddPlainRow("Workers: Critical/High/Normal/Low", string.Join(" / ", s_levels.Select(level => level.Workers)));
        results.AddPlainRow("Units per batch (Low) / transfer", $"{MinBatchUnits} to {MaxBatchUnits} / 1");
        results.AddPlainRow("Run time", Format.Seconds(outcome.RunTime));
        results.AddPlainRow("Postings through the clearing lock", $"{postings:N0} ({Format.Rate(postings, outcome.RunTime)})");
        results.AddPlainRow("Aging (lock and pool)", $"one level every {AgingInterval.TotalMilliseconds:N0} ms");
        results.AddPlainRow("Connection reservations", $"{reservations:N0} ({Format.Rate(reservations, outcome.RunTime)})");
        results.AddPlainRow("Pool utilization, mean of samples", $"{Format.Percent(sampler.MeanUtilization)} ({sampler.Samples:N0} samples)");
        results.AddPlainRow("Peak reserved, sampled / counted", $"{sampler.PeakReserved} / {house.PeakUnitsHeld} of {PoolTotal}");

        Table lockWaits = LevelTable("Clearing lock wait by priority", workers, merged => merged.Lock);
        Table poolWaits = LevelTable("Connection pool wait by priority", workers, merged => merged.Pool);
        return [results, lockWaits, poolWaits];
    }

    private static Table LevelTable(string title, List<PriorityWorker> workers, Func<(WaitRecorder Lock, WaitRecorder Pool, long Postings), WaitRecorder> pick)
    {
        Table table = new Table()
            .Title(Markup.Escape(title))
            .Caption("Percentiles of the grants that queued; the rest were granted at once.")
            .AddColumn("Priority")
            .AddColumn(new TableColumn("Grants").RightAligned())
            .AddColumn(new TableColumn("queued").RightAligned())
            .AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p90").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned())
            .AddColumn(new TableColumn("max").RightAligned());
        foreach ((LockPriority priority, int _) in s_levels)
        {
            WaitRecorder waits = pick(Merge(workers.Where(worker => worker.Priority == priority)));
            table.AddRow(
                priority.ToString(),
                $"{waits.All.Count:N0}",
                Format.Percent(waits.Contended.Count, waits.All.Count),
                Format.Quantile(waits.Contended, 0.50),
                Format.Quantile(waits.Contended, 0.90),
                Format.Quantile(waits.Contended, 0.99),
                Format.Quantile(waits.Contended, 1.0));
        }

        return table;
    }

    private static InvariantCheck CheckFree(ClearingHouse house)
    {
        int lockWaiting = house.Lock.WaitingCount;
        bool lockFree = house.Lock.TryAcquire(out PriorityLock.Lease lease);
        lease.Dispose();
        long reserved = house.Connections.Reserved;
        int poolWaiting = house.Connections.WaitingCount;
        return InvariantCheck.That(
            "Lock and pool free after stop",
            lockFree && lockWaiting == 0 && reserved == 0 && poolWaiting == 0,
            $"lock free; {PoolTotal} of {PoolTotal} connections back",
            $"lock acquired: {lockFree}, lock waiters: {lockWaiting}, reserved: {reserved}, pool waiters: {poolWaiting}");
    }

    private static InvariantCheck CheckExclusion(ClearingHouse house, List<PriorityWorker> workers)
    {
        long granted = workers.Sum(worker => worker.Postings);
        return InvariantCheck.That(
            "One holder at a time",
            house.ExclusionViolations == 0 && house.Postings == granted,
            $"{granted:N0} postings, none lost",
            $"{house.ExclusionViolations:N0} entries met another holder; {house.Postings:N0} postings recorded of {granted:N0}");
    }

    private static InvariantCheck CheckCapacity(ClearingHouse house, UtilizationSampler sampler) =>
        InvariantCheck.That(
            "Reserved never exceeded total",
            house.PeakUnitsHeld <= PoolTotal && sampler.OverTotal == 0 && sampler.PeakReserved <= PoolTotal,
            $"peak {Math.Max(house.PeakUnitsHeld, sampler.PeakReserved)} of {PoolTotal} units",
            $"{house.PeakUnitsHeld} units held at once by count, {sampler.OverTotal} samples over the total of {PoolTotal}");

    private static InvariantCheck CheckNoStarvation(List<PriorityWorker> workers)
    {
        var starved = s_levels
            .Where(level => Merge(workers.Where(worker => worker.Priority == level.Priority)).Postings == 0)
            .Select(level => level.Priority.ToString())
            .ToList();
        long lowPostings = Merge(workers.Where(worker => worker.Priority == LockPriority.Low)).Postings;
        return InvariantCheck.That(
            "No level starved",
            starved.Count == 0,
            $"Low batches posted {lowPostings:N0} times",
            $"no posting at {string.Join(", ", starved)}");
    }

    private static InvariantCheck CheckCriticalFirst(List<PriorityWorker> workers)
    {
        const string Name = "Critical waited less than Low";
        WaitRecorder critical = Merge(workers.Where(worker => worker.Priority == LockPriority.Critical)).Lock;
        WaitRecorder low = Merge(workers.Where(worker => worker.Priority == LockPriority.Low)).Lock;
        if (critical.Contended.Count == 0 || low.Contended.Count == 0)
        {
            return InvariantCheck.Skip(Name, "a level never queued for the clearing lock");
        }

        long criticalMedian = critical.Contended.QuantileTicks(0.5);
        long lowMedian = low.Contended.QuantileTicks(0.5);
        return InvariantCheck.That(
            Name,
            criticalMedian < lowMedian,
            $"median {Format.Ticks(criticalMedian)} vs {Format.Ticks(lowMedian)}",
            $"queued at the clearing lock, median {Format.Ticks(criticalMedian)}, not below Low's {Format.Ticks(lowMedian)}");
    }

    private static List<string> DescribeBusy(ClearingHouse house)
    {
        var busy = new List<string>();
        if (house.Lock.IsHeld || house.Lock.WaitingCount > 0)
        {
            busy.Add($"clearing (held: {house.Lock.IsHeld}, waiting: {house.Lock.WaitingCount})");
        }

        if (house.Connections.Reserved > 0 || house.Connections.WaitingCount > 0)
        {
            busy.Add($"connections (reserved: {house.Connections.Reserved}, waiting: {house.Connections.WaitingCount})");
        }

        return busy;
    }
}
