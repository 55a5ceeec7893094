using System;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.Scenarios;

[Collection(SerialCollection.Name)]
public sealed class MutualExclusionStressTests
{
    private readonly ITestOutputHelper _output;

    public MutualExclusionStressTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task EveryAcquireForm_FourWorkers_NeverTwoHoldersAndEndsFree(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        Workloads.ExclusionReport report = await Workloads.MutualExclusionAsync(gate, workers: 4, iterations: 5_000, deadline: TimeSpan.FromSeconds(30));

        _output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        Assert.Equal(1, report.Probe.MaxInside);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task TryNow_WhileGrantedWaiterIsInside_Fails(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        ExclusionProbe probe = await Workloads.HolderOverlapAsync(gate, TimeSpan.FromSeconds(5));

        Assert.Equal(0, probe.Violations);
        Assert.Equal(2, probe.Entries);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public void HandOffChain_HundredWaiters_ArrivalOrderAndNeverFreeInBetween(LockFairness fairness)
    {
        var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        Workloads.HandOffReport report = Workloads.HandOffChain(gate, waiters: 100, settle: TimeSpan.FromSeconds(5));

        Assert.False(report.Stalled, report.ToString());
        Assert.True(report.InArrivalOrder, report.ToString());
        Assert.True(report.EndedFree, report.ToString());
        if (fairness == LockFairness.Fifo)
        {
            Assert.Equal(0, report.FreeDuringHandOff);
        }
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task CancelChasingHandOffChain_TwoThousandWaiters_EveryGrantReachesLiveWaiter(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        Workloads.SweepReport report = await Workloads.CancelSweepAgainstHandOffAsync(gate, waiters: 2_000, TimeSpan.FromSeconds(30));

        _output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public void GrantAfterGiveUp_CancelledWaiterAheadInQueue_NextWaiterGetsLock(LockFairness fairness)
    {
        var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        Workloads.GiveUpReport report = Workloads.GrantAfterGiveUp(gate, TimeSpan.FromSeconds(5));

        Assert.True(report.Clean, report.ToString());
    }
}
