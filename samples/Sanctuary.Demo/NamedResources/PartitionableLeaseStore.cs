using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// One node's connection to a shared <see cref="ILeaseStore"/>, which the demo can cut: from then
/// on every call fails as if the node's process were frozen or cut off from the store.
/// </summary>
/// <remarks>
/// The node's registry then misses its heartbeat renewals and loses its lease locally, while the
/// store keeps that lease until its time-to-live runs out, exactly as with a crashed process.
/// </remarks>
internal sealed class PartitionableLeaseStore(ILeaseStore inner, string node) : ILeaseStore
{
    private int _cut;
    private long _failedCalls;

    public bool IsCut => Volatile.Read(ref _cut) != 0;

    /// <summary>Calls that failed because the connection was cut.</summary>
    public long FailedCalls => Interlocked.Read(ref _failedCalls);

    public void Cut() => Volatile.Write(ref _cut, 1);

    public void Heal() => Volatile.Write(ref _cut, 0);

    public ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken) =>
        IsCut ? Unreachable<LeaseStoreAcquireResult>() : inner.TryAcquireAsync(request, cancellationToken);

    public ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken) =>
        IsCut ? Unreachable<bool>() : inner.ExtendAsync(extension, cancellationToken);

    public ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken) =>
        IsCut ? Unreachable<bool>() : inner.ReleaseAsync(release, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken) =>
        IsCut ? Unreachable<IReadOnlyList<LeaseHolder>>() : inner.GetHoldersAsync(resourceId, cancellationToken);

    private ValueTask<T> Unreachable<T>()
    {
        Interlocked.Increment(ref _failedCalls);
        return ValueTask.FromException<T>(new IOException($"{node} cannot reach the lease store."));
    }
}

/// <summary>
/// A resource that checks fencing tokens, as a storage service or database should: it remembers
/// the highest token it has accepted and rejects any write with a lower one.
/// </summary>
internal sealed class FencedJournal
{
    private readonly object _sync = new();
    private readonly List<string> _lines = [];
    private long _highest;

    /// <summary>Lines written so far, each with its writer.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_sync)
            {
                return _lines.ToArray();
            }
        }
    }

    /// <summary>Appends <paramref name="text"/> unless <paramref name="token"/> is lower than a token seen before.</summary>
    /// <returns>Whether the write was accepted.</returns>
    public bool TryWrite(long token, string writer, string text)
    {
        lock (_sync)
        {
            if (token < _highest)
            {
                return false;
            }

            _highest = token;
            _lines.Add($"{writer}: {text}");
            return true;
        }
    }
}
