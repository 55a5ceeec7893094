using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks.Sources;

namespace Sanctuary.Threading;

/// <summary>
/// One queued acquire request. Nodes are pooled per primitive, so contention allocates nothing
/// once the pool has warmed up.
/// </summary>
/// <remarks>
/// <para>
/// Life of a node: the primitive rents it, links it into its <see cref="WaiterQueue"/> while
/// holding the queue bit of its state word, and hands the caller a <c>ValueTask</c> (async) or
/// blocks on <see cref="WaitSync"/> (sync). Exactly one completer moves <see cref="Status"/> away
/// from <see cref="WaiterStatus.Waiting"/> with one compare-and-swap: a releaser granting the
/// lock, the timer, the cancellation callback or <c>Dispose</c>. A blocked thread whose deadline
/// passes may run the timer's path itself (<see cref="IWaiterOwner.ExpireWaiters"/>) and is then
/// one more contender for that compare-and-swap. The loser of that race leaves the node alone,
/// so a grant never reaches a waiter that gave up.
/// </para>
/// <para>
/// The node goes back to the pool only after the waiter has read its outcome and after a
/// cancellation callback that has started has finished, so no late callback or stale reader can
/// touch the node's next life.
/// </para>
/// </remarks>
internal abstract class WaiterNode : IThreadPoolWorkItem
{
    private static readonly Action<object?, CancellationToken> s_onCancellation =
        static (state, _) => ((WaiterNode)state!).OnCancellationRequested();

    // Signals async waiters. Completers set RunContinuationsAsynchronously first, so that a
    // releaser never runs the waiter's continuation on its own stack.
    private ManualResetValueTaskSourceCore<bool> _core;

    // Signal for a sync waiter, guarded by the node's monitor: set by a completer or a wake-up,
    // consumed by the waiting thread. A monitor (not an event object) keeps the node free of
    // extra allocations and lets systematic tests control the blocking.
    private bool _signaled;

    private CancellationTokenRegistration _registration;
    private int _status;

    // Who has finished with the node once a cancellation callback has started: 1 is added by
    // the reader of the outcome, 2 by the callback. Whoever brings the sum to 3 returns the
    // node to the pool, so a callback that is still running never sees the node's next life,
    // and nobody has to wait for it.
    private int _release;

    /// <summary>Owner that handles cancellation, wake-ups and the pool.</summary>
    internal IWaiterOwner Owner = null!;

    // Intrusive links of the waiter list and the deadline heap. Only the holder of the owner's
    // queue bit reads or writes them.
    internal WaiterNode? Previous;
    internal WaiterNode? Next;
    internal bool IsLinked;
    internal int HeapIndex = -1;

    /// <summary>Next node in the owner's free list; written only while the node is not in use.</summary>
    internal WaiterNode? NextFree;

    /// <summary>Next node in a completer's private batch of nodes to complete after it leaves the queue bit.</summary>
    internal WaiterNode? NextToComplete;

    /// <summary>Deadline as a <see cref="TimeProvider"/> timestamp, or <see cref="long.MaxValue"/> for none.</summary>
    internal long Deadline;

    /// <summary>Timeout requested by the caller, for the timeout exception's message.</summary>
    internal TimeSpan Timeout;

    /// <summary>Timestamp at which the waiter queued, for introspection.</summary>
    internal long EnqueuedAt;

    /// <summary>Whether a timeout throws (<c>Acquire</c>) or returns an unheld lease (<c>TryAcquire</c>).</summary>
    internal bool ThrowOnTimeout;

    /// <summary>Whether a thread blocks on this node rather than awaiting it.</summary>
    internal bool IsSync;

    /// <summary>How often a woken waiter lost the lock to a barging acquirer in throughput mode.</summary>
    internal int PassOvers;

    /// <summary>Primitive-specific request kind, such as read or write.</summary>
    internal int Kind;

    /// <summary>Lease token handed over with a grant.</summary>
    internal long GrantedToken;

    internal CancellationToken CancellationToken;

    /// <summary>Current status; see <see cref="WaiterStatus"/>.</summary>
    internal int Status => Volatile.Read(ref _status);

    /// <summary>Version of the async completion source, which a <c>ValueTask</c> must carry.</summary>
    internal short Version => _core.Version;

    /// <summary>
    /// Prepares a rented node for a new wait.
    /// </summary>
    internal void Prepare(bool isSync, long deadline, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, long now, int kind)
    {
        Debug.Assert(!IsLinked && HeapIndex < 0, "A rented node must not be linked anywhere.");

        IsSync = isSync;
        Deadline = deadline;
        Timeout = timeout;
        ThrowOnTimeout = throwOnTimeout;
        CancellationToken = cancellationToken;
        EnqueuedAt = now;
        Kind = kind;
        PassOvers = 0;
        GrantedToken = 0;
        _registration = default;
        _release = 0;
        _signaled = false;
        Volatile.Write(ref _status, WaiterStatus.Waiting);
    }

    /// <summary>
    /// Moves the node from <paramref name="from"/> to <paramref name="to"/>; returns whether this
    /// caller won the race.
    /// </summary>
    internal bool TryTransition(int from, int to) =>
        Interlocked.CompareExchange(ref _status, to, from) == from;

    /// <summary>
    /// Claims the node for a final outcome; returns <see langword="false"/> when another completer
    /// already claimed it or it is being woken.
    /// </summary>
    internal bool TryClaim(int outcome) => TryTransition(WaiterStatus.Waiting, outcome);

    /// <summary>
    /// Registers the cancellation callback once the node is queued. A token that is already
    /// cancelled runs the callback at once on this thread.
    /// </summary>
    internal void RegisterCancellation()
    {
        if (CancellationToken.CanBeCanceled)
        {
            _registration = CancellationToken.UnsafeRegister(s_onCancellation, this);
        }
    }

    /// <summary>
    /// Delivers the outcome that this caller claimed. Continuations of async waiters are queued
    /// to the thread pool unless <paramref name="runContinuationInline"/> is set, which only a
    /// thread-pool work item that owns no lock may do.
    /// </summary>
    internal void Complete(bool runContinuationInline = false)
    {
        if (IsSync)
        {
            Signal();
            return;
        }

        _core.RunContinuationsAsynchronously = !runContinuationInline;
        _core.SetResult(true);
    }

    /// <summary>
    /// Wakes a waiter that must compete for the lock again (throughput mode). A sync waiter
    /// competes on its own thread; an async one competes on a thread-pool work item.
    /// </summary>
    internal void Wake()
    {
        Debug.Assert(Status == WaiterStatus.Woken, "Only a woken node competes again.");
        if (IsSync)
        {
            Signal();
        }
        else
        {
            // NOTE: systematic tests cannot control this dispatch, so the race between a woken
            // async waiter and a barging acquirer is explored only by chance there.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => Owner.CompeteAfterWake(this);

    /// <summary>
    /// Blocks the calling thread until the node has a final outcome, competing for the lock
    /// whenever it is woken in throughput mode; returns the outcome.
    /// </summary>
    /// <param name="timeProvider">Clock of the owner's deadlines.</param>
    /// <remarks>
    /// With <see cref="TimeProvider.System"/> and a deadline, the thread ends its own wait: when
    /// the deadline passes without a signal, it runs the owner's timer path
    /// (<see cref="IWaiterOwner.ExpireWaiters"/>) on this thread, so a timeout needs no free
    /// thread-pool thread for the timer callback. That path claims the node under the queue bit
    /// like any other completer, so a grant that won the race is returned instead. Timestamps of
    /// any other provider need not follow real time (a fake clock in tests), so its waiters
    /// leave timeouts to the owner's timer alone.
    /// </remarks>
    internal int WaitSync(TimeProvider timeProvider)
    {
        Debug.Assert(IsSync, "Only sync nodes block.");
        bool endsOwnWait = Deadline != long.MaxValue && ReferenceEquals(timeProvider, TimeProvider.System);
        bool untilDeadline = endsOwnWait;
        while (true)
        {
            if (!WaitForSignal(untilDeadline))
            {
                // The deadline passed without a signal. The timer's path either claims this node
                // as timed out and signals it, or finds it already claimed or woken, and then
                // its completer signals it. Either way a signal follows, so wait for it without a
                // deadline from here on.
                untilDeadline = false;
                Owner.ExpireWaiters();
                continue;
            }

            int status = Status;
            if (status == WaiterStatus.Woken)
            {
                // A woken waiter that loses the race is queued again, and then its deadline
                // applies again.
                Owner.CompeteAfterWake(this);
                untilDeadline = endsOwnWait;
                continue;
            }

            if (status != WaiterStatus.Waiting)
            {
                return status;
            }
        }
    }

    // Waits for a signal from a completer or a wake-up and consumes it. With untilDeadline set,
    // returns false instead once the system clock has reached Deadline without a signal.
    private bool WaitForSignal(bool untilDeadline)
    {
        lock (this)
        {
            while (!_signaled)
            {
                if (!untilDeadline)
                {
                    Monitor.Wait(this);
                    continue;
                }

                long remaining = Deadline - TimeProvider.System.GetTimestamp();
                if (remaining <= 0)
                {
                    return false;
                }

                // Monitor.Wait may return early or spuriously, so the loop measures again.
                Monitor.Wait(this, ToWaitMilliseconds(remaining));
            }

            // Consume the signal: a wake-up that follows a re-queue signals again.
            _signaled = false;
            return true;
        }
    }

    // Converts system-clock ticks into a Monitor.Wait timeout, rounded up so that the wait does
    // not end before the deadline, and capped at int.MaxValue milliseconds (about 24.8 days).
    private static int ToWaitMilliseconds(long ticks)
    {
        double milliseconds = Math.Ceiling(ticks * 1000.0 / TimeProvider.System.TimestampFrequency);
        return milliseconds >= int.MaxValue ? int.MaxValue : Math.Max(1, (int)milliseconds);
    }

    /// <summary>
    /// Reads the async outcome, detaches the cancellation registration and returns the node to
    /// its owner's pool. The node must not be touched after this call.
    /// </summary>
    internal int ConsumeAsync(short token, out long grantedToken, out TimeSpan timeout, out CancellationToken cancellationToken)
    {
        _core.GetResult(token);
        return ConsumeCore(out grantedToken, out timeout, out cancellationToken);
    }

    /// <summary>
    /// Reads the outcome of a sync wait that has ended and returns the node to the pool.
    /// </summary>
    internal int ConsumeSync(out long grantedToken, out TimeSpan timeout, out CancellationToken cancellationToken) =>
        ConsumeCore(out grantedToken, out timeout, out cancellationToken);

    private int ConsumeCore(out long grantedToken, out TimeSpan timeout, out CancellationToken cancellationToken)
    {
        int status = Status;
        grantedToken = GrantedToken;
        timeout = Timeout;
        cancellationToken = CancellationToken;

        // A callback that has started (Unregister returns false) returns the node itself when
        // it finishes, unless it already has; see _release.
        bool callbackStarted = cancellationToken.CanBeCanceled && !_registration.Unregister();
        _registration = default;
        CancellationToken = default;
        if (!IsSync)
        {
            _core.Reset();
        }

        if (!callbackStarted || Interlocked.Add(ref _release, 1) == 3)
        {
            Owner.ReturnNode(this);
        }

        return status;
    }

    /// <summary>
    /// Returns the <see cref="ValueTaskSourceStatus"/> of the async completion.
    /// </summary>
    internal ValueTaskSourceStatus GetCoreStatus(short token) => _core.GetStatus(token);

    /// <summary>
    /// Schedules the continuation of an async waiter.
    /// </summary>
    internal void OnCoreCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void OnCancellationRequested()
    {
        IWaiterOwner owner = Owner;
        if (TryClaim(WaiterStatus.Cancelled))
        {
            owner.RemoveAbandoned(this);
            Complete();
        }

        if (Interlocked.Add(ref _release, 2) == 3)
        {
            owner.ReturnNode(this);
        }
    }

    private void Signal()
    {
        lock (this)
        {
            _signaled = true;
            Monitor.Pulse(this);
        }
    }
}

/// <summary>
/// Values of <see cref="WaiterNode.Status"/>.
/// </summary>
internal static class WaiterStatus
{
    /// <summary>Queued and waiting for a grant, a timeout or a cancellation.</summary>
    public const int Waiting = 0;

    /// <summary>Final: the lock was handed to the waiter.</summary>
    public const int Granted = 1;

    /// <summary>Final: the waiter's token was cancelled first.</summary>
    public const int Cancelled = 2;

    /// <summary>Final: the waiter's timeout elapsed first.</summary>
    public const int TimedOut = 3;

    /// <summary>Final: the primitive was disposed while the waiter queued.</summary>
    public const int Disposed = 4;

    /// <summary>Transient, throughput mode: unlinked and about to compete for a free lock.</summary>
    public const int Woken = 5;
}

/// <summary>
/// Callbacks from a <see cref="WaiterNode"/> to the primitive that owns it.
/// </summary>
internal interface IWaiterOwner
{
    /// <summary>Unlinks a node whose waiter gave up, if it is still queued, and lets others through.</summary>
    void RemoveAbandoned(WaiterNode node);

    /// <summary>
    /// Times out every queued waiter whose deadline has passed and lets the waiters behind them
    /// through: the path the deadline timer runs, also called by a blocked thread whose own
    /// deadline has passed.
    /// </summary>
    void ExpireWaiters();

    /// <summary>Lets a woken node try to take the lock, or re-queues it at the front.</summary>
    void CompeteAfterWake(WaiterNode node);

    /// <summary>Returns a node whose waiter has read its outcome to the pool.</summary>
    void ReturnNode(WaiterNode node);
}
