using System;
using System.Threading;

namespace Sanctuary.Resources;

/// <summary>
/// One named resource while anyone uses it: its gate, its holders and waiters (for snapshots) and
/// a reference count that decides when it is reclaimed.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Refs"/> counts every acquire in flight, every hold and every handle. It is changed
/// only with compare-and-swap. When a release brings it to zero, the releaser swaps it from 0 to
/// <see cref="Dead"/> and only then removes the entry from the table; an acquirer that found the
/// entry in the table joins it only by moving the count from a live value up, so it can never
/// join an entry that is being removed. It looks the id up again instead. An entry is inserted
/// into the table while still dead and made live after the insert, so an entry that lost an
/// insert race was never joined by anyone.
/// </para>
/// <para>
/// Entries are pooled and may come back under another id; an acquirer that joins an entry
/// checks the id again after joining, which is enough because a live entry is always the one
/// the table maps its id to.
/// </para>
/// </remarks>
internal sealed class ResourceEntry
{
    public const int Dead = int.MinValue;

    private static readonly LeaseRecord[] s_noHolders = Array.Empty<LeaseRecord>();
    private static readonly WaiterRecord[] s_noWaiters = Array.Empty<WaiterRecord>();

    /// <summary>
    /// Fencing tokens (which are also lease sequence numbers) are drawn in blocks of this many
    /// from the registry's counter, so the uncontended path takes one without an atomic operation.
    /// </summary>
    public const long FencingBlock = 4096;

    /// <summary>
    /// The last token issued from this entry's block. A block is reserved when the entry starts
    /// serving an id, so tokens of an id only grow, even when its entry is reclaimed and recreated.
    /// </summary>
    public long Fencing;

    /// <summary>Reference count, or <see cref="Dead"/> while not in the table.</summary>
    public int Refs = Dead;

    public string Id = string.Empty;
    public ResourceGate Gate = null!;

    /// <summary>The handle that pins this entry, created once; see <see cref="ResourceHandle"/>.</summary>
    public ResourceHandle? Handle;

    /// <summary>Pool settings, for entries that are capacity pools.</summary>
    public string? Unit;

    /// <summary>A record kept for the next lease, so the uncontended path allocates none.</summary>
    public LeaseRecord? Spare;

    /// <summary>
    /// The record of the last hold that excluded all others. It is not cleared on release, so
    /// readers count it only while its state word is Held.
    /// </summary>
    public LeaseRecord? SoleHolder;

    /// <summary>Holders that share the resource; copied on write, so snapshots read it without a lock.</summary>
    public LeaseRecord[] SharedHolders = s_noHolders;

    /// <summary>Waiters that had to queue; copied on write (only the contended path writes it).</summary>
    public WaiterRecord[] Waiters = s_noWaiters;

    public bool IsPool => Unit is not null;

    /// <summary>Joins a live entry. Fails if the entry is dead (being removed or pooled).</summary>
    public bool TryAddRef()
    {
        int refs = Volatile.Read(ref Refs);
        while (refs > 0)
        {
            int seen = Interlocked.CompareExchange(ref Refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }

            refs = seen;
        }

        return false;
    }

    /// <summary>Leaves the entry; returns true when this was the last reference and the entry is now dead.</summary>
    public bool ReleaseRef()
    {
        if (Interlocked.Decrement(ref Refs) != 0)
        {
            return false;
        }

        // Someone may join between the decrement and this swap; then the entry stays alive.
        return Interlocked.CompareExchange(ref Refs, Dead, 0) == 0;
    }

    public LeaseRecord RentRecord(bool holdsAlone)
    {
        // A sole holder holds the gate, so no other renter runs now and a plain read and write
        // are enough; a returner racing with us can only make us miss the spare, never share it.
        LeaseRecord? record = holdsAlone ? Spare : Interlocked.Exchange(ref Spare, null);
        if (record is not null)
        {
            if (holdsAlone)
            {
                Spare = null;
            }

            return record;
        }

        return new LeaseRecord();
    }

    public void ReturnRecord(LeaseRecord record)
    {
        record.Reset();
        Volatile.Write(ref Spare, record);
    }

    public void AddShared(LeaseRecord record)
    {
        while (true)
        {
            LeaseRecord[] current = Volatile.Read(ref SharedHolders);
            var next = new LeaseRecord[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = record;
            if (Interlocked.CompareExchange(ref SharedHolders, next, current) == current)
            {
                return;
            }
        }
    }

    public void RemoveShared(LeaseRecord record)
    {
        while (true)
        {
            LeaseRecord[] current = Volatile.Read(ref SharedHolders);
            int index = Array.IndexOf(current, record);
            if (index < 0)
            {
                return;
            }

            LeaseRecord[] next = current.Length == 1 ? s_noHolders : new LeaseRecord[current.Length - 1];
            Array.Copy(current, 0, next, 0, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            if (Interlocked.CompareExchange(ref SharedHolders, next, current) == current)
            {
                return;
            }
        }
    }

    public void AddWaiter(WaiterRecord waiter)
    {
        while (true)
        {
            WaiterRecord[] current = Volatile.Read(ref Waiters);
            var next = new WaiterRecord[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = waiter;
            if (Interlocked.CompareExchange(ref Waiters, next, current) == current)
            {
                return;
            }
        }
    }

    public void RemoveWaiter(WaiterRecord waiter)
    {
        while (true)
        {
            WaiterRecord[] current = Volatile.Read(ref Waiters);
            int index = Array.IndexOf(current, waiter);
            if (index < 0)
            {
                return;
            }

            WaiterRecord[] next = current.Length == 1 ? s_noWaiters : new WaiterRecord[current.Length - 1];
            Array.Copy(current, 0, next, 0, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            if (Interlocked.CompareExchange(ref Waiters, next, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Prepares a pooled entry for a new id. The entry is still dead.</summary>
    public void Prepare(string id)
    {
        Id = id;
        SharedHolders = s_noHolders;
        Waiters = s_noWaiters;
    }
}

/// <summary>
/// One acquire that had to wait, as shown in snapshots.
/// </summary>
internal sealed class WaiterRecord
{
    public WaiterRecord(string owner, string? purpose, LeaseMode mode, LockPriority priority, long units, long since)
    {
        Owner = owner;
        Purpose = purpose;
        Mode = mode;
        Priority = priority;
        Units = units;
        Since = since;
    }

    public string Owner { get; }

    public string? Purpose { get; }

    public LeaseMode Mode { get; }

    public LockPriority Priority { get; }

    public long Units { get; }

    public long Since { get; }
}
