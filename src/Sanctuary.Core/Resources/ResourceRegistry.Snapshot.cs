using System;
using System.Collections.Generic;
using System.Threading;

namespace Sanctuary.Resources;

// Introspection: snapshots of resources, pools and owners, read without blocking anyone.
public sealed partial class ResourceRegistry
{
    /// <summary>
    /// Takes a snapshot of every resource in use and every pool: holders, waiters by priority,
    /// and each pool's totals.
    /// </summary>
    /// <returns>The snapshot; a copy that does not change afterwards.</returns>
    /// <remarks>
    /// Taking a snapshot never blocks an acquire or a release: it enumerates the table without a
    /// lock and reads each lease through its state word, skipping a lease that ends while it is
    /// being read. Under load the snapshot is therefore a close, not an instantaneous, picture.
    /// </remarks>
    public RegistrySnapshot GetSnapshot()
    {
        long now = _clock.Now();
        var resources = new List<ResourceSnapshot>();
        foreach (KeyValuePair<string, ResourceEntry> pair in _entries)
        {
            ResourceEntry entry = pair.Value;
            IReadOnlyList<LeaseHolder> holders = ReadHolders(entry, now);
            IReadOnlyList<WaiterSnapshot> waiters = ReadWaiters(entry, now);
            resources.Add(new ResourceSnapshot(pair.Key, entry.Gate.Kind, holders, waiters));
        }

        resources.Sort(static (a, b) => string.CompareOrdinal(a.ResourceId, b.ResourceId));

        var pools = new List<PoolSnapshot>();
        foreach (KeyValuePair<string, ResourceEntry> pair in _pools)
        {
            ResourceEntry entry = pair.Value;
            var gate = (CapacityGate)entry.Gate;
            long reserved = gate.Reserved;
            pools.Add(new PoolSnapshot(
                pair.Key,
                entry.Unit!,
                gate.Total,
                reserved,
                gate.Total - reserved,
                (double)reserved / gate.Total,
                ReadHolders(entry, now),
                ReadWaiters(entry, now)));
        }

        pools.Sort(static (a, b) => string.CompareOrdinal(a.PoolId, b.PoolId));
        return new RegistrySnapshot(_clock.ToUtc(now), resources, pools);
    }

    /// <summary>What one owner holds and waits for now; a shortcut for <c>GetSnapshot().ForOwner(owner)</c>.</summary>
    /// <param name="owner">The owner, compared ordinally.</param>
    /// <returns>The owner's leases and waits.</returns>
    public OwnerSnapshot GetOwnerSnapshot(string owner) => GetSnapshot().ForOwner(owner);

    internal IReadOnlyList<LeaseHolder> ReadHolders(ResourceEntry entry, long now)
    {
        List<LeaseHolder>? holders = null;
        if (Volatile.Read(ref entry.SoleHolder) is { } sole)
        {
            AddHolder(ref holders, sole, now, soleOnly: true);
        }

        foreach (LeaseRecord shared in Volatile.Read(ref entry.SharedHolders))
        {
            AddHolder(ref holders, shared, now, soleOnly: false);
        }

        return holders is null ? Array.Empty<LeaseHolder>() : holders;
    }

    /// <summary>Reads one life of a record, or null if that life is not held (or lost, with <paramref name="includeLost"/>).</summary>
    internal LeaseHolder? ReadHolder(LeaseRecord record, long sequence, long now, bool includeLost, bool soleOnly = false)
    {
        long before = Volatile.Read(ref record.Ticket);
        if (LeaseRecord.SequenceOf(before) != sequence || !Readable(before, includeLost))
        {
            return null;
        }

        // The sole-holder slot keeps its last record; one that a reader reuses is listed as shared.
        if (soleOnly && !record.HoldsAlone)
        {
            return null;
        }

        var holder = new LeaseHolder(
            record.ResourceId,
            record.LeaseId,
            record.Owner,
            record.Mode,
            _clock.ToUtc(record.AcquiredAt),
            _clock.ToUtcOrNull(Volatile.Read(ref record.ExpiresAt)),
            record.FencingToken,
            record.Purpose,
            record.Units)
        {
            HeldFor = _clock.ToSpan(Math.Max(0, now - record.AcquiredAt)),
        };

        // A record reused while it was being read would have changed its state word first.
        long after = Volatile.Read(ref record.Ticket);
        return LeaseRecord.SequenceOf(after) == sequence && Readable(after, includeLost) ? holder : null;
    }

    internal LeaseOptions PrepareHandleAcquire(LeaseOptions? options)
    {
        options = CheckOptions(options);
        ThrowIfDisposed();
        return options;
    }

    internal void ThrowIfExternalStorePublic(string resourceId) => ThrowIfExternalStore(resourceId);

    private static bool Readable(long ticket, bool includeLost)
    {
        long state = LeaseRecord.StateOf(ticket);
        return state == LeaseRecord.Held || (includeLost && state is LeaseRecord.Expiring or LeaseRecord.Lost);
    }

    private void AddHolder(ref List<LeaseHolder>? holders, LeaseRecord record, long now, bool soleOnly)
    {
        long sequence = LeaseRecord.SequenceOf(Volatile.Read(ref record.Ticket));
        if (ReadHolder(record, sequence, now, includeLost: false, soleOnly) is { } holder)
        {
            (holders ??= new List<LeaseHolder>()).Add(holder);
        }
    }

    private IReadOnlyList<WaiterSnapshot> ReadWaiters(ResourceEntry entry, long now)
    {
        WaiterRecord[] waiting = Volatile.Read(ref entry.Waiters);
        if (waiting.Length == 0)
        {
            return Array.Empty<WaiterSnapshot>();
        }

        var waiters = new List<WaiterSnapshot>(waiting.Length);
        foreach (WaiterRecord waiter in waiting)
        {
            waiters.Add(new WaiterSnapshot(
                entry.Id,
                waiter.Owner,
                waiter.Mode,
                waiter.Priority,
                _clock.ToUtc(waiter.Since),
                _clock.ToSpan(Math.Max(0, now - waiter.Since)),
                waiter.Purpose,
                waiter.Units));
        }

        // Highest priority first; within a priority, the longest wait first.
        waiters.Sort(static (a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : b.Waited.CompareTo(a.Waited));
        return waiters;
    }
}
