using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// A reader-writer lock for async and sync code: many readers, or one writer, plus at most one
/// upgradeable reader that may turn into the writer. Uncontended read, write and upgradeable
/// acquisitions are one compare-and-swap each and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="ReaderWriterPreference.Writer"/> (the default) a waiting writer stops new
/// readers, so writers cannot starve. An upgradeable reader shares the lock with plain readers;
/// only one upgradeable reader holds at a time, so two upgrades can never wait on each other.
/// An upgrade waits for the plain readers to leave and goes ahead of every queued writer.
/// </para>
/// <para>
/// The lock is not reentrant. Write and upgradeable leases carry a generation that makes a
/// stale copy harmless. Read leases share their hold with the other readers of the same write
/// generation: releasing one read lease twice before any writer enters releases one other
/// reader's share, so release each read lease once.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class AsyncReaderWriterLock : IDisposable, IWaiterOwner
{
    // State word layout, changed only with Interlocked operations:
    //   bits 0-19   number of plain readers.
    //   bit 20      WriterBit: a writer holds (after an upgrade, together with UpgradeableBit).
    //   bit 21      UpgradeableBit: an upgradeable reader holds.
    //   bit 22      QueueBit: a thread edits the waiter queue; only it changes the word meanwhile.
    //   bit 23      DisposedBit.
    //   bit 24      WritersWaitingBit: a writer or an upgrade waits, so new readers queue under
    //               writer preference.
    //   bit 25      WaitersBit: someone is queued, so the last release must look at the queue.
    //   bits 26-63  write generation: incremented by every write acquisition. Write leases carry
    //               it, and read leases carry the generation they read under, so a lease from an
    //               earlier generation never releases anything.
    private const long ReaderMask = (1L << 20) - 1;
    private const long WriterBit = 1L << 20;
    private const long UpgradeableBit = 1L << 21;
    private const long QueueBit = 1L << 22;
    private const long DisposedBit = 1L << 23;
    private const long WritersWaitingBit = 1L << 24;
    private const long WaitersBit = 1L << 25;
    private const int GenerationShift = 26;
    private const long GenerationOne = 1L << GenerationShift;
    private const long GenerationMask = ~(GenerationOne - 1);
    private const long FlagsMask = GenerationOne - 1;

    // Waiter kinds, stored in WaiterNode.Kind.
    private const int KindRead = 0;
    private const int KindWrite = 1;
    private const int KindUpgradeable = 2;
    private const int KindUpgrade = 3;

    private const int MaxWaiters = int.MaxValue / 2;

    private static readonly AsyncReaderWriterLockOptions s_defaultOptions = new();
    private static int s_lastId;

    private long _state;

    // Token of the current upgradeable hold, or 0. Set by the holder right after it sets
    // UpgradeableBit and cleared with a compare-and-swap on release, so a stale upgradeable
    // lease can never clear a later holder's bit.
    private long _upgradeableToken;
    private long _upgradeableSequence;

    // Start of the holds of the current write generation, for timeout messages only. It is exact
    // for a queued writer and a lower bound (the first waiter's arrival) otherwise.
    private long _heldSinceGeneration = -1;
    private long _heldSince;

    private readonly WaiterQueue _queue;
    private readonly TimeProvider _timeProvider;
    private readonly bool _writerPreferred;
    private readonly ReaderWriterLockFaults _faults;

    /// <summary>
    /// Initializes a lock with writer preference and the system clock.
    /// </summary>
    public AsyncReaderWriterLock()
        : this(null)
    {
    }

    /// <summary>
    /// Initializes a lock with the given options.
    /// </summary>
    /// <param name="options">Settings of the lock, or <see langword="null"/> for the defaults.</param>
    public AsyncReaderWriterLock(AsyncReaderWriterLockOptions? options)
        : this(options, ReaderWriterLockFaults.None)
    {
    }

    // Tests only: a lock with deliberate defects, to prove that invariant checks catch them.
    internal AsyncReaderWriterLock(AsyncReaderWriterLockOptions? options, ReaderWriterLockFaults faults)
    {
        options ??= s_defaultOptions;
        _faults = faults;
        Name = options.Name ?? "AsyncReaderWriterLock#" + Interlocked.Increment(ref s_lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Preference = options.Preference;
        _writerPreferred = options.Preference == ReaderWriterPreference.Writer;
        _timeProvider = options.TimeProvider;
        _queue = new WaiterQueue(_timeProvider, s_onTimer, this);
    }

    /// <summary>Name of the lock, used in exception messages and the debugger display.</summary>
    public string Name { get; }

    /// <summary>Which side goes first under contention.</summary>
    public ReaderWriterPreference Preference { get; }

    /// <summary>Number of plain readers holding the lock at this moment (the upgradeable reader is not counted).</summary>
    public int CurrentReadCount => (int)(Volatile.Read(ref _state) & ReaderMask);

    /// <summary>Whether a writer holds the lock at this moment.</summary>
    public bool IsWriteHeld => (Volatile.Read(ref _state) & WriterBit) != 0;

    /// <summary>Whether an upgradeable reader holds the lock at this moment.</summary>
    public bool IsUpgradeableReadHeld => (Volatile.Read(ref _state) & UpgradeableBit) != 0;

    /// <summary>Number of queued waiters at this moment; an approximate value while the queue changes.</summary>
    public int WaitingCount => Volatile.Read(ref _waitingCount);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => (Volatile.Read(ref _state) & DisposedBit) != 0;

    private int _waitingCount;

    private string DebuggerDisplay
    {
        get
        {
            long state = Volatile.Read(ref _state);
            string writer = (state & WriterBit) != 0 ? ", writer" : string.Empty;
            string upgradeable = (state & UpgradeableBit) != 0 ? ", upgradeable reader" : string.Empty;
            string disposed = (state & DisposedBit) != 0 ? ", disposed" : string.Empty;
            return $"{Name}: {state & ReaderMask} readers{upgradeable}{writer}, {Volatile.Read(ref _waitingCount)} waiting{disposed}";
        }
    }

    /// <summary>
    /// Fails every waiter with <see cref="ObjectDisposedException"/> and makes later acquires throw
    /// it. Holders' later releases only clear their holds. Calling this more than once does nothing.
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
        ExitQueue((state & ~WaitersBit & ~WritersWaitingBit) | DisposedBit);

        WaiterQueue.ClaimAndCompleteChain(chain, WaiterStatus.Disposed);
        _queue.ClearPool();
    }

    // Whether a request of the given kind may enter in this state without queueing. The caller
    // has checked that neither QueueBit nor DisposedBit is set.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool CanEnter(int kind, long state)
    {
        switch (kind)
        {
            case KindRead:
                return (state & WriterBit) == 0 &&
                       (state & ReaderMask) != ReaderMask &&
                       (!_writerPreferred || (state & WritersWaitingBit) == 0 ||
                        (_faults & ReaderWriterLockFaults.AdmitReadersPastWaitingWriter) != 0);
            case KindWrite:
                // FIFO: a writer never overtakes queued waiters.
                return (state & (ReaderMask | WriterBit | UpgradeableBit | WaitersBit)) == 0;
            default:
                Debug.Assert(kind == KindUpgradeable, "Upgrades enter through their own path.");
                return (state & (WriterBit | UpgradeableBit)) == 0 &&
                       (!_writerPreferred || (state & WritersWaitingBit) == 0);
        }
    }

    // The state after a request of the given kind entered.
    private static long Enter(int kind, long state) => kind switch
    {
        KindRead => state + 1,
        KindWrite => (state + GenerationOne) | WriterBit,
        _ => state | UpgradeableBit,
    };

    // Takes the lock for the kind with one compare-and-swap, or fails without waiting.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryEnterFast(int kind, out long token)
    {
        long state = Volatile.Read(ref _state);
        if ((state & (QueueBit | DisposedBit)) == 0 && CanEnter(kind, state))
        {
            long next = Enter(kind, state);
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                token = AfterEnter(kind, next);
                return true;
            }
        }

        token = 0;
        return false;
    }

    // Takes the lock for the kind if it can be taken now, waiting out concurrent queue edits.
    private bool TryEnterNoWait(int kind, out long token)
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

            if (!CanEnter(kind, state))
            {
                token = 0;
                return false;
            }

            long next = Enter(kind, state);
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                token = AfterEnter(kind, next);
                return true;
            }
        }
    }

    // Returns the lease token for a hold that just entered in state 'next'.
    private long AfterEnter(int kind, long next)
    {
        if (kind != KindUpgradeable)
        {
            return next & GenerationMask;
        }

        long token = Interlocked.Increment(ref _upgradeableSequence);
        Volatile.Write(ref _upgradeableToken, token);
        return token;
    }

    internal bool IsReadHeldWith(long token)
    {
        long state = Volatile.Read(ref _state);
        return (state & GenerationMask) == token && (state & ReaderMask) != 0;
    }

    internal bool IsWriteHeldWith(long token)
    {
        long state = Volatile.Read(ref _state);
        return (state & GenerationMask) == token && (state & WriterBit) != 0;
    }

    internal bool IsUpgradeableHeldWith(long token) => token != 0 && Volatile.Read(ref _upgradeableToken) == token;

    /// <summary>Releases one read hold of the given generation.</summary>
    internal bool ReleaseRead(long token)
    {
        SpinWait spinner = default;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if ((state & GenerationMask) != token || (state & ReaderMask) == 0)
            {
                return false;
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if ((state & ReaderMask) == 1 && (state & WaitersBit) != 0)
            {
                // The last reader leaves while others wait: a writer or an upgrade may enter now.
                if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
                {
                    ExitQueueAndDispatch(state - 1);
                    return true;
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state - 1, state) == state)
            {
                return true;
            }
        }
    }

    /// <summary>Releases the write hold of the given generation; an upgraded hold returns to upgradeable read.</summary>
    internal bool ReleaseWrite(long token)
    {
        long held = token | WriterBit;
        if (Interlocked.CompareExchange(ref _state, token, held) == held)
        {
            return true;
        }

        long state = EnterQueue();
        if ((state & GenerationMask) != token || (state & WriterBit) == 0)
        {
            ExitQueue(state);
            return false;
        }

        ExitQueueAndDispatch(state & ~WriterBit);
        return true;
    }

    /// <summary>Releases the upgradeable hold with the given token, together with its upgrade if that is held.</summary>
    internal bool ReleaseUpgradeable(long token)
    {
        if (token == 0 || Interlocked.CompareExchange(ref _upgradeableToken, 0, token) != token)
        {
            return false;
        }

        long state = EnterQueue();

        // A pending upgrade of this hold can never be granted now.
        WaiterNode? abandonedUpgrade = null;
        if (_queue.First is { Kind: KindUpgrade } upgrade)
        {
            _queue.Remove(upgrade);
            if (upgrade.TryClaim(WaiterStatus.Disposed))
            {
                abandonedUpgrade = upgrade;
            }
        }

        // While the upgradeable reader holds, a writer can only be its own upgrade.
        ExitQueueAndDispatch(state & ~UpgradeableBit & ~WriterBit);
        abandonedUpgrade?.Complete();
        return true;
    }

    /// <summary>Turns a plain write hold into a read hold and admits the readers that wait.</summary>
    internal long DowngradeWriteToRead(long token)
    {
        long state = EnterQueue();
        if ((state & GenerationMask) != token || (state & WriterBit) == 0 || (state & UpgradeableBit) != 0)
        {
            ExitQueue(state);
            ThrowHelper.ThrowLeaseNotHeld(Name, "write");
        }

        ExitQueueAndDispatch((state & ~WriterBit) + 1);
        return token;
    }

    /// <summary>Turns a plain write hold into an upgradeable read hold and admits the readers that wait.</summary>
    internal long DowngradeWriteToUpgradeable(long token)
    {
        long state = EnterQueue();
        if ((state & GenerationMask) != token || (state & WriterBit) == 0 || (state & UpgradeableBit) != 0)
        {
            ExitQueue(state);
            ThrowHelper.ThrowLeaseNotHeld(Name, "write");
        }

        long upgradeableToken = Interlocked.Increment(ref _upgradeableSequence);
        Volatile.Write(ref _upgradeableToken, upgradeableToken);
        ExitQueueAndDispatch((state & ~WriterBit) | UpgradeableBit);
        return upgradeableToken;
    }

    // Grants whatever the queue allows in 'state', publishes the result, clears the queue bit and
    // completes the granted waiters. Called with the queue bit set.
    private void ExitQueueAndDispatch(long state)
    {
        WaiterNode? granted = null;
        long generation = state & GenerationMask;
        state = Dispatch(state, ref granted);
        ExitQueue(state);
        if ((state & GenerationMask) != generation)
        {
            // A writer was granted: note when, for timeout messages, now that the queue bit is
            // clear (reading the clock costs more than the dispatch itself).
            _heldSince = _timeProvider.GetTimestamp();
            Volatile.Write(ref _heldSinceGeneration, state & GenerationMask);
        }

        WaiterQueue.CompleteChain(granted);
    }

    // Walks the queue from the front and grants every waiter that may enter, in order, chaining
    // them for completion after the queue bit is cleared; returns the new state with the waiting
    // flags recomputed. Called with the queue bit set.
    private long Dispatch(long state, ref WaiterNode? granted)
    {
        if ((state & DisposedBit) != 0)
        {
            return state;
        }

        WaiterNode? node = _queue.First;
        while (node is not null && (state & WriterBit) == 0)
        {
            WaiterNode? next = node.Next;
            bool blocksRest = false;
            bool grant = false;
            switch (node.Kind)
            {
                case KindUpgrade:
                    grant = (state & ReaderMask) == 0;
                    if (_faults != ReaderWriterLockFaults.None)
                    {
                        grant = ((_faults & ReaderWriterLockFaults.UpgradeIgnoresReaders) != 0 || grant) &&
                                ((_faults & ReaderWriterLockFaults.UpgradeYieldsToWaitingWriters) == 0 || _queue.CountOfKind(KindWrite) == 0);
                    }

                    blocksRest = !grant;
                    break;
                case KindWrite:
                    grant = (state & (ReaderMask | UpgradeableBit)) == 0 ||
                            (_faults & ReaderWriterLockFaults.GrantWriterWithReaders) != 0;
                    blocksRest = !grant && _writerPreferred;
                    break;
                case KindRead:
                    grant = (state & ReaderMask) != ReaderMask;
                    break;
                default:
                    grant = (state & UpgradeableBit) == 0;
                    break;
            }

            if (blocksRest)
            {
                break;
            }

            if (grant)
            {
                _queue.Remove(node);
                if (node.TryClaim(WaiterStatus.Granted))
                {
                    state = GrantTo(node, state);
                    node.NextToComplete = granted;
                    granted = node;
                }
            }

            node = next;
        }

        _queue.RearmTimer();
        return WithWaitingFlags(state);
    }

    // Applies a grant to the state and records the waiter's lease token.
    private long GrantTo(WaiterNode node, long state)
    {
        switch (node.Kind)
        {
            case KindRead:
                state++;
                node.GrantedToken = state & GenerationMask;
                return state;
            case KindUpgradeable:
                long token = Interlocked.Increment(ref _upgradeableSequence);
                Volatile.Write(ref _upgradeableToken, token);
                node.GrantedToken = token;
                return state | UpgradeableBit;
            default:
                // A write or an upgrade: the upgradeable bit of an upgrade stays set.
                state = (state + GenerationOne) | WriterBit;
                node.GrantedToken = state & GenerationMask;
                return state;
        }
    }

    private long WithWaitingFlags(long state)
    {
        state &= ~(WaitersBit | WritersWaitingBit);
        if (_queue.Count > 0)
        {
            state |= WaitersBit;
        }

        if (_queue.CountOfKind(KindWrite) > 0 || _queue.CountOfKind(KindUpgrade) > 0)
        {
            state |= WritersWaitingBit;
        }

        Volatile.Write(ref _waitingCount, _queue.Count);
        return state;
    }

    void IWaiterOwner.RemoveAbandoned(WaiterNode node)
    {
        // A writer that gives up may unblock the readers queued behind it, so dispatch again.
        long state = EnterQueue();
        _queue.Remove(node);
        if ((_faults & ReaderWriterLockFaults.SkipDispatchOnWriterGiveUp) != 0)
        {
            ExitQueue(WithWaitingFlags(state));
            return;
        }

        ExitQueueAndDispatch(state);
    }

    void IWaiterOwner.ExpireWaiters() => ExpireWaiters();

    void IWaiterOwner.CompeteAfterWake(WaiterNode node) =>
        Debug.Fail("The reader-writer lock hands off and never wakes a waiter to compete.");

    void IWaiterOwner.ReturnNode(WaiterNode node)
    {
        if ((Volatile.Read(ref _state) & DisposedBit) == 0)
        {
            _queue.Return(node);
        }
    }

    // Timer callback, also run by a blocked thread whose deadline has passed: times out every
    // waiter whose deadline has passed, then admits the waiters that a timed-out writer blocked.
    private void ExpireWaiters()
    {
        long state = EnterQueue();
        if ((state & DisposedBit) != 0)
        {
            ExitQueue(state);
            return;
        }

        WaiterNode? expired = _queue.RemoveExpired();
        if ((_faults & ReaderWriterLockFaults.SkipDispatchOnWriterGiveUp) != 0)
        {
            ExitQueue(WithWaitingFlags(state));
        }
        else
        {
            ExitQueueAndDispatch(state);
        }

        WaiterQueue.CompleteChain(expired);
    }

    private long EnterQueue() => QueueSection.Enter(ref _state, QueueBit);

    private void ExitQueue(long state) => QueueSection.Exit(ref _state, state, QueueBit);
}
