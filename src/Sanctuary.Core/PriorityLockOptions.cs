using System;
using System.Threading;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// Settings of a <see cref="PriorityLock"/>, fixed when the lock is created.
/// </summary>
public sealed class PriorityLockOptions
{
    private TimeProvider _timeProvider = TimeProvider.System;
    private TimeSpan _agingInterval = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Name of the lock, shown in exception messages and in the debugger. When <see langword="null"/>,
    /// the lock gets a generated name such as <c>PriorityLock#7</c>.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Wait after which a queued waiter moves up one priority level, up to
    /// <see cref="LockPriority.Critical"/>, so low-priority work is delayed but never starved. A
    /// waiter that moves up ranks behind the waiters that reached that level before it. The
    /// default, <see cref="Timeout.InfiniteTimeSpan"/>, turns aging off: levels are then strict.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative and not infinite.</exception>
    public TimeSpan AgingInterval
    {
        get => _agingInterval;
        init => _agingInterval = PriorityLevels.ValidateAgingInterval(value, nameof(AgingInterval));
    }

    /// <summary>
    /// Clock that measures wait timeouts and aging and fires timeouts. The default is
    /// <see cref="TimeProvider.System"/>; tests pass a fake clock to drive both deterministically.
    /// </summary>
    /// <remarks>
    /// With <see cref="TimeProvider.System"/>, a thread waiting in a blocking acquire with a timeout
    /// ends its own wait at the deadline, so its timeout needs no free thread-pool thread. With any
    /// other provider, only the provider's timer, whose callback usually runs on the thread pool,
    /// ends a wait.
    /// </remarks>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider cannot be null. Use TimeProvider.System for the real clock.");
    }
}
