using System;
using System.Collections.Generic;
using System.Threading;

namespace Sanctuary.Resources;

/// <summary>
/// One timer for every lease of a registry: a min-heap of due times (expiry and heartbeat) and a
/// single <see cref="ITimer"/> armed for the earliest.
/// </summary>
/// <remarks>
/// <para>
/// Each lease record has at most two items in the heap, its expiry and its next heartbeat, and
/// stores their positions, so release removes them in O(log n) without searching. Leases without
/// a time-to-live never enter the heap and never take its lock.
/// </para>
/// <para>
/// The lock guards the heap, the positions and the records' mutable timing fields
/// (<see cref="LeaseRecord.ExpiresAt"/>, missed beats). It is held for heap edits only; due items
/// are handled after it is released, so no callback, store call or token cancellation ever runs
/// under it.
/// </para>
/// </remarks>
internal sealed class LeaseScheduler : IDisposable
{
    public const int ExpiryItem = 0;
    public const int BeatItem = 1;

    private static readonly TimerCallback s_onTimer = static state => ((LeaseScheduler)state!).OnTimer();

    private readonly object _sync = new();
    private readonly RegistryClock _clock;
    private readonly Action<LeaseRecord, long, int> _onDue;
    private Item[] _heap = new Item[16];
    private int _count;
    private ITimer? _timer;
    private long _armedFor = long.MaxValue;
    private bool _disposed;

    public LeaseScheduler(RegistryClock clock, Action<LeaseRecord, long, int> onDue)
    {
        _clock = clock;
        _onDue = onDue;
    }

    /// <summary>The lock that guards the records' timing fields; callers take it to read-modify-write them.</summary>
    public object Sync => _sync;

    /// <summary>Number of scheduled items (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _count;
            }
        }
    }

    /// <summary>
    /// Places or moves the record's item of the given kind, if the life <paramref name="sequence"/>
    /// is still held (unless <paramref name="evenIfReleased"/>, which only a deliberately broken
    /// test registry passes). Call with <see cref="Sync"/> held.
    /// </summary>
    public bool SetLocked(LeaseRecord record, long sequence, int kind, long due, bool evenIfReleased = false)
    {
        if (_disposed || (!evenIfReleased && !record.IsHeld(sequence)))
        {
            return false;
        }

        ref int index = ref kind == ExpiryItem ? ref record.ExpiryIndex : ref record.BeatIndex;
        if (index >= 0)
        {
            _heap[index].Due = due;
            _heap[index].Sequence = sequence;
            if (!SiftUp(index))
            {
                SiftDown(index);
            }
        }
        else
        {
            if (_count == _heap.Length)
            {
                Array.Resize(ref _heap, _count * 2);
            }

            _heap[_count] = new Item { Due = due, Record = record, Sequence = sequence, Kind = kind };
            index = _count;
            _count++;
            SiftUp(_count - 1);
        }

        ArmLocked();
        return true;
    }

    /// <summary>Removes both items of the record, if present. Call with <see cref="Sync"/> held.</summary>
    public void RemoveLocked(LeaseRecord record)
    {
        if (record.ExpiryIndex >= 0)
        {
            RemoveAt(record.ExpiryIndex);
        }

        if (record.BeatIndex >= 0)
        {
            RemoveAt(record.BeatIndex);
        }
    }

    public void Dispose()
    {
        ITimer? timer;
        lock (_sync)
        {
            _disposed = true;
            timer = _timer;
            _timer = null;
            while (_count > 0)
            {
                RemoveAt(_count - 1);
            }
        }

        timer?.Dispose();
    }

    private void OnTimer()
    {
        // Step 1: pop every due item under the lock.
        List<Item>? due = null;
        lock (_sync)
        {
            _armedFor = long.MaxValue;
            long now = _clock.Now();
            while (_count > 0 && _heap[0].Due <= now)
            {
                Item item = _heap[0];
                RemoveAt(0);
                (due ??= new List<Item>()).Add(item);
            }

            ArmLocked();
        }

        // Step 2: handle them outside it, earliest first.
        if (due is not null)
        {
            foreach (Item item in due)
            {
                _onDue(item.Record, item.Sequence, item.Kind);
            }
        }
    }

    // Arms the timer for the earliest item if that is earlier than what it is armed for. A timer
    // armed too early finds nothing due and re-arms, which is cheaper than re-arming on every
    // removal.
    private void ArmLocked()
    {
        if (_disposed || _count == 0)
        {
            return;
        }

        long earliest = _heap[0].Due;
        if (earliest >= _armedFor)
        {
            return;
        }

        _armedFor = earliest;
        // Never zero: some clocks (the fake one in tests among them) run a timer that is due now
        // inside Change, which would run the callback under this lock.
        TimeSpan dueIn = _clock.ToSpan(earliest - _clock.Now());
        if (dueIn <= TimeSpan.Zero)
        {
            dueIn = TimeSpan.FromTicks(1);
        }

        if (_timer is null)
        {
            _timer = _clock.Provider.CreateTimer(s_onTimer, this, dueIn, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }

    private void RemoveAt(int index)
    {
        SetIndex(_heap[index], -1);
        _count--;
        if (index != _count)
        {
            _heap[index] = _heap[_count];
            SetIndex(_heap[index], index);
            _heap[_count] = default;
            if (!SiftUp(index))
            {
                SiftDown(index);
            }
        }
        else
        {
            _heap[_count] = default;
        }
    }

    private bool SiftUp(int index)
    {
        bool moved = false;
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (_heap[parent].Due <= _heap[index].Due)
            {
                break;
            }

            Swap(index, parent);
            index = parent;
            moved = true;
        }

        return moved;
    }

    private void SiftDown(int index)
    {
        while (true)
        {
            int left = (2 * index) + 1;
            if (left >= _count)
            {
                return;
            }

            int smallest = left + 1 < _count && _heap[left + 1].Due < _heap[left].Due ? left + 1 : left;
            if (_heap[index].Due <= _heap[smallest].Due)
            {
                return;
            }

            Swap(index, smallest);
            index = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_heap[a], _heap[b]) = (_heap[b], _heap[a]);
        SetIndex(_heap[a], a);
        SetIndex(_heap[b], b);
    }

    private static void SetIndex(in Item item, int index)
    {
        if (item.Kind == ExpiryItem)
        {
            item.Record.ExpiryIndex = index;
        }
        else
        {
            item.Record.BeatIndex = index;
        }
    }

    private struct Item
    {
        public long Due;
        public LeaseRecord Record;
        public long Sequence;
        public int Kind;
    }
}
