using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.ReaderWriterLock.ReaderWriterLockScenarios;

namespace Sanctuary.SystematicTests.ReaderWriterLock;

/// <summary>
/// Systematic tests of <see cref="AsyncReaderWriterLock"/>. Each invariant runs against the real
/// lock, where Coyote must find nothing, and against a lock with one deliberate fault, where Coyote
/// must find the violation and the trace it emits must replay to the same bug.
/// </summary>
public sealed class ReaderWriterLockSystematicTests
{
    private const string Deadlock = "Deadlock detected";

    // With partial control, Coyote cannot tell a deadlock from uncontrolled work that has not
    // finished yet, so it reports a deadlock as a potential one after its timeout.
    private const string PotentialDeadlock = "Potential deadlock or hang";

    // The waiter queue creates its timeout timer with the execution context's flow suppressed, and
    // Coyote reports the check for suppression as uncontrolled. It starts no concurrent work.
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

    public ReaderWriterLockSystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    // 1. Never a writer with anyone else.

    [Fact]
    public void AcquireAsync_ReadersWriterAndUpgrader_WriterAlwaysAlone() =>
        Liveness(200).AssertNoBug(() => ExclusionAsync(ReaderWriterLockFaults.None, Mode.Async));

    [Fact]
    public void AcquireAsync_WriterGrantedWithReaders_ViolationIsFound() =>
        Liveness(200).AssertBugFound(() => ExclusionAsync(ReaderWriterLockFaults.GrantWriterWithReaders, Mode.Async), ReaderWriterSection.ExclusionViolated, LockLost);

    [Fact]
    public void Acquire_BlockingReaderAndWriterWithAsyncOthers_WriterAlwaysAlone() =>
        FuzzSync(300).AssertNoBug(() => ExclusionAsync(ReaderWriterLockFaults.None, Mode.Sync));

    [Fact]
    public void Acquire_BlockingWriterGrantedWithReaders_ViolationIsFound() =>
        FuzzSync(1000).AssertBugFound(() => ExclusionAsync(ReaderWriterLockFaults.GrantWriterWithReaders, Mode.Sync), ReaderWriterSection.ExclusionViolated, LockLost);

    [Fact]
    public void UpgradeAsync_UpgradeGrantedWithReaders_ViolationIsFound() =>
        Liveness(200).AssertBugFound(() => ExclusionAsync(ReaderWriterLockFaults.UpgradeIgnoresReaders, Mode.Async), ReaderWriterSection.ExclusionViolated, LockLost);

    // 2. Writer preference: a reader that arrives after a writer queued is not admitted before it.

    [Fact]
    public void AcquireReadAsync_WriterQueuedFirst_WriterEntersBeforeLateReaders() =>
        Liveness(200).AssertNoBug(() => WriterPreferenceAsync(ReaderWriterLockFaults.None));

    [Fact]
    public void AcquireReadAsync_ReadersAdmittedPastWaitingWriter_PreferenceViolationIsFound() =>
        Liveness(200).AssertBugFound(() => WriterPreferenceAsync(ReaderWriterLockFaults.AdmitReadersPastWaitingWriter), PreferenceViolated);

    // 3. No lost wake-up when a waiting writer gives up.

    [Fact]
    public void AcquireWriteAsync_WaitingWriterCancelled_ReadersBehindItAdmittedAndAllFinish() =>
        Liveness(200).AssertNoBug(() => WriterGivesUpAsync(ReaderWriterLockFaults.None, GiveUp.Cancellation));

    [Fact]
    public void AcquireWriteAsync_WaitingWriterTimesOut_ReadersBehindItAdmittedAndAllFinish() =>
        TimedLiveness(200).AssertNoBug(() => WriterGivesUpAsync(ReaderWriterLockFaults.None, GiveUp.Timeout));

    [Fact]
    public void AcquireWriteAsync_CancelledWriterSkipsDispatch_LostWakeUpIsFound() =>
        Liveness(200).AssertBugFound(() => WriterGivesUpAsync(ReaderWriterLockFaults.SkipDispatchOnWriterGiveUp, GiveUp.Cancellation), Deadlock);

    [Fact]
    public void AcquireWriteAsync_TimedOutWriterSkipsDispatch_LostWakeUpIsFound() =>
        TimedLiveness(200).AssertBugFound(() => WriterGivesUpAsync(ReaderWriterLockFaults.SkipDispatchOnWriterGiveUp, GiveUp.Timeout), Deadlock, PotentialDeadlock);

    // 4. Upgrades never deadlock.

    [Theory]
    [InlineData(ReaderWriterPreference.Writer)]
    [InlineData(ReaderWriterPreference.Reader)]
    public void UpgradeAsync_UpgradersReadersAndWriters_AllFinish(ReaderWriterPreference preference) =>
        Liveness(200).AssertNoBug(() => UpgradesAsync(ReaderWriterLockFaults.None, preference));

    [Fact]
    public void UpgradeAsync_UpgradeYieldsToQueuedWriters_DeadlockIsFound() =>
        Liveness(200).AssertBugFound(() => UpgradesAsync(ReaderWriterLockFaults.UpgradeYieldsToWaitingWriters, ReaderWriterPreference.Writer), Deadlock);

    private SystematicTest Liveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true, MaxSteps = 3_000 };

    private SystematicTest TimedLiveness(uint iterations) =>
        new(_output) { Iterations = iterations, FailOnMaxSteps = true, MaxSteps = 3_000, Control = Control.Partial, ToleratedUncontrolled = TimerCreation };

    private SystematicTest FuzzSync(uint iterations) =>
        new(_output) { Iterations = iterations, Control = Control.Fuzzing, ToleratedUncontrolled = SyncParking };
}
