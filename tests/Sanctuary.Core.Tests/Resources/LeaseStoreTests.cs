using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>The store contract, on the in-memory store, and registries that share a store.</summary>
public sealed class LeaseStoreTests
{
    private static readonly LeaseId s_first = new(1, 1);
    private static readonly LeaseId s_second = new(1, 2);

    [Fact]
    public async Task InMemoryStore_ExtendRelease_CheckOwner()
    {
        var clock = new FakeTimeProvider();
        var store = new InMemoryLeaseStore(clock);
        LeaseStoreAcquireResult granted = await store.TryAcquireAsync(Request("k", s_first, "A", TimeSpan.FromSeconds(1)), CancellationToken.None);
        Assert.True(granted.Acquired);

        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", s_second, "A", TimeSpan.FromSeconds(5)), CancellationToken.None));
        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", s_first, "B", TimeSpan.FromSeconds(5)), CancellationToken.None));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", s_first, "B"), CancellationToken.None));
        Assert.True(await store.ExtendAsync(new LeaseStoreExtension("k", s_first, "A", TimeSpan.FromSeconds(5)), CancellationToken.None));
        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("k", s_first, "A"), CancellationToken.None));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", s_first, "A"), CancellationToken.None));
        Assert.Equal(0, store.ResourceCount);
    }

    [Fact]
    public async Task InMemoryStore_ExpiredHolder_IsDropped()
    {
        var clock = new FakeTimeProvider();
        var store = new InMemoryLeaseStore(clock);
        LeaseStoreAcquireResult first = await store.TryAcquireAsync(Request("k", s_first, "A", TimeSpan.FromSeconds(1)), CancellationToken.None);
        LeaseStoreAcquireResult refused = await store.TryAcquireAsync(Request("k", s_second, "B", TimeSpan.FromSeconds(1)), CancellationToken.None);
        Assert.False(refused.Acquired);
        Assert.Equal("A", Assert.Single(refused.Holders).Owner);

        clock.Advance(TimeSpan.FromSeconds(1));
        LeaseStoreAcquireResult second = await store.TryAcquireAsync(Request("k", s_second, "B", Timeout.InfiniteTimeSpan), CancellationToken.None);
        Assert.True(second.Acquired);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", s_first, "A", TimeSpan.FromSeconds(1)), CancellationToken.None));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", s_first, "A"), CancellationToken.None));
        Assert.Equal(s_second, Assert.Single(await store.GetHoldersAsync("k", CancellationToken.None)).LeaseId);
    }

    [Fact]
    public async Task InMemoryStore_ModesAndUnits_Combine()
    {
        var store = new InMemoryLeaseStore();
        Assert.True((await store.TryAcquireAsync(Request("d", new(2, 1), "r1", Timeout.InfiniteTimeSpan, LeaseMode.Read), default)).Acquired);
        Assert.True((await store.TryAcquireAsync(Request("d", new(2, 2), "u1", Timeout.InfiniteTimeSpan, LeaseMode.UpgradeableRead), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", new(2, 3), "u2", Timeout.InfiniteTimeSpan, LeaseMode.UpgradeableRead), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", new(2, 4), "w", Timeout.InfiniteTimeSpan, LeaseMode.Write), default)).Acquired);

        var three = new LeaseStoreRequest("pool", new(3, 1), "a", LeaseMode.Exclusive, Timeout.InfiniteTimeSpan, 3, 4, null);
        var two = three with { LeaseId = new(3, 2), Units = 2 };
        var one = three with { LeaseId = new(3, 3), Units = 1 };
        Assert.True((await store.TryAcquireAsync(three, default)).Acquired);
        Assert.False((await store.TryAcquireAsync(two, default)).Acquired);
        Assert.True((await store.TryAcquireAsync(one, default)).Acquired);
    }

    [Fact]
    public async Task TwoRegistries_SharedStore_ExcludeEachOther()
    {
        var store = new InMemoryLeaseStore();
        using var a = new ResourceRegistry(new ResourceRegistryOptions { Store = store, DefaultOwner = "process-a", StoreRetryInterval = TimeSpan.FromMilliseconds(5) });
        using var b = new ResourceRegistry(new ResourceRegistryOptions { Store = store, DefaultOwner = "process-b", StoreRetryInterval = TimeSpan.FromMilliseconds(5) });

        ResourceLease held = await a.AcquireAsync("invoice:7");
        var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("invoice:7", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(30) }));
        Assert.Equal("process-a", Assert.Single(error.Holders).Owner);

        Task<ResourceLease> waiting = b.AcquireAsync("invoice:7", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) }).AsTask();
        await Task.Delay(20);
        Assert.False(waiting.IsCompleted);
        await held.ReleaseAsync();
        ResourceLease taken = await Within(waiting, "the other registry's acquire");
        Assert.True(taken.FencingToken > held.FencingToken);
        Assert.Equal("process-b", Assert.Single(await store.GetHoldersAsync("invoice:7", default)).Owner);
        await taken.ReleaseAsync();
        Assert.Equal(0, store.ResourceCount);
        Assert.Equal(0, a.ResourceCount);
        Assert.Equal(0, b.ResourceCount);
    }

    [Fact]
    public async Task ExternalStore_TryAcquire_IsRefusedWithAdvice()
    {
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { Store = new InMemoryLeaseStore() });
        var error = Assert.Throws<InvalidOperationException>(() => registry.TryAcquire("k", out _));
        Assert.Contains("WaitTimeout", error.Message);
        await using ResourceLease lease = await registry.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.Zero });
        Assert.True(lease.IsHeld);
    }

    private static LeaseStoreRequest Request(string id, LeaseId leaseId, string owner, TimeSpan timeToLive, LeaseMode mode = LeaseMode.Exclusive) =>
        new(id, leaseId, owner, mode, timeToLive, 0, 0, null);
}
