using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.AsyncLockScenarios;

namespace Sanctuary.SystematicTests;

/// <summary>
/// Systematic tests of <see cref="AsyncLock"/>. Each invariant runs against the real lock, where
/// Coyote must find nothing, and against a lock with one deliberate fault, where Coyote must find
/// the violation. With full control, the trace of that violation must also replay to the same bug.
/// </summary>
/// <remarks>
/// Everything runs with full control except async waiters in throughput mode, which
/// <see cref="ThroughputWake"/> explains. Sync waiters park on a monitor, timeouts fire from a
/// <see cref="ManualTimeProvider"/>, and a cancelled waiter reads its outcome whenever the
/// schedule lets it, so Coyote controls every step of those tests and every bug trace replays.
/// </remarks>
public sealed class AsyncLockSystematicTests
{
    private const string ExclusionViolated = "Mutual exclusion violated";
    private const string Deadlock = "Deadlock detected";
    private const string LockLost = "Lock lost";
    private const string FifoViolated = "FIFO order violated";

    // Throughput mode wakes an async waiter by queueing the waiter node itself to the thread pool
    // as an IThreadPoolWorkItem. Coyote does not intercept that call, so the woken waiter runs on a
    // real thread. A woken sync waiter competes on its own, controlled, task instead.
    private static readonly string[] ThroughputWake = { "System.Threading.ThreadPool.UnsafeQueueUserWorkItem" };

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
        Explore(500).AssertNoBug(() => ContendedAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, workers: 3, rounds: 2));

    [Fact]
    public void Acquire_BrokenExclusion_Caught() =>
        Explore(200).AssertBugFound(() => ContendedAsync(LockFairness.Fifo, LockFaults.GrantWithoutExclusion, Mode.Sync, workers: 3, rounds: 2), ExclusionViolated);

    // 2. No lost wake-up.

    [Fact]
    public void Release_QueuedWaiters_AllGranted() =>
        ExploreLiveness(500).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.None, Mode.Async, waiters: 3));

    [Fact]
    public void Release_LostWakeUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.SkipWakeOnRelease, Mode.Async, waiters: 3), Deadlock);

    [Fact]
    public void Release_QueuedSyncWaiters_AllGranted() =>
        ExploreLiveness(500).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, waiters: 3));

    [Fact]
    public void Release_SyncLostWakeUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Fifo, LockFaults.SkipWakeOnRelease, Mode.Sync, waiters: 3), Deadlock);

    // 3. Every waiter is granted, times out or is cancelled, and the lock ends free.

    [Fact]
    public void AcquireAsync_TimeoutsAndCancel_LockEndsFree() =>
        ExploreLiveness(500).AssertNoBug(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.None, Mode.Async));

    [Fact]
    public void AcquireAsync_TimeoutsLostGrant_Caught() =>
        ExploreLiveness(300).AssertBugFound(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation, Mode.Async), Deadlock, LockLost);

    [Fact]
    public void Acquire_TimeoutsAndCancel_LockEndsFree() =>
        ExploreLiveness(500).AssertNoBug(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync));

    [Fact]
    public void Acquire_TimeoutsLostGrant_Caught() =>
        ExploreLiveness(300).AssertBugFound(() => TimeoutsAndCancellationAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation, Mode.Sync), Deadlock, LockLost);

    // 4. FIFO hand-off.

    [Fact]
    public void Release_FifoMode_QueueOrder() =>
        Explore(300).AssertNoBug(() => GrantsInQueueOrderAsync(LockFaults.None, Mode.Async, waiters: 3));

    [Fact]
    public void Release_LifoGrant_Caught() =>
        Explore(100).AssertBugFound(() => GrantsInQueueOrderAsync(LockFaults.LifoGrant, Mode.Async, waiters: 3), FifoViolated);

    [Fact]
    public void Release_MixedWaiters_QueueOrder() =>
        Explore(300).AssertNoBug(() => GrantsInQueueOrderAsync(LockFaults.None, Mode.Mixed, waiters: 4));

    [Fact]
    public void Release_MixedWaitersLifoGrant_Caught() =>
        Explore(100).AssertBugFound(() => GrantsInQueueOrderAsync(LockFaults.LifoGrant, Mode.Mixed, waiters: 4), FifoViolated);

    // 5. Cancellation racing a grant.

    [Fact]
    public void AcquireAsync_CancelRacesRelease_LockEndsFree() =>
        ExploreLiveness(500).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Async, CancelRace.SeparateTasks));

    [Fact]
    public void AcquireAsync_CallbackRelease_LockEndsFree()
    {
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Async, CancelRace.ReleaseInCallbackRegisteredFirst));
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Async, CancelRace.ReleaseInCallbackRegisteredLast));
    }

    [Fact]
    public void AcquireAsync_CancelLostGrant_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation, Mode.Async, CancelRace.SeparateTasks), Deadlock, LockLost);

    [Fact]
    public void Acquire_CancelRacesRelease_LockEndsFree() =>
        ExploreLiveness(500).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, CancelRace.SeparateTasks));

    [Fact]
    public void Acquire_CallbackRelease_LockEndsFree()
    {
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, CancelRace.ReleaseInCallbackRegisteredFirst));
        ExploreLiveness(200).AssertNoBug(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.None, Mode.Sync, CancelRace.ReleaseInCallbackRegisteredLast));
    }

    [Fact]
    public void Acquire_CancelLostGrant_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => CancellationRacesGrantAsync(LockFairness.Fifo, LockFaults.GrantIgnoresCancellation, Mode.Sync, CancelRace.SeparateTasks), Deadlock, LockLost);

    // 6. Throughput mode. Async waiters are woken on a real thread (see ThroughputWake), so their
    // traces may not replay. Sync waiters stay under full control.

    [Fact]
    public void AcquireAsync_ThroughputContended_OneHolder() =>
        ExploreThroughput(300).AssertNoBug(() => ContendedAsync(LockFairness.Throughput, LockFaults.None, Mode.Async, workers: 3, rounds: 2));

    [Fact]
    public void AcquireAsync_ThroughputBrokenExclusion_Caught() =>
        ExploreThroughput(500).AssertBugFound(() => ContendedAsync(LockFairness.Throughput, LockFaults.GrantWithoutExclusion, Mode.Async, workers: 3, rounds: 2), ExclusionViolated);

    [Fact]
    public void Release_ThroughputWaiters_AllGranted() =>
        ExploreThroughputLiveness(300).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.None, Mode.Async, waiters: 3));

    [Fact]
    public void Release_ThroughputLostWakeUp_Caught() =>
        ExploreThroughputLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.SkipWakeOnRelease, Mode.Async, waiters: 3), Deadlock);

    [Fact]
    public void Acquire_ThroughputContended_OneHolder() =>
        Explore(300).AssertNoBug(() => ContendedAsync(LockFairness.Throughput, LockFaults.None, Mode.Sync, workers: 3, rounds: 2));

    [Fact]
    public void Acquire_ThroughputBrokenExclusion_Caught() =>
        Explore(500).AssertBugFound(() => ContendedAsync(LockFairness.Throughput, LockFaults.GrantWithoutExclusion, Mode.Sync, workers: 3, rounds: 2), ExclusionViolated);

    [Fact]
    public void Release_ThroughputSyncWaiters_AllGranted() =>
        ExploreLiveness(300).AssertNoBug(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.None, Mode.Sync, waiters: 3));

    [Fact]
    public void Release_ThroughputSyncLostWakeUp_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => QueuedWaitersAreGrantedAsync(LockFairness.Throughput, LockFaults.SkipWakeOnRelease, Mode.Sync, waiters: 3), Deadlock);

    private SystematicTest Explore(uint iterations) => new(_output) { Iterations = iterations };

    // A blocked thread's own timeout: the timer path run by another thread than the timer.

    [Fact]
    public void SelfTimeout_ReleaseRace_NoGrantLost() =>
        ExploreLiveness(500).AssertNoBug(() => SelfTimeoutRaceAsync(LockFairness.Fifo, LockFaults.None));

    [Fact]
    public void SelfTimeout_SkippedWake_Caught() =>
        ExploreLiveness(200).AssertBugFound(() => SelfTimeoutRaceAsync(LockFairness.Fifo, LockFaults.SkipWakeOnRelease), Deadlock);

    private SystematicTest ExploreLiveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true };

    private SystematicTest ExploreThroughput(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Partial, ToleratedUncontrolled = ThroughputWake, ReplayMayMiss = true };

    private SystematicTest ExploreThroughputLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, Control = Control.Partial, ToleratedUncontrolled = ThroughputWake, ReplayMayMiss = true };
}
