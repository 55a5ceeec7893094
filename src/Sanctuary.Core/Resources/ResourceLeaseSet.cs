using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// The leases of an all-or-nothing acquire, in the order they were taken (ordinal order of the
/// ids). Disposing the set releases them in reverse order.
/// </summary>
public sealed class ResourceLeaseSet : IReadOnlyList<ResourceLease>, IDisposable, IAsyncDisposable
{
    private readonly ResourceLease[] _leases;
    private CancellationTokenSource? _lost;

    internal ResourceLeaseSet(ResourceLease[] leases)
    {
        _leases = leases;
    }

    /// <summary>Number of leases (distinct resources).</summary>
    public int Count => _leases.Length;

    /// <summary>Whether every lease of the set still holds its resource.</summary>
    public bool AllHeld
    {
        get
        {
            foreach (ResourceLease lease in _leases)
            {
                if (!lease.IsHeld)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// A token that is cancelled when any lease of the set is lost. The first read links the
    /// leases' tokens; dispose the set to unlink them.
    /// </summary>
    public CancellationToken LostToken
    {
        get
        {
            if (_lost is null)
            {
                var tokens = new CancellationToken[_leases.Length];
                for (int i = 0; i < tokens.Length; i++)
                {
                    tokens[i] = _leases[i].LostToken;
                }

                var created = CancellationTokenSource.CreateLinkedTokenSource(tokens);
                if (Interlocked.CompareExchange(ref _lost, created, null) is not null)
                {
                    created.Dispose();
                }
            }

            return _lost!.Token;
        }
    }

    /// <summary>The lease at <paramref name="index"/>.</summary>
    /// <param name="index">Position in ordinal order of the ids.</param>
    public ResourceLease this[int index] => _leases[index];

    /// <summary>The lease of a resource of the set.</summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <returns>Its lease.</returns>
    /// <exception cref="KeyNotFoundException">The set has no lease on that resource.</exception>
    public ResourceLease this[string resourceId]
    {
        get
        {
            foreach (ResourceLease lease in _leases)
            {
                if (string.Equals(lease.ResourceId, resourceId, StringComparison.Ordinal))
                {
                    return lease;
                }
            }

            throw new KeyNotFoundException($"This lease set holds no lease on '{resourceId}'. It holds: {string.Join(", ", Array.ConvertAll(_leases, lease => "'" + lease.ResourceId + "'"))}.");
        }
    }

    /// <summary>Releases every lease in reverse order.</summary>
    /// <returns>What each release did, in the set's order.</returns>
    public LeaseReleaseResult[] Release()
    {
        var results = new LeaseReleaseResult[_leases.Length];
        for (int i = _leases.Length - 1; i >= 0; i--)
        {
            results[i] = _leases[i].Release();
        }

        _lost?.Dispose();
        return results;
    }

    /// <summary>Releases every lease in reverse order and waits for an external store.</summary>
    /// <returns>What each release did, in the set's order.</returns>
    public async ValueTask<LeaseReleaseResult[]> ReleaseAsync()
    {
        var results = new LeaseReleaseResult[_leases.Length];
        for (int i = _leases.Length - 1; i >= 0; i--)
        {
            results[i] = await _leases[i].ReleaseAsync().ConfigureAwait(false);
        }

        _lost?.Dispose();
        return results;
    }

    /// <summary>Releases every lease in reverse order.</summary>
    public void Dispose()
    {
        for (int i = _leases.Length - 1; i >= 0; i--)
        {
            _leases[i].Release();
        }

        _lost?.Dispose();
    }

    /// <summary>Releases every lease in reverse order and waits for an external store.</summary>
    /// <returns>A task that completes when every lease is released.</returns>
    public async ValueTask DisposeAsync() => await ReleaseAsync().ConfigureAwait(false);

    /// <inheritdoc/>
    public IEnumerator<ResourceLease> GetEnumerator() => ((IEnumerable<ResourceLease>)_leases).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// What <see cref="ResourceRegistry.RunAsync{T}(string, Func{CancellationToken, Task{T}}, LeaseOptions?, CancellationToken)"/>
/// returns: the work's result and the details of the leases it ran under.
/// </summary>
/// <typeparam name="T">Type of the work's result.</typeparam>
/// <param name="Value">The work's result.</param>
/// <param name="Leases">The leases the work ran under, as they were when the work started, in ordinal order of the ids.</param>
/// <param name="Elapsed">Time from the grant of the last lease to the end of the work.</param>
public sealed record LockedResult<T>(T Value, IReadOnlyList<LeaseHolder> Leases, TimeSpan Elapsed);
