using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using StackExchange.Redis;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>A server that dies, pauses or replies late, each on a server of the test's own.</summary>
[Collection(RedisCollection.Name)]
public sealed class FaultTests
{
    [Fact]
    public async Task KilledServer_LeasesLostThenFreed()
    {
        await using RedisServer server = await RedisServer.StartAsync(persistent: true);
        string prefix = UniquePrefix();
        using ConnectionMultiplexer connection = QuickReconnect(server);
        await using var redis = new RedisLeaseStore(connection, new RedisLeaseStoreOptions { KeyPrefix = prefix });
        var store = new RenewalBlockingStore(redis);
        using ResourceRegistry registry = Registry(store, "holder");
        TimeSpan timeToLive = TimeSpan.FromSeconds(1);

        ResourceLease renewed = await registry.AcquireAsync("job", new LeaseOptions { TimeToLive = timeToLive, HeartbeatInterval = TimeSpan.FromMilliseconds(250) });
        ResourceLease forever = await registry.AcquireAsync("config");
        long lostAt = 0;
        using CancellationTokenRegistration onLost = renewed.LostToken.Register(() => lostAt = Stopwatch.GetTimestamp());
        await Eventually(() => Task.FromResult(store.Extended >= 2), "two renewals");

        // Step 1: the server dies. The renewed lease is lost within its time-to-live of the last renewal.
        await server.KillAsync();
        await Eventually(() => Task.FromResult(renewed.LostToken.IsCancellationRequested), "the lost token", TimeSpan.FromSeconds(3));
        TimeSpan afterRenewal = Stopwatch.GetElapsedTime(store.LastAcceptedSentAt, lostAt);
        // The registry's timer runs on the thread pool, so a busy machine can add some latency.
        Assert.True(afterRenewal <= timeToLive + TimeSpan.FromMilliseconds(250), $"The lost token fired {afterRenewal.TotalMilliseconds:F0} ms after the last renewal; the time-to-live is 1000 ms.");
        Assert.Contains(renewed.LossReason, new[] { LeaseLossReason.HeartbeatMissed, LeaseLossReason.Expired });

        // Step 2: operations fail at once with the endpoint in the message.
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisLeaseStoreException>(async () => await registry.AcquireAsync("other", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5) }));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"The failure took {watch.ElapsedMilliseconds} ms to surface.");
        Assert.Contains(server.EndPoint, error.Message);
        Assert.Contains("'other'", error.Message);
        Assert.Equal(server.EndPoint, error.EndPoint);
        Assert.Equal("acquire", error.Operation);
        Assert.IsAssignableFrom<RedisException>(error.InnerException);

        // Step 3: releasing the lease without a time-to-live cannot reach the server; the store keeps it pending.
        Assert.Equal(LeaseReleaseResult.Released, await forever.ReleaseAsync());
        Assert.Equal(LeaseReleaseResult.Expired, await renewed.ReleaseAsync());
        Assert.True(redis.PendingReleaseCount >= 1, $"pending releases: {redis.PendingReleaseCount}");

        // Step 4: the server comes back from its append-only file; the pending release goes through.
        await server.RestartAsync();
        await Eventually(() => Task.FromResult(redis.PendingReleaseCount == 0), "the pending releases to drain");
        await using RedisLeaseStore other = Store(server, prefix);
        Assert.Empty(await other.GetHoldersAsync("config", default));
        Assert.Empty(await other.GetHoldersAsync("job", default));
        using ResourceRegistry next = Registry(other, "next");
        await using ResourceLease config = await next.AcquireAsync("config", new LeaseOptions { WaitTimeout = TimeSpan.Zero });
        await using ResourceLease job = await next.AcquireAsync("job", new LeaseOptions { WaitTimeout = TimeSpan.Zero });
        Assert.True(job.FencingToken > renewed.FencingToken);
    }

    [Fact]
    public async Task UnreachableServer_ErrorNamesEndpoint()
    {
        // A port on 127.0.0.1 where nothing listens: a server that was started and stopped.
        RedisServer stopped = await RedisServer.StartAsync();
        string endPoint = stopped.EndPoint;
        await stopped.DisposeAsync();

        var watch = Stopwatch.StartNew();
        await using RedisLeaseStore store = RedisLeaseStore.Connect(endPoint + ",connectTimeout=500");
        var error = await Assert.ThrowsAsync<RedisLeaseStoreException>(async () => await store.TryAcquireAsync(Request("k", 1, "a", TimeSpan.FromSeconds(1)), default));
        Assert.Contains(endPoint, error.Message);
        Assert.Contains("unreachable", error.Message);
        Assert.Equal(0, store.PendingReleaseCount);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Connecting and failing took {watch.ElapsedMilliseconds} ms.");
    }

    [Fact]
    public async Task SlowAcquire_RefusedAndRemoved()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(server, prefix);
        using ConnectionMultiplexer admin = server.ConnectAdmin();
        await store.GetHoldersAsync("warm-up", default);

        // The server delays every command by 400 ms; the acquire's time-to-live is 200 ms.
        await admin.GetServer(server.EndPoint).ExecuteAsync("CLIENT", "PAUSE", "400", "ALL");
        LeaseStoreAcquireResult late = await store.TryAcquireAsync(Request("slow", 1, "a", TimeSpan.FromMilliseconds(200)), default);
        Assert.False(late.Acquired);
        Assert.Empty(await store.GetHoldersAsync("slow", default));
        long burned = await store.GetLastFencingTokenAsync("slow");
        Assert.Equal(1, burned);

        LeaseStoreAcquireResult prompt = await store.TryAcquireAsync(Request("slow", 2, "a", TimeSpan.FromMilliseconds(200)), default);
        Assert.True(prompt.Acquired);
        Assert.True(prompt.FencingToken > burned);
    }

    [Fact]
    public async Task SlowRegistryAcquire_LeavesNothing()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(server, prefix);
        using ConnectionMultiplexer admin = server.ConnectAdmin();
        using ResourceRegistry registry = Registry(store, "client");
        await store.GetHoldersAsync("warm-up", default);

        await admin.GetServer(server.EndPoint).ExecuteAsync("CLIENT", "PAUSE", "400", "ALL");
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () =>
            await registry.AcquireAsync("slow", new LeaseOptions { WaitTimeout = TimeSpan.Zero, TimeToLive = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(0, registry.ResourceCount);
        Assert.Empty(await store.GetHoldersAsync("slow", default));
    }

    [Fact]
    public async Task CancelledAcquire_LeavesNothing()
    {
        await using RedisServer server = await RedisServer.StartAsync();
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(server, prefix);
        using ConnectionMultiplexer admin = server.ConnectAdmin();
        await store.GetHoldersAsync("warm-up", default);

        await admin.GetServer(server.EndPoint).ExecuteAsync("CLIENT", "PAUSE", "400", "ALL");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.TryAcquireAsync(Request("c", 1, "a", Timeout.InfiniteTimeSpan), cancel.Token));

        // The script ran once the pause ended and granted; the store removed the grant again.
        await Eventually(async () => await store.GetLastFencingTokenAsync("c") == 1, "the paused script to run");
        await Eventually(async () => (await store.GetHoldersAsync("c", default)).Count == 0, "the grant's removal");
    }
}
