using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>All-or-nothing acquire of several resources in canonical order.</summary>
public sealed class MultiAcquireTests
{
    [Fact]
    public async Task OppositeOrders_ThousandRounds_NeverDeadlock()
    {
        using var registry = new ResourceRegistry();
        var probe = new ExclusionProbe();
        for (int round = 0; round < 1_000; round++)
        {
            async Task Take(string first, string second)
            {
                await using ResourceLeaseSet set = await registry.AcquireAllAsync(new[] { first, second });
                probe.Enter();
                await Task.Yield();
                probe.Exit();
            }

            Task a = Task.Run(() => Take("x", "y"));
            Task b = Task.Run(() => Take("y", "x"));
            await Waiters.WithinAsync(Task.WhenAll(a, b), TimeSpan.FromSeconds(10), $"round {round} of opposite-order acquires");
        }

        Assert.Equal(0, probe.Violations);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task OppositeOrders_HoldingFiftyMilliseconds_NeverDeadlock()
    {
        using var registry = new ResourceRegistry();
        async Task Take(string first, string second)
        {
            await using ResourceLeaseSet set = await registry.AcquireAllAsync(new[] { first, second });
            await Task.Delay(50);
        }

        Task[] pairs = Enumerable.Range(0, 10).SelectMany(_ => new[] { Task.Run(() => Take("x", "y")), Task.Run(() => Take("y", "x")) }).ToArray();
        await Waiters.WithinAsync(Task.WhenAll(pairs), TimeSpan.FromSeconds(20), "opposite-order acquires that hold 50 ms");
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task Duplicates_AreMergedAndWriteWins()
    {
        using var registry = new ResourceRegistry();
        await using (ResourceLeaseSet same = await Within(registry.AcquireAllAsync(new[] { "x", "x" }).AsTask(), "a set naming x twice"))
        {
            Assert.Single(same);
        }

        await using ResourceLeaseSet set = await registry.AcquireAllAsync(new ResourceRequest[] { new("d", LeaseMode.Read), new("c"), new("d", LeaseMode.Write), new("a", LeaseMode.Read) });
        Assert.Equal(new[] { "a", "c", "d" }, set.Select(lease => lease.ResourceId));
        Assert.Equal(LeaseMode.Write, set["d"].Mode);
        Assert.Equal(LeaseMode.Read, set["a"].Mode);
        Assert.True(set.AllHeld);
    }

    [Fact]
    public async Task Cancelled_WaitingForSecond_FirstIsFree()
    {
        using var registry = new ResourceRegistry();
        ResourceLease y = await registry.AcquireAsync("y");
        using var cancellation = new CancellationTokenSource();
        ValueTask<ResourceLeaseSet> both = registry.AcquireAllAsync(new[] { "x", "y" }, cancellationToken: cancellation.Token);
        Assert.True(Eventually.Holds(() => !registry.TryAcquire("x", out _)), "the set never took 'x'");

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(both.AsTask(), "the cancelled set"));
        Assert.True(registry.TryAcquire("x", out ResourceLease x), "'x' stayed held after the set was cancelled");
        x.Dispose();
        y.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task Timeout_NamesMissingResource()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceLease holder = await registry.AcquireAsync("b", new LeaseOptions { Owner = "report-job" });
            ValueTask<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "c", "b", "a" }, new MultiAcquireOptions { WaitTimeout = TimeSpan.FromSeconds(1) });
            clock.Advance(TimeSpan.FromSeconds(1));

            var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await Within(set.AsTask(), "the set"));
            Assert.Equal("b", error.ResourceId);
            Assert.Equal("report-job", Assert.Single(error.Holders).Owner);
            Assert.Equal(TimeSpan.FromSeconds(1), error.HeldFor);
            Assert.Contains("'a'", error.Message);
            Assert.Contains("released", error.Message);
            Assert.True(registry.TryAcquire("a", out ResourceLease a), "'a' stayed held after the set failed");
            Assert.True(registry.TryAcquire("c", out ResourceLease c), "'c' was taken although 'b' failed first");
            a.Dispose();
            c.Dispose();
            holder.Dispose();
            Assert.Equal(0, registry.ResourceCount);
        }
    }

    [Fact]
    public async Task Retry_BackoffUntilTheHolderLeaves_Succeeds()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("b");
        var options = new MultiAcquireOptions
        {
            WaitTimeout = TimeSpan.FromSeconds(10),
            Retry = new RetryPolicy { MaxAttempts = 50, AttemptTimeout = TimeSpan.FromMilliseconds(10), InitialDelay = TimeSpan.FromMilliseconds(2), MaxDelay = TimeSpan.FromMilliseconds(20) },
        };
        Task<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "a", "b" }, options).AsTask();
        await Task.Delay(60);
        Assert.False(set.IsCompleted);
        holder.Dispose();
        await using ResourceLeaseSet leases = await Within(set, "the retrying set");
        Assert.True(leases.AllHeld);
    }

    [Fact]
    public async Task Retry_AttemptsExhausted_ThrowsNamingTheResource()
    {
        using var registry = new ResourceRegistry();
        using ResourceLease holder = await registry.AcquireAsync("b");
        var options = new MultiAcquireOptions { Retry = new RetryPolicy { MaxAttempts = 3, AttemptTimeout = TimeSpan.FromMilliseconds(5), InitialDelay = TimeSpan.FromMilliseconds(1) } };
        var error = await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await registry.AcquireAllAsync(new[] { "a", "b" }, options));
        Assert.Equal("b", error.ResourceId);
        Assert.True(registry.TryAcquire("a", out ResourceLease a));
        a.Dispose();
    }

    [Fact]
    public void RetryPolicy_Delays_GrowWithinBounds()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(10), Multiplier = 2, MaxDelay = TimeSpan.FromMilliseconds(70), Jitter = 0.5 };
        var random = new Random(7);
        for (int attempt = 1; attempt <= 6; attempt++)
        {
            double full = Math.Min(10 * Math.Pow(2, attempt - 1), 70);
            TimeSpan delay = policy.DelayAfter(attempt, random);
            Assert.InRange(delay.TotalMilliseconds, (full * 0.5) - 0.001, full + 0.001);
        }
    }

    [Fact]
    public async Task AlreadyCancelledToken_TakesNothing()
    {
        using var registry = new ResourceRegistry();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        ValueTask<ResourceLeaseSet> ids = registry.AcquireAllAsync(new[] { "a", "b" }, null, cancellation.Token);
        ValueTask<ResourceLeaseSet> requests = registry.AcquireAllAsync(new ResourceRequest[] { "a", "b" }, null, cancellation.Token);

        Assert.True(ids.IsCanceled, "the ids form did not return a cancelled task");
        Assert.True(requests.IsCanceled, "the requests form did not return a cancelled task");
        var idsError = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await ids);
        var requestsError = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await requests);
        Assert.Equal(cancellation.Token, idsError.CancellationToken);
        Assert.Equal(cancellation.Token, requestsError.CancellationToken);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task ExpiredLease_ThrowsLeaseLost()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle second = registry.GetHandle("p-b");
            ResourceLease holder = second.Acquire(Owner("report-job"));
            var options = new MultiAcquireOptions { Lease = new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) } };
            ValueTask<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "p-a", "p-b" }, options);
            Assert.Equal(1, second.Entry.Gate.WaitingCount);

            // The set's lease on 'p-a' runs out while it waits for 'p-b', and another owner takes 'p-a'.
            clock.Advance(TimeSpan.FromMilliseconds(200));
            Assert.True(registry.TryAcquire("p-a", out ResourceLease successor, Owner("successor")), "'p-a' stayed held after its lease ran out");
            clock.Advance(TimeSpan.FromMilliseconds(400));
            holder.Dispose();

            var error = await Assert.ThrowsAsync<LeaseLostException>(async () => await Within(set.AsTask(), "the set"));
            Assert.Equal("p-a", error.ResourceId);
            Assert.Equal(LeaseLossReason.Expired, error.Reason);
            Assert.NotEqual(successor.LeaseId, error.LeaseId);
            Assert.Contains("Cannot complete the all-or-nothing acquire with lease", error.Message);
            Assert.True(successor.IsHeld, "the failed set released the successor's lease");
            Assert.Equal(0, second.Entry.Gate.WaitingCount);
            Assert.False(second.Entry.Gate.IsHeld, "'p-b' stayed held after the set failed");
            successor.Dispose();
        }
    }

    [Fact]
    public async Task ExpiredLease_RetriesNewSet()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            ResourceHandle first = registry.GetHandle("p-a");
            ResourceHandle second = registry.GetHandle("p-b");
            ResourceLease holder = second.Acquire(Owner("report-job"));
            var options = new MultiAcquireOptions
            {
                WaitTimeout = TimeSpan.FromSeconds(10),
                Lease = new LeaseOptions { TimeToLive = TimeSpan.FromMilliseconds(200) },
                Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromSeconds(5), InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 },
            };
            Task<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "p-a", "p-b" }, options).AsTask();
            Assert.Equal(1, second.Entry.Gate.WaitingCount);
            long lostToken = HolderToken(registry, "p-a");

            clock.Advance(TimeSpan.FromMilliseconds(200));
            Assert.False(first.Entry.Gate.IsHeld, "'p-a' stayed held after its lease ran out");
            holder.Dispose();

            // The failed attempt pauses on the fake clock; step until the second attempt completes.
            Assert.True(Eventually.Holds(() =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
                return set.IsCompleted;
            }), "the set never made its second attempt");

            await using ResourceLeaseSet leases = await set;
            Assert.True(leases.AllHeld);
            Assert.True(leases["p-a"].FencingToken > lostToken, "the set kept the lease that had run out");
        }
    }

    [Fact]
    public async Task DisposedDuringBackoff_ThrowsAtOnce()
    {
        var (registry, clock) = CreateWithFakeClock();
        ResourceHandle first = registry.GetHandle("a");
        ResourceHandle second = registry.GetHandle("b");
        ResourceLease holder = second.Acquire();
        var options = new MultiAcquireOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(100), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
        };
        Task<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "a", "b" }, options).AsTask();
        Assert.Equal(1, second.Entry.Gate.WaitingCount);

        // The first attempt times out; the set then pauses for an hour of the fake clock.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(Eventually.Holds(() => second.Entry.Gate.WaitingCount == 0 && !first.Entry.Gate.IsHeld), "the first attempt never gave up");
        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(set, "the pausing set"));
        Assert.Equal(LeaseReleaseResult.Expired, holder.Release());
    }

    [Fact]
    public async Task SystemClockBackoffDisposed_Throws()
    {
        var registry = new ResourceRegistry();
        ResourceHandle first = registry.GetHandle("a");
        ResourceHandle second = registry.GetHandle("b");
        second.Acquire();
        var options = new MultiAcquireOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(10), InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 },
        };
        Task<ResourceLeaseSet> set = registry.AcquireAllAsync(new[] { "a", "b" }, options).AsTask();
        Assert.True(Eventually.Holds(() => second.Entry.Gate.WaitingCount == 0 && !first.Entry.Gate.IsHeld), "the first attempt never gave up");

        registry.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Within(set, "the pausing set"));
    }

    [Fact]
    public async Task LeaseSet_AnyLeaseLost_TokenFires()
    {
        var (registry, clock) = CreateWithFakeClock();
        using (registry)
        {
            var options = new MultiAcquireOptions { Lease = new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1) } };
            ResourceLeaseSet set = await registry.AcquireAllAsync(new[] { "a", "b" }, options);
            CancellationToken lost = set.LostToken;
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.True(lost.IsCancellationRequested);
            Assert.False(set.AllHeld);
            Assert.Equal(new[] { LeaseReleaseResult.Expired, LeaseReleaseResult.Expired }, set.Release());
        }
    }

    // The fencing token of the resource's sole holder, or 0 when no lease holds it.
    private static long HolderToken(ResourceRegistry registry, string resourceId) =>
        registry.GetSnapshot().Resources.FirstOrDefault(resource => resource.ResourceId == resourceId)?.Holders.SingleOrDefault()?.FencingToken ?? 0;
}
