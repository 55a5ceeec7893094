using System;
using System.Collections.Generic;

namespace Sanctuary.Resources;

/// <summary>
/// A picture of a registry: every resource in use with its holders and waiters, and every
/// capacity pool with its totals.
/// </summary>
/// <param name="TakenAt">When the snapshot was taken, by the registry's clock.</param>
/// <param name="Resources">Resources in use, in ordinal order of their ids.</param>
/// <param name="Pools">Capacity pools, in ordinal order of their ids.</param>
public sealed record RegistrySnapshot(DateTimeOffset TakenAt, IReadOnlyList<ResourceSnapshot> Resources, IReadOnlyList<PoolSnapshot> Pools)
{
    /// <summary>What one owner holds and waits for, across resources and pools.</summary>
    /// <param name="owner">The owner, compared ordinally.</param>
    /// <returns>The owner's view.</returns>
    public OwnerSnapshot ForOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var leases = new List<LeaseHolder>();
        var waiting = new List<WaiterSnapshot>();
        foreach (ResourceSnapshot resource in Resources)
        {
            Collect(owner, resource.Holders, resource.Waiters, leases, waiting);
        }

        foreach (PoolSnapshot pool in Pools)
        {
            Collect(owner, pool.Reservations, pool.Waiters, leases, waiting);
        }

        return new OwnerSnapshot(owner, leases, waiting);
    }

    private static void Collect(string owner, IReadOnlyList<LeaseHolder> holders, IReadOnlyList<WaiterSnapshot> waiters, List<LeaseHolder> leases, List<WaiterSnapshot> waiting)
    {
        foreach (LeaseHolder holder in holders)
        {
            if (string.Equals(holder.Owner, owner, StringComparison.Ordinal))
            {
                leases.Add(holder);
            }
        }

        foreach (WaiterSnapshot waiter in waiters)
        {
            if (string.Equals(waiter.Owner, owner, StringComparison.Ordinal))
            {
                waiting.Add(waiter);
            }
        }
    }
}

/// <summary>One resource in a <see cref="RegistrySnapshot"/>.</summary>
/// <param name="ResourceId">Id of the resource.</param>
/// <param name="Kind">Primitive behind the resource.</param>
/// <param name="Holders">Leases that hold it.</param>
/// <param name="Waiters">Acquires waiting for it, highest priority first, then longest wait first.</param>
public sealed record ResourceSnapshot(string ResourceId, ResourceKind Kind, IReadOnlyList<LeaseHolder> Holders, IReadOnlyList<WaiterSnapshot> Waiters);

/// <summary>One waiting acquire in a snapshot.</summary>
/// <param name="ResourceId">Id of the resource or pool waited for.</param>
/// <param name="Owner">Owner that will hold the lease.</param>
/// <param name="Mode">Requested mode.</param>
/// <param name="Priority">Requested priority.</param>
/// <param name="WaitingSince">When the wait started.</param>
/// <param name="Waited">How long it had waited when the snapshot was taken.</param>
/// <param name="Purpose">Purpose text, if any.</param>
/// <param name="Units">Units requested, for a pool; 0 for a lock.</param>
public sealed record WaiterSnapshot(string ResourceId, string Owner, LeaseMode Mode, LockPriority Priority, DateTimeOffset WaitingSince, TimeSpan Waited, string? Purpose, long Units);

/// <summary>One capacity pool in a <see cref="RegistrySnapshot"/>.</summary>
/// <param name="PoolId">Id of the pool.</param>
/// <param name="Unit">Name of the unit.</param>
/// <param name="Total">Units in all.</param>
/// <param name="Reserved">Units reserved now.</param>
/// <param name="Available">Units free now.</param>
/// <param name="Utilization">Reserved divided by total, from 0 to 1.</param>
/// <param name="Reservations">The reservations that hold units.</param>
/// <param name="Waiters">Reservations waiting for units, highest priority first, then longest wait first.</param>
public sealed record PoolSnapshot(
    string PoolId,
    string Unit,
    long Total,
    long Reserved,
    long Available,
    double Utilization,
    IReadOnlyList<LeaseHolder> Reservations,
    IReadOnlyList<WaiterSnapshot> Waiters);

/// <summary>What one owner holds and waits for.</summary>
/// <param name="Owner">The owner.</param>
/// <param name="Leases">Its leases and reservations.</param>
/// <param name="Waiting">Its waiting acquires.</param>
public sealed record OwnerSnapshot(string Owner, IReadOnlyList<LeaseHolder> Leases, IReadOnlyList<WaiterSnapshot> Waiting);
