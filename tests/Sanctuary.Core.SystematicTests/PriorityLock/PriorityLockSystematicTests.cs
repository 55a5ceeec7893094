using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.PriorityLocks.PriorityLockScenarios;

namespace Sanctuary.SystematicTests.PriorityLocks;

/// <summary>
/// Systematic tests of <see cref="PriorityLock"/>. Each invariant runs against the real lock, where
/// Coyote must find nothing, and against a lock with one deliberate fault, where Coyote must find the
/// violation. With full or partial control, the trace of that violation must also replay to the same bug.
/// </summary>
public sealed class PriorityLockSystematicTests
{
    private const string ExclusionViolated = "Mutual exclusion violated";

    // A grant that frees the lock is also seen one step earlier, as a granted lease that is not held.
    private const string GrantNotHeld = "IsHeld is False";
    private const string Deadlock = "Deadlock detected";
    private const string LockLost = "Lock lost";

    // With partial control, Coyote cannot tell a deadlock from uncontrolled work that has not
    // finished yet, so it reports a deadlock as a potential one after its timeout.
    private const string PotentialDeadlock = "Potential deadlock or hang";

    // The lock creates its timeout timer with the execution context's flow suppressed, and Coyote
    // reports the check for suppression as uncontrolled. It starts no concurrent work, so
    // exploration stays systematic.
    private static readonly string[] TimerCreation = { "System.Threading.ExecutionContext.IsFlowSuppressed" };

    // A blocking waiter parks on a ManualResetEventSlim, which Coyote does not intercept.
    private static readonly string[] SyncParking =
    {
        "System.Threading.ManualResetEventSlim..ctor",
        "System.Threading.ManualResetEventSlim.Reset",
        "System.Threading.ManualResetEventSlim.Wait",
        "System.Threading.ManualResetEventSlim.Set",
    };

    private readonly ITestOutputHelper _output;

    public PriorityLockSystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    // 1. Mutual exclusion.

    [Fact]
    public void AcquireAsync_MixedLevels_OneHolder() =>
        Explore(300).AssertNoBug(() => ContendedAsync(PriorityLockFaults.None, workers: 3, rounds: 2));

    [Fact]
    public void AcquireAsync_BrokenExclusion_Caught() =>
        Explore(200).AssertBugFound(() => ContendedAsync(PriorityLockFaults.GrantWithoutExclusion, workers: 3, rounds: 2), ExclusionViolated, GrantNotHeld);

    [Fact]
    public void Acquire_BlockingMixedLevels_OneHolder() =>
        FuzzSync(300).AssertNoBug(() => ContendedAsync(PriorityLockFaults.None, workers: 3, rounds: 2, blocking: true));

    [Fact]
    public void Acquire_BlockingBrokenExclusion_Caught() =>
        FuzzSync(300).AssertBugFound(() => ContendedAsync(PriorityLockFaults.GrantWithoutExclusion, workers: 3, rounds: 2, blocking: true), ExclusionViolated, GrantNotHeld);

    // 2. Priority order, with a cancellation racing the release.

    [Fact]
    public void Release_QueuedLevels_GrantsByPriority() =>
        ExploreLiveness(200).AssertNoBug(() => GrantsByPriorityAsync(PriorityLockFaults.None));

    [Fact]
    public void Release_IgnoredPriority_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => GrantsByPriorityAsync(PriorityLockFaults.IgnorePriority), "Priority order violated");

    // 3. No starvation with aging.

    [Fact]
    public void Aging_CriticalStream_LowWaiterNotStarved() =>
        ExploreLiveness(300).AssertNoBug(() => AgingBoundsStarvationAsync(PriorityLockFaults.None));

    [Fact]
    public void Aging_IgnoredAging_StarvationCaught() =>
        ExploreLiveness(300).AssertBugFound(() => AgingBoundsStarvationAsync(PriorityLockFaults.IgnoreAging), "Starvation");

    // 4. Every waiter is granted, times out or is cancelled, and the lock ends free.

    [Fact]
    public void AcquireAsync_TimeoutsAndCancel_LockEndsFree() =>
        ExploreTimedLiveness(200).AssertNoBug(() => TimeoutsAndCancellationAsync(PriorityLockFaults.None));

    [Fact]
    public void AcquireAsync_TimeoutsLostGrant_Caught() =>
        ExploreTimedLiveness(200).AssertBugFound(() => TimeoutsAndCancellationAsync(PriorityLockFaults.GrantIgnoresCancellation), PotentialDeadlock, Deadlock, LockLost);

    // 5. No lost wake-up.

    [Fact]
    public void Release_QueuedLevels_AllGranted() =>
        ExploreLiveness(200).AssertNoBug(() => QueuedWaitersAreGrantedAsync(PriorityLockFaults.None));

    [Fact]
    public void Release_LostWakeUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(PriorityLockFaults.SkipWakeOnRelease), Deadlock);

    // 6. Cancellation racing a grant.

    [Fact]
    public void AcquireAsync_CancelRacesRelease_LockEndsFree() =>
        ExploreLiveness(300).AssertNoBug(() => CancellationRacesGrantAsync(PriorityLockFaults.None));

    [Fact]
    public void AcquireAsync_CancelLostGrant_Caught() =>
        ExploreLiveness(300).AssertBugFound(() => CancellationRacesGrantAsync(PriorityLockFaults.GrantIgnoresCancellation), Deadlock, LockLost);

    private SystematicTest Explore(uint iterations) => new(_output) { Iterations = iterations };

    private SystematicTest ExploreLiveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true };

    private SystematicTest ExploreTimedLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, Control = Control.Partial, ToleratedUncontrolled = TimerCreation };

    private SystematicTest FuzzSync(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Fuzzing, ToleratedUncontrolled = SyncParking };
}
