using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.CapacityPools.CapacityPoolScenarios;

namespace Sanctuary.SystematicTests.CapacityPools;

/// <summary>
/// Systematic tests of <see cref="CapacityPool"/>. Each invariant runs against the real pool, where
/// Coyote must find nothing, and against a pool with one deliberate fault, where Coyote must find the
/// violation. With full or partial control, the trace of that violation must also replay to the same bug.
/// </summary>
public sealed class CapacityPoolSystematicTests
{
    private const string OverCommit = "Over-commit";
    private const string Deadlock = "Deadlock detected";

    // With partial control, Coyote cannot tell a deadlock from uncontrolled work that has not
    // finished yet, so it reports a deadlock as a potential one after its timeout.
    private const string PotentialDeadlock = "Potential deadlock or hang";

    // The pool creates its timeout timer with the execution context's flow suppressed, and Coyote
    // reports the check for suppression as uncontrolled. It starts no concurrent work, so
    // exploration stays systematic.
    private static readonly string[] TimerCreation = { "System.Threading.ExecutionContext.IsFlowSuppressed" };

    // A blocking request parks on a ManualResetEventSlim, which Coyote does not intercept.
    private static readonly string[] SyncParking =
    {
        "System.Threading.ManualResetEventSlim..ctor",
        "System.Threading.ManualResetEventSlim.Reset",
        "System.Threading.ManualResetEventSlim.Wait",
        "System.Threading.ManualResetEventSlim.Set",
    };

    private readonly ITestOutputHelper _output;

    public CapacityPoolSystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    // 1. Never over-committed.

    [Fact]
    public void ReserveAsync_MixedAmountsAndLevels_NeverOverCommitted() =>
        Explore(300).AssertNoBug(() => NeverOverCommittedAsync(CapacityPoolFaults.None, rounds: 2));

    [Fact]
    public void ReserveAsync_GrantBeyondAvailable_Caught() =>
        Explore(300).AssertBugFound(() => NeverOverCommittedAsync(CapacityPoolFaults.GrantBeyondAvailable, rounds: 2), OverCommit);

    [Fact]
    public void ReserveAsync_StaleReleaseReturnsUnits_Caught() =>
        Explore(300).AssertBugFound(() => NeverOverCommittedAsync(CapacityPoolFaults.ReleaseWithoutStampCheck, rounds: 2), "a second Release()", OverCommit);

    [Fact]
    public void Reserve_BlockingMixedAmounts_NeverOverCommitted() =>
        FuzzSync(300).AssertNoBug(() => NeverOverCommittedAsync(CapacityPoolFaults.None, rounds: 2, blocking: true));

    [Fact]
    public void Reserve_BlockingGrantBeyondAvailable_Caught() =>
        FuzzSync(1000).AssertBugFound(() => NeverOverCommittedAsync(CapacityPoolFaults.GrantBeyondAvailable, rounds: 3, blocking: true), OverCommit);

    // 2. When the first request gives up, the requests behind it that fit are granted at once.

    [Fact]
    public void HeadCancelled_FittingRequestBehind_GrantedAtOnce() =>
        ExploreLiveness(200).AssertNoBug(() => HeadGiveUpWakesFittingAsync(CapacityPoolFaults.None, byTimeout: false));

    [Fact]
    public void HeadCancelled_SkipGrantAfterGiveUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => HeadGiveUpWakesFittingAsync(CapacityPoolFaults.SkipGrantAfterGiveUp, byTimeout: false), Deadlock);

    [Fact]
    public void HeadTimedOut_FittingRequestBehind_GrantedAtOnce() =>
        ExploreTimedLiveness(200).AssertNoBug(() => HeadGiveUpWakesFittingAsync(CapacityPoolFaults.None, byTimeout: true));

    [Fact]
    public void HeadTimedOut_SkipGrantAfterGiveUp_Caught() =>
        ExploreTimedLiveness(200).AssertBugFound(() => HeadGiveUpWakesFittingAsync(CapacityPoolFaults.SkipGrantAfterGiveUp, byTimeout: true), PotentialDeadlock, Deadlock);

    // 3. Head-of-line blocking.

    [Fact]
    public void BlockedHead_LaterSmallRequests_DoNotPass() =>
        ExploreLiveness(200).AssertNoBug(() => NoBargingPastBlockedHeadAsync(CapacityPoolFaults.None));

    [Fact]
    public void BlockedHead_BargingSmallRequests_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => NoBargingPastBlockedHeadAsync(CapacityPoolFaults.BargePastBlockedHead), "Head-of-line blocking violated");

    // 4. Resizing while requests wait.

    [Fact]
    public void Resize_ShrinkAndGrowUnderContention_EveryRequestEndsAndPoolEndsIdle() =>
        ExploreLiveness(300).AssertNoBug(() => ResizeUnderContentionAsync(CapacityPoolFaults.None));

    [Fact]
    public void Resize_GrantBeyondAvailable_Caught() =>
        ExploreLiveness(300).AssertBugFound(() => ResizeUnderContentionAsync(CapacityPoolFaults.GrantBeyondAvailable), OverCommit);

    // 5. Every request is granted, times out or is cancelled, and the pool ends idle.

    [Fact]
    public void ReserveAsync_TimeoutsAndCancel_PoolEndsIdle() =>
        ExploreTimedLiveness(200).AssertNoBug(() => TimeoutsAndCancellationAsync(CapacityPoolFaults.None));

    [Fact]
    public void ReserveAsync_LostWakeUpOnRelease_Caught() =>
        ExploreTimedLiveness(200).AssertBugFound(() => TimeoutsAndCancellationAsync(CapacityPoolFaults.SkipGrantOnRelease), PotentialDeadlock, Deadlock);

    private SystematicTest Explore(uint iterations) => new(_output) { Iterations = iterations };

    private SystematicTest ExploreLiveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true };

    private SystematicTest ExploreTimedLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, Control = Control.Partial, ToleratedUncontrolled = TimerCreation };

    private SystematicTest FuzzSync(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Fuzzing, ToleratedUncontrolled = SyncParking };
}
