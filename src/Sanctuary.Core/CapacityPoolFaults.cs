using System;

namespace Sanctuary;

/// <summary>
/// Deliberate defects of a <see cref="CapacityPool"/> that tests switch on to prove that their
/// invariant checks catch a broken pool. Production code never sets them.
/// </summary>
[Flags]
internal enum CapacityPoolFaults
{
    None = 0,

    /// <summary>Grants the first waiter even when its amount exceeds the available units (over-commit).</summary>
    GrantBeyondAvailable = 1,

    /// <summary>A waiter that times out or is cancelled leaves the queue without letting the waiters behind it in.</summary>
    SkipGrantAfterGiveUp = 2,

    /// <summary>A release that finds waiters returns its units and wakes no request (a lost wake-up).</summary>
    SkipGrantOnRelease = 4,

    /// <summary>Releasing a stale or already released reservation returns its units again.</summary>
    ReleaseWithoutStampCheck = 8,

    /// <summary>A small request takes available units ahead of a blocked head (no head-of-line blocking).</summary>
    BargePastBlockedHead = 16,

    /// <summary>Grants go to the oldest waiter of any level (priority ignored).</summary>
    IgnorePriority = 32,
}
