using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;

namespace Sanctuary.Threading;

/// <summary>
/// The waiters of a primitive that grants by priority: one unbounded channel per priority level
/// keeps the arrival order, and a <see cref="WaiterQueue"/> keeps the set of live waiters with
/// their deadlines, the deadline timer and the node pool.
/// </summary>
/// <remarks>
/// <para>
/// The first waiter is the oldest one of the highest level. With aging, a waiter moves up one
/// level each time it has waited another aging interval, and it ranks behind the waiters that
/// reached that level before it did. So a steady stream of urgent waiters delays a low-priority
/// waiter by at most three intervals plus the urgent waiters already queued at that point.
/// </para>
/// <para>
/// A channel cannot remove an item from its middle. A waiter that times out or is cancelled
/// therefore leaves the <see cref="WaiterQueue"/> at once, which is what <see cref="Count"/>
/// reports, and leaves a dead entry in its channel. Dead entries are dropped when they reach
/// the head of their channel, and every channel is compacted when dead entries outnumber the
/// live waiters (and number at least <see cref="MinDeadEntriesToCompact"/>), so the channels
/// hold at most about twice the live waiters and compaction costs amortized O(1) per waiter.
/// </para>
/// <para>
/// Every member except <see cref="Return"/> must be called by the holder of the owner's queue
/// bit. The channels' own synchronization is therefore never contended, and reading or writing
/// one never blocks.
/// </para>
/// </remarks>
internal sealed class PriorityWaiterQueue
{
    private const int MinDeadEntriesToCompact = 64;

    // A channel's ring buffer keeps the size of its largest backlog. A channel that has held more
    // entries than this is dropped once it is empty, so a burst of waiters leaves no large buffer
    // behind. Steady-state queues stay below it and reuse their buffers without allocating.
    private const int MaxRetainedBacklog = 1024;

    // Single reader and writer: the owner's queue bit serializes every access, and a single-reader
    // unbounded channel peeks without freezing its buffer (ConcurrentQueue.TryPeek, which the
    // multi-reader channel uses, stops its segment from being reused).
    private static readonly UnboundedChannelOptions s_channelOptions = new()
    {
        SingleReader = true,
        SingleWriter = true,
    };

    private readonly WaiterQueue _waiters;
    private readonly TimeProvider _timeProvider;
    private readonly long _agingTicks;
    private readonly bool _ignoreLevels;

    // Created on the first waiter of each level, so an uncontended primitive allocates none.
    private readonly Channel<Entry>?[] _channels = new Channel<Entry>?[PriorityLevels.Count];
    private readonly int[] _entryCounts = new int[PriorityLevels.Count];
    private readonly int[] _peakEntryCounts = new int[PriorityLevels.Count];
    private int _entryCount;
    private long _lastSequence;

    // Latest enqueue timestamp. Owners read the clock before they take the queue bit, so two
    // waiters can queue in the opposite order of their timestamps. Raising the later waiter's
    // timestamp to this value keeps every channel ordered by time, which ranking by heads needs.
    private long _lastEnqueuedAt = long.MinValue;

    /// <summary>
    /// Initializes an empty queue.
    /// </summary>
    /// <param name="timeProvider">Clock for deadlines and aging.</param>
    /// <param name="onTimer">Owner's callback that expires due waiters.</param>
    /// <param name="timerState">State passed to <paramref name="onTimer"/>.</param>
    /// <param name="agingInterval">Wait after which a waiter moves up one level, or <see cref="Timeout.InfiniteTimeSpan"/> for no aging.</param>
    /// <param name="ignoreLevels">Test-only seeded fault: ranks waiters by arrival alone, ignoring their levels.</param>
    internal PriorityWaiterQueue(TimeProvider timeProvider, TimerCallback onTimer, object timerState, TimeSpan agingInterval, bool ignoreLevels = false)
    {
        _timeProvider = timeProvider;
        _waiters = new WaiterQueue(timeProvider, onTimer, timerState);
        _ignoreLevels = ignoreLevels;
        if (agingInterval == Timeout.InfiniteTimeSpan)
        {
            _agingTicks = long.MaxValue;
        }
        else
        {
            double ticks = agingInterval.TotalSeconds * timeProvider.TimestampFrequency;
            _agingTicks = ticks >= long.MaxValue ? long.MaxValue : Math.Max(1, (long)ticks);
        }
    }

    /// <summary>Number of live waiters.</summary>
    internal int Count => _waiters.Count;

    /// <summary>Oldest live waiter in arrival order regardless of level, for walking every waiter through <see cref="WaiterNode.Next"/>.</summary>
    internal WaiterNode? OldestWaiter => _waiters.First;

    /// <summary>Number of channel entries, live and dead; for tests of the compaction bound.</summary>
    internal int EntryCount => _entryCount;

    private bool IsAging => _agingTicks != long.MaxValue;

    /// <summary>Rents a node from the pool, or creates one.</summary>
    internal T Rent<T>(Func<T> factory)
        where T : PriorityWaiterNode => _waiters.Rent(factory);

    /// <summary>Returns a node to the pool; safe to call from any thread without the queue bit.</summary>
    internal void Return(WaiterNode node) => _waiters.Return(node);

    /// <summary>Drops every pooled node.</summary>
    internal void ClearPool() => _waiters.ClearPool();

    /// <inheritdoc cref="WaiterQueue.ToDeadline"/>
    internal long ToDeadline(long now, TimeSpan timeout) => _waiters.ToDeadline(now, timeout);

    /// <inheritdoc cref="WaiterQueue.RearmTimer"/>
    internal void RearmTimer() => _waiters.RearmTimer();

    /// <inheritdoc cref="WaiterQueue.DisposeTimer"/>
    internal void DisposeTimer() => _waiters.DisposeTimer();

    /// <summary>
    /// Queues a prepared node behind the waiters of its level and registers its deadline. The
    /// node's <see cref="PriorityWaiterNode.Level"/> and <see cref="WaiterNode.EnqueuedAt"/> must be set.
    /// </summary>
    internal void Enqueue(PriorityWaiterNode node)
    {
        int level = node.Level;
        Debug.Assert((uint)level < PriorityLevels.Count, "The level must be a LockPriority value.");

        node.Sequence = ++_lastSequence;
        if (node.EnqueuedAt < _lastEnqueuedAt)
        {
            node.EnqueuedAt = _lastEnqueuedAt;
        }
        else
        {
            _lastEnqueuedAt = node.EnqueuedAt;
        }

        _waiters.AddLast(node);

        Channel<Entry> channel = _channels[level] ??= Channel.CreateUnbounded<Entry>(s_channelOptions);
        bool written = channel.Writer.TryWrite(new Entry(node, node.Sequence));
        Debug.Assert(written, "An unbounded channel that is never completed accepts every write.");

        _entryCount++;
        int entries = ++_entryCounts[level];
        if (entries > _peakEntryCounts[level])
        {
            _peakEntryCounts[level] = entries;
        }
    }

    /// <summary>
    /// Returns the waiter that the next grant goes to, without removing it: the oldest live waiter
    /// of the highest level, after aging. Drops dead entries that it finds at channel heads.
    /// </summary>
    internal PriorityWaiterNode? PeekFirst()
    {
        if (_waiters.Count == 0)
        {
            // Only dead entries can remain; nothing to rank.
            return null;
        }

        if (_ignoreLevels)
        {
            return PeekOldestOfAnyLevel();
        }

        if (!IsAging)
        {
            for (int level = PriorityLevels.Count - 1; level >= 0; level--)
            {
                if (PeekLiveHead(level) is { } head)
                {
                    return head;
                }
            }

            return null;
        }

        return PeekFirstWithAging(_timeProvider.GetTimestamp());
    }

    /// <summary>
    /// Removes the waiter that <see cref="PeekFirst"/> just returned from its channel and from the
    /// live set. The caller then claims it; a claim that fails means the waiter gave up meanwhile.
    /// </summary>
    internal void RemoveFirst(PriorityWaiterNode node)
    {
        int level = node.Level;
        bool read = _channels[level]!.Reader.TryRead(out Entry entry);
        Debug.Assert(read && ReferenceEquals(entry.Node, node) && entry.Sequence == node.Sequence, "RemoveFirst must follow PeekFirst.");

        OnEntryRead(level);
        _waiters.Remove(node);
    }

    /// <summary>
    /// Removes a waiter that gave up from the live set at once; its channel entry becomes dead.
    /// Does nothing if the waiter is no longer queued.
    /// </summary>
    /// <returns><see langword="true"/> if the waiter was queued.</returns>
    internal bool Remove(PriorityWaiterNode node)
    {
        if (!_waiters.Remove(node))
        {
            return false;
        }

        CompactIfMostlyDead();
        return true;
    }

    /// <summary>
    /// Removes every waiter whose deadline has passed, claims the ones still waiting as timed out
    /// and returns those as a chain to complete after the queue bit is cleared.
    /// </summary>
    internal WaiterNode? RemoveExpired()
    {
        WaiterNode? expired = _waiters.RemoveExpired();
        CompactIfMostlyDead();
        return expired;
    }

    /// <summary>
    /// Removes every waiter and drops every channel entry; returns the waiters as a chain through
    /// <see cref="WaiterNode.NextToComplete"/>.
    /// </summary>
    internal WaiterNode? RemoveAll()
    {
        WaiterNode? chain = _waiters.RemoveAll();
        for (int level = 0; level < PriorityLevels.Count; level++)
        {
            _channels[level] = null;
            _entryCounts[level] = 0;
            _peakEntryCounts[level] = 0;
        }

        _entryCount = 0;
        return chain;
    }

    private static bool IsLive(in Entry entry) =>
        entry.Node.IsLinked && entry.Node.Sequence == entry.Sequence;

    // Head of one level's channel after dropping the dead entries in front of it.
    private PriorityWaiterNode? PeekLiveHead(int level)
    {
        Channel<Entry>? channel = _channels[level];
        if (channel is null)
        {
            return null;
        }

        ChannelReader<Entry> reader = channel.Reader;
        while (reader.TryPeek(out Entry entry))
        {
            if (IsLive(entry))
            {
                return entry.Node;
            }

            reader.TryRead(out _);
            OnEntryRead(level);
        }

        return null;
    }

    private PriorityWaiterNode? PeekOldestOfAnyLevel()
    {
        PriorityWaiterNode? oldest = null;
        for (int level = 0; level < PriorityLevels.Count; level++)
        {
            PriorityWaiterNode? head = PeekLiveHead(level);
            if (head is not null && (oldest is null || head.Sequence < oldest.Sequence))
            {
                oldest = head;
            }
        }

        return oldest;
    }

    // Each channel's head is the best candidate of its channel: within one level, an older waiter
    // has aged at least as far and reached each level no later. So comparing the heads is enough.
    private PriorityWaiterNode? PeekFirstWithAging(long now)
    {
        PriorityWaiterNode? best = null;
        int bestLevel = -1;
        long bestSince = 0;
        for (int level = PriorityLevels.Count - 1; level >= 0; level--)
        {
            PriorityWaiterNode? head = PeekLiveHead(level);
            if (head is null)
            {
                continue;
            }

            int effective = EffectiveLevel(head, now, out long since);
            bool better = best is null
                || effective > bestLevel
                || (effective == bestLevel && (since < bestSince || (since == bestSince && head.Sequence < best.Sequence)));
            if (better)
            {
                best = head;
                bestLevel = effective;
                bestSince = since;
            }
        }

        return best;
    }

    // Level after aging, and the timestamp at which the waiter reached it.
    private int EffectiveLevel(PriorityWaiterNode node, long now, out long since)
    {
        long waited = now - node.EnqueuedAt;
        long steps = waited <= 0 ? 0 : waited / _agingTicks;
        long maxSteps = PriorityLevels.Count - 1 - node.Level;
        if (steps > maxSteps)
        {
            steps = maxSteps;
        }

        since = node.EnqueuedAt + (steps * _agingTicks);
        return node.Level + (int)steps;
    }

    private void OnEntryRead(int level)
    {
        _entryCount--;
        if (--_entryCounts[level] == 0 && _peakEntryCounts[level] > MaxRetainedBacklog)
        {
            _channels[level] = null;
            _peakEntryCounts[level] = 0;
        }
    }

    private void CompactIfMostlyDead()
    {
        int live = _waiters.Count;
        int dead = _entryCount - live;
        if (dead < MinDeadEntriesToCompact || dead <= live)
        {
            return;
        }

        for (int level = 0; level < PriorityLevels.Count; level++)
        {
            Compact(level);
        }
    }

    // Reads every entry of one channel once and writes the live ones back, keeping their order.
    private void Compact(int level)
    {
        Channel<Entry>? channel = _channels[level];
        if (channel is null)
        {
            return;
        }

        int entries = _entryCounts[level];
        for (int i = 0; i < entries; i++)
        {
            bool read = channel.Reader.TryRead(out Entry entry);
            Debug.Assert(read, "The entry count matches the channel's content.");
            if (IsLive(entry))
            {
                channel.Writer.TryWrite(entry);
            }
            else
            {
                OnEntryRead(level);
            }
        }
    }

    /// <summary>A queued waiter together with the arrival number it had when it was queued.</summary>
    private readonly record struct Entry(PriorityWaiterNode Node, long Sequence);
}
