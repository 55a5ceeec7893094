using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using StackExchange.Redis;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>Key names: prefix, database and one hash slot per resource.</summary>
[Collection(RedisCollection.Name)]
public sealed class KeyLayoutTests
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(30);
    private readonly RedisFixture _fixture;

    public KeyLayoutTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("}starts-with-brace")]
    [InlineData("a{b}c")]
    [InlineData("{")]
    [InlineData("%7B")]
    [InlineData("ünïcödé:42")]
    public async Task KeysOfOneResource_ShareOneHashSlot(string resourceId)
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = Store(_fixture.Server, prefix);

        // A holder, and a refused writer asked twice, so the keys of the line exist too.
        await store.TryAcquireAsync(Request(resourceId, 1, "a", s_long, LeaseMode.Read), default);
        LeaseStoreRequest writer = Request(resourceId, 2, "b", s_long, LeaseMode.Write);
        await store.TryAcquireAsync(writer, default);
        await store.TryAcquireAsync(writer, default);

        List<RedisKey> keys = await KeysAsync(prefix + "*");
        Assert.Equal(5, keys.Count);
        int slot = _fixture.Admin.HashSlot(keys[0]);
        foreach (RedisKey key in keys)
        {
            Assert.Equal(slot, _fixture.Admin.HashSlot(key));
        }
    }

    [Fact]
    public async Task SimilarIds_DoNotCollide()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        Assert.True((await store.TryAcquireAsync(Request("{", 1, "a", s_long), default)).Acquired);
        Assert.True((await store.TryAcquireAsync(Request("%7B", 2, "a", s_long), default)).Acquired);
        Assert.True((await store.TryAcquireAsync(Request("%257B", 3, "a", s_long), default)).Acquired);
    }

    [Fact]
    public async Task KeyPrefixAndDatabase_SeparateStores()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore inTwo = Store(_fixture.Server, prefix, new RedisLeaseStoreOptions { Database = 2 });
        await using RedisLeaseStore inZero = Store(_fixture.Server, prefix);
        await using RedisLeaseStore otherPrefix = Store(_fixture.Server, UniquePrefix(), new RedisLeaseStoreOptions { Database = 2 });

        Assert.True((await inTwo.TryAcquireAsync(Request("shared", 1, "a", s_long), default)).Acquired);
        Assert.True((await inZero.TryAcquireAsync(Request("shared", 2, "b", s_long), default)).Acquired);
        Assert.True((await otherPrefix.TryAcquireAsync(Request("shared", 3, "c", s_long), default)).Acquired);

        Assert.True(await _fixture.Admin.GetDatabase(2).KeyExistsAsync(prefix + "{shared}:x"));
        Assert.Equal("a", Assert.Single(await inTwo.GetHoldersAsync("shared", default)).Owner);
        Assert.Equal("b", Assert.Single(await inZero.GetHoldersAsync("shared", default)).Owner);
    }

    [Fact]
    public async Task EmptyPrefix_IsAllowed()
    {
        string id = "no-prefix-" + Guid.NewGuid().ToString("N");
        await using RedisLeaseStore store = Store(_fixture.Server, string.Empty);
        Assert.True((await store.TryAcquireAsync(Request(id, 1, "a", s_long), default)).Acquired);
        Assert.True(await _fixture.Admin.GetDatabase().KeyExistsAsync("{" + id + "}:f"));
    }

    private async Task<List<RedisKey>> KeysAsync(string pattern)
    {
        var keys = new List<RedisKey>();
        await foreach (RedisKey key in _fixture.Admin.GetServer(_fixture.Server.EndPoint).KeysAsync(pattern: pattern))
        {
            keys.Add(key);
        }

        return keys;
    }
}
