using System;
using System.Threading;

namespace Sanctuary.Resources;

/// <summary>
/// The registry's state of one lease. Records are reused: the public <see cref="ResourceLease"/>
/// is a struct that names a record and the sequence number of the life it was granted in.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Ticket"/> packs the sequence number (bits 3 and up) with the state (bits 0-2) into
/// one word, so every transition is one compare-and-swap that also checks that the caller's
/// lease is still this record's current life: a stale or copied lease can never move a later
/// lease's state.
/// </para>
/// <para>
/// Transitions: Held to Released (the holder releases); Held to Expiring (the timer or a failed
/// renewal claims it), then Expiring to Lost when the hold has been freed; Lost to Acknowledged
/// or Expiring to ExpiringAcknowledged when the holder releases a lost lease. Whoever makes the
/// last of these transitions returns the record for reuse, so no path still reading a record's
/// fields can see them rewritten for a new lease.
/// </para>
/// </remarks>
internal sealed class LeaseRecord
{
    public const int StateBits = 3;
    public const long StateMask = (1 << StateBits) - 1;
    public const long Held = 1;
    public const long Released = 2;
    public const long Expiring = 3;
    public const long Lost = 4;
    public const long Acknowledged = 5;
    public const long ExpiringAcknowledged = 6;

    /// <summary>Sequence and state; see the type's remarks.</summary>
    public long Ticket;

    // Written before the ticket is published and not changed during the life.
    public ResourceEntry Entry = null!;
    public string ResourceId = string.Empty;
    public LeaseId LeaseId;
    public string Owner = string.Empty;
    public string? Purpose;
    public LeaseMode Mode;
    public LockPriority Priority;
    public long Units;
    public long FencingToken;
    public long AcquiredAt;
    public TimeSpan TimeToLive;
    public TimeSpan HeartbeatInterval;
    public int MaxMissedHeartbeats;
    public bool HoldsAlone;
    public bool Counted;
    public bool UsesStore;
    public ResourceGate.Hold Hold;

    // Written under the scheduler's lock while the life is held.
    public long ExpiresAt = long.MaxValue;
    public int ExpiryIndex = -1;
    public int BeatIndex = -1;
    public int MissedBeats;
    public bool RenewalInFlight;

    // Written once by the path that claims the loss, before it moves Expiring to Lost.
    public LeaseLossReason LossReason;

    /// <summary>Created on the first read of <see cref="ResourceLease.LostToken"/>; cancelled when the lease is lost.</summary>
    public CancellationTokenSource? LostSource;

    public static long MakeTicket(long sequence, long state) => (sequence << StateBits) | state;

    public static long SequenceOf(long ticket) => ticket >> StateBits;

    public static long StateOf(long ticket) => ticket & StateMask;

    public bool TryMove(long sequence, long from, long to) =>
        Interlocked.CompareExchange(ref Ticket, MakeTicket(sequence, to), MakeTicket(sequence, from)) == MakeTicket(sequence, from);

    public bool IsHeld(long sequence) => Volatile.Read(ref Ticket) == MakeTicket(sequence, Held);

    /// <summary>
    /// Clears what a new life must not inherit. The entry, id, owner and purpose stay because the
    /// next life usually has the same ones, and a grant that finds them equal skips the write
    /// barrier. The hold stays too: every grant overwrites the field its gate uses.
    /// </summary>
    public void Reset()
    {
        ExpiresAt = long.MaxValue;
        ExpiryIndex = -1;
        BeatIndex = -1;
        MissedBeats = 0;
        RenewalInFlight = false;
        LossReason = LeaseLossReason.None;

        // A token handed out for the previous life must never fire for this one.
        LostSource = null;
    }
}
