using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>Acquire, release and the details a lease carries.</summary>
public sealed class RegistryAcquireTests
{
    [Fact]
    public async Task AcquireAsync_FreeResource_LeaseCarriesItsDetails()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var options = new LeaseOptions { Owner = "worker-1", Purpose = "nightly export", TimeToLive = TimeSpan.FromSeconds(30) };
            ResourceLease lease = await registry.AcquireAsync("orders", options);

            Assert.True(lease.IsHeld);
            Assert.Equal(LeaseState.Held, lease.State);
            Assert.Equal("orders", lease.ResourceId);
            Assert.Equal("worker-1", lease.Owner);
            Assert.Equal("nightly export", lease.Purpose);
            Assert.Equal(LeaseMode.Exclusive, lease.Mode);
            Assert.Equal(clock.GetUtcNow(), lease.AcquiredAt);
            Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(30), lease.ExpiresAt);
            Assert.True(lease.FencingToken > 0);
            Assert.False(lease.LeaseId.IsEmpty);
            Assert.True(LeaseId.TryParse(lease.LeaseId.ToString(), out LeaseId parsed));
            Assert.Equal(lease.LeaseId, parsed);

            Assert.Equal(LeaseReleaseResult.Released, lease.Release());
            Assert.False(lease.IsHeld);
            Assert.Equal(LeaseState.Released, lease.State);
            Assert.Equal("orders", lease.ResourceId);
            Assert.Throws<InvalidOperationException>(() => lease.Owner);
        }
    }

    [Fact]
    public async Task AcquireAsync_NoTimeToLive_ExpiresAtIsNull()
    {
        using var registry = new ResourceRegistry();
        await using ResourceLease lease = await registry.AcquireAsync("k");
        Assert.Null(lease.ExpiresAt);
        Assert.Null(await lease.ExtendAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task AcquireAsync_HeldResource_SecondAcquirerWaitsUntilRelease()
    {
        using var registry = new ResourceRegistry();
        ResourceLease first = await registry.AcquireAsync("k");
        ValueTask<ResourceLease> second = registry.AcquireAsync("k");
        Assert.False(second.IsCompleted);

        first.Dispose();
        ResourceLease granted = await Within(second.AsTask(), "the second acquire");
        Assert.True(granted.IsHeld);
        Assert.True(granted.FencingToken > first.FencingToken);
        granted.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task Release_Twice_LeavesNextHolderAlone()
    {
        using var registry = new ResourceRegistry();
        ResourceLease a = await registry.AcquireAsync("k");
        ValueTask<ResourceLease> pendingB = registry.AcquireAsync("k");
        Assert.Equal(LeaseReleaseResult.Released, a.Release());
        ResourceLease b = await Within(pendingB.AsTask(), "B's acquire");

        Assert.Equal(LeaseReleaseResult.AlreadyReleased, a.Release());
        Assert.True(b.IsHeld);
        Assert.False(registry.TryAcquire("k", out ResourceLease c));
        Assert.False(c.IsHeld);
        Assert.Equal(LeaseReleaseResult.AlreadyReleased, default(ResourceLease).Release());
        b.Dispose();
    }

    [Fact]
    public async Task AcquireAsync_Timeout_NamesResourceAndHolder()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease holder = await registry.AcquireAsync("ledger", new LeaseOptions { Owner = "batch-7", Purpose = "month end" });
            clock.Advance(TimeSpan.FromSeconds(3));
            ValueTask<ResourceLease> waiting = registry.AcquireAsync("ledger", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(2) });
            clock.Advance(TimeSpan.FromSeconds(2));

            var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await Within(waiting.AsTask(), "the timed acquire"));
            Assert.IsAssignableFrom<LockTimeoutException>(error);
            Assert.Equal("ledger", error.ResourceId);
            LeaseHolder only = Assert.Single(error.Holders);
            Assert.Equal("batch-7", only.Owner);
            Assert.Equal(holder.LeaseId, only.LeaseId);
            Assert.Equal(TimeSpan.FromSeconds(5), only.HeldFor);
            Assert.Equal(TimeSpan.FromSeconds(5), error.HeldFor);
            Assert.Contains("'ledger'", error.Message);
            Assert.Contains("batch-7", error.Message);
            Assert.Contains("month end", error.Message);
            Assert.Contains("5000 ms", error.Message);

            // The failed acquire left the resource as it was.
            Assert.True(holder.IsHeld);
            holder.Dispose();
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task AcquireAsync_ZeroTimeout_FailsAtOnceWhenHeld()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease holder = await registry.AcquireAsync("k");
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await registry.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWaiter_LeavesResourceUnchanged()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("k");
        using var cancellation = new CancellationTokenSource();
        ValueTask<ResourceLease> waiting = registry.AcquireAsync("k", cancellationToken: cancellation.Token);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(waiting.AsTask(), "the cancelled acquire"));

        Assert.True(holder.IsHeld);
        holder.Dispose();
        Assert.True(registry.TryAcquire("k", out ResourceLease again));
        again.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Theory]
    [InlineData(LeaseMode.Exclusive, LockPriority.Normal, ResourceKind.Exclusive)]
    [InlineData(LeaseMode.Write, LockPriority.Normal, ResourceKind.ReaderWriter)]
    [InlineData(LeaseMode.Exclusive, LockPriority.High, ResourceKind.Priority)]
    public async Task AcquireAsync_CancelledWait_MessageNamesResource(LeaseMode mode, LockPriority priority, ResourceKind kind)
    {
        using var registry = new ResourceRegistry();
        var options = new LeaseOptions { Mode = mode, Priority = priority };
        ResourceLease holder = await registry.AcquireAsync("orders:7", options);
        Assert.Equal(kind, Assert.Single(registry.GetSnapshot().Resources).Kind);
        using var cancellation = new CancellationTokenSource();
        ValueTask<ResourceLease> waiting = registry.AcquireAsync("orders:7", options, cancellation.Token);

        cancellation.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(waiting.AsTask(), "the cancelled acquire"));
        Assert.Contains("resource 'orders:7'", error.Message);
        Assert.DoesNotContain("named resource", error.Message);
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.True(holder.IsHeld);
        holder.Dispose();
    }

    [Theory]
    [InlineData(LeaseMode.Exclusive, LockPriority.Normal)]
    [InlineData(LeaseMode.Write, LockPriority.Normal)]
    [InlineData(LeaseMode.Exclusive, LockPriority.High)]
    public async Task Dispose_Waiter_ThrowsRegistryDisposed(LeaseMode mode, LockPriority priority)
    {
        var registry = new ResourceRegistry();
        var options = new LeaseOptions { Mode = mode, Priority = priority };
        ResourceLease holder = await registry.AcquireAsync("orders:7", options);
        ValueTask<ResourceLease> waiter = registry.AcquireAsync("orders:7", options);

        registry.Dispose();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(waiter.AsTask(), "the waiter"));
        Assert.Equal(nameof(ResourceRegistry), error.ObjectName);
        Assert.DoesNotContain("named resource", error.Message);
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }

    [Fact]
    public async Task AcquireAsync_CancelRacesImmediateGrant_EitherHeldOrFree()
    {
        using var registry = new ResourceRegistry();
        for (int i = 0; i < 2_000; i++)
        {
            using var cancellation = new CancellationTokenSource();
            using var start = new Barrier(2);
            Task canceller = Task.Run(() =>
            {
                start.SignalAndWait();
                cancellation.Cancel();
            });
            start.SignalAndWait();
            try
            {
                ResourceLease lease = await registry.AcquireAsync("k", cancellationToken: cancellation.Token);
                Assert.Equal(LeaseReleaseResult.Released, lease.Release());
            }
            catch (OperationCanceledException)
            {
            }

            await canceller;
            Assert.True(registry.TryAcquire("k", out ResourceLease probe), $"round {i}: the resource stayed held after the acquire ended");
            probe.Dispose();
        }

        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task ReadMode_ManyReadersShareAndWriterExcludes()
    {
        using var registry = new ResourceRegistry();
        var read = new LeaseOptions { Mode = LeaseMode.Read };
        ResourceLease r1 = await registry.AcquireAsync("doc", read);
        ResourceLease r2 = await registry.AcquireAsync("doc", read);
        Assert.True(r1.IsHeld);
        Assert.True(r2.IsHeld);
        Assert.False(registry.TryAcquire("doc", out _, new LeaseOptions { Mode = LeaseMode.Write }));

        ValueTask<ResourceLease> writer = registry.AcquireAsync("doc", new LeaseOptions { Mode = LeaseMode.Write });
        Assert.False(writer.IsCompleted);
        r1.Dispose();
        Assert.False(writer.IsCompleted);
        r2.Dispose();
        ResourceLease w = await Within(writer.AsTask(), "the writer");
        Assert.Equal(LeaseMode.Write, w.Mode);
        Assert.Equal(ResourceKind.ReaderWriter, Assert.Single(registry.GetSnapshot().Resources).Kind);
        w.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task UpgradeableRead_SharesOnlyWithReaders()
    {
        using var registry = new ResourceRegistry();
        ResourceLease upgradeable = await registry.AcquireAsync("doc", new LeaseOptions { Mode = LeaseMode.UpgradeableRead });
        Assert.True(registry.TryAcquire("doc", out ResourceLease reader, new LeaseOptions { Mode = LeaseMode.Read }));
        Assert.False(registry.TryAcquire("doc", out _, new LeaseOptions { Mode = LeaseMode.UpgradeableRead }));
        reader.Dispose();
        upgradeable.Dispose();
    }

    [Fact]
    public async Task ExclusiveResource_ReadRequest_IsServedExclusively()
    {
        using var registry = new ResourceRegistry();
        ResourceLease exclusive = await registry.AcquireAsync("k");
        Assert.False(registry.TryAcquire("k", out _, new LeaseOptions { Mode = LeaseMode.Read }));
        exclusive.Dispose();
    }

    [Fact]
    public async Task PriorityResource_HigherPriorityWaiterIsGrantedFirst()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("p", new LeaseOptions { Priority = LockPriority.High });
        ValueTask<ResourceLease> low = registry.AcquireAsync("p", new LeaseOptions { Priority = LockPriority.Low, Owner = "low" });
        ValueTask<ResourceLease> critical = registry.AcquireAsync("p", new LeaseOptions { Priority = LockPriority.Critical, Owner = "critical" });
        Assert.Equal(ResourceKind.Priority, Assert.Single(registry.GetSnapshot().Resources).Kind);

        holder.Dispose();
        ResourceLease first = await Within(critical.AsTask(), "the critical waiter");
        Assert.False(low.IsCompleted);
        first.Dispose();
        (await Within(low.AsTask(), "the low waiter")).Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task KindSelector_FixesTheKindPerId()
    {
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { KindSelector = id => id.StartsWith("doc:", StringComparison.Ordinal) ? ResourceKind.ReaderWriter : ResourceKind.Exclusive });
        using ResourceLease lease = await registry.AcquireAsync("doc:1");
        Assert.Equal(ResourceKind.ReaderWriter, Assert.Single(registry.GetSnapshot().Resources).Kind);
        Assert.Equal(LeaseMode.Exclusive, lease.Mode);
        Assert.False(registry.TryAcquire("doc:1", out _, new LeaseOptions { Mode = LeaseMode.Read }));
    }

    [Fact]
    public async Task FencingTokens_StrictlyIncreasePerResourceAcrossReclaim()
    {
        using var registry = new ResourceRegistry();
        long previous = 0;
        for (int i = 0; i < 100; i++)
        {
            ResourceLease lease = await registry.AcquireAsync("k");
            Assert.True(lease.FencingToken > previous);
            previous = lease.FencingToken;
            lease.Dispose();
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task Handle_AcquiresWithoutLookupAndPinsTheResource()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("ledger");
        Assert.Same(handle, registry.GetHandle("ledger"));
        Assert.Equal("ledger", handle.ResourceId);

        ResourceLease lease = await handle.AcquireAsync();
        Assert.False(registry.TryAcquire("ledger", out _));
        lease.Dispose();
        Assert.True(handle.TryAcquire(out ResourceLease again));
        again.Dispose();

        // Pinned: the idle entry stays for the life of the registry.
        Assert.Equal(1, registry.ResourceCount);
    }

    [Fact]
    public void Handle_UncontendedAcquireAndRelease_AllocatesNothing()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("hot");
        var options = new LeaseOptions { Owner = "bench" };

        static void Loop(ResourceHandle handle, LeaseOptions options)
        {
            for (int i = 0; i < 10_000; i++)
            {
                ResourceLease lease = handle.AcquireAsync(options).GetAwaiter().GetResult();
                lease.Dispose();
                handle.TryAcquire(out lease);
                lease.Dispose();
            }
        }

        Loop(handle, options);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(handle, options);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Dispose_HolderAndWaiter_BothEnd()
    {
        var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("k");
        CancellationToken lost = holder.LostToken;
        ValueTask<ResourceLease> waiter = registry.AcquireAsync("k");
        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Within(waiter.AsTask(), "the waiter"));
        Assert.True(lost.IsCancellationRequested);
        Assert.Equal(LeaseLossReason.RegistryDisposed, holder.LossReason);
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }
}
