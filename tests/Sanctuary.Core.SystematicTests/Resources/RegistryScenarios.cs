using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Sanctuary.Resources;

namespace Sanctuary.SystematicTests.Resources;

/// <summary>
/// Test bodies for the named-resource registry that Coyote runs under many schedules. Each
/// creates its own registry (with a manual clock where time matters), so every iteration starts
/// fresh; the same body runs against the real registry and against one with a deliberate fault.
/// </summary>
internal static class RegistryScenarios
{
    public static ResourceRegistry Create(RegistryFaults faults, ManualTimeProvider? clock = null) =>
        new(new ResourceRegistryOptions { TimeProvider = clock ?? new ManualTimeProvider(), DefaultOwner = "systematic" }, faults);

    /// <summary>
    /// Two tasks take the same two resources, naming them in opposite orders, twice each. Sorted
    /// acquisition finishes; unsorted acquisition can deadlock, which Coyote reports.
    /// </summary>
    public static async Task OppositeOrdersAsync(RegistryFaults faults)
    {
        using ResourceRegistry registry = Create(faults);
        var x = new Exclusion("x");
        var y = new Exclusion("y");

        async Task Take(string who, string first, string second)
        {
            for (int round = 0; round < 2; round++)
            {
                ResourceLeaseSet set = await registry.AcquireAllAsync(new[] { first, second });
                x.Enter(who);
                y.Enter(who);
                SchedulingPoint.Interleave();
                await Task.Yield();
                y.Exit(who);
                x.Exit(who);
                set.Dispose();
            }
        }

        Task a = Task.Run(() => Take("A", "x", "y"));
        Task b = Task.Run(() => Take("B", "y", "x"));
        await Task.WhenAll(new[] { a, b });
        AssertQuiet(registry, "opposite orders");
    }

    /// <summary>
    /// A holder with a time-to-live has a waiter behind it; the clock reaches the expiry while
    /// the holder releases. Exactly one of them frees the resource: the release reports Released
    /// (token silent) or Expired (token fired), the waiter is granted once, and a late acquirer
    /// never holds the resource together with the waiter.
    /// </summary>
    public static async Task ExpiryRacesReleaseAsync(RegistryFaults faults)
    {
        var clock = new ManualTimeProvider();
        using ResourceRegistry registry = Create(faults, clock);
        var k = new Exclusion("k");
        ResourceLease holder = await registry.AcquireAsync("k", new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(10), Owner = "holder" });
        CancellationToken lost = holder.LostToken;

        Task waiter = Task.Run(async () => await HoldAsync(registry, k, "waiter"));
        while (registry.GetSnapshot().Resources[0].Waiters.Count == 0)
        {
            await Task.Yield();
        }

        Task expiring = Task.Run(() => clock.Advance(TimeSpan.FromMilliseconds(10)));
        Task<LeaseReleaseResult> releasing = Task.Run(() => holder.Release());
        Task late = Task.Run(async () => await HoldAsync(registry, k, "late acquirer"));
        await Task.WhenAll(new Task[] { waiter, expiring, releasing, late });

        LeaseReleaseResult result = releasing.Result;
        bool fired = lost.IsCancellationRequested;
        Specification.Assert(
            (result == LeaseReleaseResult.Released && !fired) || (result == LeaseReleaseResult.Expired && fired),
            "Expiry and release both acted: release returned {0} and the lost token fired: {1}; expected Released with a silent token, or Expired with a fired one.",
            result,
            fired);
        Specification.Assert(k.Entries == 2, "The resource was entered {0} times; expected 2 (the waiter and the late acquirer).", k.Entries);
        AssertQuiet(registry, "expiry racing release");
    }

    /// <summary>
    /// A lease with a heartbeat is released while its heartbeat falls due. After both, no timer
    /// of the lease may remain and no renewal may follow: renewal has stopped for good.
    /// </summary>
    public static async Task RenewalRacesReleaseAsync(RegistryFaults faults)
    {
        var clock = new ManualTimeProvider();
        using ResourceRegistry registry = Create(faults, clock);
        ResourceLease lease = await registry.AcquireAsync("k", new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(100), HeartbeatInterval = TimeSpan.FromMilliseconds(10) });

        Task beating = Task.Run(() => clock.Advance(TimeSpan.FromMilliseconds(10)));
        Task<LeaseReleaseResult> releasing = Task.Run(() => lease.Release());
        await Task.WhenAll(new Task[] { beating, releasing });

        Specification.Assert(releasing.Result == LeaseReleaseResult.Released, "The release returned {0}; expected Released (the heartbeat keeps the lease alive).", releasing.Result);
        int scheduled = registry.Scheduler.Count;
        Specification.Assert(scheduled == 0, "Renewal continued after release: {0} timer item(s) of the released lease remain; expected 0.", scheduled);
        long renewals = registry.Renewals;
        clock.Advance(TimeSpan.FromMilliseconds(50));
        Specification.Assert(registry.Renewals == renewals, "Renewal continued after release: {0} renewal(s) after it; expected none.", registry.Renewals - renewals);
        AssertQuiet(registry, "renewal racing release");
    }

    /// <summary>
    /// A, B and C contend on "k" while D takes "j"; every release may reclaim an entry that a
    /// newcomer is joining. No two holders of a key may ever overlap, and the registry ends empty.
    /// </summary>
    public static async Task RecycledEntriesAsync(RegistryFaults faults)
    {
        using ResourceRegistry registry = Create(faults);
        var k = new Exclusion("k");
        var j = new Exclusion("j");

        async Task Loop(string who, string id, Exclusion exclusion, int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                await HoldAsync(registry, exclusion, who, id);
            }
        }

        await Task.WhenAll(new[]
        {
            Task.Run(() => Loop("A", "k", k, 2)),
            Task.Run(() => Loop("B", "k", k, 2)),
            Task.Run(() => Loop("C", "k", k, 1)),
            Task.Run(() => Loop("D", "j", j, 2)),
        });

        Specification.Assert(k.Entries == 5 && j.Entries == 2, "'k' was entered {0} times and 'j' {1}; expected 5 and 2.", k.Entries, j.Entries);
        AssertQuiet(registry, "recycled entries");
    }

    private static async Task HoldAsync(ResourceRegistry registry, Exclusion exclusion, string who, string id = "k")
    {
        // A newcomer may arrive at any moment, in particular while a release is reclaiming the entry.
        SchedulingPoint.Interleave();
        ResourceLease lease = await registry.AcquireAsync(id, new LeaseOptions { Owner = who });
        exclusion.Enter(who);
        SchedulingPoint.Interleave();
        await Task.Yield();
        exclusion.Exit(who);
        LeaseReleaseResult released = lease.Release();
        Specification.Assert(released == LeaseReleaseResult.Released, "{0}: releasing its lease on '{1}' returned {2}; expected Released.", who, id, released);
    }

    private static void AssertQuiet(ResourceRegistry registry, string scenario)
    {
        int entries = registry.ResourceCount;
        Specification.Assert(entries == 0, "{0}: the registry still has {1} entries at the end; expected 0.", scenario, entries);
    }

    /// <summary>Counts holders of one resource; more than one at a time is a violation.</summary>
    private sealed class Exclusion
    {
        private readonly string _resource;
        private int _inside;
        private int _entries;

        public Exclusion(string resource)
        {
            _resource = resource;
        }

        public int Entries => Volatile.Read(ref _entries);

        public void Enter(string who)
        {
            int inside = Interlocked.Increment(ref _inside);
            Interlocked.Increment(ref _entries);
            Specification.Assert(inside == 1, "Mutual exclusion violated: {0} entered '{1}' and observed {2} holders; expected 1.", who, _resource, inside);
        }

        public void Exit(string who)
        {
            int inside = Interlocked.Decrement(ref _inside);
            Specification.Assert(inside == 0, "Mutual exclusion violated: {0} left '{1}' and observed {2} holders still inside; expected 0.", who, _resource, inside);
        }
    }
}
