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

/// <summary>Fencing tokens across client and server restarts, and a lost holder's late write.</summary>
[Collection(RedisCollection.Name)]
public sealed class FencingTests
{
    private readonly RedisFixture _fixture;

    public FencingTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Tokens_IncreaseAcrossClientRestart()
    {
        string prefix = UniquePrefix();
        long last;
        await using (RedisLeaseStore first = Store(_fixture.Server, prefix))
        {
            using ResourceRegistry registry = Registry(first, "first-run");
            for (int i = 0; i < 3; i++)
            {
                await using ResourceLease lease = await registry.AcquireAsync("ledger");
            }

            last = await first.GetLastFencingTokenAsync("ledger");
        }

        await using RedisLeaseStore second = Store(_fixture.Server, prefix);
        using ResourceRegistry restarted = Registry(second, "second-run");
        await using ResourceLease next = await restarted.AcquireAsync("ledger");
        Assert.True(next.FencingToken > last, $"token {next.FencingToken} after a client restart should exceed {last}");
    }

    [Fact]
    public async Task Tokens_IncreaseAcrossServerRestart()
    {
        await using RedisServer server = await RedisServer.StartAsync(persistent: true);
        string prefix = UniquePrefix();
        using ConnectionMultiplexer connection = QuickReconnect(server);
        await using var store = new RedisLeaseStore(connection, new RedisLeaseStoreOptions { KeyPrefix = prefix });
        using ResourceRegistry registry = Registry(store, "client");

        long highest = 0;
        for (int i = 0; i < 5; i++)
        {
            await using ResourceLease lease = await registry.AcquireAsync("ledger");
            highest = lease.FencingToken;
        }

        // A crash, not a clean shutdown: the server is killed and starts again from its files.
        await server.KillAsync();
        await server.RestartAsync();

        ResourceLease after = default;
        await Eventually(
            async () =>
            {
                try
                {
                    after = await registry.AcquireAsync("ledger", new LeaseOptions { WaitTimeout = TimeSpan.Zero });
                    return true;
                }
                catch (RedisLeaseStoreException)
                {
                    return false;
                }
            },
            "an acquire after the restart");
        Assert.True(after.FencingToken > highest, $"token {after.FencingToken} after a server restart should exceed {highest}");
        await after.ReleaseAsync();
    }

    [Fact]
    public async Task LostHolder_LateWriteRejected()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore redisA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        var storeA = new RenewalBlockingStore(redisA);
        using ResourceRegistry a = Registry(storeA, "holder-a");
        using ResourceRegistry b = Registry(storeB, "holder-b");
        var resource = new FencedResource();
        TimeSpan timeToLive = TimeSpan.FromSeconds(1);

        // A holds with a 1 s time-to-live and renews every 250 ms; then its renewals stall for 1.5 s.
        long acquiredAt = Stopwatch.GetTimestamp();
        ResourceLease leaseA = await a.AcquireAsync("report", new LeaseOptions { TimeToLive = timeToLive, HeartbeatInterval = TimeSpan.FromMilliseconds(250) });
        long lostAt = 0;
        using CancellationTokenRegistration onLost = leaseA.LostToken.Register(() => lostAt = Stopwatch.GetTimestamp());
        await Eventually(() => Task.FromResult(storeA.Extended >= 1), "a first renewal");
        storeA.BlockRenewals = true;
        long lastRenewal = storeA.LastAcceptedSentAt;
        Assert.True(resource.TryWrite(leaseA.FencingToken, "A before the pause"));

        // B acquires once A's lease has run out in Redis.
        await DelayUntil(acquiredAt, TimeSpan.FromMilliseconds(1100));
        ResourceLease leaseB = await b.AcquireAsync("report", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5), TimeToLive = TimeSpan.FromSeconds(30) });
        Assert.True(leaseB.FencingToken > leaseA.FencingToken, $"B's token {leaseB.FencingToken} should exceed A's {leaseA.FencingToken}");
        Assert.True(resource.TryWrite(leaseB.FencingToken, "B"));

        // A's lost token fires about the time-to-live after its last successful renewal. The
        // registry's timer runs on the thread pool, which a loaded machine can delay, so the bound
        // allows a second time-to-live of slack.
        await Eventually(() => Task.FromResult(Volatile.Read(ref lostAt) != 0), "A's lost token");
        Assert.True(
            Stopwatch.GetElapsedTime(lastRenewal, lostAt) <= timeToLive * 2,
            $"A learned of the loss {Stopwatch.GetElapsedTime(lastRenewal, lostAt).TotalMilliseconds:F0} ms after its last renewal; the time-to-live is 1000 ms.");
        Assert.Equal(LeaseState.Lost, leaseA.State);

        // A resumes: its late write is rejected, its stalled renewal fails, and its release leaves B alone.
        await DelayUntil(acquiredAt, TimeSpan.FromMilliseconds(1600));
        storeA.BlockRenewals = false;
        Assert.False(resource.TryWrite(leaseA.FencingToken, "A after the pause"));
        Assert.False(await redisA.ExtendAsync(new LeaseStoreExtension("report", leaseA.LeaseId, "holder-a", timeToLive), default));
        Assert.Equal(LeaseReleaseResult.Expired, await leaseA.ReleaseAsync());
        Assert.False(await redisA.ReleaseAsync(new LeaseStoreRelease("report", leaseA.LeaseId, "holder-a"), default));

        LeaseHolder holder = Assert.Single(await storeB.GetHoldersAsync("report", default));
        Assert.Equal(leaseB.LeaseId, holder.LeaseId);
        Assert.Equal(new[] { "A before the pause", "B" }, resource.Accepted);
        await leaseB.ReleaseAsync();
    }

    // Waits until the given time has passed since the start; on a slow machine it may already have.
    private static Task DelayUntil(long startedAt, TimeSpan sinceStart)
    {
        TimeSpan left = sinceStart - Stopwatch.GetElapsedTime(startedAt);
        return left > TimeSpan.Zero ? Task.Delay(left) : Task.CompletedTask;
    }
}
