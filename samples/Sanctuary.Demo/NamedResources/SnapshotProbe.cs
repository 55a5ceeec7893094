using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// A mid-run probe: it holds <c>payroll</c>, queues three acquires of different priorities behind it, takes the
/// registry snapshot once all three wait (so it shows holders, waiters and pools together with the
/// running workload), then releases step by step and records who was granted first.
/// </summary>
internal sealed class SnapshotProbe
{
    public const string HolderOwner = "payroll-run";

    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(20);

    // Arrival order: low first, critical last. The expected grant order is the reverse.
    private static readonly (string Owner, LockPriority Priority, string Purpose)[] s_arrivals =
    [
        ("archive", LockPriority.Low, "archive payslips"),
        ("payments", LockPriority.Normal, "pay salaries"),
        ("fraud-check", LockPriority.Critical, "freeze a suspicious payslip"),
    ];

    public RegistrySnapshot? Snapshot { get; private set; }

    /// <summary>When the snapshot was taken, from the start of the section.</summary>
    public TimeSpan TakenAt { get; private set; }

    public IReadOnlyList<string> GrantOrder { get; private set; } = [];

    public string? Failure { get; private set; }

    public static IReadOnlyList<string> ExpectedWaiterOrder => ["fraud-check", "payments", "archive"];

    public async Task RunAsync(ResourceRegistry registry, TimeSpan delay, long sectionStart)
    {
        try
        {
            await Task.Delay(delay);
            await RunCoreAsync(registry, sectionStart);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Failure = $"{exception.GetType().Name}: {exception.Message}";
        }
    }

    private async Task RunCoreAsync(ResourceRegistry registry, long sectionStart)
    {
        ValueTask<ResourceLease>[] waits;
        var holderOptions = new LeaseOptions { Owner = HolderOwner, Purpose = "monthly payroll", TimeToLive = TimeSpan.FromSeconds(30) };
        await using (ResourceLease holder = await registry.AcquireAsync(NamedBank.PayrollId, holderOptions))
        {
            waits = s_arrivals
                .Select(arrival => registry.AcquireAsync(
                    NamedBank.PayrollId,
                    new LeaseOptions { Owner = arrival.Owner, Priority = arrival.Priority, Purpose = arrival.Purpose, WaitTimeout = s_probeTimeout }))
                .ToArray();

            // Poll until the registry lists all three waiters, then keep that snapshot.
            long start = Stopwatch.GetTimestamp();
            RegistrySnapshot snapshot = registry.GetSnapshot();
            while (Waiters(snapshot) < s_arrivals.Length && Stopwatch.GetElapsedTime(start) < s_probeTimeout)
            {
                await Task.Delay(1);
                snapshot = registry.GetSnapshot();
            }

            Snapshot = snapshot;
            TakenAt = Stopwatch.GetElapsedTime(sectionStart);
        }

        // Each release (the holder's above, then each granted waiter's) hands payroll to exactly one waiter.
        var order = new List<string>();
        var consumed = new bool[waits.Length];
        for (int step = 0; step < waits.Length; step++)
        {
            int next = await WaitForOneAsync(waits, consumed);
            if (next < 0)
            {
                Failure = $"after {string.Join(", ", order)} a release granted {(next == -1 ? "no" : "several")} waiters";
                break;
            }

            consumed[next] = true;
            await using ResourceLease granted = await waits[next];
            order.Add(s_arrivals[next].Owner);
        }

        GrantOrder = order;
    }

    private static int Waiters(RegistrySnapshot snapshot) =>
        snapshot.Resources.FirstOrDefault(resource => resource.ResourceId == NamedBank.PayrollId)?.Waiters.Count ?? 0;

    private static async Task<int> WaitForOneAsync(ValueTask<ResourceLease>[] waits, bool[] consumed)
    {
        long start = Stopwatch.GetTimestamp();
        while (!Completed(waits, consumed).Any() && Stopwatch.GetElapsedTime(start) < s_probeTimeout)
        {
            await Task.Delay(1);
        }

        await Task.Delay(s_settle);
        int[] completed = Completed(waits, consumed).ToArray();
        return completed.Length switch
        {
            0 => -1,
            1 => completed[0],
            _ => -2,
        };
    }

    private static IEnumerable<int> Completed(ValueTask<ResourceLease>[] waits, bool[] consumed) =>
        Enumerable.Range(0, waits.Length).Where(i => !consumed[i] && waits[i].IsCompleted);

    public IEnumerable<InvariantCheck> Checks(long exportSlots)
    {
        if (Failure is not null || Snapshot is null)
        {
            yield return InvariantCheck.Fail("Snapshot and priority probe ran", Failure ?? "no snapshot was taken");
            yield break;
        }

        string expected = string.Join(", ", ExpectedWaiterOrder);
        string granted = string.Join(", ", GrantOrder);
        yield return InvariantCheck.That(
            "Named priority: critical first",
            granted == expected,
            $"granted {granted}",
            $"granted {granted}, expected {expected}");

        ResourceSnapshot? payroll = Snapshot.Resources.FirstOrDefault(resource => resource.ResourceId == NamedBank.PayrollId);
        string listed = payroll is null ? "none" : string.Join(", ", payroll.Waiters.Select(waiter => waiter.Owner));
        bool waitersListed = payroll is not null
            && listed == expected
            && payroll.Waiters.All(waiter => waiter.WaitingSince <= Snapshot.TakenAt)
            && payroll.Holders.Count == 1 && payroll.Holders[0].Owner == HolderOwner;
        yield return InvariantCheck.That(
            "Snapshot listed holder and waiters",
            waitersListed,
            $"{HolderOwner} holds; waiting: {listed}",
            $"payroll holders: {payroll?.Holders.Count ?? 0}, waiters listed: {listed}, expected {expected}");

        ResourceSnapshot? report = Snapshot.Resources.FirstOrDefault(resource => resource.ResourceId == HeartbeatScenario.ResourceId);
        PoolSnapshot? pool = Snapshot.Pools.FirstOrDefault(candidate => candidate.PoolId == NamedBank.ExportPoolId);
        bool reportListed = report is not null && report.Holders.Any(holder => holder.Owner == HeartbeatScenario.Owner && holder.ExpiresAt is not null);
        bool poolListed = pool is not null && pool.Total == exportSlots && pool.Reserved <= pool.Total && pool.Available == pool.Total - pool.Reserved;
        yield return InvariantCheck.That(
            "Snapshot listed leases and pools",
            reportListed && poolListed,
            $"{HeartbeatScenario.ResourceId} and its expiry; pool {pool?.Reserved}/{pool?.Total}",
            $"{HeartbeatScenario.ResourceId} listed with expiry: {reportListed}; pool listed and consistent: {poolListed}");
    }
}
