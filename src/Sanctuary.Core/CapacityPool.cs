using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// A weighted semaphore: a pool of units from which callers reserve amounts and to which they
/// return them. Uncontended reserve and release are a few interlocked operations and allocate
/// nothing.
/// </summary>
/// <remarks>
/// <para>
/// Requests queue in arrival order within each <see cref="LockPriority"/> level, highest level
/// first, with head-of-line blocking: while the first request does not fit, no later request
/// is granted, even a small one that would fit, so a large request is never overtaken forever.
/// When the first request leaves (granted, timed out or cancelled), every request behind it
/// that now fits is granted at once. A request for more units than the total, for zero or for
/// a negative amount throws <see cref="ArgumentOutOfRangeException"/> at once.
/// </para>
/// <para>
/// A reservation returns exactly its amount on release, once; a default, stale or already
/// released reservation returns nothing. <see cref="Resize"/> changes the total at run time;
/// shrinking below the reserved units takes no units from holders but grants nothing new until
/// enough holders release.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class CapacityPool : IDisposable, IWaiterOwner
{
    /// <summary>Largest total a pool accepts: 2^60 - 1 units.</summary>
    public const long MaxTotal = (1L << 60) - 1;

    // State word layout, changed only with Interlocked operations:
    //   bit 0       QueueBit: a thread is editing the waiter queue (or resizing). While it is set,
    //               only that thread changes the state word, so it may publish with one write.
    //   bit 1       DisposedBit.
    //   bit 2       WaitersBit: at least one request is queued. Arrivals then queue behind it
    //               (head-of-line blocking) and releases go through the queue.
    //   bits 3-63   available units (total minus reserved) as a signed number. It is negative
    //               after a shrink below the reserved units, until enough holders release.
    //               MaxTotal keeps it, and every amount shifted into place, inside 61 bits.
    private const long QueueBit = 1;
    private const long DisposedBit = 2;
    private const long WaitersBit = 4;
    private const long FlagsMask = QueueBit | DisposedBit | WaitersBit;
    private const int AvailableShift = 3;

    private static readonly CapacityPoolOptions s_defaultOptions = new();
    private static int s_lastId;

    private long _state;

    // Written only under the queue bit, between two increments of _resizeVersion, which is odd
    // while a resize runs. Readers that need the total and the state word together retry
    // until they see the same even version before and after.
    private long _total;
    private int _resizeVersion;

    // Mirror of the queue's count, published under the queue bit for lock-free readers.
    private int _waitingCount;

    private readonly PriorityWaiterQueue _queue;
    private readonly ReservationLedger _ledger = new();
    private readonly TimeProvider _timeProvider;
    private readonly CapacityPoolFaults _faults;

    /// <summary>
    /// Initializes a pool of <paramref name="total"/> units with the default options.
    /// </summary>
    /// <param name="total">Units in the pool, from 1 to <see cref="MaxTotal"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="total"/> is less than 1 or greater than <see cref="MaxTotal"/>.</exception>
    public CapacityPool(long total)
        : this(total, null, CapacityPoolFaults.None)
    {
    }

    /// <summary>
    /// Initializes a pool of <paramref name="total"/> units with the given options.
    /// </summary>
    /// <param name="total">Units in the pool, from 1 to <see cref="MaxTotal"/>.</param>
    /// <param name="options">Settings of the pool, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="total"/> is less than 1 or greater than <see cref="MaxTotal"/>.</exception>
    public CapacityPool(long total, CapacityPoolOptions? options)
        : this(total, options, CapacityPoolFaults.None)
    {
    }

    internal CapacityPool(long total, CapacityPoolOptions? options, CapacityPoolFaults faults)
    {
        options ??= s_defaultOptions;
        Name = options.Name ?? "CapacityPool#" + Interlocked.Increment(ref s_lastId).ToString(CultureInfo.InvariantCulture);
        ValidateTotal(total, nameof(total));
        AgingInterval = options.AgingInterval;
        _timeProvider = options.TimeProvider;
        _faults = faults;
        _total = total;
        _state = total << AvailableShift;
        _queue = new PriorityWaiterQueue(_timeProvider, s_onTimer, this, options.AgingInterval, ignoreLevels: (faults & CapacityPoolFaults.IgnorePriority) != 0);
    }

    /// <summary>Name of the pool, used in exception messages and the debugger display.</summary>
    public string Name { get; }

    /// <summary>
    /// Wait after which a queued request moves up one level, or <see cref="Timeout.InfiniteTimeSpan"/>
    /// when aging is off.
    /// </summary>
    public TimeSpan AgingInterval { get; }

    /// <summary>Units in the pool at this moment; <see cref="Resize"/> changes it.</summary>
    public long Total => Volatile.Read(ref _total);

    /// <summary>
    /// Units that no reservation has at this moment; 0 while a shrink has left more units
    /// reserved than the total. A request fits when its amount is at most this, but it is granted at once
    /// only when no other request waits.
    /// </summary>
    public long Available => Math.Max(0, ReadUnits().Available);

    /// <summary>
    /// Units held by reservations at this moment. After a shrink it may exceed <see cref="Total"/>
    /// until enough holders release.
    /// </summary>
    public long Reserved
    {
        get
        {
            (long total, long available) = ReadUnits();
            return total - available;
        }
    }

    /// <summary>Reserved units as a fraction of the total: 0 when idle, 1 when full, above 1 after a shrink below the reserved units.</summary>
    public double Utilization
    {
        get
        {
            (long total, long available) = ReadUnits();
            return (double)(total - available) / total;
        }
    }

    /// <summary>Number of queued requests of every level at this moment.</summary>
    public int WaitingCount => Volatile.Read(ref _waitingCount);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => (Volatile.Read(ref _state) & DisposedBit) != 0;

    /// <summary>Channel entries, live and dead, for tests that check that abandoned requests do not pile up.</summary>
    internal int QueueEntryCount
    {
        get
        {
            long state = EnterQueue();
            int entries = _queue.EntryCount;
            ExitQueue(state);
            return entries;
        }
    }

    private string DebuggerDisplay
    {
        get
        {
            (long total, long available) = ReadUnits();
            string disposed = IsDisposed ? ", disposed" : string.Empty;
            return $"{Name}: {total - available} of {total} reserved, {WaitingCount} waiting{disposed}";
        }
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units without waiting. It succeeds only when no
    /// other request waits and enough units are available, so a priority would make no difference.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="reservation">The reservation when the units were reserved; otherwise a reservation that is not held.</param>
    /// <returns><see langword="true"/> if the units were reserved.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public bool TryReserve(long amount, out Reservation reservation)
    {
        ValidateAmount(amount);
        if (TryReserveFast(amount, out long stamp) || TryReserveNoWait(amount, out stamp))
        {
            reservation = new Reservation(this, amount, stamp);
            return true;
        }

        reservation = default;
        return false;
    }

    /// <summary>
    /// Changes the total. Growing grants the queued requests that now fit. Shrinking takes no
    /// units from holders: when more units are reserved than the new total, nothing is granted
    /// until enough holders release. Queued requests for more units than the new total fail with
    /// <see cref="ArgumentOutOfRangeException"/>, since they could never be granted.
    /// </summary>
    /// <param name="newTotal">Units in the pool from now on, from 1 to <see cref="MaxTotal"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newTotal"/> is less than 1 or greater than <see cref="MaxTotal"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public void Resize(long newTotal)
    {
        ValidateTotal(newTotal, nameof(newTotal));
        long state = EnterQueue();
        if ((state & DisposedBit) != 0)
        {
            ExitQueue(state);
            ThrowObjectDisposed();
        }

        // Step 1: change the total and the available units together, while readers retry.
        Interlocked.Increment(ref _resizeVersion);
        long oldTotal = _total;
        Volatile.Write(ref _total, newTotal);
        long available = (state >> AvailableShift) + (newTotal - oldTotal);

        // Step 2: fail the requests that no longer fit in the pool at all, then grant the ones that fit now.
        WaiterNode? rejected = newTotal < oldTotal ? RemoveRequestsLargerThan(newTotal) : null;
        WaiterNode? granted = GrantWaiters(ref available);
        PublishAndExitQueue(state, available);
        Interlocked.Increment(ref _resizeVersion);

        WaiterQueue.CompleteChain(rejected);
        WaiterQueue.CompleteChain(granted);
    }

    /// <summary>
    /// Fails every queued request with <see cref="ObjectDisposedException"/> and makes later
    /// reserves and resizes throw it. Reservations held at that moment stay valid; releasing them
    /// returns their units, which only the counters show. Calling this more than once does nothing.
    /// </summary>
    public void Dispose()
    {
        long state = EnterQueue();
        if ((state & DisposedBit) != 0)
        {
            ExitQueue(state);
            return;
        }

        WaiterNode? chain = _queue.RemoveAll();
        _queue.DisposeTimer();
        Volatile.Write(ref _waitingCount, 0);
        ExitQueue((state & ~WaitersBit) | DisposedBit);

        WaiterQueue.ClaimAndCompleteChain(chain, WaiterStatus.Disposed);
        _queue.ClearPool();
    }

    /// <summary>Whether the reservation identified by <paramref name="stamp"/> has not been released yet.</summary>
    internal bool IsReserved(long stamp) => _ledger.IsOpen(stamp);

    /// <summary>
    /// Returns the units of the reservation identified by <paramref name="stamp"/>; does nothing
    /// for a stale stamp.
    /// </summary>
    internal bool Release(long stamp, long amount)
    {
        if (!_ledger.TryClose(stamp) && (_faults & CapacityPoolFaults.ReleaseWithoutStampCheck) == 0)
        {
            return false;
        }

        // Fast path: no request waits and no thread edits the queue, so one compare-and-swap returns the units.
        long state = Volatile.Read(ref _state);
        if ((state & (QueueBit | WaitersBit)) != 0 ||
            Interlocked.CompareExchange(ref _state, state + (amount << AvailableShift), state) != state)
        {
            ReturnUnitsSlow(amount);
        }

        return true;
    }

    // Fast path: one compare-and-swap when no request waits and enough units are available.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserveFast(long amount, out long stamp)
    {
        long state = Volatile.Read(ref _state);
        if ((state & FlagsMask) == 0 && (state >> AvailableShift) >= amount &&
            Interlocked.CompareExchange(ref _state, state - (amount << AvailableShift), state) == state)
        {
            stamp = _ledger.Open();
            return true;
        }

        stamp = 0;
        return false;
    }

    // Reserves if the units can be taken now, waiting out a concurrent queue edit; never queues.
    private bool TryReserveNoWait(long amount, out long stamp)
    {
        SpinWait spinner = default;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if ((state & DisposedBit) != 0)
            {
                ThrowObjectDisposed();
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (!CanTakeNow(state, amount))
            {
                stamp = 0;
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, state - (amount << AvailableShift), state) == state)
            {
                stamp = _ledger.Open();
                return true;
            }
        }
    }

    // Whether an arriving request may take its units in this state (queue and disposed bits clear).
    private bool CanTakeNow(long state, long amount) =>
        (state >> AvailableShift) >= amount &&
        ((state & WaitersBit) == 0 || (_faults & CapacityPoolFaults.BargePastBlockedHead) != 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReturnUnitsSlow(long amount)
    {
        SpinWait spinner = default;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if ((state & WaitersBit) == 0 || (_faults & CapacityPoolFaults.SkipGrantOnRelease) != 0)
            {
                if (Interlocked.CompareExchange(ref _state, state + (amount << AvailableShift), state) == state)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
            {
                long available = (state >> AvailableShift) + amount;
                WaiterNode? granted = GrantWaiters(ref available);
                PublishAndExitQueue(state, available);
                WaiterQueue.CompleteChain(granted);
                return;
            }
        }
    }

    // Grants requests in queue order while the first one fits, and returns them as a chain to
    // complete after the queue bit is cleared. Called with the queue bit set.
    // NOTE: with aging, the order can change between calls without anything calling this, so a
    // request that aged into first place waits for the next release, arrival, give-up or resize.
    private WaiterNode? GrantWaiters(ref long available)
    {
        WaiterNode? first = null;
        WaiterNode? last = null;
        while (_queue.PeekFirst() is { } head)
        {
            if (head.Amount > available && (_faults & CapacityPoolFaults.GrantBeyondAvailable) == 0)
            {
                // Head-of-line blocking: no request behind the first one may pass it.
                break;
            }

            _queue.RemoveFirst(head);
            if (!head.TryTransition(WaiterStatus.Waiting, WaiterStatus.Granted))
            {
                // It timed out or was cancelled meanwhile; its own completer finds it unlinked.
                continue;
            }

            available -= head.Amount;
            head.GrantedToken = _ledger.Open();
            if (last is null)
            {
                first = head;
            }
            else
            {
                last.NextToComplete = head;
            }

            last = head;
        }

        return first;
    }

    // Removes every queued request for more than limit units and returns the ones it claimed as
    // a chain to complete after the queue bit is cleared. Called with the queue bit set.
    private WaiterNode? RemoveRequestsLargerThan(long limit)
    {
        WaiterNode? chain = null;
        WaiterNode? node = _queue.OldestWaiter;
        while (node is not null)
        {
            WaiterNode? next = node.Next;
            var request = (PriorityWaiterNode)node;
            if (request.Amount > limit)
            {
                _queue.Remove(request);
                if (request.TryClaim(StatusExceedsTotal))
                {
                    request.NextToComplete = chain;
                    chain = request;
                }
            }

            node = next;
        }

        return chain;
    }

    void IWaiterOwner.RemoveAbandoned(WaiterNode node)
    {
        long state = EnterQueue();
        long available = state >> AvailableShift;
        WaiterNode? granted = null;
        if (_queue.Remove((PriorityWaiterNode)node))
        {
            _queue.RearmTimer();

            // The request that left may have been the one blocking the head of the line.
            if ((_faults & CapacityPoolFaults.SkipGrantAfterGiveUp) == 0)
            {
                granted = GrantWaiters(ref available);
            }
        }

        PublishAndExitQueue(state, available);
        WaiterQueue.CompleteChain(granted);
    }

    void IWaiterOwner.ExpireWaiters() => ExpireWaiters();

    void IWaiterOwner.CompeteAfterWake(WaiterNode node) =>
        Debug.Fail("A capacity pool grants requests directly and never wakes one to compete.");

    void IWaiterOwner.ReturnNode(WaiterNode node)
    {
        if ((Volatile.Read(ref _state) & DisposedBit) == 0)
        {
            _queue.Return(node);
        }
    }

    // Reads the total and the available units as one consistent pair, without taking anything:
    // only a resize changes the total, and it marks itself with an odd version.
    private (long Total, long Available) ReadUnits()
    {
        SpinWait spinner = default;
        while (true)
        {
            int version = Volatile.Read(ref _resizeVersion);
            if ((version & 1) == 0)
            {
                long total = Volatile.Read(ref _total);
                long state = Volatile.Read(ref _state);
                if (Volatile.Read(ref _resizeVersion) == version)
                {
                    return (total, state >> AvailableShift);
                }
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private long EnterQueue() => QueueSection.Enter(ref _state, QueueBit);

    private void ExitQueue(long state) => QueueSection.Exit(ref _state, state, QueueBit);

    // Publishes the available units and whether anyone waits, and clears the queue bit.
    private void PublishAndExitQueue(long state, long available)
    {
        int waiting = _queue.Count;
        Volatile.Write(ref _waitingCount, waiting);
        long next = (available << AvailableShift) | (state & DisposedBit) | (waiting > 0 ? WaitersBit : 0);
        ExitQueue(next);
    }
}
