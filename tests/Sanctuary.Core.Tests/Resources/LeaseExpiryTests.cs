using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>Time-to-live, extension, heartbeat and orphan reclaim, driven by a fake clock.</summary>
public sealed class LeaseExpiryTests
{
    private static readonly LeaseOptions s_oneSecond = new() { TimeToLive = TimeSpan.FromSeconds(1), Owner = "a" };

    [Fact]
    public async Task TimeToLive_RunsOut_NextWaiterGetsResource()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease orphan = await registry.AcquireAsync("k", s_oneSecond);
            CancellationToken lost = orphan.LostToken;
            ValueTask<ResourceLease> next = registry.AcquireAsync("k", Owner("b"));

            clock.Advance(TimeSpan.FromMilliseconds(999));
            Assert.False(lost.IsCancellationRequested);
            Assert.True(orphan.IsHeld);

            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(lost.IsCancellationRequested);
            Assert.Equal(LeaseState.Lost, orphan.State);
            Assert.Equal(LeaseLossReason.Expired, orphan.LossReason);
            ResourceLease b = await Within(next.AsTask(), "the waiter behind the orphan");
            Assert.True(b.IsHeld);
            Assert.True(b.FencingToken > orphan.FencingToken);

            // Releasing the expired lease reports it and frees nothing that belongs to b.
            Assert.Equal(LeaseReleaseResult.Expired, orphan.Release());
            Assert.Equal(LeaseReleaseResult.AlreadyReleased, orphan.Release());
            Assert.True(b.IsHeld);
            Assert.False(registry.TryAcquire("k", out _));
            b.Dispose();
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task LostToken_ReadAfterLoss_IsAlreadyCancelled()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease lease = await registry.AcquireAsync("k", s_oneSecond);
            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.True(lease.LostToken.IsCancellationRequested);
            Assert.Equal("a", lease.Owner);
            Assert.Equal(LeaseReleaseResult.Expired, await lease.ReleaseAsync());
        }
    }

    [Fact]
    public async Task LostToken_NormalRelease_DoesNotFire()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease lease = await registry.AcquireAsync("k", s_oneSecond);
            CancellationToken lost = lease.LostToken;
            lease.Dispose();
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.False(lost.IsCancellationRequested);
            Assert.Equal(0, registry.Scheduler.Count);
        }
    }

    [Fact]
    public async Task ExtendAsync_MovesExpiryLater()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease lease = await registry.AcquireAsync("k", s_oneSecond);
            DateTimeOffset start = clock.GetUtcNow();
            clock.Advance(TimeSpan.FromMilliseconds(800));
            DateTimeOffset? extended = await lease.ExtendAsync(TimeSpan.FromSeconds(1));
            Assert.Equal(start + TimeSpan.FromSeconds(2), extended);
            Assert.Equal(extended, lease.ExpiresAt);

            clock.Advance(TimeSpan.FromMilliseconds(1100));
            Assert.True(lease.IsHeld);
            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.False(lease.IsHeld);

            var error = await Assert.ThrowsAsync<LeaseLostException>(async () => await lease.ExtendAsync(TimeSpan.FromSeconds(1)));
            Assert.Equal("k", error.ResourceId);
            Assert.Equal(LeaseLossReason.Expired, error.Reason);
            Assert.Contains("'k'", error.Message);
            lease.Dispose();
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await lease.ExtendAsync(TimeSpan.FromSeconds(1)));
        }
    }

    [Fact]
    public async Task Heartbeat_EmbeddedStore_RenewsUntilRelease()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var options = new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(300) };
            ResourceLease lease = await registry.AcquireAsync("k", options);
            for (int i = 0; i < 20; i++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(300));
            }

            Assert.True(lease.IsHeld);
            Assert.Equal(20, registry.Renewals);
            Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), lease.ExpiresAt);

            lease.Dispose();
            long renewals = registry.Renewals;
            clock.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal(renewals, registry.Renewals);
            Assert.Equal(0, registry.Scheduler.Count);
        }
    }

    [Fact]
    public async Task Heartbeat_NoTimeToLive_DerivesIt()
    {
        var (registry, _) = CreateWithFakeClock();
        using (registry)
        {
            var options = new LeaseOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), MaxMissedHeartbeats = 2 };
            using ResourceLease lease = await registry.AcquireAsync("k", options);
            Assert.Equal(lease.AcquiredAt + TimeSpan.FromSeconds(3), lease.ExpiresAt);
        }
    }

    [Fact]
    public async Task ManyLeases_ShareOneTimer()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var leases = new ResourceLease[1_000];
            for (int i = 0; i < leases.Length; i++)
            {
                leases[i] = await registry.AcquireAsync("k" + i, new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(1 + (i % 50)) });
            }

            Assert.Equal(1_000, registry.Scheduler.Count);
            clock.Advance(TimeSpan.FromMilliseconds(50));
            Assert.Equal(0, registry.Scheduler.Count);
            foreach (ResourceLease lease in leases)
            {
                Assert.Equal(LeaseState.Lost, lease.State);
                Assert.Equal(LeaseReleaseResult.Expired, lease.Release());
            }

            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task ExpiredReservation_ReleasedTwice_FreesNothingMore()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            registry.RegisterPool("slots", 2, "slots");
            ResourceLease r1 = await registry.ReserveAsync("slots", 1, new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(100) });
            ResourceLease r2 = await registry.ReserveAsync("slots", 1);
            Assert.Equal(0, Pool(registry).Available);

            clock.Advance(TimeSpan.FromMilliseconds(150));
            Assert.Equal(1, Pool(registry).Available);

            Assert.Equal(LeaseReleaseResult.Expired, r1.Release());
            Assert.Equal(1, Pool(registry).Available);
            ResourceLease r3 = await registry.ReserveAsync("slots", 1, new LeaseOptions { WaitTimeout = TimeSpan.Zero });
            Assert.Equal(LeaseReleaseResult.AlreadyReleased, r1.Release());
            Assert.True(r3.IsHeld);
            Assert.Equal(0, Pool(registry).Available);
            Assert.Equal(2, Pool(registry).Reserved);

            r2.Dispose();
            r3.Dispose();
            Assert.Equal(2, Pool(registry).Available);
        }

        static PoolSnapshot Pool(ResourceRegistry registry) => Assert.Single(registry.GetSnapshot().Pools);
    }

    [Fact]
    public async Task BlockedRenewals_PastTimeToLive_LeaseLostAndFenced()
    {
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        var inner = new InMemoryLeaseStore(clock);
        var store = new DelayingStore(inner, clock);
        var registryA = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, DefaultOwner = "A" });
        var registryB = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, DefaultOwner = "B" });
        var resource = new FencedResource();
        DateTimeOffset start = clock.GetUtcNow();

        // Step 1: A acquires with a one-second time-to-live; its renewals will hang for 1.5 s.
        ResourceLease a = await registryA.AcquireAsync("k", new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(250) });
        long f1 = a.FencingToken;
        CancellationToken aLost = a.LostToken;
        DateTimeOffset? firedAt = null;
        aLost.Register(() => firedAt = clock.GetUtcNow());
        store.ExtendDelay = TimeSpan.FromMilliseconds(1500);

        // Step 2: time passes in 50 ms steps; at 1.1 s B acquires.
        ResourceLease b = default;
        for (int step = 1; step <= 40; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            if (step == 22)
            {
                b = await Within(registryB.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.Zero }).AsTask(), "B's acquire");
                Assert.True(resource.TryWrite(b.FencingToken, "B"));
            }
        }

        Assert.True(Eventually.Holds(() => firedAt is not null), "A's lost token never fired.");
        Assert.True(firedAt <= start + TimeSpan.FromSeconds(1), $"A's lost token fired at {firedAt - start}; expected no later than 1 s after its last successful renewal (the acquire).");
        Assert.True(b.FencingToken > f1);
        Assert.True(store.Extends >= 1);

        // Step 3: the blocked renewal has returned by now and did not take the lease back.
        Assert.True(Eventually.Holds(() => store.Extends >= 1 && a.State == LeaseState.Lost));
        Assert.False(resource.TryWrite(f1, "A (late)"));
        Assert.Equal(new[] { "B" }, resource.Accepted);
        Assert.Equal(LeaseReleaseResult.Expired, await a.ReleaseAsync());

        Assert.True(b.IsHeld);
        LeaseHolder holder = Assert.Single(await inner.GetHoldersAsync("k", CancellationToken.None));
        Assert.Equal(b.LeaseId, holder.LeaseId);
        Assert.Equal("B", holder.Owner);

        await b.ReleaseAsync();
        Assert.Equal(0, inner.ResourceCount);
        registryA.Dispose();
        registryB.Dispose();
    }

    [Fact]
    public async Task Heartbeat_StoreUnreachable_LeaseLost()
    {
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        var store = new DelayingStore(new InMemoryLeaseStore(clock), clock) { FailExtends = true };
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store });
        ResourceLease lease = await registry.AcquireAsync("k", new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(10), HeartbeatInterval = TimeSpan.FromSeconds(1), MaxMissedHeartbeats = 2 });

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Eventually.Holds(() => store.Extends == 1));
        Assert.True(lease.IsHeld);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Eventually.Holds(() => lease.State == LeaseState.Lost), "the lease survived two failed renewals in a row");
        Assert.Equal(LeaseLossReason.HeartbeatMissed, lease.LossReason);
        Assert.True(lease.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task Heartbeat_ExternalStore_RenewsInTheStore()
    {
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        var inner = new InMemoryLeaseStore(clock);
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = inner });
        ResourceLease lease = await registry.AcquireAsync("k", new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(300) });
        for (int i = 0; i < 10; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(300));
        }

        Assert.True(Eventually.Holds(() => registry.Renewals >= 10));
        Assert.True(lease.IsHeld);
        Assert.Single(await inner.GetHoldersAsync("k", CancellationToken.None));
        await lease.ReleaseAsync();
        Assert.Empty(await inner.GetHoldersAsync("k", CancellationToken.None));
    }
}
