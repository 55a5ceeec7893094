using System;
using System.Threading.Tasks;
using FsCheck;
using FsCheck.Fluent;
using Sanctuary.Tests.Infrastructure;
using Sanctuary.Tests.Model;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests;

/// <summary>
/// Each invariant check runs against a lock with a deliberate defect and must report it. A check that
/// passes on a broken lock proves nothing on a correct one.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SeededFaultTests
{
    private static readonly TimeSpan s_shortSettle = TimeSpan.FromMilliseconds(200);
    private readonly ITestOutputHelper _output;

    public SeededFaultTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private static AsyncLock Broken(LockFaults faults, LockFairness fairness = LockFairness.Fifo) =>
        new(new AsyncLockOptions { Name = $"broken-{faults}", Fairness = fairness }, faults);

    [Fact]
    public async Task MutualExclusionStress_LockGrantsWithoutExclusion_IsNotClean()
    {
        using AsyncLock gate = Broken(LockFaults.GrantWithoutExclusion);

        Workloads.ExclusionReport report = await Workloads.MutualExclusionAsync(gate, workers: 4, iterations: 2_000, deadline: TimeSpan.FromSeconds(3), includeBlocking: false);

        // The broken hand-off shows up as two holders in the probe, as a lease whose release no longer
        // finds its hold, or as workers stranded behind a lock that nobody can release.
        _output.WriteLine(report.ToString());
        Assert.False(report.Clean, report.ToString());
    }

    [Fact]
    public async Task OverlapProbe_LockGrantsWithoutExclusion_SeesIntruderBesideGrantedWaiter()
    {
        using AsyncLock gate = Broken(LockFaults.GrantWithoutExclusion);

        ExclusionProbe probe = await Workloads.HolderOverlapAsync(gate, s_shortSettle);

        _output.WriteLine(probe.ToString());
        Assert.True(probe.Violations > 0, probe.ToString());
    }

    [Fact]
    public void HandOffCheck_LockGrantsWithoutExclusion_FindsLockFreeDuringHandOff()
    {
        Workloads.HandOffReport single = Workloads.HandOffChain(Broken(LockFaults.GrantWithoutExclusion), waiters: 1, s_shortSettle);
        Workloads.HandOffReport chain = Workloads.HandOffChain(Broken(LockFaults.GrantWithoutExclusion), waiters: 20, s_shortSettle);

        _output.WriteLine(single.ToString());
        _output.WriteLine(chain.ToString());
        Assert.True(single.FreeDuringHandOff > 0, single.ToString());
        Assert.True(chain.Stalled || chain.FreeDuringHandOff > 0 || !chain.EndedFree, chain.ToString());
    }

    [Fact]
    public void OrderCheck_LockGrantsNewestFirst_FindsOrderBroken()
    {
        Workloads.HandOffReport report = Workloads.HandOffChain(Broken(LockFaults.LifoGrant), waiters: 20, s_shortSettle);

        _output.WriteLine(report.ToString());
        Assert.False(report.InArrivalOrder, report.ToString());
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public void LivenessCheck_LockSkipsWakeOnRelease_FindsStalledWaiter(LockFairness fairness)
    {
        Workloads.HandOffReport report = Workloads.HandOffChain(Broken(LockFaults.SkipWakeOnRelease, fairness), waiters: 20, s_shortSettle);

        _output.WriteLine(report.ToString());
        Assert.True(report.Stalled, report.ToString());
    }

    // A grant to a waiter that already gave up (LockFaults.GrantIgnoresCancellation) shows only
    // in the few instructions between a cancellation claiming the waiter and unlinking it. A
    // stress run here hit that window too rarely to be a reliable check, so the systematic
    // tests own it: Coyote steers into the window on purpose (the CancelLostGrant and
    // TimeoutsLostGrant twins of AsyncLockSystematicTests).

    [Theory]
    [InlineData("SkipWakeOnRelease")]
    [InlineData("GrantWithoutExclusion")]
    [InlineData("LifoGrant")]
    public void ModelProperty_BrokenLock_FindsCounterExample(string fault)
    {
        var faults = Enum.Parse<LockFaults>(fault);
        Property property = Prop.ForAll(
            LockOperationArbitrary.SequencesWithoutShrinking(),
            sequence => LockModelRunner.Run(sequence, faults, s_shortSettle));

        Exception? failure = Record.Exception(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(1000).WithQuietOnSuccess(true)));

        Assert.NotNull(failure);
        _output.WriteLine(failure.Message);
        Assert.Contains(nameof(ModelMismatchException), failure.Message, StringComparison.Ordinal);
    }
}
