namespace Sanctuary;

/// <summary>
/// Policy that decides who gets a lock when its holder releases it while others wait.
/// </summary>
public enum LockFairness
{
    /// <summary>
    /// Release hands the lock straight to the oldest waiter, so no running thread can take it
    /// first and no waiter is ever passed over. Every contended hand-off costs one thread-pool
    /// dispatch for async waiters.
    /// </summary>
    Fifo = 0,

    /// <summary>
    /// Release frees the lock and wakes the oldest waiter, and a running acquirer may take the
    /// free lock before the woken waiter runs. A waiter passed over
    /// <see cref="AsyncLockOptions.MaxPassOvers"/> times gets the next release handed to it
    /// directly, so no waiter starves.
    /// </summary>
    Throughput = 1,
}
