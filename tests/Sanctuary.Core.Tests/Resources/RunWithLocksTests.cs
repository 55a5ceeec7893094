using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>The run-with-locks helper: result, metadata, release on every path, loss detection.</summary>
public sealed class RunWithLocksTests
{
    [Fact]
    public async Task RunAsync_Succeeds_ReturnsResultAndLeaseDetailsAndReleases()
    {
        using var registry = new ResourceRegistry();
        LockedResult<int> result = await registry.RunAsync(
            "ledger",
            async token =>
            {
                Assert.False(registry.TryAcquire("ledger", out _));
                await Task.Yield();
                return 42;
            },
            new LeaseOptions { Owner = "posting", Purpose = "post batch 9" });

        Assert.Equal(42, result.Value);
        LeaseHolder lease = Assert.Single(result.Leases);
        Assert.Equal("ledger", lease.ResourceId);
        Assert.Equal("posting", lease.Owner);
        Assert.Equal("post batch 9", lease.Purpose);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_ReleasesAndRethrows()
    {
        using var registry = new ResourceRegistry();
        await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RunAsync<int>("k", _ => throw new InvalidOperationException("boom")));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task RunAsync_ManyResources_TakesThemInOrderAndReleasesAll()
    {
        using var registry = new ResourceRegistry();
        LockedResult<string> result = await registry.RunAsync(
            new ResourceRequest[] { "b", "a", new("c", LeaseMode.Read) },
            token => Task.FromResult("done"));
        Assert.Equal(new[] { "a", "b", "c" }, Array.ConvertAll(System.Linq.Enumerable.ToArray(result.Leases), lease => lease.ResourceId));
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task RunAsync_LeaseLostDuringWork_WorkTokenFiresAndLeaseLostIsThrown()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var started = new TaskCompletionSource();
            Task<LockedResult<int>> run = registry.RunAsync(
                "k",
                async token =>
                {
                    started.SetResult();
                    await Task.Delay(Timeout.Infinite, token);
                    return 1;
                },
                new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1) });

            await Within(started.Task, "the work");
            clock.Advance(TimeSpan.FromSeconds(1));
            var error = await Assert.ThrowsAsync<LeaseLostException>(() => Within(run, "the run"));
            Assert.Equal("k", error.ResourceId);
            Assert.Equal(LeaseLossReason.Expired, error.Reason);
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task RunAsync_ExpiredSetLease_SkipsWork()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle second = registry.GetHandle("p-b");
            ResourceLease holder = second.Acquire(Owner("report-job"));
            bool ran = false;
            var options = new MultiAcquireOptions { Lease = new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) } };
            Task<LockedResult<int>> run = registry.RunAsync(
                new ResourceRequest[] { "p-a", "p-b" },
                token =>
                {
                    ran = true;
                    return Task.FromResult(1);
                },
                options);
            Assert.Equal(1, second.Entry.Gate.WaitingCount);

            clock.Advance(TimeSpan.FromMilliseconds(600));
            holder.Dispose();

            var error = await Assert.ThrowsAsync<LeaseLostException>(() => Within(run, "the run"));
            Assert.Equal("p-a", error.ResourceId);
            Assert.Equal(LeaseLossReason.Expired, error.Reason);
            Assert.False(ran, "the work ran although a lease of the set was lost");
            Assert.False(second.Entry.Gate.IsHeld, "'p-b' stayed held after the run failed");
        }
    }

    [Fact]
    public async Task RunAsync_SetWithCancelledToken_TakesNothing()
    {
        using var registry = new ResourceRegistry();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        bool ran = false;

        Task<LockedResult<int>> run = registry.RunAsync(
            new ResourceRequest[] { "a", "b" },
            token =>
            {
                ran = true;
                return Task.FromResult(1);
            },
            cancellationToken: cancellation.Token);

        Assert.True(run.IsCanceled, "the run did not return a cancelled task");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.False(ran, "the work ran with a cancelled token");
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_WorkTokenFiresAndCancellationPropagates()
    {
        using var registry = new ResourceRegistry();
        using var cancellation = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        Task<LockedResult<bool>> run = registry.RunAsync(
            "k",
            async token =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            },
            cancellationToken: cancellation.Token);
        await Within(started.Task, "the work");
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(run, "the run"));
        Assert.True(Eventually.Holds(() => registry.ResourceCount == 0));
    }
}
