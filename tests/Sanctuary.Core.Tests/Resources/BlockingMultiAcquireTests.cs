using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Diagnostics;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>The blocking all-or-nothing acquire of several resources, <see cref="ResourceRegistry.AcquireAll(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>.</summary>
public sealed class BlockingMultiAcquireTests
{
    private static object? s_sink;

    [Fact]
    public void AcquireAll_ShuffledIds_TakesOrdinalOrder()
    {
        using var registry = new ResourceRegistry();
        using ResourceLeaseSet set = registry.AcquireAll(new[] { "c", "a", "B", "b" });

        Assert.Equal(new[] { "B", "a", "b", "c" }, set.Select(lease => lease.ResourceId));
        Assert.True(set.AllHeld);

        // Each new entry reserves its block of fencing tokens from one registry-wide counter, so
        // tokens that rise along the set show that the resources were taken in the set's order.
        long[] tokens = set.Select(lease => lease.FencingToken).ToArray();
        for (int i = 1; i < tokens.Length; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"'{set[i].ResourceId}' (token {tokens[i]}) was taken before '{set[i - 1].ResourceId}' (token {tokens[i - 1]}).");
        }

        foreach (string id in new[] { "B", "a", "b", "c" })
        {
            Assert.False(registry.TryAcquire(id, out _), $"'{id}' was free while the set held it.");
        }
    }

    [Fact]
    public void AcquireAll_Requests_LeasesCarryModesAndOptions()
    {
        using var registry = new ResourceRegistry();
        var options = new MultiAcquireOptions { Lease = new LeaseOptions { Owner = "exporter", Purpose = "nightly export" } };
        using ResourceLeaseSet set = registry.AcquireAll(new ResourceRequest[] { "orders", new("catalog", LeaseMode.Read) }, options);

        Assert.Equal(new[] { "catalog", "orders" }, set.Select(lease => lease.ResourceId));
        Assert.Equal(LeaseMode.Read, set["catalog"].Mode);
        Assert.All(set, lease => Assert.Equal("exporter", lease.Owner));
        Assert.All(set, lease => Assert.Equal("nightly export", lease.Purpose));

        // The read lease shares: another reader gets in, a writer does not.
        Assert.True(registry.TryAcquire("catalog", out ResourceLease reader, new LeaseOptions { Mode = LeaseMode.Read }));
        reader.Dispose();
        Assert.False(registry.TryAcquire("catalog", out _, new LeaseOptions { Mode = LeaseMode.Write }));
    }

    [Fact]
    public void AcquireAll_Duplicates_MergedStrongestModeWins()
    {
        using var registry = new ResourceRegistry();
        using (ResourceLeaseSet same = registry.AcquireAll(new[] { "x", "x" }))
        {
            Assert.Single(same);
        }

        using ResourceLeaseSet set = registry.AcquireAll(new ResourceRequest[] { new("d", LeaseMode.Read), new("c"), new("d", LeaseMode.Write), new("a", LeaseMode.Read), new("a", LeaseMode.UpgradeableRead) });

        Assert.Equal(new[] { "a", "c", "d" }, set.Select(lease => lease.ResourceId));
        Assert.Equal(LeaseMode.UpgradeableRead, set["a"].Mode);
        Assert.Equal(LeaseMode.Exclusive, set["c"].Mode);
        Assert.Equal(LeaseMode.Write, set["d"].Mode);
        Assert.True(set.AllHeld);
        Assert.Single(registry.GetSnapshot().Resources.Single(resource => resource.ResourceId == "d").Holders);
    }

    [Fact]
    public void AcquireAll_ThirdHeld_ReleasesFirstTwo()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease holder = registry.Acquire("c", Owner("report-job"));
        var options = new MultiAcquireOptions { WaitTimeout = TimeSpan.FromMilliseconds(50), Lease = Owner("transfer") };

        ResourceUnavailableException error = Assert.Throws<ResourceUnavailableException>(() => registry.AcquireAll(new[] { "c", "b", "a" }, options));

        Assert.Equal("c", error.ResourceId);
        Assert.Equal("report-job", Assert.Single(error.Holders).Owner);
        Assert.Equal(TimeSpan.FromMilliseconds(50), error.Timeout);
        Assert.Contains("'a', 'b'", error.Message);
        Assert.Contains("released", error.Message);

        ResourceSnapshot left = Assert.Single(registry.GetSnapshot().Resources);
        Assert.Equal("c", left.ResourceId);
        Assert.Equal("report-job", Assert.Single(left.Holders).Owner);
        Assert.Empty(left.Waiters);
        Assert.Empty(registry.GetOwnerSnapshot("transfer").Leases);
        Assert.Empty(registry.GetOwnerSnapshot("transfer").Waiting);

        Assert.True(registry.TryAcquire("a", out ResourceLease a), "'a' stayed held after the set failed");
        Assert.True(registry.TryAcquire("b", out ResourceLease b), "'b' stayed held after the set failed");
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public async Task AcquireAll_FakeClockTimeout_NamesMissingResource()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            // The handle lets the test see the primitive's own queue: once the waiter is counted
            // there, its deadline is set on the fake clock, and advancing the clock reaches it.
            ResourceHandle b = registry.GetHandle("b");
            ResourceLease holder = b.Acquire(Owner("report-job"));
            Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(
                () => registry.AcquireAll(new[] { "c", "b", "a" }, new MultiAcquireOptions { WaitTimeout = TimeSpan.FromSeconds(1) }),
                "blocking set");
            Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 1), "the set never queued for 'b'");

            clock.Advance(TimeSpan.FromSeconds(1));

            var error = await Assert.ThrowsAsync<ResourceUnavailableException>(() => Within(set, "the blocking set"));
            Assert.Equal("b", error.ResourceId);
            Assert.Equal("report-job", Assert.Single(error.Holders).Owner);
            Assert.Equal(TimeSpan.FromSeconds(1), error.HeldFor);
            Assert.Contains("'a'", error.Message);
            Assert.True(registry.TryAcquire("a", out ResourceLease a), "'a' stayed held after the set failed");
            Assert.True(registry.TryAcquire("c", out ResourceLease c), "'c' was taken although 'b' failed first");
            a.Dispose();
            c.Dispose();
            holder.Dispose();

            // Only the pinned entry of 'b' remains.
            Assert.Equal(1, registry.ResourceCount);
        }
    }

    [Fact]
    public void AcquireAll_TokenAlreadyCancelled_HoldsNothing()
    {
        using var registry = new ResourceRegistry();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => registry.AcquireAll(new[] { "a", "b" }, null, cancellation.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => registry.AcquireAll(new ResourceRequest[] { "a", "b" }, null, cancellation.Token));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task AcquireAll_CancelledWait_FreesFirst()
    {
        using var registry = new ResourceRegistry();
        ResourceLease y = registry.Acquire("y");
        using var cancellation = new CancellationTokenSource();
        Task<ResourceLeaseSet> both = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "y", "x" }, null, cancellation.Token), "blocking set");
        Assert.True(Eventually.Holds(() => WaiterCount(registry, "y") == 1), "the set never waited for 'y'");
        Assert.False(registry.TryAcquire("x", out _), "the set did not hold 'x' while it waited for 'y'");

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(both, "the cancelled set"));
        Assert.True(registry.TryAcquire("x", out ResourceLease x), "'x' stayed held after the set was cancelled");
        Assert.Equal(0, WaiterCount(registry, "y"));
        x.Dispose();
        y.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void AcquireAll_DisposedRegistry_ThrowsObjectDisposed()
    {
        var registry = new ResourceRegistry();
        registry.Dispose();

        Assert.Throws<ObjectDisposedException>(() => registry.AcquireAll(new[] { "a", "b" }));
        Assert.Throws<ObjectDisposedException>(() => registry.AcquireAll(new ResourceRequest[] { "a", "b" }));
    }

    [Fact]
    public async Task AcquireAll_RegistryDisposedWhileWaiting_Throws()
    {
        var registry = new ResourceRegistry();
        ResourceLease holder = registry.Acquire("b");
        Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "a", "b" }), "blocking set");
        Assert.True(Eventually.Holds(() => WaiterCount(registry, "b") == 1), "the set never waited for 'b'");

        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(set, "the blocking set"));
        Assert.All(registry.GetSnapshot().Resources, resource => Assert.Empty(resource.Holders));
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }

    [Fact]
    public void AcquireAll_NullSequence_ThrowsWithParameterName()
    {
        using var registry = new ResourceRegistry();

        var requests = Assert.Throws<ArgumentNullException>(() => registry.AcquireAll((IEnumerable<ResourceRequest>)null!));
        var ids = Assert.Throws<ArgumentNullException>(() => registry.AcquireAll((IEnumerable<string>)null!));

        Assert.Equal("resources", requests.ParamName);
        Assert.Equal("resourceIds", ids.ParamName);
    }

    [Fact]
    public void AcquireAll_EmptySet_ThrowsWithParameterName()
    {
        using var registry = new ResourceRegistry();

        var requests = Assert.Throws<ArgumentException>(() => registry.AcquireAll(Array.Empty<ResourceRequest>()));
        var ids = Assert.Throws<ArgumentException>(() => registry.AcquireAll(Enumerable.Empty<string>()));

        Assert.Equal("resources", requests.ParamName);
        Assert.Equal("resourceIds", ids.ParamName);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void AcquireAll_InvalidIds_ThrowNamingThePosition()
    {
        using var registry = new ResourceRegistry();

        var empty = Assert.Throws<ArgumentException>(() => registry.AcquireAll(new[] { "a", string.Empty }));
        var missing = Assert.Throws<ArgumentNullException>(() => registry.AcquireAll(new ResourceRequest[] { "a", "b", new(null!) }));
        var tooLong = Assert.Throws<ArgumentException>(() => registry.AcquireAll(new[] { new string('x', ResourceRegistry.MaxResourceIdLength + 1) }));

        Assert.Equal("resourceIds[1]", empty.ParamName);
        Assert.Equal("resources[2]", missing.ParamName);
        Assert.Equal("resourceIds[0]", tooLong.ParamName);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void AcquireAll_UndefinedMode_ThrowsNamingThePosition()
    {
        using var registry = new ResourceRegistry();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => registry.AcquireAll(new ResourceRequest[] { "a", new("b", (LeaseMode)9) }));

        Assert.Equal("resources[1]", error.ParamName);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void AcquireAll_HeartbeatTooLong_Throws()
    {
        using var registry = new ResourceRegistry();
        var options = new MultiAcquireOptions { Lease = new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromSeconds(2) } };

        var error = Assert.Throws<ArgumentException>(() => registry.AcquireAll(new[] { "a" }, options));

        Assert.Equal("options.Lease.HeartbeatInterval", error.ParamName);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task AcquireAll_OppositeOrderThreads_NeverOverlap()
    {
        const int Threads = 4;
        const int Rounds = 2_000;
        string[][] orders =
        {
            new[] { "x", "y", "z" },
            new[] { "z", "y", "x" },
            new[] { "y", "x" },
            new[] { "z", "x" },
        };
        string[] ids = { "x", "y", "z" };
        using var registry = new ResourceRegistry();
        var counts = new int[ids.Length];
        var probes = ids.Select(_ => new ExclusionProbe()).ToArray();
        using var start = new ManualResetEventSlim();

        int Run(int thread)
        {
            start.Wait();
            string[] order = orders[thread % orders.Length];
            for (int round = 0; round < Rounds; round++)
            {
                using ResourceLeaseSet set = registry.AcquireAll(order);
                foreach (ResourceLease lease in set)
                {
                    int slot = Array.IndexOf(ids, lease.ResourceId);
                    probes[slot].Enter();

                    // A read, a pause and a write: a second holder inside this window loses an update.
                    int seen = counts[slot];
                    Thread.SpinWait(20);
                    counts[slot] = seen + 1;
                    probes[slot].Exit();
                }
            }

            return Rounds;
        }

        Task<int>[] workers = Enumerable.Range(0, Threads).Select(thread => Waiters.RunOnOwnThread(() => Run(thread), $"set acquirer {thread}")).ToArray();
        start.Set();
        await Waiters.WithinAsync(Task.WhenAll(workers), TimeSpan.FromSeconds(60), "opposite-order blocking sets");

        for (int slot = 0; slot < ids.Length; slot++)
        {
            int expected = Enumerable.Range(0, Threads).Count(thread => orders[thread % orders.Length].Contains(ids[slot])) * Rounds;
            Assert.Equal(expected, counts[slot]);
            Assert.Equal(0, probes[slot].Violations);
        }

        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task AcquireAll_RetryUntilHolderLeaves_Succeeds()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = registry.Acquire("b");
        using var cancellation = new CancellationTokenSource();
        var options = new MultiAcquireOptions
        {
            WaitTimeout = TimeSpan.FromSeconds(30),
            Retry = new RetryPolicy { MaxAttempts = 100_000, AttemptTimeout = TimeSpan.FromMilliseconds(10), InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        };
        Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "b", "a" }, options, cancellation.Token), "retrying set");

        // Every attempt takes 'a' anew with a higher fencing token, so a second token proves a retry.
        long first = 0;
        Assert.True(Eventually.Holds(() => (first = HolderToken(registry, "a")) > 0), "the first attempt never took 'a'");
        Assert.True(Eventually.Holds(() => HolderToken(registry, "a") > first), "no second attempt took 'a'");
        holder.Dispose();

        using ResourceLeaseSet leases = await Within(set, "the retrying set");
        Assert.True(leases.AllHeld);
        Assert.True(leases["a"].FencingToken > first);
    }

    [Fact]
    public async Task AcquireAll_CancelledDuringBackoff_HoldsNothing()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease holder = registry.Acquire("b");
        using var cancellation = new CancellationTokenSource();
        var options = new MultiAcquireOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(10), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
        };
        var outcome = new TaskCompletionSource<ResourceLeaseSet>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                outcome.SetResult(registry.AcquireAll(new[] { "a", "b" }, options, cancellation.Token));
            }
            catch (Exception error)
            {
                outcome.SetException(error);
            }
        })
        {
            IsBackground = true,
            Name = "backing-off set",
        };
        thread.Start();

        // A blocked thread while 'a' is free and 'b' has no waiter is in the hour-long pause. A
        // cancellation that lands just before the pause must end the set the same way.
        Assert.True(
            Eventually.Holds(() => (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0 && HolderToken(registry, "a") == 0 && WaiterCount(registry, "b") == 0),
            "the set never paused between attempts");
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(outcome.Task, "the cancelled set"));
        Assert.True(registry.TryAcquire("a", out ResourceLease a), "'a' was held after the set was cancelled");
        a.Dispose();
    }

    [Fact]
    public async Task AcquireAll_FakeClockBackoffCancelled_HoldsNothing()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle b = registry.GetHandle("b");
            using ResourceLease holder = b.Acquire();
            using var cancellation = new CancellationTokenSource();
            var options = new MultiAcquireOptions
            {
                Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(100), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
            };
            Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "a", "b" }, options, cancellation.Token), "backing-off set");
            Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 1), "the set never queued for 'b'");

            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 0 && HolderToken(registry, "a") == 0), "the first attempt never gave up");
            cancellation.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(set, "the cancelled set"));
            Assert.True(registry.TryAcquire("a", out ResourceLease a), "'a' was held after the set was cancelled");
            a.Dispose();
        }
    }

    [Fact]
    public async Task AcquireAll_FakeClockBackoff_WaitsForClock()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle b = registry.GetHandle("b");
            ResourceLease holder = b.Acquire();
            var options = new MultiAcquireOptions
            {
                WaitTimeout = TimeSpan.FromSeconds(10),
                Retry = new RetryPolicy { MaxAttempts = 3, AttemptTimeout = TimeSpan.FromMilliseconds(100), InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 },
            };
            Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "a", "b" }, options), "retrying set");
            Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 1), "the set never queued for 'b'");

            // The first attempt times out on the fake clock. The pause after it runs on the fake
            // clock too, so the set stays pending until the test moves the clock on.
            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 0 && HolderToken(registry, "a") == 0), "the first attempt never gave up");
            holder.Dispose();
            Assert.False(set.IsCompleted, "the set skipped its backoff pause");

            // The pause's timer may not exist yet when the clock first moves; step until the set ends.
            Assert.True(Eventually.Holds(() =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
                return set.IsCompleted;
            }), "the pause never ended on the fake clock");

            using ResourceLeaseSet leases = await set;
            Assert.True(leases.AllHeld);
        }
    }

    [Fact]
    public async Task AcquireAll_ExpiredLease_ThrowsLeaseLost()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle second = registry.GetHandle("p-b");
            ResourceLease holder = second.Acquire(Owner("report-job"));
            var options = new MultiAcquireOptions { Lease = new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) } };
            Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "p-a", "p-b" }, options), "blocking set");
            Assert.True(Eventually.Holds(() => second.Entry.Gate.WaitingCount == 1), "the set never queued for 'p-b'");

            // The set's lease on 'p-a' runs out while it waits for 'p-b', and another owner takes 'p-a'.
            clock.Advance(TimeSpan.FromMilliseconds(200));
            Assert.True(registry.TryAcquire("p-a", out ResourceLease successor, Owner("successor")), "'p-a' stayed held after its lease ran out");
            clock.Advance(TimeSpan.FromMilliseconds(400));
            holder.Dispose();

            var error = await Assert.ThrowsAsync<LeaseLostException>(() => Within(set, "the blocking set"));
            Assert.Equal("p-a", error.ResourceId);
            Assert.Equal(LeaseLossReason.Expired, error.Reason);
            Assert.NotEqual(successor.LeaseId, error.LeaseId);
            Assert.Contains("Cannot complete the all-or-nothing acquire with lease", error.Message);
            Assert.True(successor.IsHeld, "the failed set released the successor's lease");
            Assert.False(second.Entry.Gate.IsHeld, "'p-b' stayed held after the set failed");
            successor.Dispose();
        }
    }

    [Fact]
    public async Task AcquireAll_ExpiredLease_RetriesNewSet()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle first = registry.GetHandle("p-a");
            ResourceHandle second = registry.GetHandle("p-b");
            ResourceLease holder = second.Acquire(Owner("report-job"));
            var options = new MultiAcquireOptions
            {
                WaitTimeout = TimeSpan.FromSeconds(10),
                Lease = new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) },
                Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromSeconds(5), InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 },
            };
            Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "p-a", "p-b" }, options), "retrying set");
            Assert.True(Eventually.Holds(() => second.Entry.Gate.WaitingCount == 1), "the set never queued for 'p-b'");
            long lostToken = HolderToken(registry, "p-a");

            clock.Advance(TimeSpan.FromMilliseconds(200));
            Assert.False(first.Entry.Gate.IsHeld, "'p-a' stayed held after its lease ran out");
            holder.Dispose();

            // The failed attempt pauses on the fake clock; step until the second attempt completes.
            Assert.True(Eventually.Holds(() =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
                return set.IsCompleted;
            }), "the set never made its second attempt");

            using ResourceLeaseSet leases = await set;
            Assert.True(leases.AllHeld);
            Assert.True(leases["p-a"].FencingToken > lostToken, "the set kept the lease that had run out");
        }
    }

    [Fact]
    public async Task AcquireAll_DisposedDuringBackoff_ThrowsAtOnce()
    {
        var registry = new ResourceRegistry();
        ResourceLease holder = registry.Acquire("b");
        var options = new MultiAcquireOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(10), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
        };
        var outcome = new TaskCompletionSource<ResourceLeaseSet>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                outcome.SetResult(registry.AcquireAll(new[] { "a", "b" }, options));
            }
            catch (Exception error)
            {
                outcome.SetException(error);
            }
        })
        {
            IsBackground = true,
            Name = "backing-off set",
        };
        thread.Start();

        // A blocked thread while 'a' is free and 'b' has no waiter is in the hour-long pause. A
        // disposal that lands just before the pause must end the set the same way.
        Assert.True(
            Eventually.Holds(() => (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0 && HolderToken(registry, "a") == 0 && WaiterCount(registry, "b") == 0),
            "the set never paused between attempts");
        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(outcome.Task, "the pausing set"));
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }

    [Fact]
    public async Task AcquireAll_FakeClockBackoffDisposed_Throws()
    {
        var (registry, clock) = CreateWithFakeClock();
        ResourceHandle b = registry.GetHandle("b");
        b.Acquire();
        var options = new MultiAcquireOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(100), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
        };
        Task<ResourceLeaseSet> set = Waiters.RunOnOwnThread(() => registry.AcquireAll(new[] { "a", "b" }, options), "backing-off set");
        Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 1), "the set never queued for 'b'");

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(Eventually.Holds(() => b.Entry.Gate.WaitingCount == 0 && HolderToken(registry, "a") == 0), "the first attempt never gave up");
        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(set, "the pausing set"));
    }

    [Fact]
    public void AcquireAll_StoreHoldsSecond_ReleasesFirst()
    {
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        var store = new InMemoryLeaseStore(clock);
        using var other = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, DefaultOwner = "other-process" });
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, DefaultOwner = "tests" });
        using ResourceLease held = other.Acquire("b");

        var error = Assert.Throws<ResourceUnavailableException>(() => registry.AcquireAll(new[] { "b", "a" }, new MultiAcquireOptions { WaitTimeout = TimeSpan.Zero }));

        Assert.Equal("b", error.ResourceId);
        Assert.Equal("other-process", Assert.Single(error.Holders).Owner);
        using ResourceLease a = other.Acquire("a", new LeaseOptions { WaitTimeout = TimeSpan.Zero });
        Assert.True(a.IsHeld);

        held.Dispose();
        using ResourceLeaseSet set = registry.AcquireAll(new[] { "b" });
        Assert.True(set.AllHeld);
    }

    [Fact]
    public void AcquireAll_Uncontended_AllocatesOnlySet()
    {
        using var registry = new ResourceRegistry();

        // Handles pin the entries, so the lookups by id find them and allocate no table nodes.
        registry.GetHandle("a");
        registry.GetHandle("b");
        registry.GetHandle("c");
        ResourceRequest[] requests = { "c", "a", "b" };

        static void AcquireAndRelease(ResourceRegistry registry, ResourceRequest[] requests, int times)
        {
            for (int i = 0; i < times; i++)
            {
                ResourceLeaseSet set = registry.AcquireAll(requests);
                s_sink = set;
                set.Dispose();
            }
        }

        // The same objects, made directly: the caller's requests copied for sorting, the lease array and the set.
        static void AllocateTheSame(ResourceRequest[] requests, int times)
        {
            for (int i = 0; i < times; i++)
            {
                s_sink = requests.Clone();
                s_sink = new ResourceLeaseSet(new ResourceLease[requests.Length]);
            }
        }

        AcquireAndRelease(registry, requests, 1_000);
        AllocateTheSame(requests, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        AcquireAndRelease(registry, requests, 1_000);
        long acquired = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        AllocateTheSame(requests, 1_000);
        long expected = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(expected, acquired);
    }

    private static int WaiterCount(ResourceRegistry registry, string resourceId) =>
        registry.GetSnapshot().Resources.FirstOrDefault(resource => resource.ResourceId == resourceId)?.Waiters.Count ?? 0;

    // The fencing token of the resource's sole holder, or 0 when no lease holds it.
    private static long HolderToken(ResourceRegistry registry, string resourceId) =>
        registry.GetSnapshot().Resources.FirstOrDefault(resource => resource.ResourceId == resourceId)?.Holders.SingleOrDefault()?.FencingToken ?? 0;
}

/// <summary>
/// Metrics and traces of the blocking multi-resource acquire. Listeners make every acquire in the
/// process record, so these run apart from the allocation tests.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class BlockingMultiAcquireTelemetryTests
{
    [Fact]
    public void AcquireAll_SecondTimesOut_RecordsTelemetry()
    {
        var measurements = new ConcurrentQueue<(string Instrument, object? Resource)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SanctuaryDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, ResourceOf(tags))));
        meters.Start();
        var activities = new ConcurrentQueue<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SanctuaryDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(traces);

        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TagMetricsWithResourceId = true });
        string first = "first-" + Guid.NewGuid().ToString("N");
        string second = "second-" + Guid.NewGuid().ToString("N");
        using ResourceLease holder = registry.Acquire(second);

        Assert.Throws<ResourceUnavailableException>(() => registry.AcquireAll(new[] { first, second }, new MultiAcquireOptions { WaitTimeout = TimeSpan.Zero }));

        int Count(string instrument, string resourceId) => measurements.Count(m => m.Instrument == instrument && Equals(m.Resource, resourceId));
        Assert.Equal(1, Count(SanctuaryDiagnostics.AcquiredCounter, first));
        Assert.Equal(1, Count(SanctuaryDiagnostics.ReleasedCounter, first));
        Assert.Equal(1, Count(SanctuaryDiagnostics.AcquiredCounter, second));
        Assert.Equal(1, Count(SanctuaryDiagnostics.TimedOutCounter, second));
        Activity waited = Assert.Single(activities, activity => Equals(activity.GetTagItem(SanctuaryDiagnostics.ResourceTag), second));
        Assert.Equal(SanctuaryDiagnostics.WaitActivityName, waited.OperationName);
        Assert.Equal("timed_out", waited.GetTagItem(SanctuaryDiagnostics.OutcomeTag));
    }

    private static object? ResourceOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == SanctuaryDiagnostics.ResourceTag)
            {
                return tag.Value;
            }
        }

        return null;
    }
}
