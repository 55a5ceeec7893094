using System;
using System.Threading;

namespace Sanctuary;

public sealed partial class CapacityPool
{
    /// <summary>
    /// Record of the reservations that have not been released yet, so that a reservation returns
    /// its units exactly once and a stale copy returns nothing.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each open reservation owns one slot. A slot's version is even while the slot is free and
    /// odd while a reservation owns it, and grows by one at every change. A reservation keeps its
    /// stamp, the slot index and the odd version, so closing it is one compare-and-swap that only
    /// the first release wins; after 2^31 reuses of one slot a stamp could match again.
    /// </para>
    /// <para>
    /// Free slots form a lock-free stack of indices. Its top word carries a counter bumped by
    /// every push and pop, so a pop whose top was popped and pushed back meanwhile fails its
    /// compare-and-swap (no ABA). Slots live in fixed-size segments that never move, so an index
    /// stays valid while the segment table grows; the table only grows, to the largest number of
    /// reservations open at once.
    /// </para>
    /// </remarks>
    private sealed class ReservationLedger
    {
        private const int SegmentShift = 8;
        private const int SegmentSize = 1 << SegmentShift;
        private const int SegmentMask = SegmentSize - 1;
        private const long TopIndexMask = 0xFFFF_FFFFL;
        private const long TopCounterOne = 1L << 32;

        private Slot[][] _segments = [];

        // Top of the free-slot stack: bits 0-31 hold the top slot's index plus one (0 when the
        // stack is empty), bits 32-63 the change counter.
        private long _freeTop;

        /// <summary>Takes a free slot for a new reservation and returns its stamp.</summary>
        internal long Open()
        {
            while (true)
            {
                long top = Volatile.Read(ref _freeTop);
                int index = (int)(top & TopIndexMask) - 1;
                if (index < 0)
                {
                    AddSegment();
                    continue;
                }

                ref Slot slot = ref SlotAt(Volatile.Read(ref _segments), index);
                int next = Volatile.Read(ref slot.NextFree);
                if (Interlocked.CompareExchange(ref _freeTop, NewTop(top, next), top) == top)
                {
                    // The slot is ours alone now: stale stamps carry older versions and never match.
                    int version = slot.Version + 1;
                    Volatile.Write(ref slot.Version, version);
                    return ((long)version << 32) | (uint)index;
                }
            }
        }

        /// <summary>Closes the reservation with this stamp; returns <see langword="false"/> if it was closed already.</summary>
        internal bool TryClose(long stamp)
        {
            int index = (int)(stamp & TopIndexMask);
            int version = (int)(stamp >> 32);
            Slot[][] segments = Volatile.Read(ref _segments);
            if ((version & 1) == 0 || (uint)(index >> SegmentShift) >= (uint)segments.Length)
            {
                return false;
            }

            ref Slot slot = ref SlotAt(segments, index);
            if (Interlocked.CompareExchange(ref slot.Version, version + 1, version) != version)
            {
                return false;
            }

            Push(segments, index, index);
            return true;
        }

        /// <summary>Whether the reservation with this stamp is still open.</summary>
        internal bool IsOpen(long stamp)
        {
            int index = (int)(stamp & TopIndexMask);
            int version = (int)(stamp >> 32);
            Slot[][] segments = Volatile.Read(ref _segments);
            return (version & 1) == 1
                && (uint)(index >> SegmentShift) < (uint)segments.Length
                && Volatile.Read(ref SlotAt(segments, index).Version) == version;
        }

        private static ref Slot SlotAt(Slot[][] segments, int index) =>
            ref segments[index >> SegmentShift][index & SegmentMask];

        private static long NewTop(long top, int index) =>
            ((top & ~TopIndexMask) + TopCounterOne) | (uint)(index + 1);

        // Pushes the chain of free slots first..last, already linked through NextFree.
        private void Push(Slot[][] segments, int first, int last)
        {
            ref Slot tail = ref SlotAt(segments, last);
            while (true)
            {
                long top = Volatile.Read(ref _freeTop);
                Volatile.Write(ref tail.NextFree, (int)(top & TopIndexMask) - 1);
                if (Interlocked.CompareExchange(ref _freeTop, NewTop(top, first), top) == top)
                {
                    return;
                }
            }
        }

        // Adds one segment of free slots. Two threads that both find the stack empty may both
        // try; the one that loses the table swap drops its segment and pops again.
        private void AddSegment()
        {
            Slot[][] segments = Volatile.Read(ref _segments);
            if (segments.Length >= int.MaxValue / SegmentSize)
            {
                throw new InvalidOperationException($"More than {int.MaxValue - SegmentSize} reservations are open at once in one pool; release reservations before taking more.");
            }

            int first = segments.Length * SegmentSize;
            var segment = new Slot[SegmentSize];
            for (int i = 0; i < SegmentSize - 1; i++)
            {
                segment[i].NextFree = first + i + 1;
            }

            var grown = new Slot[segments.Length + 1][];
            Array.Copy(segments, grown, segments.Length);
            grown[segments.Length] = segment;
            if (Interlocked.CompareExchange(ref _segments, grown, segments) == segments)
            {
                Push(grown, first, first + SegmentSize - 1);
            }
        }

        private struct Slot
        {
            public int Version;
            public int NextFree;
        }
    }
}
