using System;
using System.Threading;
using Sanctuary.Threading;

namespace Sanctuary;

/// <summary>
/// Settings of a <see cref="CapacityPool"/>, fixed when the pool is created. The total is not a
/// setting: it is a constructor argument and changes with <see cref="CapacityPool.Resize"/>.
/// </summary>
public sealed class CapacityPoolOptions
{
    private TimeProvider _timeProvider = TimeProvider.System;
    private TimeSpan _agingInterval = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Name of the pool, shown in exception messages and in the debugger. When <see langword="null"/>,
    /// the pool gets a generated name such as <c>CapacityPool#3</c>.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Wait after which a queued request moves up one priority level, up to
    /// <see cref="LockPriority.Critical"/>. The default, <see cref="Timeout.InfiniteTimeSpan"/>,
    /// turns aging off: levels are then strict.
    /// </summary>
    /// <remarks>
    /// The pool ranks its queue again at each release, arrival, give-up and resize. A request
    /// that becomes the first one only because it aged, and fits, is granted at the next of
    /// those events, not at the moment it moves up.
    /// </remarks>
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
    /// With <see cref="TimeProvider.System"/>, a thread blocked in <c>Reserve</c> or <c>TryReserve</c>
    /// with a timeout ends its own wait at the deadline, so its timeout needs no free thread-pool
    /// thread. With any other provider, only the provider's timer, whose callback usually runs on
    /// the thread pool, ends a wait.
    /// </remarks>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider cannot be null. Use TimeProvider.System for the real clock.");
    }
}
