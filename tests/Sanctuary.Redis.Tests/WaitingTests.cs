using System;
using System.Diagnostics;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using StackExchange.Redis;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>Waiting: release notifications, the poll fallback, expiry and the cost of a wait.</summary>
[Collection(RedisCollection.Name)]
public sealed class WaitingTests
{
    private readonly RedisFixture _fixture;

    public WaitingTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Release_WakesWaiterLongBeforePoll()
    {
        string prefix = UniquePrefix();
        var slowPoll = new RedisLeaseStoreOptions { PollInterval = TimeSpan.FromSeconds(10) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, slowPoll);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, slowPoll);
        using ResourceRegistry a = Registry(storeA, "holder");
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(1));

        ResourceLease held = await a.AcquireAsync("queue");
        long before = await ScriptCalls();
        Task<ResourceLease> waiting = b.AcquireAsync("queue", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(20) }).AsTask();
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        // The registry would ask every 1 ms; the waiter asked a few times only, then waited for the release.
        long calls = await ScriptCalls() - before;
        Assert.True(calls <= 5, $"The waiter ran {calls} scripts in 300 ms.");

        await held.ReleaseAsync();
        var sinceRelease = Stopwatch.StartNew();
        await using ResourceLease taken = await Within(waiting, "the waiter's acquire");
        Assert.True(sinceRelease.Elapsed < TimeSpan.FromSeconds(1), $"The waiter took {sinceRelease.ElapsedMilliseconds} ms after the release; the poll interval is 10 s, so the notification was not used.");
    }

    [Fact]
    public async Task LostNotification_DelaysWaiterAtMostPollInterval()
    {
        string prefix = UniquePrefix();
        var poll = new RedisLeaseStoreOptions { PollInterval = TimeSpan.FromMilliseconds(400) };
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, poll);
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, poll);
        using ResourceRegistry a = Registry(storeA, "holder");
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(1));

        await a.AcquireAsync("queue");
        Task<ResourceLease> waiting = b.AcquireAsync("queue", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(20) }).AsTask();
        await Task.Delay(300);

        // The holder's lease vanishes without a release message, as when the message is lost.
        IDatabase admin = _fixture.Admin.GetDatabase();
        await admin.KeyDeleteAsync(new RedisKey[] { prefix + "{queue}:x", prefix + "{queue}:h", prefix + "{queue}:e" });
        var sinceLoss = Stopwatch.StartNew();
        await using ResourceLease taken = await Within(waiting, "the waiter's acquire");
        Assert.True(sinceLoss.Elapsed < TimeSpan.FromMilliseconds(400 + 300), $"The waiter took {sinceLoss.ElapsedMilliseconds} ms; the poll interval is 400 ms.");
    }

    [Fact]
    public async Task DroppedSubscription_DelaysWaiterAtMostPollInterval()
    {
        string prefix = UniquePrefix();
        var poll = new RedisLeaseStoreOptions { PollInterval = TimeSpan.FromMilliseconds(400) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, poll);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, poll);
        using ResourceRegistry a = Registry(storeA, "holder");
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(1));

        ResourceLease held = await a.AcquireAsync("queue");
        Task<ResourceLease> waiting = b.AcquireAsync("queue", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(20) }).AsTask();
        await Task.Delay(300);

        // Drop every subscriber connection, then release at once: the message can be lost.
        await _fixture.Admin.GetServer(_fixture.Server.EndPoint).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await held.ReleaseAsync();
        var sinceRelease = Stopwatch.StartNew();
        await using ResourceLease taken = await Within(waiting, "the waiter's acquire");
        Assert.True(sinceRelease.Elapsed < TimeSpan.FromMilliseconds(400 + 300), $"The waiter took {sinceRelease.ElapsedMilliseconds} ms; the poll interval is 400 ms.");
    }

    [Fact]
    public async Task ExpiringHolder_WakesWaiterWithoutNotification()
    {
        string prefix = UniquePrefix();
        var slowPoll = new RedisLeaseStoreOptions { PollInterval = TimeSpan.FromSeconds(10) };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, slowPoll);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, slowPoll);
        using ResourceRegistry a = Registry(storeA, "crashed");
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(1));

        await a.AcquireAsync("job", new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(600) });
        var watch = Stopwatch.StartNew();
        await using ResourceLease taken = await b.AcquireAsync("job", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(20) });
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task Waiting_IsNotAHotLoop()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "holder");

        // The registry retries after 1 ms; the store's wait is what paces the waiter.
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(1));
        await using ResourceLease held = await a.AcquireAsync("busy");

        long before = await ScriptCalls();
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("busy", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(1500) }));
        long calls = await ScriptCalls() - before;

        // Two scripts per poll interval of 100 ms, so about 30; a loop without the wait would run hundreds.
        Assert.InRange(calls, 5, 60);
    }

    [Fact]
    public async Task ZeroWaitTimeout_IsOneScript()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix);
        using ResourceRegistry a = Registry(storeA, "holder");
        using ResourceRegistry b = Registry(storeB, "other");
        await using ResourceLease held = await a.AcquireAsync("k");
        await b.AcquireAsync("warm-up");

        long before = await ScriptCalls();
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(100), $"A zero-wait acquire took {watch.ElapsedMilliseconds} ms.");
        Assert.Equal(1, await ScriptCalls() - before);
    }

    [Fact]
    public async Task WithoutNotifications_RegistryPollingStillWorks()
    {
        string prefix = UniquePrefix();
        var polling = new RedisLeaseStoreOptions { WaitForReleaseNotifications = false };
        await using RedisLeaseStore storeA = Store(_fixture.Server, prefix, polling);
        await using RedisLeaseStore storeB = Store(_fixture.Server, prefix, polling);
        using ResourceRegistry a = Registry(storeA, "holder");
        using ResourceRegistry b = Registry(storeB, "waiter", retry: TimeSpan.FromMilliseconds(20));

        ResourceLease held = await a.AcquireAsync("k");
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await b.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(200) }));
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(350), $"The timed acquire took {watch.ElapsedMilliseconds} ms for a 200 ms timeout.");

        Task<ResourceLease> waiting = b.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(10) }).AsTask();
        await held.ReleaseAsync();
        await using ResourceLease taken = await Within(waiting, "the polling waiter");
    }

    private async Task<long> ScriptCalls() =>
        await CommandCalls(_fixture.Admin, _fixture.Server, "evalsha") + await CommandCalls(_fixture.Admin, _fixture.Server, "eval");
}
