using System;
using System.Diagnostics;
using System.Threading;

namespace Sanctuary.Threading;

/// <summary>
/// The waiters of one primitive: a FIFO list, a min-heap of deadlines and a pool of spare nodes.
/// </summary>
/// <remarks>
/// Every member except <see cref="Return"/> must be called by the holder of the owner's queue
/// bit, a bit of the owner's state word that is set and cleared with <c>Interlocked</c>
/// operations. The holder only edits a few references and never runs foreign code or waits,
/// so the bit is held for tens of nanoseconds.
/// </remarks>
internal sealed class WaiterQueue
{
    // A pool larger than this would keep memory alive after a burst of contention for nothing.
    private const int MaxPooledNodes = 1024;

    /// <summary>Number of distinct <see cref="WaiterNode.Kind"/> values a queue counts.</summary>
    internal const int MaxKinds = 4;

    private readonly TimeProvider _timeProvider;
    private readonly TimerCallback _onTimer;
    private readonly object _timerState;

    // Timer that fires at the earliest deadline; created on the first timed wait and armed only
    // under the queue bit, so arming always follows the heap's current minimum.
    private ITimer? _timer;
    private long _armedDeadline = long.MaxValue;

    private WaiterNode? _head;
    private WaiterNode? _tail;
    private WaiterNode[] _heap = Array.Empty<WaiterNode>();
    private int _heapCount;

    // Linked waiters per request kind, so that owners can ask "does a writer wait?" in O(1).
    private readonly int[] _countByKind = new int[MaxKinds];

    // Free list: pushed with a compare-and-swap by any thread, popped only under the queue bit.
    // With a single popper at a time, a node cannot be popped and pushed back between a pop's
    // read and its compare-and-swap, so the list needs no ABA guard.
    private WaiterNode? _freeHead;
    private int _freeCount;

    /// <summary>
    /// Initializes an empty queue whose deadlines are measured and fired by <paramref name="timeProvider"/>.
    /// </summary>
    /// <param name="timeProvider">Clock for deadlines.</param>
    /// <param name="onTimer">Owner's callback that expires due waiters.</param>
    /// <param name="timerState">State passed to <paramref name="onTimer"/>.</param>
    internal WaiterQueue(TimeProvider timeProvider, TimerCallback onTimer, object timerState)
    {
        _timeProvider = timeProvider;
        _onTimer = onTimer;
        _timerState = timerState;
    }

    /// <summary>Clock of the queue's deadlines.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>Number of linked waiters.</summary>
    internal int Count { get; private set; }

    /// <summary>Number of linked waiters of the given kind.</summary>
    internal int CountOfKind(int kind) => _countByKind[kind];

    /// <summary>Oldest linked waiter, or <see langword="null"/>.</summary>
    internal WaiterNode? First => _head;

    /// <summary>Newest linked waiter, or <see langword="null"/>.</summary>
    internal WaiterNode? Last => _tail;

    /// <summary>Earliest deadline among linked waiters, or <see cref="long.MaxValue"/>.</summary>
    internal long EarliestDeadline => _heapCount == 0 ? long.MaxValue : _heap[0].Deadline;

    /// <summary>Rents a node from the pool, or creates one.</summary>
    internal T Rent<T>(Func<T> factory)
        where T : WaiterNode
    {
        while (true)
        {
            WaiterNode? head = Volatile.Read(ref _freeHead);
            if (head is null)
            {
                return factory();
            }

            if (Interlocked.CompareExchange(ref _freeHead, head.NextFree, head) == head)
            {
                head.NextFree = null;
                Interlocked.Decrement(ref _freeCount);
                return (T)head;
            }
        }
    }

    /// <summary>Returns a node to the pool; safe to call from any thread without the queue bit.</summary>
    internal void Return(WaiterNode node)
    {
        if (Volatile.Read(ref _freeCount) >= MaxPooledNodes)
        {
            return;
        }

        Interlocked.Increment(ref _freeCount);
        while (true)
        {
            WaiterNode? head = Volatile.Read(ref _freeHead);
            node.NextFree = head;
            if (Interlocked.CompareExchange(ref _freeHead, node, head) == head)
            {
                return;
            }
        }
    }

    /// <summary>Drops every pooled node.</summary>
    internal void ClearPool()
    {
        Volatile.Write(ref _freeHead, null);
        Volatile.Write(ref _freeCount, 0);
    }

    /// <summary>Appends a node at the tail and registers its deadline.</summary>
    internal void AddLast(WaiterNode node)
    {
        Debug.Assert(!node.IsLinked, "A node is linked at most once.");
        node.Previous = _tail;
        node.Next = null;
        if (_tail is null)
        {
            _head = node;
        }
        else
        {
            _tail.Next = node;
        }

        _tail = node;
        Link(node);
    }

    /// <summary>Inserts a node at the head (a woken waiter that lost a race) and registers its deadline.</summary>
    internal void AddFirst(WaiterNode node)
    {
        Debug.Assert(!node.IsLinked, "A node is linked at most once.");
        node.Previous = null;
        node.Next = _head;
        if (_head is null)
        {
            _tail = node;
        }
        else
        {
            _head.Previous = node;
        }

        _head = node;
        Link(node);
    }

    /// <summary>Unlinks a node from the list and the deadline heap; does nothing if it is not linked.</summary>
    /// <returns><see langword="true"/> if the node was linked.</returns>
    internal bool Remove(WaiterNode node)
    {
        if (!node.IsLinked)
        {
            return false;
        }

        if (node.Previous is null)
        {
            _head = node.Next;
        }
        else
        {
            node.Previous.Next = node.Next;
        }

        if (node.Next is null)
        {
            _tail = node.Previous;
        }
        else
        {
            node.Next.Previous = node.Previous;
        }

        node.Previous = null;
        node.Next = null;
        node.IsLinked = false;
        Count--;
        _countByKind[node.Kind]--;
        if (node.HeapIndex >= 0)
        {
            RemoveFromHeap(node.HeapIndex);
        }

        return true;
    }

    /// <summary>Unlinks every node and returns them as a chain through <see cref="WaiterNode.NextToComplete"/>.</summary>
    internal WaiterNode? RemoveAll()
    {
        WaiterNode? chain = null;
        WaiterNode? node = _tail;
        while (node is not null)
        {
            WaiterNode? previous = node.Previous;
            node.Previous = null;
            node.Next = null;
            node.IsLinked = false;
            node.HeapIndex = -1;
            node.NextToComplete = chain;
            chain = node;
            node = previous;
        }

        _head = null;
        _tail = null;
        Count = 0;
        Array.Clear(_countByKind, 0, _countByKind.Length);
        Array.Clear(_heap, 0, _heapCount);
        _heapCount = 0;
        return chain;
    }

    /// <summary>Converts a timeout into a deadline timestamp; <see cref="Timeout.InfiniteTimeSpan"/> gives <see cref="long.MaxValue"/>.</summary>
    internal long ToDeadline(long now, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        double ticks = timeout.TotalSeconds * _timeProvider.TimestampFrequency;
        return ticks >= long.MaxValue - now ? long.MaxValue - 1 : now + (long)ticks;
    }

    /// <summary>
    /// Arms the timer for the earliest deadline if it is earlier than the armed one. A deadline
    /// that moves later leaves the timer as it is: the early tick finds nothing due and re-arms,
    /// which is cheaper than re-arming on every grant.
    /// </summary>
    internal void RearmTimer()
    {
        // NOTE: this runs under the owner's queue bit and calls the TimeProvider (GetTimestamp,
        // CreateTimer, ITimer.Change). A custom provider that blocks or calls back into the same
        // primitive here would stall every thread spinning on that bit.
        long earliest = EarliestDeadline;
        if (earliest >= _armedDeadline)
        {
            return;
        }

        _armedDeadline = earliest;
        TimeSpan due = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), earliest);
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        if (_timer is null)
        {
            // The system timer captures the execution context, and it outlives the waiter that
            // armed it first: do not let it keep that waiter's AsyncLocal values alive.
            bool suppress = ReferenceEquals(_timeProvider, TimeProvider.System) && !ExecutionContext.IsFlowSuppressed();
            AsyncFlowControl flow = suppress ? ExecutionContext.SuppressFlow() : default;
            try
            {
                _timer = _timeProvider.CreateTimer(_onTimer, _timerState, due, Timeout.InfiniteTimeSpan);
            }
            finally
            {
                if (suppress)
                {
                    flow.Undo();
                }
            }
        }
        else
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Unlinks every waiter whose deadline has passed, claims the ones still waiting as timed
    /// out and returns those as a chain to complete after the queue bit is cleared; then re-arms
    /// the timer for the next deadline.
    /// </summary>
    internal WaiterNode? RemoveExpired()
    {
        _armedDeadline = long.MaxValue;
        long now = _timeProvider.GetTimestamp();
        WaiterNode? expired = null;
        while (_heapCount > 0 && _heap[0].Deadline <= now)
        {
            WaiterNode node = _heap[0];
            Remove(node);

            // A node claimed by its cancellation callback meanwhile is only unlinked here; the
            // callback finds it unlinked and completes it.
            if (node.TryClaim(WaiterStatus.TimedOut))
            {
                node.NextToComplete = expired;
                expired = node;
            }
        }

        RearmTimer();
        return expired;
    }

    /// <summary>Stops the timer for good; called once when the owner is disposed.</summary>
    internal void DisposeTimer()
    {
        ITimer? timer = _timer;
        _timer = null;
        _armedDeadline = long.MinValue;
        timer?.Dispose();
    }

    /// <summary>Completes every node of a chain that its caller already claimed.</summary>
    internal static void CompleteChain(WaiterNode? chain)
    {
        while (chain is not null)
        {
            WaiterNode next = chain.NextToComplete!;
            chain.NextToComplete = null;
            chain.Complete();
            chain = next;
        }
    }

    /// <summary>Claims every node of a chain for <paramref name="status"/> and completes those it won.</summary>
    internal static void ClaimAndCompleteChain(WaiterNode? chain, int status)
    {
        while (chain is not null)
        {
            WaiterNode next = chain.NextToComplete!;
            chain.NextToComplete = null;
            if (chain.TryClaim(status))
            {
                chain.Complete();
            }

            chain = next;
        }
    }

    private void Link(WaiterNode node)
    {
        node.IsLinked = true;
        Count++;
        _countByKind[node.Kind]++;
        if (node.Deadline != long.MaxValue)
        {
            AddToHeap(node);
        }
    }

    private void AddToHeap(WaiterNode node)
    {
        if (_heapCount == _heap.Length)
        {
            Array.Resize(ref _heap, Math.Max(4, _heap.Length * 2));
        }

        _heap[_heapCount] = node;
        node.HeapIndex = _heapCount;
        _heapCount++;
        SiftUp(node.HeapIndex);
    }

    private void RemoveFromHeap(int index)
    {
        WaiterNode removed = _heap[index];
        removed.HeapIndex = -1;
        _heapCount--;
        if (index != _heapCount)
        {
            WaiterNode moved = _heap[_heapCount];
            _heap[index] = moved;
            moved.HeapIndex = index;
            _heap[_heapCount] = null!;
            SiftDown(index);
            SiftUp(moved.HeapIndex);
        }
        else
        {
            _heap[_heapCount] = null!;
        }
    }

    private void SiftUp(int index)
    {
        WaiterNode node = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            WaiterNode parentNode = _heap[parent];
            if (parentNode.Deadline <= node.Deadline)
            {
                break;
            }

            _heap[index] = parentNode;
            parentNode.HeapIndex = index;
            index = parent;
        }

        _heap[index] = node;
        node.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        WaiterNode node = _heap[index];
        while (true)
        {
            int child = (index << 1) + 1;
            if (child >= _heapCount)
            {
                break;
            }

            if (child + 1 < _heapCount && _heap[child + 1].Deadline < _heap[child].Deadline)
            {
                child++;
            }

            WaiterNode childNode = _heap[child];
            if (node.Deadline <= childNode.Deadline)
            {
                break;
            }

            _heap[index] = childNode;
            childNode.HeapIndex = index;
            index = child;
        }

        _heap[index] = node;
        node.HeapIndex = index;
    }
}
