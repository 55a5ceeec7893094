using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.AsyncLockScenarios;

namespace Sanctuary.SystematicTests;

/// <summary>
/// Systematic tests of <see cref="AsyncLock"/>. Each invariant runs against the real lock, where
/// Coyote must find nothing, and against a lock with one deliberate fault, where Coyote must find
/// the violation. With full control, the trace of that violation must also replay to the same bug.
/// </summary>
public sealed class AsyncLockSystematicTests
{
    private const string ExclusionViolated = "Mutual exclusion violated";
    private const string Deadlock = "Deadlock detected";
    private const string LockLost = "Lock lost";

    // With partial control, Coyote cannot tell a deadlock from uncontrolled work that has not
    // finished yet, so it reports a deadlock as a potential one after its timeout.
    private const string PotentialDeadlock = "Potential deadlock or hang";

    // Throughput mode wakes an async waiter by queueing the waiter node itself to the thread pool
    // as an IThreadPoolWorkItem. Coyote does not intercept that call, so the woken waiter runs on a real thread.
    private static readonly string[] ThroughputWake = { "System.Threading.ThreadPool.UnsafeQueueUserWorkItem" };

    // The lock creates its timeout timer with the execution context's flow suppressed, and Coyote
    // reports the check for suppression as uncontrolled. It starts no concurrent work, so
    // exploration stays systematic.
    private static readonly string[] TimerCreation = { "System.Threading.ExecutionContext.IsFlowSuppressed" };

    // A sync waiter parks on a ManualResetEventSlim, which Coyote does not intercept.
    private static readonly string[] SyncParking =
    {
        "System.Threading.ManualResetEventSlim..ctor",
        "System.Threading.ManualResetEventSlim.Reset",
        "System.Threading.ManualResetEventSlim.Wait",
        "System.Threading.ManualResetEventSlim.Set",
    };

    private readonly ITestOutputHelper _output;

    public AsyncLockSystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    // 1. Mutual exclusion.

    [Fact]
    public void AcquireAsync_Contended_OneHolder() =>
        Explore(500).AssertNoBug(() => ContendedAsync(LockFairness.Fifo, LockFaults.None, Mode.Async, workers: 3, rounds: 2));

    [Fact]
    public void AcquireAsync_BrokenExclusion_Caught() =>
        Explore(200).AssertBugFound(() => ContendedAsync(LockFairness.Fifo, LockFaults.GrantWithoutExclusion, Mode.Async, workers: 3, rounds: 2), ExclusionViolated);

    [Fact]
    public void Acquire_Contended_OneHolder() =>
        FuzzSync(500).AssertNoBug(() => ContendedAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, workers: 3, rounds: 2));

    [Fact]
    public void Acquire_BrokenExclusion_Caught() =>
        FuzzSync(1000).AssertBugFound(() => ContendedAsync(LockFairness.Fifo, LockFaults.GrantWithoutExclusion, Mode.Sync, workers: 3, rounds: 2), ExclusionViolated);

    // 2. No lost wake-up.

    [Fact]
    public void Release_QueuedWaiters_AllGranted() =>
        ExploreLiveness(500).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.None, waiters: 3));

    [Fact]
    public void Release_LostWakeUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.SkipWakeOnRelease, waiters: 3), Deadlock);

    // 3. Every waiter is granted, times out or is cancelled, and the lock ends free.

    [Fact]
    public void AcquireAsync_TimeoutsAndCancel_LockEndsFree() =>
        ExploreTimedLiveness(500).AssertNoBug(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.None));

    [Fact]
    public void AcquireAsync_TimeoutsLostGrant_Caught() =>
        ExploreTimedLiveness(200).AssertBugFound(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation), Deadlock, PotentialDeadlock, LockLost);

    // 4. FIFO hand-off.

    [Fact]
    public void Release_FifoMode_QueueOrder() =>
        Explore(300).AssertNoBug(() => GrantsInQueueOrderAsync(LockFaults.None, waiters: 3));

    [Fact]
    public void Release_LifoGrant_Caught() =>
        Explore(100).AssertBugFound(() => GrantsInQueueOrderAsync(LockFaults.LifoGrant, waiters: 3), "FIFO order violated");

    // 5. Cancellation racing a grant.

    [Fact]
    public void AcquireAsync_CancelRacesRelease_LockEndsFree() =>
        ExploreLiveness(500).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, CancelRace.SeparateTasks));

    [Fact]
    public void AcquireAsync_CallbackRelease_LockEndsFree()
    {
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, CancelRace.ReleaseInCallbackRegisteredFirst));
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, CancelRace.ReleaseInCallbackRegisteredLast));
    }

    [Fact]
    public void AcquireAsync_CancelLostGrant_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation, CancelRace.SeparateTasks), Deadlock, LockLost);

    // 6. Throughput mode.

    [Fact]
    public void AcquireAsync_ThroughputContended_OneHolder() =>
        ExploreThroughput(300).AssertNoBug(() => ContendedAsync(LockFairness.Throughput, LockFaults.None, Mode.Async, workers: 3, rounds: 2));

    [Fact]
    public void AcquireAsync_ThroughputBrokenExclusion_Caught() =>
        ExploreThroughput(500).AssertBugFound(() => ContendedAsync(LockFairness.Throughput, LockFaults.GrantWithoutExclusion, Mode.Async, workers: 3, rounds: 2), ExclusionViolated);

    [Fact]
    public void Release_ThroughputWaiters_AllGranted() =>
        ExploreThroughputLiveness(300).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.None, waiters: 3));

    [Fact]
    public void Release_ThroughputLostWakeUp_Caught() =>
        ExploreThroughputLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.SkipWakeOnRelease, waiters: 3), Deadlock);

    private SystematicTest Explore(uint iterations) => new(_output) { Iterations = iterations };

    private SystematicTest ExploreLiveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true };

    private SystematicTest ExploreTimedLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, Control = Control.Partial, ToleratedUncontrolled = TimerCreation };

    private SystematicTest ExploreThroughput(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Partial, ToleratedUncontrolled = ThroughputWake, ReplayMayMiss = true };

    private SystematicTest ExploreThroughputLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, Control = Control.Partial, ToleratedUncontrolled = ThroughputWake, ReplayMayMiss = true };

    private SystematicTest FuzzSync(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Fuzzing, ToleratedUncontrolled = SyncParking };
}
