using System;
using System.Collections.Generic;
using System.Threading;

namespace Sanctuary.SystematicTests;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>. Timers that fall due run
/// their callbacks synchronously on the thread that advances the clock, in order of due time.
/// So under Coyote, the task that advances the clock plays the part of the timer thread, and
/// every timer callback is a controlled step that the engine can interleave.
/// </summary>
/// <remarks>
/// A timer created with a zero due time fires at the next <see cref="Advance"/> (which may
/// advance by zero), never inside <see cref="CreateTimer"/>: a real timer never calls back
/// before its creator has the timer object either.
/// </remarks>
internal sealed class ManualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset s_epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = new();
    private long _now;
    private long _sequence;

    /// <summary>Time elapsed since the clock was created.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Volatile.Read(ref _now));

    /// <summary>Number of timers that are scheduled to fire.</summary>
    public int ScheduledTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count;
            }
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _now);

    public override DateTimeOffset GetUtcNow() => s_epoch + Elapsed;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// Moves the clock forward by <paramref name="by"/> and runs every timer that falls due,
    /// including periodic timers as many times as their period fits.
    /// </summary>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "The clock cannot move backwards.");
        }

        long target;
        lock (_gate)
        {
            target = _now + by.Ticks;
        }

        while (true)
        {
            ManualTimer? due = null;
            lock (_gate)
            {
                foreach (ManualTimer timer in _timers)
                {
                    if (timer.DueAt <= target && (due is null || timer.DueAt < due.DueAt || (timer.DueAt == due.DueAt && timer.Sequence < due.Sequence)))
                    {
                        due = timer;
                    }
                }

                if (due is null)
                {
                    Volatile.Write(ref _now, target);
                    return;
                }

                Volatile.Write(ref _now, Math.Max(_now, due.DueAt));
                _timers.Remove(due);
                if (due.Period > 0)
                {
                    due.DueAt += due.Period;
                    due.Sequence = ++_sequence;
                    _timers.Add(due);
                }
            }

            // Outside the clock's own lock: the callback may create, change or dispose timers.
            due.Fire();
        }
    }

    /// <summary>
    /// Moves the clock forward by <paramref name="by"/> without running any timer: a deadline
    /// can pass while its timer has not fired yet, as when the timer waits for a busy thread pool.
    /// Timers that fall due run at the next <see cref="Advance"/>.
    /// </summary>
    public void Skip(TimeSpan by)
    {
        if (by < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "The clock cannot move backwards.");
        }

        lock (_gate)
        {
            Volatile.Write(ref _now, _now + by.Ticks);
        }
    }

    private void Schedule(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            timer.DueAt = _now + dueTime.Ticks;
            timer.Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            timer.Sequence = ++_sequence;
            _timers.Add(timer);
        }
    }

    private void Unschedule(ManualTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer : ITimer
    {
        private readonly ManualTimeProvider _owner;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private int _disposed;

        public ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state)
        {
            _owner = owner;
            _callback = callback;
            _state = state;
        }

        // Guarded by the owner's lock.
        public long DueAt;
        public long Period;
        public long Sequence;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return false;
            }

            if ((dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan) || (period < TimeSpan.Zero && period != Timeout.InfiniteTimeSpan))
            {
                throw new ArgumentOutOfRangeException(nameof(dueTime), $"Due time {dueTime} and period {period} must be non-negative or infinite.");
            }

            _owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Fire()
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                _callback(_state);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _owner.Unschedule(this);
            }
        }

        public System.Threading.Tasks.ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
