using System;
using System.Threading.Tasks;
using StackExchange.Redis;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Sanctuary.Redis.Tests.Infrastructure;

/// <summary>
/// One redis-server shared by the tests of the "redis" collection. Tests keep apart by using
/// their own key prefix. If redis-server is not installed, every test of the collection fails
/// with the message of <see cref="RedisServer.InstallHint"/>.
/// </summary>
/// <remarks>
/// Tests run one at a time (see the assembly attribute above): several measure timings, and the
/// machines that run them have few cores.
/// </remarks>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _admin;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>A connection for inspecting the server (keys, INFO), with admin commands allowed.</summary>
    public ConnectionMultiplexer Admin => _admin ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _admin = _server.ConnectAdmin();
    }

    public async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
