using System;

namespace Sanctuary;

/// <summary>
/// Settings of an <see cref="AsyncLock"/>, fixed when the lock is created.
/// </summary>
public sealed class AsyncLockOptions
{
    private int _maxPassOvers = 4;
    private TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>
    /// Name of the lock, shown in exception messages and in the debugger. When <see langword="null"/>,
    /// the lock gets a generated name such as <c>AsyncLock#7</c>.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Policy for handing the lock over under contention. The default is <see cref="LockFairness.Fifo"/>.
    /// </summary>
    public LockFairness Fairness { get; init; } = LockFairness.Fifo;

    /// <summary>
    /// Number of times a woken waiter may lose the lock to a barging acquirer in
    /// <see cref="LockFairness.Throughput"/> mode before the next release hands the lock to it
    /// directly. Must be at least 1; the default is 4. Ignored in <see cref="LockFairness.Fifo"/> mode.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxPassOvers
    {
        get => _maxPassOvers;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(MaxPassOvers),
                    value,
                    $"MaxPassOvers must be at least 1, but was {value}. Use 1 to hand the lock to a waiter after its first lost race.");
            }

            _maxPassOvers = value;
        }
    }

    /// <summary>
    /// Clock that measures wait timeouts and fires them. The default is <see cref="TimeProvider.System"/>;
    /// tests pass a fake clock to drive timeouts deterministically.
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
