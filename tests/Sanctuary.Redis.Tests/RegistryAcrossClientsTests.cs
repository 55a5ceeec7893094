using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>
/// The registry's API on the Redis store, with each registry on its own connection, as separate
/// processes would be.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RegistryAcrossClientsTests
{
    private readonly RedisFixture _fixture;

    public RegistryAcrossClientsTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Exclusive_SecondClientWaitsForFirst()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");

        ResourceLease held = await a.AcquireAsync("invoice:7", new LeaseOptions { Purpose = "posting" });
        var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("invoice:7", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(100) }));
        LeaseHolder holder = Assert.Single(error.Holders);
        Assert.Equal("client-a", holder.Owner);
        Assert.Equal("posting", holder.Purpose);
        Assert.Contains("client-a", error.Message);

        Task<ResourceLease> waiting = b.AcquireAsync("invoice:7", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await held.ReleaseAsync();
        ResourceLease taken = await Within(waiting, "the second client's acquire");
        Assert.True(taken.FencingToken > held.FencingToken, $"token {taken.FencingToken} should exceed {held.FencingToken}");
        Assert.Equal("client-b", Assert.Single(await storeA.GetHoldersAsync("invoice:7", default)).Owner);

        await taken.ReleaseAsync();
        Assert.Empty(await storeA.GetHoldersAsync("invoice:7", default));
        Assert.Equal(0, a.ResourceCount);
        Assert.Equal(0, b.ResourceCount);
    }

    [Fact]
    public async Task Readers_ShareAcrossClients()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "reader-a");
        using ResourceRegistry b = Registry(storeB, "reader-b");
        var read = new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.Zero };

        await using ResourceLease first = await a.AcquireAsync("catalog", read);
        await using ResourceLease second = await b.AcquireAsync("catalog", read);
        Assert.Equal(2, (await storeA.GetHoldersAsync("catalog", default)).Count);
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("catalog", new LeaseOptions { Mode = LeaseMode.Write, WaitTimeout = TimeSpan.FromMilliseconds(50) }));
    }

    [Fact]
    public async Task WaitingWriter_StopsNewReadersOfOtherClients()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeC = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "reader-a");
        using ResourceRegistry b = Registry(storeB, "writer-b");
        using ResourceRegistry c = Registry(storeC, "reader-c");

        ResourceLease reading = await a.AcquireAsync("prices", new LeaseOptions { Mode = LeaseMode.Read });
        Task<ResourceLease> writing = b.AcquireAsync("prices", new LeaseOptions { Mode = LeaseMode.Write, WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();

        // Once the writer waits, a new reader of another client waits behind it, although only a reader holds.
        await Eventually(async () => await _fixture.Admin.GetDatabase().KeyExistsAsync(prefix + "{prices}:w"), "the writer's intent");
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await c.AcquireAsync("prices", new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.False(writing.IsCompleted);

        Task<ResourceLease> lateReader = c.AcquireAsync("prices", new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();
        await reading.ReleaseAsync();
        ResourceLease written = await Within(writing, "the writer's acquire");
        Assert.False(lateReader.IsCompleted);
        await Task.Delay(100);
        Assert.False(lateReader.IsCompleted);

        await written.ReleaseAsync();
        ResourceLease read = await Within(lateReader, "the late reader's acquire");
        Assert.True(read.FencingToken > written.FencingToken);
        await read.ReleaseAsync();
    }

    [Fact]
    public async Task CancelledWriter_LetsReadersInAtOnce()
    {
        string prefix = UniquePrefix();
        var options = new RedisLeaseStoreOptions { WaiterTimeToLive = TimeSpan.FromSeconds(30) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, options);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, options);
        using ResourceRegistry a = Registry(storeA, "reader-a");
        using ResourceRegistry b = Registry(storeB, "writer-b");

        await using ResourceLease reading = await a.AcquireAsync("doc", new LeaseOptions { Mode = LeaseMode.Read });
        using var cancel = new CancellationTokenSource();
        Task<ResourceLease> writing = b.AcquireAsync("doc", new LeaseOptions { Mode = LeaseMode.Write }, cancel.Token).AsTask();
        await Eventually(async () => await _fixture.Admin.GetDatabase().KeyExistsAsync(prefix + "{doc}:w"), "the writer's intent");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);

        // The intent would last 30 s; the cancelled writer withdraws it, so a reader gets in now.
        await Eventually(async () => !await _fixture.Admin.GetDatabase().KeyExistsAsync(prefix + "{doc}:w"), "the intent's withdrawal", TimeSpan.FromSeconds(3));
        await using ResourceLease second = await b.AcquireAsync("doc", new LeaseOptions { Mode = LeaseMode.Read, WaitTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(2, (await storeA.GetHoldersAsync("doc", default)).Count);
    }

    [Fact]
    public async Task CapacityPool_SharedAcrossClients()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");
        a.RegisterPool("gpu", 3, "slots");
        b.RegisterPool("gpu", 3, "slots");

        ResourceLease two = await a.ReserveAsync("gpu", 2);
        await using ResourceLease one = await b.ReserveAsync("gpu", 1, new LeaseOptions { WaitTimeout = TimeSpan.Zero });
        var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.ReserveAsync("gpu", 1, new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        Assert.Equal(3, error.Holders.Sum(holder => holder.Units));

        Task<ResourceLease> waiting = b.ReserveAsync("gpu", 2, new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await two.ReleaseAsync();
        await using ResourceLease taken = await Within(waiting, "the second reservation");
        Assert.Equal(2, taken.Units);
    }

    [Fact]
    public async Task TimedOutReservation_LapsesFromLine()
    {
        string prefix = UniquePrefix();
        var options = new RedisLeaseStoreOptions { WaiterTimeToLive = TimeSpan.FromMilliseconds(400) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, options);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, options);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");
        a.RegisterPool("gpu", 3, "slots");
        b.RegisterPool("gpu", 3, "slots");
        await using ResourceLease two = await a.ReserveAsync("gpu", 2);

        // The large reservation times out but its place stays until it lapses: small ones wait that long.
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.ReserveAsync("gpu", 2, new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(200) }));
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.ReserveAsync("gpu", 1, new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        var watch = Stopwatch.StartNew();
        await using ResourceLease one = await b.ReserveAsync("gpu", 1, new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) });
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(400 + 300), $"The small reservation waited {watch.ElapsedMilliseconds} ms behind a place that lapses after 400 ms.");
    }

    [Fact]
    public async Task TimedOutWriter_LeavesLineOnRetry()
    {
        string prefix = UniquePrefix();
        var options = new RedisLeaseStoreOptions { WaiterTimeToLive = TimeSpan.FromSeconds(30) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, options);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, options);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");

        ResourceLease held = await a.AcquireAsync("ledger");
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("ledger", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(1, await LineLength(prefix, "ledger"));
        await held.ReleaseAsync();

        // The place would last 30 s, but B's next acquire shows that B gave the old one up.
        await using ResourceLease taken = await b.AcquireAsync("ledger", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(0, await LineLength(prefix, "ledger"));
    }

    [Fact]
    public async Task CapacityPool_TotalMismatch_FailsWithAdvice()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");
        a.RegisterPool("conn", 2, "connections");
        b.RegisterPool("conn", 5, "connections");

        await using ResourceLease held = await a.ReserveAsync("conn", 1);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await b.ReserveAsync("conn", 1));
        Assert.Contains("same total in every process", error.Message);
    }

    [Fact]
    public async Task Line_ServesWaitersInOrder_NoBarging()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeC = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");
        using ResourceRegistry c = Registry(storeC, "client-c");
        var wait = new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(10) };

        ResourceLease held = await a.AcquireAsync("printer");
        Task<ResourceLease> second = b.AcquireAsync("printer", wait).AsTask();
        await Eventually(async () => await LineLength(prefix, "printer") == 1, "B in line");
        Task<ResourceLease> third = c.AcquireAsync("printer", wait).AsTask();
        await Eventually(async () => await LineLength(prefix, "printer") == 2, "C in line");

        // The holder releases and acquires again at once: it is behind B and C now.
        await held.ReleaseAsync();
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await a.AcquireAsync("printer", new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        ResourceLease taken = await Within(second, "B's acquire");
        Assert.False(third.IsCompleted);
        await taken.ReleaseAsync();
        await using ResourceLease last = await Within(third, "C's acquire");
        Assert.True(last.FencingToken > taken.FencingToken);
    }

    [Fact]
    public async Task Line_LargeReservationNotOvertakenBySmallOnes()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");
        a.RegisterPool("memory", 4, "GB");
        b.RegisterPool("memory", 4, "GB");

        ResourceLease three = await a.ReserveAsync("memory", 3);
        Task<ResourceLease> large = b.ReserveAsync("memory", 2, new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();
        await Eventually(async () => await LineLength(prefix, "memory") == 1, "the large reservation in line");

        // One unit is free, but the waiting reservation comes first.
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await a.ReserveAsync("memory", 1, new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(200) }));
        await three.ReleaseAsync();
        await using ResourceLease granted = await Within(large, "the large reservation");
        await using ResourceLease small = await a.ReserveAsync("memory", 1, new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(2) });
    }

    [Fact]
    public async Task ExpiredHolder_LosesToWaiter()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "crashed-a");
        using ResourceRegistry b = Registry(storeB, "client-b");

        ResourceLease forgotten = await a.AcquireAsync("job", new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(400) });
        CancellationToken lost = forgotten.LostToken;
        var watch = Stopwatch.StartNew();
        ResourceLease taken = await b.AcquireAsync("job", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) });
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(4));
        Assert.True(lost.IsCancellationRequested);
        Assert.Equal(LeaseLossReason.Expired, forgotten.LossReason);

        Assert.Equal(LeaseReleaseResult.Expired, await forgotten.ReleaseAsync());
        Assert.False(await storeA.ReleaseAsync(new LeaseStoreRelease("job", forgotten.LeaseId, "crashed-a"), default));
        Assert.Equal(taken.LeaseId, Assert.Single(await storeB.GetHoldersAsync("job", default)).LeaseId);
        await taken.ReleaseAsync();
    }

    [Fact]
    public async Task CrashedHolder_ExpiresInRedis_WaiterTakesOver()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore crashed = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry b = Registry(storeB, "client-b");

        // A process that acquired and then died: nobody releases, no local timer runs.
        LeaseStoreRequest orphan = Request("job", 1, "crashed-process", TimeSpan.FromMilliseconds(400));
        Assert.True((await crashed.TryAcquireAsync(orphan, default)).Acquired);
        var watch = Stopwatch.StartNew();
        await using ResourceLease taken = await b.AcquireAsync("job", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) });
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(4));
        Assert.False(await crashed.ReleaseAsync(new LeaseStoreRelease("job", orphan.LeaseId, "crashed-process"), default));
        Assert.Equal(taken.LeaseId, Assert.Single(await storeB.GetHoldersAsync("job", default)).LeaseId);
    }

    [Fact]
    public async Task Heartbeat_KeepsLeasePastItsTimeToLive()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");

        // A time-to-live that several late renewals on a busy machine cannot run out, then a wait
        // well past it: the lease is still held only because the heartbeat renewed it.
        TimeSpan timeToLive = TimeSpan.FromSeconds(2);
        await using ResourceLease lease = await a.AcquireAsync("report", new LeaseOptions { TimeToLive = timeToLive, HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        await Task.Delay(timeToLive + TimeSpan.FromSeconds(1));
        Assert.True(lease.IsHeld);
        Assert.False(lease.LostToken.IsCancellationRequested);
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("report", new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        LeaseHolder holder = Assert.Single(await storeB.GetHoldersAsync("report", default));
        Assert.InRange(holder.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.Zero, timeToLive + TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Extend_MovesExpiryInRedis()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(_fixture.Server, prefix);
        using ResourceRegistry registry = Registry(store, "client-a");

        await using ResourceLease lease = await registry.AcquireAsync("batch", new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(2) });
        DateTimeOffset? extended = await lease.ExtendAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(extended);
        LeaseHolder holder = Assert.Single(await store.GetHoldersAsync("batch", default));
        Assert.InRange(holder.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(13));
    }

    [Fact]
    public async Task ExtendAfterLoss_ThrowsLeaseLost()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "client-a");
        using ResourceRegistry b = Registry(storeB, "client-b");

        ResourceLease first = await a.AcquireAsync("sync", new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) });
        await using ResourceLease second = await b.AcquireAsync("sync", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) });
        await Assert.ThrowsAsync<LeaseLostException>(async () => await first.ExtendAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(second.LeaseId, Assert.Single(await storeA.GetHoldersAsync("sync", default)).LeaseId);
    }

    private async Task<long> LineLength(string prefix, string resourceId) =>
        await _fixture.Admin.GetDatabase().SortedSetLengthAsync(prefix + "{" + resourceId + "}:q");
}
