using System.Threading;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Sanctuary.SystematicTests;

/// <summary>
/// The section that a lock protects in the scenarios: counts holders on entry and exit and
/// asserts that there is never more than one. Entry and exit are separated by scheduling
/// points, so Coyote can run every other task while a holder is inside.
/// </summary>
internal sealed class CriticalSection
{
    private int _holders;
    private int _entries;

    /// <summary>How many times the section was entered.</summary>
    public int Entries => Volatile.Read(ref _entries);

    /// <summary>Holders inside right now.</summary>
    public int Holders => Volatile.Read(ref _holders);

    public void Enter(string holderName)
    {
        int holders = Interlocked.Increment(ref _holders);
        Interlocked.Increment(ref _entries);
        Specification.Assert(
            holders == 1,
            "Mutual exclusion violated: {0} entered the critical section and observed {1} holders inside; expected 1.",
            holderName,
            holders);
    }

    public void Exit(string holderName)
    {
        int holders = Interlocked.Decrement(ref _holders);
        Specification.Assert(
            holders == 0,
            "Mutual exclusion violated: {0} left the critical section and observed {1} holders still inside; expected 0.",
            holderName,
            holders);
    }

    /// <summary>
    /// Runs the critical section for an async holder: enters, lets every other task run, exits,
    /// then releases the lease and checks that a second release of the same lease does nothing.
    /// </summary>
    public async System.Threading.Tasks.Task HoldAsync(string holderName, AsyncLock.Lease lease)
    {
        Specification.Assert(lease.IsHeld, "Mutual exclusion violated: {0} was granted a lease whose IsHeld is {1}; expected True.", holderName, lease.IsHeld);
        Enter(holderName);
        SchedulingPoint.Interleave();
        await System.Threading.Tasks.Task.Yield();
        SchedulingPoint.Interleave();
        Exit(holderName);
        ReleaseOnce(holderName, lease);
    }

    /// <summary>
    /// Runs the critical section for a sync holder of a scope.
    /// </summary>
    public void Hold(string holderName, ref AsyncLock.Scope scope)
    {
        Specification.Assert(scope.IsHeld, "Mutual exclusion violated: {0} was granted a scope whose IsHeld is {1}; expected True.", holderName, scope.IsHeld);
        Enter(holderName);
        SchedulingPoint.Interleave();
        SchedulingPoint.Interleave();
        Exit(holderName);
        bool released = scope.Release();
        Specification.Assert(released, "{0}: the first Release() of its scope returned {1}; expected True.", holderName, released);
        SchedulingPoint.Interleave();
        bool again = scope.Release();
        Specification.Assert(!again, "{0}: a second Release() of the same scope returned {1}; expected False.", holderName, again);
    }

    /// <summary>
    /// Releases a lease, then releases it again after a scheduling point, when another task may
    /// hold the lock: the stale release must report false and must not free the other holder.
    /// </summary>
    public static void ReleaseOnce(string holderName, AsyncLock.Lease lease)
    {
        bool released = lease.Release();
        Specification.Assert(released, "{0}: the first Release() of its lease returned {1}; expected True.", holderName, released);
        SchedulingPoint.Interleave();
        bool again = lease.Release();
        Specification.Assert(!again, "{0}: a second Release() of the same lease returned {1}; expected False.", holderName, again);
        Specification.Assert(!lease.IsHeld, "{0}: a released lease reports IsHeld {1}; expected False.", holderName, lease.IsHeld);
    }
}
