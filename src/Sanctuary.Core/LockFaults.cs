using System;

namespace Sanctuary;

/// <summary>
/// Deliberate defects that tests switch on to prove that their invariant checks catch a broken lock.
/// Production code never sets them.
/// </summary>
[Flags]
internal enum LockFaults
{
    None = 0,

    /// <summary>Release with waiters frees the lock and wakes nobody (a lost wake-up).</summary>
    SkipWakeOnRelease = 1,

    /// <summary>Release hands the lock to the oldest waiter and also frees it (two holders).</summary>
    GrantWithoutExclusion = 2,

    /// <summary>Release hands the lock to the newest waiter instead of the oldest.</summary>
    LifoGrant = 4,

    /// <summary>Release hands the lock to the oldest waiter even when it already gave up (a lost grant).</summary>
    GrantIgnoresCancellation = 8,
}
