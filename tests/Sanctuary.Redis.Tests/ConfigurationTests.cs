using System;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using StackExchange.Redis;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>Connection strings, an existing connection, options and the test server's own checks.</summary>
[Collection(RedisCollection.Name)]
public sealed class ConfigurationTests
{
    private readonly RedisFixture _fixture;

    public ConfigurationTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task RedisUri_SelectsDatabaseFromPath()
    {
        string prefix = UniquePrefix();
        await using RedisLeaseStore store = await RedisLeaseStore.ConnectAsync("redis://" + _fixture.Server.EndPoint + "/3", new RedisLeaseStoreOptions { KeyPrefix = prefix });
        Assert.Equal(_fixture.Server.EndPoint, store.EndPoint);
        Assert.True((await store.TryAcquireAsync(Request("k", 1, "a", TimeSpan.FromSeconds(10)), default)).Acquired);
        Assert.True(await _fixture.Admin.GetDatabase(3).KeyExistsAsync(prefix + "{k}:x"));
        Assert.False(await _fixture.Admin.GetDatabase(0).KeyExistsAsync(prefix + "{k}:x"));
    }

    [Fact]
    public async Task ConfigurationString_Connects()
    {
        await using RedisLeaseStore store = RedisLeaseStore.Connect(_fixture.Server.EndPoint + ",name=config-test", new RedisLeaseStoreOptions { KeyPrefix = UniquePrefix() });
        Assert.True((await store.TryAcquireAsync(Request("k", 1, "a", TimeSpan.FromSeconds(10)), default)).Acquired);
        Assert.True(store.Connection.IsConnected);
    }

    [Fact]
    public async Task ExistingConnection_IsNotClosedByStore()
    {
        using ConnectionMultiplexer connection = ConnectionMultiplexer.Connect(_fixture.Server.Configuration);
        var store = new RedisLeaseStore(connection, new RedisLeaseStoreOptions { KeyPrefix = UniquePrefix() });
        Assert.Same(connection, store.Connection);
        Assert.True((await store.TryAcquireAsync(Request("k", 1, "a", TimeSpan.FromSeconds(10)), default)).Acquired);
        await store.DisposeAsync();
        Assert.True(connection.IsConnected);
        Assert.True(await connection.GetDatabase().PingAsync() >= TimeSpan.Zero);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("redis://")]
    [InlineData("redis://127.0.0.1:1/not-a-number")]
    [InlineData("redis://word@127.0.0.1:1")]
    [InlineData("redis://127.0.0.1:1/0?timeout=5")]
    public void InvalidConnectionString_ThrowsArgumentException(string configuration)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => RedisLeaseStore.Connect(configuration));
        Assert.Equal("configuration", error.ParamName);
    }

    [Fact]
    public void NullArguments_Throw()
    {
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => RedisLeaseStore.Connect(null!)).ParamName);
        Assert.Equal("connection", Assert.Throws<ArgumentNullException>(() => new RedisLeaseStore(null!)).ParamName);
    }

    [Fact]
    public void Options_RejectOutOfRangeValues()
    {
        Assert.Equal("KeyPrefix", Assert.Throws<ArgumentException>(() => new RedisLeaseStoreOptions { KeyPrefix = "app:{x}:" }).ParamName);
        Assert.Equal("KeyPrefix", Assert.Throws<ArgumentNullException>(() => new RedisLeaseStoreOptions { KeyPrefix = null! }).ParamName);
        Assert.Equal("KeyPrefix", Assert.Throws<ArgumentException>(() => new RedisLeaseStoreOptions { KeyPrefix = new string('p', 257) }).ParamName);
        Assert.Equal("Database", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeaseStoreOptions { Database = -2 }).ParamName);
        Assert.Equal("PollInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeaseStoreOptions { PollInterval = TimeSpan.Zero }).ParamName);
        Assert.Equal("WaiterTimeToLive", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeaseStoreOptions { WaiterTimeToLive = TimeSpan.FromMilliseconds(5) }).ParamName);
        Assert.Equal("MaxReportedHolders", Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeaseStoreOptions { MaxReportedHolders = 0 }).ParamName);
    }

    [Fact]
    public void MissingRedisServer_FailsWithInstallHint()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RedisServer.FindExecutable("/nonexistent-folder-for-this-test"));
        Assert.Contains("apt-get install -y redis-server", error.Message);
    }

    [Fact]
    public async Task RegistryTryAcquire_AdvisesZeroWait()
    {
        await using RedisLeaseStore store = Store(_fixture.Server, UniquePrefix());
        using ResourceRegistry registry = Registry(store, "client");
        var error = Assert.Throws<InvalidOperationException>(() => registry.TryAcquire("k", out _));
        Assert.Contains("WaitTimeout", error.Message);
    }
}
