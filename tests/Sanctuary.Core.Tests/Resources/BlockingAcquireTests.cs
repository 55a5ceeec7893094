using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>The blocking acquires of the registry and of handles, and handles with a mode.</summary>
public sealed class BlockingAcquireTests
{
    private static readonly LeaseOptions NoWait = new() { WaitTimeout = TimeSpan.Zero };

    [Fact]
    public void Acquire_FreeResource_LeaseCarriesItsDetails()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var options = new LeaseOptions { Owner = "worker-1", Purpose = "nightly export", TimeToLive = TimeSpan.FromSeconds(30) };
            ResourceLease lease = registry.Acquire("orders", options);

            Assert.True(lease.IsHeld);
            Assert.Equal("orders", lease.ResourceId);
            Assert.Equal("worker-1", lease.Owner);
            Assert.Equal("nightly export", lease.Purpose);
            Assert.Equal(LeaseMode.Exclusive, lease.Mode);
            Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(30), lease.ExpiresAt);
            Assert.True(lease.FencingToken > 0);

            LeaseHolder holder = Assert.Single(Assert.Single(registry.GetSnapshot().Resources).Holders);
            Assert.Equal("worker-1", holder.Owner);
            Assert.Equal(lease.LeaseId, holder.LeaseId);

            Assert.Equal(LeaseReleaseResult.Released, lease.Release());
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public void Acquire_ExpiringLease_ExpiresLikeAnAsyncOne()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease lease = registry.Acquire("orders", new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(5) });
            clock.Advance(TimeSpan.FromSeconds(6));

            Assert.False(lease.IsHeld);
            Assert.True(registry.TryAcquire("orders", out ResourceLease next));
            next.Dispose();
        }
    }

    [Fact]
    public async Task Acquire_HeldResource_BlocksUntilReleaseThenGrants()
    {
        using var registry = new ResourceRegistry();
        ResourceLease first = registry.Acquire("k");
        Task<long> second = Task.Factory.StartNew(
            () =>
            {
                using ResourceLease lease = registry.Acquire("k", new LeaseOptions { Owner = "second" });
                return lease.FencingToken;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);
        WaiterSnapshot waiter = registry.GetSnapshot().Resources.Single().Waiters.Single();
        Assert.Equal("second", waiter.Owner);
        Assert.False(second.IsCompleted);

        long firstToken = first.FencingToken;
        first.Dispose();
        long secondToken = await Within(second, "the blocked acquire");

        Assert.True(secondToken > firstToken);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void Acquire_ZeroTimeoutOnHeldResource_ThrowsNamingTheHolder()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease first = registry.Acquire("k", Owner("holder"));

        ResourceUnavailableException error = Assert.Throws<ResourceUnavailableException>(
            () => registry.Acquire("k", new LeaseOptions { WaitTimeout = TimeSpan.Zero, Owner = "late" }));

        Assert.Equal("k", error.ResourceId);
        Assert.Equal("holder", Assert.Single(error.Holders).Owner);
        ResourceSnapshot resource = Assert.Single(registry.GetSnapshot().Resources);
        Assert.Empty(resource.Waiters);
        Assert.Single(resource.Holders);
        Assert.True(first.IsHeld);
    }

    [Fact]
    public void Acquire_TimeoutElapses_ThrowsResourceUnavailable()
    {
        using var registry = new ResourceRegistry();
        ResourceLease first = registry.Acquire("k");

        Assert.Throws<ResourceUnavailableException>(
            () => registry.Acquire("k", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(50) }));

        Assert.Empty(registry.GetSnapshot().Resources.Single().Waiters);
        first.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void Acquire_CancelledWhileWaiting_ThrowsAndHoldsNothing()
    {
        using var registry = new ResourceRegistry();
        ResourceLease first = registry.Acquire("k");
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        Assert.ThrowsAny<OperationCanceledException>(() => registry.Acquire("k", null, cancellation.Token));

        Assert.Empty(registry.GetSnapshot().Resources.Single().Waiters);
        first.Dispose();
        Assert.Equal(0, registry.ResourceCount);
        using ResourceLease again = registry.Acquire("k", NoWait);
        Assert.True(again.IsHeld);
    }

    [Theory]
    [InlineData(LeaseMode.Exclusive, LockPriority.Normal, ResourceKind.Exclusive)]
    [InlineData(LeaseMode.Write, LockPriority.Normal, ResourceKind.ReaderWriter)]
    [InlineData(LeaseMode.Exclusive, LockPriority.High, ResourceKind.Priority)]
    public async Task Acquire_CancelledWait_MessageNamesResource(LeaseMode mode, LockPriority priority, ResourceKind kind)
    {
        using var registry = new ResourceRegistry();
        var options = new LeaseOptions { Mode = mode, Priority = priority };
        ResourceLease holder = registry.Acquire("orders:7", options);
        Assert.Equal(kind, Assert.Single(registry.GetSnapshot().Resources).Kind);
        using var cancellation = new CancellationTokenSource();
        Task<ResourceLease> waiting = Task.Factory.StartNew(
            () => registry.Acquire("orders:7", options, cancellation.Token),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);

        cancellation.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(waiting, "the cancelled acquire"));
        Assert.Contains("resource 'orders:7'", error.Message);
        Assert.DoesNotContain("named resource", error.Message);
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.True(holder.IsHeld);
        holder.Dispose();
    }

    [Fact]
    public async Task Acquire_RegistryDisposedWhileWaiting_NamesRegistry()
    {
        var registry = new ResourceRegistry();
        ResourceLease holder = registry.Acquire("orders:7");
        Task<ResourceLease> waiting = Task.Factory.StartNew(
            () => registry.Acquire("orders:7"),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);

        registry.Dispose();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(waiting, "the blocked acquire"));
        Assert.Equal(nameof(ResourceRegistry), error.ObjectName);
        Assert.DoesNotContain("named resource", error.Message);
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }

    [Fact]
    public void Acquire_TokenAlreadyCancelled_Throws()
    {
        using var registry = new ResourceRegistry();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => registry.Acquire("k", null, cancellation.Token));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void Acquire_InvalidArguments_Throw()
    {
        using var registry = new ResourceRegistry();
        Assert.Throws<ArgumentNullException>(() => registry.Acquire(null!));
        Assert.Throws<ArgumentException>(() => registry.Acquire(string.Empty));
        Assert.Throws<ArgumentException>(() => registry.Acquire(new string('x', ResourceRegistry.MaxResourceIdLength + 1)));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void Acquire_DisposedRegistry_ThrowsObjectDisposed()
    {
        var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("k");
        registry.Dispose();

        Assert.Throws<ObjectDisposedException>(() => registry.Acquire("k"));
        Assert.Throws<ObjectDisposedException>(() => handle.Acquire());
    }

    [Fact]
    public async Task Acquire_RegistryDisposedWhileWaiting_FailsTheWaiter()
    {
        var registry = new ResourceRegistry();
        registry.Acquire("k");
        Task waiting = Task.Factory.StartNew(
            () => registry.Acquire("k"),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);
        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(waiting, "the blocked acquire"));
    }

    [Fact]
    public void Acquire_ReadMode_SharesAndExcludesWriters()
    {
        using var registry = new ResourceRegistry();
        var read = new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.Zero };
        using ResourceLease first = registry.Acquire("catalog", read);
        using ResourceLease second = registry.Acquire("catalog", read);

        Assert.True(first.IsHeld);
        Assert.True(second.IsHeld);
        Assert.NotEqual(first.FencingToken, second.FencingToken);
        Assert.Equal(ResourceKind.ReaderWriter, registry.GetSnapshot().Resources.Single().Kind);
        Assert.Throws<ResourceUnavailableException>(
            () => registry.Acquire("catalog", new LeaseOptions { Mode = LeaseMode.Write, WaitTimeout = TimeSpan.Zero }));
        Assert.Equal(2, registry.GetSnapshot().Resources.Single().Holders.Count);
    }

    [Fact]
    public async Task Acquire_WriteModeWhileRead_WaitsForTheReader()
    {
        using var registry = new ResourceRegistry();
        ResourceLease reader = registry.Acquire("catalog", new LeaseOptions { Mode = LeaseMode.Read });
        Task<LeaseMode> writer = Task.Factory.StartNew(
            () =>
            {
                using ResourceLease lease = registry.Acquire("catalog", new LeaseOptions { Mode = LeaseMode.Write });
                return lease.Mode;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);
        reader.Dispose();

        Assert.Equal(LeaseMode.Write, await Within(writer, "the blocked writer"));
    }

    [Fact]
    public void Acquire_UpgradeableRead_IsAloneAmongUpgradeableReaders()
    {
        using var registry = new ResourceRegistry();
        var upgradeable = new LeaseOptions { Mode = LeaseMode.UpgradeableRead, WaitTimeout = TimeSpan.Zero };
        using ResourceLease first = registry.Acquire("doc", upgradeable);
        using ResourceLease reader = registry.Acquire("doc", new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.Zero });

        Assert.Equal(LeaseMode.UpgradeableRead, first.Mode);
        Assert.Throws<ResourceUnavailableException>(() => registry.Acquire("doc", upgradeable));
    }

    [Fact]
    public async Task Acquire_HighPriority_UsesThePriorityLockAndOvertakesLowerWaiters()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = registry.Acquire("press", new LeaseOptions { Priority = LockPriority.High });
        Assert.Equal(ResourceKind.Priority, registry.GetSnapshot().Resources.Single().Kind);

        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task low = StartBlocking(() =>
        {
            using ResourceLease lease = registry.Acquire("press", new LeaseOptions { Priority = LockPriority.Low });
            order.Enqueue("low");
        });
        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 1);
        Task critical = StartBlocking(() =>
        {
            using ResourceLease lease = registry.Acquire("press", new LeaseOptions { Priority = LockPriority.Critical });
            order.Enqueue("critical");
        });
        await WaitUntil(() => registry.GetSnapshot().Resources.Single().Waiters.Count == 2);

        holder.Dispose();
        await Within(Task.WhenAll(low, critical), "the blocked acquires");

        Assert.Equal(new[] { "critical", "low" }, order.ToArray());
    }

    [Fact]
    public void HandleAcquire_FreeResource_GrantsAndReleases()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("ledger");

        using (ResourceLease lease = handle.Acquire(Owner("h")))
        {
            Assert.True(lease.IsHeld);
            Assert.Equal("h", lease.Owner);
            Assert.Throws<ResourceUnavailableException>(() => handle.Acquire(NoWait));
        }

        // The handle pins the entry; releasing leaves it idle, not gone.
        Assert.Equal(1, registry.ResourceCount);
        Assert.Empty(registry.GetSnapshot().Resources.Single().Holders);
    }

    [Fact]
    public void HandleAcquire_TokenAlreadyCancelled_Throws()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("ledger");
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => handle.Acquire(null, cancellation.Token));
        Assert.Empty(registry.GetSnapshot().Resources.Single().Holders);
    }

    [Fact]
    public void GetHandle_ReadMode_CreatesAReaderWriterResourceThatReadersShare()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("catalog", LeaseMode.Read);
        var read = new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.Zero };

        using ResourceLease first = handle.Acquire(read);
        using ResourceLease second = handle.Acquire(read);

        Assert.Equal(ResourceKind.ReaderWriter, registry.GetSnapshot().Resources.Single().Kind);
        Assert.True(first.IsHeld);
        Assert.True(second.IsHeld);
        Assert.Same(handle, registry.GetHandle("catalog"));
        Assert.Same(handle, registry.GetHandle("catalog", LeaseMode.Write));
    }

    [Fact]
    public async Task HandleAcquire_WriteHeldBlocking_AsyncReaderWaitsForRelease()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("catalog", LeaseMode.Write);
        ResourceLease writer = handle.Acquire(new LeaseOptions { Mode = LeaseMode.Write });

        ValueTask<ResourceLease> reader = handle.AcquireAsync(new LeaseOptions { Mode = LeaseMode.Read });
        Assert.False(reader.IsCompleted);
        writer.Dispose();

        using ResourceLease granted = await Within(reader.AsTask(), "the waiting reader");
        Assert.Equal(LeaseMode.Read, granted.Mode);
    }

    [Theory]
    [InlineData(LeaseMode.Exclusive, LockPriority.Normal, ResourceKind.Exclusive)]
    [InlineData(LeaseMode.Exclusive, LockPriority.High, ResourceKind.Priority)]
    [InlineData(LeaseMode.Exclusive, LockPriority.Low, ResourceKind.Priority)]
    [InlineData(LeaseMode.Write, LockPriority.Normal, ResourceKind.ReaderWriter)]
    [InlineData(LeaseMode.UpgradeableRead, LockPriority.Critical, ResourceKind.ReaderWriter)]
    public void GetHandle_ModeAndPriority_PickThePrimitive(LeaseMode mode, LockPriority priority, ResourceKind expected)
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("r", mode, priority);

        Assert.Equal("r", handle.ResourceId);
        Assert.Equal(expected, registry.GetSnapshot().Resources.Single().Kind);
    }

    [Fact]
    public void GetHandle_ExistingResource_KeepsItsKind()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease held = registry.Acquire("r");

        registry.GetHandle("r", LeaseMode.Read);

        Assert.Equal(ResourceKind.Exclusive, registry.GetSnapshot().Resources.Single().Kind);
    }

    [Fact]
    public void GetHandle_UndefinedModeOrPriority_Throws()
    {
        using var registry = new ResourceRegistry();
        Assert.Throws<ArgumentOutOfRangeException>(() => registry.GetHandle("r", (LeaseMode)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => registry.GetHandle("r", LeaseMode.Read, (LockPriority)9));
        Assert.Throws<ArgumentException>(() => registry.GetHandle(string.Empty, LeaseMode.Read));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public void GetHandle_DisposedRegistry_Throws()
    {
        var registry = new ResourceRegistry();
        registry.Dispose();
        Assert.Throws<ObjectDisposedException>(() => registry.GetHandle("r", LeaseMode.Read));
    }

    private static Task StartBlocking(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static async Task WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold in time.");
            }

            await Task.Delay(5);
        }
    }
}
