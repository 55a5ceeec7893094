using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis.Tests.Infrastructure;

/// <summary>Stores, registries and waiting helpers that the Redis tests share.</summary>
internal static class TestSupport
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    /// <summary>A key prefix no other test uses, so tests on one server never see each other's keys.</summary>
    public static string UniquePrefix() => "test-" + Guid.NewGuid().ToString("N")[..12] + ":";

    public static RedisLeaseStore Store(RedisServer server, string prefix, RedisLeaseStoreOptions? options = null) =>
        RedisLeaseStore.Connect(server.Configuration, (options ?? new RedisLeaseStoreOptions()) with { KeyPrefix = prefix });

    /// <summary>A multiplexer that retries its connection every 100 ms, for tests that stop and start the server.</summary>
    public static ConnectionMultiplexer QuickReconnect(RedisServer server)
    {
        ConfigurationOptions options = ConfigurationOptions.Parse(server.Configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(100);
        return ConnectionMultiplexer.Connect(options);
    }

    public static ResourceRegistry Registry(ILeaseStore store, string owner, TimeSpan? retry = null) =>
        new(new ResourceRegistryOptions { Store = store, DefaultOwner = owner, StoreRetryInterval = retry ?? TimeSpan.FromMilliseconds(10) });

    public static LeaseStoreRequest Request(string resourceId, ulong sequence, string owner, TimeSpan timeToLive, LeaseMode mode = LeaseMode.Exclusive, long units = 0, long capacity = 0, string? purpose = null) =>
        new(resourceId, new LeaseId(0xABCDEF, sequence), owner, mode, timeToLive, units, capacity, purpose);

    public static async Task<T> Within<T>(Task<T> task, string what, TimeSpan? bound = null)
    {
        TimeSpan limit = bound ?? Bound;
        Task first = await Task.WhenAny(task, Task.Delay(limit));
        if (!ReferenceEquals(first, task))
        {
            throw new TimeoutException($"{what} did not finish within {limit.TotalSeconds} s.");
        }

        return await task;
    }

    public static async Task Within(Task task, string what, TimeSpan? bound = null)
    {
        TimeSpan limit = bound ?? Bound;
        Task first = await Task.WhenAny(task, Task.Delay(limit));
        if (!ReferenceEquals(first, task))
        {
            throw new TimeoutException($"{what} did not finish within {limit.TotalSeconds} s.");
        }

        await task;
    }

    /// <summary>Polls a condition every 20 ms until it holds, at most <paramref name="bound"/>.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? bound = null)
    {
        TimeSpan limit = bound ?? Bound;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{what} did not happen within {limit.TotalSeconds} s.");
    }

    /// <summary>Number of times the server ran a command, from INFO commandstats (e.g. "evalsha").</summary>
    public static async Task<long> CommandCalls(ConnectionMultiplexer admin, RedisServer server, string command)
    {
        IServer endpoint = admin.GetServer(server.EndPoint);
        IGrouping<string, KeyValuePair<string, string>>[] info = await endpoint.InfoAsync("commandstats");
        foreach (IGrouping<string, KeyValuePair<string, string>> section in info)
        {
            foreach (KeyValuePair<string, string> entry in section)
            {
                if (entry.Key == "cmdstat_" + command)
                {
                    // calls=12,usec=...
                    string calls = entry.Value.Split(',')[0].Split('=')[1];
                    return long.Parse(calls, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return 0;
    }
}

/// <summary>
/// A protected system that checks fencing tokens: it accepts a write only if its token is at
/// least the highest it has seen, so a holder that lost its lease cannot overwrite its successor.
/// </summary>
internal sealed class FencedResource
{
    private readonly object _sync = new();
    private readonly List<string> _accepted = new();
    private long _highest;

    public IReadOnlyList<string> Accepted
    {
        get
        {
            lock (_sync)
            {
                return _accepted.ToArray();
            }
        }
    }

    public bool TryWrite(long fencingToken, string value)
    {
        lock (_sync)
        {
            if (fencingToken < _highest)
            {
                return false;
            }

            _highest = fencingToken;
            _accepted.Add(value);
            return true;
        }
    }
}

/// <summary>
/// A store that forwards to another and can hold renewals back: while <see cref="BlockRenewals"/>
/// is set, an extend waits until it is cleared (bounded by 30 s) before it reaches the inner store.
/// </summary>
internal sealed class RenewalBlockingStore : ILeaseStore
{
    private readonly ILeaseStore _inner;
    private volatile TaskCompletionSource? _gate;
    private int _extends;
    private int _extended;

    public RenewalBlockingStore(ILeaseStore inner)
    {
        _inner = inner;
    }

    public int Extends => Volatile.Read(ref _extends);

    /// <summary>Extends that the inner store accepted.</summary>
    public int Extended => Volatile.Read(ref _extended);

    /// <summary>When the last accepted extend was sent, on the monotonic clock.</summary>
    public long LastAcceptedSentAt { get; private set; }

    public bool BlockRenewals
    {
        get => _gate is not null;
        set
        {
            if (value)
            {
                _gate ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else
            {
                Interlocked.Exchange(ref _gate, null)?.TrySetResult();
            }
        }
    }

    public ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken) =>
        _inner.TryAcquireAsync(request, cancellationToken);

    public async ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _extends);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        long sentAt = Stopwatch.GetTimestamp();
        bool extended = await _inner.ExtendAsync(extension, cancellationToken);
        if (extended)
        {
            LastAcceptedSentAt = sentAt;
            Interlocked.Increment(ref _extended);
        }

        return extended;
    }

    public ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken) =>
        _inner.ReleaseAsync(release, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken) =>
        _inner.GetHoldersAsync(resourceId, cancellationToken);
}
