using System;

namespace Sanctuary;

/// <summary>
/// Deliberate defects of a <see cref="PriorityLock"/> that tests switch on to prove that their
/// invariant checks catch a broken lock. Production code never sets them.
/// </summary>
[Flags]
internal enum PriorityLockFaults
{
    None = 0,

    /// <summary>Release hands the lock to the next waiter and also frees it (two holders).</summary>
    GrantWithoutExclusion = 1,

    /// <summary>Release with waiters frees the lock and wakes no waiter (a lost wake-up).</summary>
    SkipWakeOnRelease = 2,

    /// <summary>Release hands the lock to the oldest waiter of any level (priority ignored).</summary>
    IgnorePriority = 4,

    /// <summary>Waiters never move up a level, whatever the aging interval (starvation).</summary>
    IgnoreAging = 8,

    /// <summary>Release hands the lock to the next waiter even when it already gave up (a lost grant).</summary>
    GrantIgnoresCancellation = 16,

    /// <summary>A cancelled waiter stays queued and counted until a release skips it.</summary>
    CancelledWaitersLinger = 32,
}
