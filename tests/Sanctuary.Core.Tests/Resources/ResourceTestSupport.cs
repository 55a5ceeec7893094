using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Resources;

namespace Sanctuary.Tests.Resources;

/// <summary>Registries on a fake clock, and the fakes that named-resource tests share.</summary>
internal static class ResourceTestSupport
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static (ResourceRegistry Registry, FakeTimeProvider Clock) CreateWithFakeClock(ILeaseStore? store = null, RegistryFaults faults = RegistryFaults.None)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, DefaultOwner = "tests" }, faults);
        return (registry, clock);
    }

    public static LeaseOptions Owner(string owner) => new() { Owner = owner };

    /// <summary>Completes synchronously-completed value tasks and throws if one is still pending.</summary>
    public static ResourceLease Now(ValueTask<ResourceLease> pending)
    {
        if (!pending.IsCompleted)
        {
            throw new InvalidOperationException("The acquire was expected to complete at once but it is waiting.");
        }

        return pending.GetAwaiter().GetResult();
    }

    public static async Task<T> Within<T>(Task<T> task, string what)
    {
        Task first = await Task.WhenAny(task, Task.Delay(Bound));
        if (!ReferenceEquals(first, task))
        {
            throw new TimeoutException($"{what} did not finish within {Bound.TotalSeconds} s.");
        }

        return await task;
    }

    public static async Task Within(Task task, string what)
    {
        Task first = await Task.WhenAny(task, Task.Delay(Bound));
        if (!ReferenceEquals(first, task))
        {
            throw new TimeoutException($"{what} did not finish within {Bound.TotalSeconds} s.");
        }

        await task;
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
/// A store that forwards to another and can hold back renewals: while blocked, an extend waits
/// on the fake clock for the configured delay before it reaches the inner store.
/// </summary>
internal sealed class DelayingStore : ILeaseStore
{
    private readonly ILeaseStore _inner;
    private readonly TimeProvider _clock;
    private int _extends;
    private int _releases;

    public DelayingStore(ILeaseStore inner, TimeProvider clock)
    {
        _inner = inner;
        _clock = clock;
    }

    public TimeSpan ExtendDelay { get; set; }

    public bool FailExtends { get; set; }

    public int Extends => Volatile.Read(ref _extends);

    public int Releases => Volatile.Read(ref _releases);

    public ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken) =>
        _inner.TryAcquireAsync(request, cancellationToken);

    public async ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _extends);
        if (FailExtends)
        {
            throw new InvalidOperationException("The store is unreachable (simulated).");
        }

        if (ExtendDelay > TimeSpan.Zero)
        {
            await Task.Delay(ExtendDelay, _clock, cancellationToken);
        }

        return await _inner.ExtendAsync(extension, cancellationToken);
    }

    public ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _releases);
        return _inner.ReleaseAsync(release, cancellationToken);
    }

    public ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken) =>
        _inner.GetHoldersAsync(resourceId, cancellationToken);
}
