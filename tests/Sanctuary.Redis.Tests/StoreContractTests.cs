using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>The store contract, one script at a time, against a real server.</summary>
[Collection(RedisCollection.Name)]
public sealed class StoreContractTests
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(30);
    private readonly RedisFixture _fixture;

    public StoreContractTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task ExtendAndRelease_CheckLeaseIdAndOwner()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        LeaseStoreRequest first = Request("k", 1, "A", s_long);
        Assert.True((await store.TryAcquireAsync(first, default)).Acquired);

        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", new LeaseId(0xABCDEF, 2), "A", s_long), default));
        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", first.LeaseId, "B", s_long), default));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", first.LeaseId, "B"), default));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("other", first.LeaseId, "A"), default));
        Assert.True(await store.ExtendAsync(new LeaseStoreExtension("k", first.LeaseId, "A", s_long), default));
        LeaseHolder extended = Assert.Single(await store.GetHoldersAsync("k", default));
        Assert.Equal("A", extended.Owner);
        Assert.InRange(extended.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(28), TimeSpan.FromSeconds(31));
        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("k", first.LeaseId, "A"), default));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", first.LeaseId, "A"), default));
        Assert.Empty(await store.GetHoldersAsync("k", default));
    }

    [Fact]
    public async Task ExpiredHolder_CannotExtendOrReleaseNextOwner()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        LeaseStoreRequest a = Request("k", 1, "A", TimeSpan.FromMilliseconds(150));
        LeaseStoreAcquireResult first = await store.TryAcquireAsync(a, default);
        LeaseStoreAcquireResult refused = await store.TryAcquireAsync(Request("k", 2, "B", s_long), default);
        Assert.False(refused.Acquired);
        Assert.Equal("A", Assert.Single(refused.Holders).Owner);

        await Task.Delay(250);
        LeaseStoreRequest b = Request("k", 3, "B", s_long);
        LeaseStoreAcquireResult second = await store.TryAcquireAsync(b, default);
        Assert.True(second.Acquired);
        Assert.True(second.FencingToken > first.FencingToken, $"token {second.FencingToken} should exceed {first.FencingToken}");

        Assert.False(await store.ExtendAsync(new LeaseStoreExtension("k", a.LeaseId, "A", s_long), default));
        Assert.False(await store.ReleaseAsync(new LeaseStoreRelease("k", a.LeaseId, "A"), default));
        LeaseHolder holder = Assert.Single(await store.GetHoldersAsync("k", default));
        Assert.Equal(b.LeaseId, holder.LeaseId);
        Assert.Equal(second.FencingToken, holder.FencingToken);
    }

    [Fact]
    public async Task ReadersShare_WritersExclude()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        Assert.True((await store.TryAcquireAsync(Request("d", 1, "r1", s_long, LeaseMode.Read), default)).Acquired);
        Assert.True((await store.TryAcquireAsync(Request("d", 2, "r2", s_long, LeaseMode.Read), default)).Acquired);
        Assert.True((await store.TryAcquireAsync(Request("d", 3, "u1", s_long, LeaseMode.UpgradeableRead), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", 4, "u2", s_long, LeaseMode.UpgradeableRead), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", 5, "w", s_long, LeaseMode.Write), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", 6, "x", s_long, LeaseMode.Exclusive), default)).Acquired);
        Assert.Equal(3, (await store.GetHoldersAsync("d", default)).Count);

        // Once every reader has left, a writer gets in, and then nobody else.
        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("d", new LeaseId(0xABCDEF, 1), "r1"), default));
        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("d", new LeaseId(0xABCDEF, 2), "r2"), default));
        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("d", new LeaseId(0xABCDEF, 3), "u1"), default));
        Assert.True((await store.TryAcquireAsync(Request("d", 7, "w", s_long, LeaseMode.Write), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", 8, "r3", s_long, LeaseMode.Read), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("d", 9, "u3", s_long, LeaseMode.UpgradeableRead), default)).Acquired);
    }

    [Fact]
    public async Task Units_NeverExceedCapacity()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        Assert.True((await store.TryAcquireAsync(Request("pool", 1, "a", s_long, units: 3, capacity: 4), default)).Acquired);
        LeaseStoreAcquireResult refused = await store.TryAcquireAsync(Request("pool", 2, "b", s_long, units: 2, capacity: 4), default);
        Assert.False(refused.Acquired);
        Assert.Equal(3, Assert.Single(refused.Holders).Units);
        Assert.True((await store.TryAcquireAsync(Request("pool", 3, "c", s_long, units: 1, capacity: 4), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("pool", 4, "d", s_long, units: 1, capacity: 4), default)).Acquired);

        Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("pool", new LeaseId(0xABCDEF, 1), "a"), default));
        Assert.True((await store.TryAcquireAsync(Request("pool", 5, "b", s_long, units: 2, capacity: 4), default)).Acquired);
        Assert.Equal(3, SumUnits(await store.GetHoldersAsync("pool", default)));
    }

    [Fact]
    public async Task ExpiredReservation_ReturnsItsUnits()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        Assert.True((await store.TryAcquireAsync(Request("pool", 1, "a", TimeSpan.FromMilliseconds(100), units: 2, capacity: 2), default)).Acquired);
        Assert.False((await store.TryAcquireAsync(Request("pool", 2, "b", s_long, units: 1, capacity: 2), default)).Acquired);
        await Task.Delay(200);
        Assert.True((await store.TryAcquireAsync(Request("pool", 3, "b", s_long, units: 2, capacity: 2), default)).Acquired);
    }

    [Fact]
    public async Task PoolTotal_MismatchAcrossProcesses_Throws()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        Assert.True((await store.TryAcquireAsync(Request("gpu", 1, "a", s_long, units: 1, capacity: 4), default)).Acquired);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.TryAcquireAsync(Request("gpu", 2, "b", s_long, units: 1, capacity: 8), default));
        Assert.Contains("'gpu'", error.Message);
        Assert.Contains("total of 4", error.Message);
        Assert.Contains("with 8", error.Message);
    }

    [Fact]
    public async Task Holders_CarryOwnerPurposeAndTimes()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        string owner = "web-3/4711 | owner with | bars and ünïcödé";
        string purpose = "nightly | report";
        LeaseStoreRequest request = Request("res", 1, owner, TimeSpan.FromSeconds(20), LeaseMode.Write, purpose: purpose);
        DateTimeOffset before = DateTimeOffset.UtcNow;
        LeaseStoreAcquireResult granted = await store.TryAcquireAsync(request, default);

        LeaseHolder holder = Assert.Single(await store.GetHoldersAsync("res", default));
        Assert.Equal(request.LeaseId, holder.LeaseId);
        Assert.Equal(owner, holder.Owner);
        Assert.Equal(purpose, holder.Purpose);
        Assert.Equal(LeaseMode.Write, holder.Mode);
        Assert.Equal(granted.FencingToken, holder.FencingToken);
        Assert.InRange(holder.AcquiredAt, before.AddSeconds(-2), before.AddSeconds(2));
        Assert.NotNull(holder.ExpiresAt);
        Assert.InRange(holder.ExpiresAt!.Value - holder.AcquiredAt, TimeSpan.FromSeconds(19.9), TimeSpan.FromSeconds(20.1));

        Assert.True((await store.TryAcquireAsync(Request("forever", 2, "x", Timeout.InfiniteTimeSpan), default)).Acquired);
        Assert.Null(Assert.Single(await store.GetHoldersAsync("forever", default)).ExpiresAt);
    }

    [Fact]
    public async Task SameLeaseId_IsNeverGrantedTwice()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        LeaseStoreRequest read = Request("r", 1, "a", s_long, LeaseMode.Read);
        Assert.True((await store.TryAcquireAsync(read, default)).Acquired);
        Assert.False((await store.TryAcquireAsync(read, default)).Acquired);
        Assert.Single(await store.GetHoldersAsync("r", default));
    }

    [Fact]
    public async Task FencingTokens_IncreasePerResource()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        long last = 0;
        for (ulong i = 1; i <= 20; i++)
        {
            LeaseStoreRequest request = Request("f", i, "a", s_long);
            LeaseStoreAcquireResult result = await store.TryAcquireAsync(request, default);
            Assert.True(result.FencingToken > last, $"token {result.FencingToken} after {last}");
            last = result.FencingToken;
            Assert.True(await store.ReleaseAsync(new LeaseStoreRelease("f", request.LeaseId, "a"), default));
        }

        Assert.Equal(last, await store.GetLastFencingTokenAsync("f"));
        Assert.Equal(0, await store.GetLastFencingTokenAsync("never-acquired"));
    }

    [Fact]
    public async Task IdleResource_LeavesOnlyItsFencingCounter()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(_fixture.Server, prefix);
        LeaseStoreRequest request = Request("idle", 1, "a", s_long, LeaseMode.Read);
        await store.TryAcquireAsync(request, default);
        await store.ReleaseAsync(new LeaseStoreRelease("idle", request.LeaseId, "a"), default);

        var keys = new List<string>();
        await foreach (StackExchange.Redis.RedisKey key in _fixture.Admin.GetServer(_fixture.Server.EndPoint).KeysAsync(pattern: prefix + "*"))
        {
            keys.Add(key.ToString());
        }

        Assert.Equal(new[] { prefix + "{idle}:f" }, keys);
    }

    [Fact]
    public async Task Cancelled_BeforeSending_Throws()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.TryAcquireAsync(Request("c", 1, "a", s_long), cancelled.Token));
        Assert.Empty(await store.GetHoldersAsync("c", default));
    }

    [Fact]
    public async Task InvalidRequests_ThrowWithParameterNames()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        var nullId = await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.TryAcquireAsync(Request(null!, 1, "a", s_long), default));
        Assert.Equal("request.ResourceId", nullId.ParamName);
        var emptyOwner = await Assert.ThrowsAsync<ArgumentException>(async () => await store.TryAcquireAsync(Request("k", 1, string.Empty, s_long), default));
        Assert.Equal("request.Owner", emptyOwner.ParamName);
        var emptyLease = await Assert.ThrowsAsync<ArgumentException>(async () => await store.ReleaseAsync(new LeaseStoreRelease("k", default, "a"), default));
        Assert.Equal("release.LeaseId", emptyLease.ParamName);
        var zeroTtl = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.TryAcquireAsync(Request("k", 1, "a", TimeSpan.Zero), default));
        Assert.Equal("request.TimeToLive", zeroTtl.ParamName);
        var tooMany = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.TryAcquireAsync(Request("k", 1, "a", s_long, units: 5, capacity: 4), default));
        Assert.Contains("capacity of 4", tooMany.Message);
        var badMode = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.TryAcquireAsync(Request("k", 1, "a", s_long, (LeaseMode)99), default));
        Assert.Equal("request.Mode", badMode.ParamName);
        var longId = await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetHoldersAsync(new string('x', 513), default));
        Assert.Contains("512", longId.Message);
    }

    [Fact]
    public async Task Disposed_ThrowsObjectDisposed()
    {
        RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        await store.DisposeAsync();
        var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.TryAcquireAsync(Request("k", 1, "a", s_long), default));
        Assert.Contains(_fixture.Server.EndPoint, error.Message);
        Assert.True(store.IsDisposed);
        await store.DisposeAsync();
    }

    private static long SumUnits(IReadOnlyList<LeaseHolder> holders)
    {
        long sum = 0;
        foreach (LeaseHolder holder in holders)
        {
            sum += holder.Units;
        }

        return sum;
    }
}
