using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

// Capacity pools: named totals of units, reserved through leases.
public sealed partial class ResourceRegistry
{
    private readonly ConcurrentDictionary<string, ResourceEntry> _pools = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a capacity pool: <paramref name="total"/> units of something (connections,
    /// megabytes, GPU slots) that reservations take amounts of. Registering the same pool again
    /// with the same total and unit does nothing.
    /// </summary>
    /// <param name="poolId">Id of the pool; pools have their own ids, apart from resources.</param>
    /// <param name="total">Total units; at least 1.</param>
    /// <param name="unit">Name of the unit, shown in snapshots, such as <c>connections</c>.</param>
    /// <exception cref="ArgumentException">An argument is invalid, or the pool exists with another total or unit.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public void RegisterPool(string poolId, long total, string unit)
    {
        ValidateId(poolId, nameof(poolId));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        ArgumentException.ThrowIfNullOrEmpty(unit);
        ThrowIfDisposed();
        var entry = new ResourceEntry { Gate = new CapacityGate(poolId, total, _clock.Provider, _priorityAgingInterval), Unit = unit };
        entry.Prepare(poolId);
        entry.Fencing = NewFencingBlock();

        // Pools are never reclaimed: the count stays above zero for the life of the registry.
        entry.Refs = 1;
        ResourceEntry existing = _pools.GetOrAdd(poolId, entry);
        if (!ReferenceEquals(existing, entry))
        {
            var other = (CapacityGate)existing.Gate;
            if (other.Total != total || !string.Equals(existing.Unit, unit, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Capacity pool '{poolId}' is already registered with {other.Total} {existing.Unit}; it cannot be registered again with {total} {unit}. Use another pool id.",
                    nameof(poolId));
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units of a pool, waiting in arrival order (a large
    /// request at the head of the queue is not overtaken by small ones). The reservation is a
    /// lease: it has a time-to-live, extend, a lost token and a purpose, and returns its units on
    /// release or expiry.
    /// </summary>
    /// <param name="poolId">Id of a registered pool.</param>
    /// <param name="amount">Units to reserve; 1 to the pool's total.</param>
    /// <param name="options">Timeout, time-to-live, heartbeat, owner and purpose; the mode is ignored.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The reservation; dispose it to return the units.</returns>
    /// <exception cref="ArgumentException">The pool is not registered, or the options break a rule that involves two of them.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is below 1 or above the pool's total; this fails at once, not after the timeout.</exception>
    /// <exception cref="ResourceUnavailableException">The wait timeout elapsed; the exception names the holders.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the grant; nothing is reserved.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ValueTask<ResourceLease> ReserveAsync(string poolId, long amount, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceEntry pool = FindPool(poolId, amount);
        options = CheckOptions(options);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceLease>(cancellationToken);
        }

        return AcquireOnEntry(pool, LeaseMode.Exclusive, options.WaitTimeout, options, amount, counted: false, cancellationToken);
    }

    /// <summary>Reserves units of a pool only if that is possible without waiting.</summary>
    /// <param name="poolId">Id of a registered pool.</param>
    /// <param name="amount">Units to reserve; 1 to the pool's total.</param>
    /// <param name="lease">The reservation when made; otherwise a default lease.</param>
    /// <param name="options">Time-to-live, heartbeat, owner and purpose.</param>
    /// <returns><see langword="true"/> if the units were reserved.</returns>
    /// <exception cref="ArgumentException">The pool is not registered.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is below 1 or above the pool's total.</exception>
    /// <exception cref="InvalidOperationException">The registry has an external store, which cannot answer without waiting.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public bool TryReserve(string poolId, long amount, out ResourceLease lease, LeaseOptions? options = null)
    {
        ResourceEntry pool = FindPool(poolId, amount);
        options = CheckOptions(options);
        ThrowIfDisposed();
        ThrowIfExternalStore(poolId);
        return TryAcquireOnEntry(pool, options, amount, counted: false, out lease);
    }

    private ResourceEntry FindPool(string poolId, long amount)
    {
        ValidateId(poolId, nameof(poolId));
        if (!_pools.TryGetValue(poolId, out ResourceEntry? pool))
        {
            throw new ArgumentException($"Capacity pool '{poolId}' is not registered. Call RegisterPool(\"{poolId}\", total, unit) first.", nameof(poolId));
        }

        long total = ((CapacityGate)pool.Gate).Total;
        if (amount < 1 || amount > total)
        {
            throw new ArgumentOutOfRangeException(
                nameof(amount),
                amount,
                $"Cannot reserve {amount} {pool.Unit} of capacity pool '{poolId}', which has {total} in all. Ask for 1 to {total}.");
        }

        return pool;
    }
}
