using System;
using System.Threading.Tasks;
using Sanctuary.Redis;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Demo;

internal enum LeaseStoreKind
{
    /// <summary>Lease state in this process: one <see cref="InMemoryLeaseStore"/> shared by the section's registries.</summary>
    Memory,

    /// <summary>Lease state in a Redis server, shared across processes.</summary>
    Redis,
}

/// <summary>The parsed value of <c>--store</c>: <c>memory</c> or <c>redis://host:port</c>.</summary>
internal sealed record LeaseStoreOption(LeaseStoreKind Kind, string Text, string? Host = null, int Port = 0)
{
    public const string MemoryText = "memory";

    /// <summary>Port of a Redis address that names none.</summary>
    public const int DefaultRedisPort = 6379;

    public static LeaseStoreOption Memory { get; } = new(LeaseStoreKind.Memory, MemoryText);

    /// <summary>Parses the text of <c>--store</c>. On failure, <paramref name="error"/> lists the accepted values.</summary>
    public static bool TryParse(string text, out LeaseStoreOption option, out string error)
    {
        option = Memory;
        error = string.Empty;
        if (string.Equals(text, MemoryText, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) &&
            string.Equals(uri.Scheme, "redis", StringComparison.OrdinalIgnoreCase) &&
            uri.Host.Length > 0 &&
            uri.AbsolutePath is "" or "/")
        {
            option = new LeaseStoreOption(LeaseStoreKind.Redis, text, uri.Host, uri.IsDefaultPort || uri.Port < 0 ? DefaultRedisPort : uri.Port);
            return true;
        }

        error = $"Invalid value '{text}' for --store: use '{MemoryText}' or a Redis address such as 'redis://localhost:{DefaultRedisPort}'.";
        return false;
    }
}

/// <summary>
/// The lease store that the named-resource section builds its registries on, opened once before
/// any section runs so that an unusable <c>--store</c> fails at once, not halfway through the run.
/// </summary>
internal sealed class LeaseStoreProvider : IAsyncDisposable
{
    private readonly Func<ValueTask>? _close;

    private LeaseStoreProvider(ILeaseStore store, string description, Func<ValueTask>? close)
    {
        Store = store;
        Description = description;
        _close = close;
    }

    /// <summary>The store every registry of the named-resource section shares, as processes share a server.</summary>
    public ILeaseStore Store { get; }

    /// <summary>Where lease state lives, for the report.</summary>
    public string Description { get; }

    /// <summary>Opens the store that <paramref name="option"/> names, or reports in <paramref name="error"/> why it cannot.</summary>
    public static bool TryOpen(LeaseStoreOption option, out LeaseStoreProvider? provider, out string error)
    {
        provider = null;
        error = string.Empty;
        switch (option.Kind)
        {
            case LeaseStoreKind.Memory:
                provider = new LeaseStoreProvider(new InMemoryLeaseStore(), "in memory (InMemoryLeaseStore)", close: null);
                return true;

            case LeaseStoreKind.Redis:
                try
                {
                    RedisLeaseStore store = RedisLeaseStore.Connect(option.Text);
                    provider = new LeaseStoreProvider(
                        store,
                        $"Redis at {option.Host}:{option.Port} (RedisLeaseStore)",
                        close: () => store.DisposeAsync());
                    return true;
                }
                catch (Exception exception) when (exception is RedisConnectionException or ArgumentException)
                {
                    error = $"--store {option.Text}: could not connect to Redis at {option.Host}:{option.Port} ({exception.Message}). "
                        + $"Start a server (redis-server --port {option.Port}) or run with --store {LeaseStoreOption.MemoryText}.";
                    return false;
                }

            default:
                error = $"--store {option.Text}: unknown store kind {option.Kind}.";
                return false;
        }
    }

    public ValueTask DisposeAsync() => _close?.Invoke() ?? ValueTask.CompletedTask;
}
