using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// A mutual-exclusion lock whose waiters are granted by priority: the oldest waiter of the
/// highest waiting level goes first. Uncontended acquire and release are one compare-and-swap
/// each and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Every waiting acquire takes a <see cref="LockPriority"/>; the forms without one wait at
/// <see cref="LockPriority.Normal"/>. Within a level, waiters are granted in arrival order. Release
/// hands the lock straight to the next waiter, so no barging acquirer can overtake the queue.
/// With <see cref="PriorityLockOptions.AgingInterval"/> set, a waiter moves up one level each
/// time it has waited that long, so low-priority work is delayed but never starved.
/// </para>
/// <para>
/// Acquire methods return a lease: <see cref="Lease"/> (a struct that may cross <c>await</c>) from
/// the async and try-now forms, and <see cref="Scope"/> (a <c>ref struct</c>) from the blocking
/// forms. Disposing a lease releases the lock at most once; a default, stale or already
/// released lease does nothing. The lock is not reentrant.
/// </para>
/// <para>
/// A waiter that times out or is cancelled leaves the queue at once: <see cref="WaitingCount"/>
/// drops and the waiter's memory is reclaimed without waiting for the next release.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class PriorityLock : IDisposable, IWaiterOwner
{
    // State word layout, changed only with Interlocked operations:
    //   bit 0       HeldBit: someone holds the lock.
    //   bit 1       QueueBit: a thread is editing the waiter queue. While it is set, only that
    //               thread changes the state word, so it may publish the new state with one write.
    //   bit 2       DisposedBit.
    //   bits 3-26   number of queued waiters. Release hands the lock over while this is nonzero,
    //               so a free lock never has waiters.
    //   bits 27-63  generation: incremented by every acquisition; a lease carries the generation
    //               it was granted with, so a stale lease never matches a later holder. It wraps
    //               after 2^37 acquisitions.
    private const long HeldBit = 1;
    private const long QueueBit = 2;
    private const long DisposedBit = 4;
    private const int CountShift = 3;
    private const long CountMask = ((1L << 24) - 1) << CountShift;
    private const int GenerationShift = 27;
    private const long GenerationOne = 1L << GenerationShift;
    private const long GenerationMask = ~(GenerationOne - 1);
    private const long FlagsMask = GenerationOne - 1;

    private static readonly PriorityLockOptions s_defaultOptions = new();
    private static int s_lastId;

    private long _state;

    private readonly PriorityWaiterQueue _queue;
    private readonly TimeProvider _timeProvider;
    private readonly PriorityLockFaults _faults;

    // When the current holder started to hold, as far as the lock can tell: exact for hand-offs,
    // a lower bound (the first waiter's arrival) for uncontended acquisitions. Written only
    // under the queue bit and read for timeout messages.
    private long _heldSinceGeneration = -1;
    private long _heldSince;

    /// <summary>
    /// Initializes a lock with the default options: no aging and the system clock.
    /// </summary>
    public PriorityLock()
        : this(null, PriorityLockFaults.None)
    {
    }

    /// <summary>
    /// Initializes a lock with the given options.
    /// </summary>
    /// <param name="options">Settings of the lock, or <see langword="null"/> for the defaults.</param>
    public PriorityLock(PriorityLockOptions? options)
        : this(options, PriorityLockFaults.None)
    {
    }

    internal PriorityLock(PriorityLockOptions? options, PriorityLockFaults faults)
    {
        options ??= s_defaultOptions;
        Name = options.Name ?? "PriorityLock#" + Interlocked.Increment(ref s_lastId).ToString(CultureInfo.InvariantCulture);
        AgingInterval = options.AgingInterval;
        _timeProvider = options.TimeProvider;
        _faults = faults;
        TimeSpan aging = (faults & PriorityLockFaults.IgnoreAging) != 0 ? Timeout.InfiniteTimeSpan : options.AgingInterval;
        _queue = new PriorityWaiterQueue(_timeProvider, s_onTimer, this, aging, ignoreLevels: (faults & PriorityLockFaults.IgnorePriority) != 0);
    }

    /// <summary>Name of the lock, used in exception messages and the debugger display.</summary>
    public string Name { get; }

    /// <summary>
    /// Wait after which a queued waiter moves up one level, or <see cref="Timeout.InfiniteTimeSpan"/>
    /// when aging is off.
    /// </summary>
    public TimeSpan AgingInterval { get; }

    /// <summary>Whether someone holds the lock at this moment.</summary>
    public bool IsHeld => (Volatile.Read(ref _state) & HeldBit) != 0;

    /// <summary>Number of queued waiters of every level at this moment.</summary>
    public int WaitingCount => (int)((Volatile.Read(ref _state) & CountMask) >> CountShift);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => (Volatile.Read(ref _state) & DisposedBit) != 0;

    /// <summary>Channel entries, live and dead, for tests that check that abandoned waiters do not pile up.</summary>
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
            long state = Volatile.Read(ref _state);
            string held = (state & HeldBit) != 0 ? "held" : "free";
            string disposed = (state & DisposedBit) != 0 ? ", disposed" : string.Empty;
            return $"{Name}: {held}, {(state & CountMask) >> CountShift} waiting{disposed}";
        }
    }

    /// <summary>
    /// Tries to take the lock without waiting. It succeeds only when the lock is free, which
    /// means that no waiter is queued, so a priority would make no difference.
    /// </summary>
    /// <param name="lease">The lease when the lock was taken; otherwise a lease that is not held.</param>
    /// <returns><see langword="true"/> if the lock was taken.</returns>
    /// <exception cref="ObjectDisposedException">The lock has been disposed.</exception>
    public bool TryAcquire(out Lease lease)
    {
        if (TryAcquireFast(out long token) || TryAcquireNoWait(out token))
        {
            lease = new Lease(this, token);
            return true;
        }

        lease = default;
        return false;
    }

    /// <summary>
    /// Releases every waiter with <see cref="ObjectDisposedException"/> and makes later acquires
    /// throw it. A holder's later release only clears <see cref="IsHeld"/>. Calling this more
    /// than once does nothing.
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
        ExitQueue((state & ~CountMask) | DisposedBit);

        WaiterQueue.ClaimAndCompleteChain(chain, WaiterStatus.Disposed);
        _queue.ClearPool();
    }

    // Fast path: one compare-and-swap from "free, no waiter" to "held".
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryAcquireFast(out long token)
    {
        long state = Volatile.Read(ref _state);
        if ((state & FlagsMask) == 0)
        {
            long next = (state + GenerationOne) | HeldBit;
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                token = next & GenerationMask;
                return true;
            }
        }

        token = 0;
        return false;
    }

    // Takes the lock if it is free now, waiting out a concurrent queue edit; never queues.
    private bool TryAcquireNoWait(out long token)
    {
        SpinWait spinner = default;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if ((state & DisposedBit) != 0)
            {
                ThrowHelper.ThrowObjectDisposed(Name);
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (!CanTakeNow(state))
            {
                token = 0;
                return false;
            }

            long next = (state + GenerationOne) | HeldBit;
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                token = next & GenerationMask;
                return true;
            }
        }
    }

    // Whether an arriving acquirer may take the lock in this state (queue bit clear). A free lock
    // has no waiters, because release hands it over while anyone waits. The count check matters
    // only for a seeded fault that frees the lock during a hand-off: arrivals must not barge then.
    private static bool CanTakeNow(long state) =>
        (state & (HeldBit | DisposedBit | CountMask)) == 0;

    /// <summary>
    /// Releases the hold identified by <paramref name="token"/>; does nothing for a stale token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Release(long token)
    {
        long held = token | HeldBit;
        if (Interlocked.CompareExchange(ref _state, token, held) == held)
        {
            return true;
        }

        return ReleaseSlow(token);
    }

    internal bool IsHeldWith(long token) =>
        (Volatile.Read(ref _state) & (GenerationMask | HeldBit)) == (token | HeldBit);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ReleaseSlow(long token)
    {
        // Step 1: check the token and take the queue bit, unless no waiter is queued any more.
        SpinWait spinner = default;
        long state;
        while (true)
        {
            state = Volatile.Read(ref _state);
            if ((state & HeldBit) == 0 || (state & GenerationMask) != token)
            {
                return false;
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if ((state & CountMask) == 0)
            {
                // No waiter is queued (always the case once disposed): just clear the held bit.
                if (Interlocked.CompareExchange(ref _state, state & ~HeldBit, state) == state)
                {
                    return true;
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
            {
                break;
            }
        }

        // Step 2: hand the lock to the next waiter under the queue bit.
        HandOff(state);
        return true;
    }

    // Hands the lock to the first live waiter, keeping the held bit set; frees it if no live
    // waiter remains. Called with the queue bit set.
    private void HandOff(long state)
    {
        PriorityWaiterNode? granted = null;
        if ((_faults & PriorityLockFaults.SkipWakeOnRelease) == 0)
        {
            granted = ClaimNextWaiter();
        }

        long next = (state & ~CountMask) | ((long)_queue.Count << CountShift);
        if (granted is null || (_faults & PriorityLockFaults.GrantWithoutExclusion) != 0)
        {
            next &= ~HeldBit;
        }

        if (granted is not null)
        {
            next += GenerationOne;
            granted.GrantedToken = next & GenerationMask;
            _heldSinceGeneration = next & GenerationMask;
            _heldSince = _timeProvider.GetTimestamp();
        }

        ExitQueue(next);

        // Outside the queue bit: a sync waiter's thread is signalled, an async waiter's
        // continuation is queued to the thread pool; neither runs on this stack.
        granted?.Complete();
    }

    // Removes waiters in grant order until one accepts the grant, dropping those that gave up
    // on the way. Called with the queue bit set.
    private PriorityWaiterNode? ClaimNextWaiter()
    {
        while (_queue.PeekFirst() is { } node)
        {
            _queue.RemoveFirst(node);
            if (node.TryTransition(WaiterStatus.Waiting, WaiterStatus.Granted))
            {
                return node;
            }

            if ((_faults & PriorityLockFaults.GrantIgnoresCancellation) != 0)
            {
                // Broken on purpose: the lock goes to a waiter that already left, so no one gets it.
                return node;
            }
        }

        return null;
    }

    void IWaiterOwner.RemoveAbandoned(WaiterNode node)
    {
        if ((_faults & PriorityLockFaults.CancelledWaitersLinger) != 0)
        {
            // Broken on purpose: the waiter stays queued and counted until a release skips it.
            return;
        }

        long state = EnterQueue();
        if (_queue.Remove((PriorityWaiterNode)node))
        {
            _queue.RearmTimer();
        }

        Debug.Assert((state & HeldBit) != 0 || _queue.Count == 0, "A free lock has no waiters.");
        ExitQueue((state & ~CountMask) | ((long)_queue.Count << CountShift));
    }

    void IWaiterOwner.ExpireWaiters() => ExpireWaiters();

    void IWaiterOwner.CompeteAfterWake(WaiterNode node) =>
        Debug.Fail("A priority lock always hands the lock over and never wakes a waiter to compete.");

    void IWaiterOwner.ReturnNode(WaiterNode node)
    {
        // A lingering waiter of the seeded fault is still linked, so it must not be reused.
        if ((Volatile.Read(ref _state) & DisposedBit) == 0 && (_faults & PriorityLockFaults.CancelledWaitersLinger) == 0)
        {
            _queue.Return(node);
        }
    }

    private long EnterQueue() => QueueSection.Enter(ref _state, QueueBit);

    private void ExitQueue(long state) => QueueSection.Exit(ref _state, state, QueueBit);
}
