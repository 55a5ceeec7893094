using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>Capacity pools and snapshots.</summary>
public sealed class PoolAndSnapshotTests
{
    [Fact]
    public async Task Pool_LargeRequestAtHead_NotOvertaken()
    {
        using var registry = new ResourceRegistry();
        registry.RegisterPool("memory", 10, "GB");
        ResourceLease six = await registry.ReserveAsync("memory", 6);
        ValueTask<ResourceLease> eight = registry.ReserveAsync("memory", 8);
        ValueTask<ResourceLease> two = registry.ReserveAsync("memory", 2);
        Assert.False(eight.IsCompleted);
        Assert.False(two.IsCompleted);

        six.Dispose();
        ResourceLease big = await Within(eight.AsTask(), "the 8 GB reservation");
        Assert.Equal(8, big.Units);
        ResourceLease small = await Within(two.AsTask(), "the 2 GB reservation");
        big.Dispose();
        small.Dispose();
        Assert.Equal(10, Assert.Single(registry.GetSnapshot().Pools).Available);
    }

    [Fact]
    public async Task Pool_Reservation_IsALease()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            registry.RegisterPool("gpu", 4, "slots");
            registry.RegisterPool("gpu", 4, "slots");
            Assert.Throws<ArgumentException>(() => registry.RegisterPool("gpu", 5, "slots"));

            ResourceLease r = await registry.ReserveAsync("gpu", 3, new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), Purpose = "training run", Owner = "ml" });
            Assert.Equal("gpu", r.ResourceId);
            Assert.Equal(3, r.Units);
            await r.ExtendAsync(TimeSpan.FromSeconds(1));
            CancellationToken lost = r.LostToken;

            PoolSnapshot pool = Assert.Single(registry.GetSnapshot().Pools);
            Assert.Equal(("gpu", "slots", 4L, 3L, 1L), (pool.PoolId, pool.Unit, pool.Total, pool.Reserved, pool.Available));
            Assert.Equal(0.75, pool.Utilization);
            LeaseHolder reservation = Assert.Single(pool.Reservations);
            Assert.Equal(("ml", "training run", 3L), (reservation.Owner, reservation.Purpose, reservation.Units));

            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.True(lost.IsCancellationRequested);
            Assert.Equal(4, Assert.Single(registry.GetSnapshot().Pools).Available);
            Assert.True(registry.TryReserve("gpu", 4, out ResourceLease all));
            all.Dispose();
        }
    }

    [Fact]
    public async Task Snapshot_HoldersAndWaiters_Listed()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease holder = await registry.AcquireAsync("k", new LeaseOptions { Owner = "h", Purpose = "rebuild index", TimeToLive = TimeSpan.FromMinutes(1) });
            ValueTask<ResourceLease> low = registry.AcquireAsync("k", new LeaseOptions { Owner = "low", Priority = LockPriority.Low });
            clock.Advance(TimeSpan.FromSeconds(2));
            ValueTask<ResourceLease> high = registry.AcquireAsync("k", new LeaseOptions { Owner = "high", Priority = LockPriority.High });
            clock.Advance(TimeSpan.FromSeconds(1));

            RegistrySnapshot snapshot = registry.GetSnapshot();
            Assert.Equal(clock.GetUtcNow(), snapshot.TakenAt);
            ResourceSnapshot resource = Assert.Single(snapshot.Resources);
            Assert.Equal("k", resource.ResourceId);
            LeaseHolder h = Assert.Single(resource.Holders);
            Assert.Equal(("h", "rebuild index", LeaseMode.Exclusive), (h.Owner, h.Purpose, h.Mode));
            Assert.Equal(holder.LeaseId, h.LeaseId);
            Assert.Equal(TimeSpan.FromSeconds(3), h.HeldFor);
            Assert.Equal(holder.AcquiredAt + TimeSpan.FromMinutes(1), h.ExpiresAt);

            Assert.Equal(new[] { "high", "low" }, resource.Waiters.Select(waiter => waiter.Owner));
            Assert.Equal(TimeSpan.FromSeconds(1), resource.Waiters[0].Waited);
            Assert.Equal(TimeSpan.FromSeconds(3), resource.Waiters[1].Waited);

            OwnerSnapshot lowView = registry.GetOwnerSnapshot("low");
            Assert.Empty(lowView.Leases);
            Assert.Equal("k", Assert.Single(lowView.Waiting).ResourceId);
            Assert.Equal(holder.LeaseId, Assert.Single(snapshot.ForOwner("h").Leases).LeaseId);

            holder.Dispose();
            (await Within(low.AsTask(), "low")).Dispose();
            (await Within(high.AsTask(), "high")).Dispose();
            RegistrySnapshot quiet = registry.GetSnapshot();
            Assert.Empty(quiet.Resources);
        }
    }

    [Fact]
    public async Task Snapshot_DuringChurn_StaysConsistent()
    {
        using var registry = new ResourceRegistry();
        using var stop = new CancellationTokenSource();
        Task churn = Task.Run(async () =>
        {
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                using ResourceLease lease = await registry.AcquireAsync("r" + (i++ % 8), new LeaseOptions { Owner = "churn" });
            }
        });

        for (int i = 0; i < 2_000; i++)
        {
            foreach (ResourceSnapshot resource in registry.GetSnapshot().Resources)
            {
                foreach (LeaseHolder holder in resource.Holders)
                {
                    Assert.Equal(resource.ResourceId, holder.ResourceId);
                    Assert.Equal("churn", holder.Owner);
                }
            }
        }

        stop.Cancel();
        await churn;
    }
}
