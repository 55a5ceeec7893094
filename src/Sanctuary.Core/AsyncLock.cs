using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// A mutual-exclusion lock for async and sync code whose uncontended acquire and release are
/// one compare-and-swap each and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Acquire methods return a lease: <see cref="Lease"/> (a struct that may cross <c>await</c>) from
/// the async and try-now forms, and <see cref="Scope"/> (a <c>ref struct</c> that the compiler
/// forbids holding across an <c>await</c>) from the blocking forms. Disposing a lease releases the lock at
/// most once; a default, stale or already released lease does nothing.
/// </para>
/// <para>
/// The lock is not reentrant: acquiring it again from the flow that holds it waits forever or
/// until the timeout.
/// </para>
/// <para>
/// Waiters queue in arrival order. With <see cref="LockFairness.Fifo"/> (the default) release
/// hands the lock straight to the oldest waiter. With <see cref="LockFairness.Throughput"/> a
/// running acquirer may take a free lock ahead of a woken waiter, at most
/// <see cref="AsyncLockOptions.MaxPassOvers"/> times per waiter.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class AsyncLock : IDisposable, IWaiterOwner
{
    // State word layout, changed only with Interlocked operations:
    //   bit 0       HeldBit: someone holds the lock.
    //   bit 1       QueueBit: a thread is editing the waiter queue. While it is set, only that
    //               thread changes the state word, so it may publish the new state with one write.
    //   bit 2       WokenBit: throughput mode, a woken waiter is about to compete; releases wake
    //               no other waiter meanwhile, which prevents a herd of wake-ups.
    //   bit 3       HandOffBit: throughput mode, a waiter lost too many races; the next release
    //               hands the lock to the oldest waiter and no acquirer may barge meanwhile.
    //   bit 4       DisposedBit.
    //   bits 5-28   number of linked waiters.
    //   bits 29-63  generation: incremented by every acquisition; a lease carries the generation
    //               it was granted with, so a stale lease never matches a later holder. It wraps
    //               after 2^35 acquisitions.
    private const long HeldBit = 1;
    private const long QueueBit = 2;
    private const long WokenBit = 4;
    private const long HandOffBit = 8;
    private const long DisposedBit = 16;
    private const int CountShift = 5;
    private const long CountOne = 1L << CountShift;
    private const long CountMask = ((1L << 24) - 1) << CountShift;
    private const int GenerationShift = 29;
    private const long GenerationOne = 1L << GenerationShift;
    private const long GenerationMask = ~(GenerationOne - 1);
    private const long FlagsMask = GenerationOne - 1;

    private static int s_lastId;

    private long _state;

    private readonly WaiterQueue _queue;
    private readonly TimeProvider _timeProvider;
    private readonly LockFaults _faults;
    private readonly int _maxPassOvers;

    // Start of the current hold, for timeout messages only. It is exact after a hand-off and a
    // lower bound (the first waiter's arrival) after an uncontended acquisition. Concurrent
    // writers may interleave, so a message can be off by the length of one hand-off.
    private long _heldSinceGeneration = -1;
    private long _heldSince;

    /// <summary>
    /// Initializes a lock with the default options: FIFO hand-off and the system clock.
    /// </summary>
    public AsyncLock()
        : this(null, LockFaults.None)
    {
    }

    /// <summary>
    /// Initializes a lock with the given options.
    /// </summary>
    /// <param name="options">Settings of the lock, or <see langword="null"/> for the defaults.</param>
    public AsyncLock(AsyncLockOptions? options)
        : this(options, LockFaults.None)
    {
    }

    internal AsyncLock(AsyncLockOptions? options, LockFaults faults)
    {
        options ??= s_defaultOptions;
        Name = options.Name ?? "AsyncLock#" + Interlocked.Increment(ref s_lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Fairness = options.Fairness;
        _maxPassOvers = options.MaxPassOvers;
        _timeProvider = options.TimeProvider;
        _queue = new WaiterQueue(_timeProvider, s_onTimer, this);
        _faults = faults;
    }

    private static readonly AsyncLockOptions s_defaultOptions = new();

    /// <summary>Name of the lock, used in exception messages and the debugger display.</summary>
    public string Name { get; }

    /// <summary>Hand-off policy chosen at construction.</summary>
    public LockFairness Fairness { get; }

    /// <summary>Whether someone holds the lock at this moment.</summary>
    public bool IsHeld => (Volatile.Read(ref _state) & HeldBit) != 0;

    /// <summary>Number of queued waiters at this moment.</summary>
    public int WaitingCount => (int)((Volatile.Read(ref _state) & CountMask) >> CountShift);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => (Volatile.Read(ref _state) & DisposedBit) != 0;

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

    private bool IsThroughput => Fairness == LockFairness.Throughput;

    /// <summary>
    /// Tries to take the lock without waiting.
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
        ExitQueue((state & ~CountMask & ~WokenBit & ~HandOffBit) | DisposedBit);

        WaiterQueue.ClaimAndCompleteChain(chain, WaiterStatus.Disposed);
        _queue.ClearPool();
    }

    // Fast path: one compare-and-swap from "free, nobody waiting" to "held".
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

    // Whether an arriving acquirer may take the lock in this state (queue bit clear).
    private bool CanTakeNow(long state)
    {
        if ((state & (HeldBit | DisposedBit)) != 0)
        {
            return false;
        }

        // FIFO: a free lock has no waiters, because release hands it over while anyone waits.
        // Throughput: barging is allowed unless a starving waiter is owed the next hand-off.
        return IsThroughput ? (state & HandOffBit) == 0 : (state & CountMask) == 0;
    }

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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ReleaseSlow(long token)
    {
        // Step 1: check the token and take the queue bit, unless no waiter is left.
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

            if ((state & (FlagsMask & ~HeldBit & ~DisposedBit)) == 0)
            {
                // No waiter is left, or the lock is disposed, so only the held bit is cleared.
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

        // Step 2: pick the next owner under the queue bit.
        if (IsThroughput && (state & HandOffBit) == 0 && (_faults & LockFaults.SkipWakeOnRelease) == 0)
        {
            ReleaseAndWake(state);
        }
        else
        {
            HandOff(state);
        }

        return true;
    }

    // Hands the lock to the oldest live waiter, keeping the held bit set; frees it if no live
    // waiter remains. Called with the queue bit set.
    private void HandOff(long state)
    {
        WaiterNode? granted = null;
        if ((_faults & LockFaults.SkipWakeOnRelease) == 0)
        {
            granted = ClaimNextWaiter(WaiterStatus.Granted);
        }

        long next = (state & ~CountMask & ~HandOffBit) | ((long)_queue.Count << CountShift);
        if (granted is null || (_faults & LockFaults.GrantWithoutExclusion) != 0)
        {
            next &= ~HeldBit;
        }

        if (granted is not null)
        {
            next += GenerationOne;
            granted.GrantedToken = next & GenerationMask;
            _queue.RearmTimer();
        }

        ExitQueue(next);
        if (granted is not null)
        {
            RecordHeldSince(next & GenerationMask);
            granted.Complete();
        }
    }

    // Records when the holder of a generation took the lock, for timeout messages. The clock is
    // read after the queue bit is cleared because reading it costs more than the rest of a
    // hand-off. A waiter that queues in between records a slightly later lower bound instead.
    private void RecordHeldSince(long generation)
    {
        _heldSince = _timeProvider.GetTimestamp();
        Volatile.Write(ref _heldSinceGeneration, generation);
    }

    // Throughput mode: frees the lock and wakes the oldest live waiter to compete for it,
    // unless a woken waiter has not run yet. Called with the queue bit set.
    private void ReleaseAndWake(long state)
    {
        WaiterNode? woken = null;
        if ((state & WokenBit) == 0)
        {
            woken = ClaimNextWaiter(WaiterStatus.Woken);
        }

        long next = (state & ~CountMask & ~HeldBit) | ((long)_queue.Count << CountShift);
        if (woken is not null)
        {
            next |= WokenBit;
            _queue.RearmTimer();
        }

        ExitQueue(next);
        woken?.Wake();
    }

    // Unlinks waiters from the front until one accepts the given status, dropping those that
    // gave up on the way. Called with the queue bit set.
    private WaiterNode? ClaimNextWaiter(int status)
    {
        bool lifo = (_faults & LockFaults.LifoGrant) != 0;
        while (true)
        {
            WaiterNode? node = lifo ? _queue.Last : _queue.First;
            if (node is null)
            {
                return null;
            }

            _queue.Remove(node);
            if (node.TryTransition(WaiterStatus.Waiting, status))
            {
                return node;
            }

            if ((_faults & LockFaults.GrantIgnoresCancellation) != 0 && status == WaiterStatus.Granted)
            {
                // Broken on purpose: the lock goes to a waiter that already left, so the lock is lost.
                return node;
            }
        }
    }

    void IWaiterOwner.CompeteAfterWake(WaiterNode node)
    {
        long state = EnterQueue();
        Debug.Assert(node.Status == WaiterStatus.Woken, "Only a woken waiter competes.");

        // Step 1: a disposed lock fails the waiter.
        if ((state & DisposedBit) != 0)
        {
            node.TryTransition(WaiterStatus.Woken, WaiterStatus.Disposed);
            ExitQueue(state & ~WokenBit);
            node.Complete(runContinuationInline: !node.IsSync);
            return;
        }

        // Step 2: a free lock goes to the woken waiter.
        if ((state & HeldBit) == 0)
        {
            long next = ((state + GenerationOne) | HeldBit) & ~WokenBit & ~HandOffBit;
            node.GrantedToken = next & GenerationMask;
            node.TryTransition(WaiterStatus.Woken, WaiterStatus.Granted);
            ExitQueue(next);
            RecordHeldSince(next & GenerationMask);
            node.Complete(runContinuationInline: !node.IsSync);
            return;
        }

        // Step 3: a barging acquirer won. A waiter whose token or deadline passed meanwhile
        // leaves now, because its callback or timer saw it unlinked and did nothing.
        int outcome = node.CancellationToken.IsCancellationRequested ? WaiterStatus.Cancelled
            : node.Deadline <= _timeProvider.GetTimestamp() ? WaiterStatus.TimedOut
            : WaiterStatus.Waiting;
        if (outcome != WaiterStatus.Waiting)
        {
            node.TryTransition(WaiterStatus.Woken, outcome);
            ExitQueue(state & ~WokenBit);
            node.Complete();
            return;
        }

        // Step 4: otherwise it goes back to the front; after too many lost races the next
        // release must hand it the lock.
        node.PassOvers++;
        node.TryTransition(WaiterStatus.Woken, WaiterStatus.Waiting);
        _queue.AddFirst(node);
        _queue.RearmTimer();
        long requeued = (state & ~WokenBit & ~CountMask) | ((long)_queue.Count << CountShift);
        if (node.PassOvers >= _maxPassOvers)
        {
            requeued |= HandOffBit;
        }

        ExitQueue(requeued);
    }

    void IWaiterOwner.ExpireWaiters() => ExpireWaiters();

    void IWaiterOwner.RemoveAbandoned(WaiterNode node)
    {
        long state = EnterQueue();
        bool removed = _queue.Remove(node);
        if (removed)
        {
            _queue.RearmTimer();
        }

        long next = (state & ~CountMask) | ((long)_queue.Count << CountShift);
        if (IsThroughput && _queue.Count == 0)
        {
            // The starving waiter left, so no waiter is owed a hand-off any more.
            next &= ~HandOffBit;
        }

        ExitQueue(next);
    }

    void IWaiterOwner.ReturnNode(WaiterNode node)
    {
        if ((Volatile.Read(ref _state) & DisposedBit) == 0)
        {
            _queue.Return(node);
        }
    }

    private long EnterQueue() => QueueSection.Enter(ref _state, QueueBit);

    private void ExitQueue(long state) => QueueSection.Exit(ref _state, state, QueueBit);
}
