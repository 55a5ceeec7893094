using Sanctuary.Resources;
using Xunit;
using Xunit.Abstractions;
using static Sanctuary.SystematicTests.Resources.RegistryScenarios;

namespace Sanctuary.SystematicTests.Resources;

/// <summary>
/// Systematic tests of the named-resource registry. Each invariant runs against the real
/// registry, where Coyote must find nothing, and against a registry with one deliberate fault,
/// where Coyote must find the violation and its trace must replay to the same bug.
/// </summary>
public sealed class RegistrySystematicTests
{
    private const string Deadlock = "Deadlock detected";
    private const string ExclusionViolated = "Mutual exclusion violated";

    private readonly ITestOutputHelper _output;

    public RegistrySystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void AcquireAllAsync_OppositeOrders_NeverDeadlocks() =>
        Liveness(200).AssertNoBug(() => OppositeOrdersAsync(RegistryFaults.None));

    [Fact]
    public void AcquireAllAsync_UnsortedOppositeOrders_DeadlockIsFound() =>
        Liveness(200).AssertBugFound(() => OppositeOrdersAsync(RegistryFaults.UnsortedMultiAcquire), Deadlock);

    [Fact]
    public void Expiry_RacesRelease_ExactlyOneFreesTheResource() =>
        Engine(300).AssertNoBug(() => ExpiryRacesReleaseAsync(RegistryFaults.None));

    [Fact]
    public void Expiry_WithoutClaimRacesRelease_DoubleFreeIsFound() =>
        Engine(300).AssertBugFound(() => ExpiryRacesReleaseAsync(RegistryFaults.ExpiryWithoutClaim), "Expiry and release both acted");

    [Fact]
    public void Heartbeat_RacesRelease_RenewalStopsForGood() =>
        Engine(200).AssertNoBug(() => RenewalRacesReleaseAsync(RegistryFaults.None));

    [Fact]
    public void Heartbeat_CheckedOutsideLockRacesRelease_RenewalAfterReleaseIsFound() =>
        Engine(200).AssertBugFound(() => RenewalRacesReleaseAsync(RegistryFaults.RenewalChecksOutsideLock), "Renewal continued after release");

    [Fact]
    public void Reclaim_ContendedKeyAndNeighbour_NeverTwoHoldersAndEndsEmpty() =>
        Engine(300).AssertNoBug(() => RecycledEntriesAsync(RegistryFaults.None));

    [Fact]
    public void Reclaim_WithoutClaim_LateJoinerOnRemovedEntryIsFound() =>
        Engine(300).AssertBugFound(
            () => RecycledEntriesAsync(RegistryFaults.ReclaimWithoutClaim),
            ExclusionViolated,
            "entries at the end"); // a joiner stranded on a removed entry either shares the key or leaks the entry

    private SystematicTest Engine(uint iterations) => new(_output) { Iterations = iterations, MaxSteps = 5_000 };

    private SystematicTest Liveness(uint iterations) => new(_output) { Iterations = iterations, FailOnMaxSteps = true, MaxSteps = 5_000 };
}
