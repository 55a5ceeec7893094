using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.Scenarios;

/// <summary>A long queue of waiters that each release at once, without awaiting, when granted.</summary>
[Collection(SerialCollection.Name)]
public sealed class LongWaiterChainTests
{
    private const int WaiterCount = 10_000;
    private const int MaxFrames = 200;

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task TenThousandWaiters_ReleaseOnGrant_StackStaysFlatAndNoneRunsInsideRelease(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var depths = new int[WaiterCount];
        var insideRelease = new bool[WaiterCount];
        var probe = new ExclusionProbe();
        int failedReleases = 0;

        async Task WaiterAsync(int index)
        {
            AsyncLock.Lease lease = await gate.AcquireAsync();
            probe.Enter();
            depths[index] = new StackTrace().FrameCount;
            insideRelease[index] = ReleaseTracker.InsideRelease;
            probe.Exit();
            if (!ReleaseTracker.Release(lease))
            {
                Interlocked.Increment(ref failedReleases);
            }
        }

        Task[] waiters = Enumerable.Range(0, WaiterCount).Select(WaiterAsync).ToArray();
        Assert.Equal(WaiterCount, gate.WaitingCount);
        Assert.True(ReleaseTracker.Release(holder));

        await Waiters.WithinAsync(Task.WhenAll(waiters), TimeSpan.FromSeconds(60), "The chain of waiters");
        int deepest = depths.Max();
        int[] runInsideRelease = Enumerable.Range(0, WaiterCount).Where(i => insideRelease[i]).Take(5).ToArray();
        Assert.True(deepest < MaxFrames, $"A waiter was granted {deepest} frames deep (positions: first {depths[0]}, middle {depths[WaiterCount / 2]}, last {depths[^1]}).");
        Assert.True(runInsideRelease.Length == 0, $"Waiters ran inside another flow's Release: {string.Join(", ", runInsideRelease)}.");
        Assert.Equal(0, failedReleases);
        Assert.Equal(0, probe.Violations);
        Assert.Equal(WaiterCount, probe.Entries);
        LockAssert.IsFree(gate);
    }
}
