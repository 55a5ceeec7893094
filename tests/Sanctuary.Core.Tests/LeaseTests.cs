using System;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

public sealed class LeaseTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Default_Lease_HoldsNothingAndReleasesNothing()
    {
        AsyncLock.Lease lease = default;

        Assert.False(lease.IsHeld);
        Assert.Null(lease.Lock);
        Assert.False(lease.Release());
        lease.Dispose();
        lease.Dispose();
    }

    [Fact]
    public void DefaultLease_WhileSomeoneHoldsLock_DoesNotReleaseIt()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        AsyncLock.Lease stray = default;

        Assert.False(stray.Release());
        stray.Dispose();

        Assert.True(holder.IsHeld);
        Assert.True(gate.IsHeld);
        holder.Dispose();
    }

    [Fact]
    public void Release_Twice_ReturnsTrueOnceThenFalse()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease lease));

        Assert.True(lease.Release());
        Assert.False(lease.IsHeld);
        Assert.False(lease.Release());
        lease.Dispose();

        LockAssert.IsFree(gate);
    }

    [Fact]
    public void Release_ThroughCopy_OriginalNoLongerHeld()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease original));
        AsyncLock.Lease copy = original;

        Assert.True(copy.Release());

        Assert.False(original.IsHeld);
        Assert.False(original.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void StaleLease_AfterAnotherAcquire_NeverReleasesNewHolder()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease stale));
        stale.Dispose();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease current));

        Assert.False(stale.Release());
        stale.Dispose();

        Assert.True(current.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.False(gate.TryAcquire(out _));
        Assert.True(current.Release());
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task Dispose_TwiceAfterHandOffToWaiter_WaiterKeepsLockAndTryNowFails(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease first));
        ValueTask<AsyncLock.Lease> waiting = gate.AcquireAsync();

        first.Dispose();
        AsyncLock.Lease second = await Waiters.WithinAsync(waiting.AsTask(), s_bound, "The waiter");
        first.Dispose();

        Assert.False(gate.TryAcquire(out _), "A try-now succeeded: the stale lease released the waiter's hold.");
        Assert.True(second.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.True(second.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void Equality_CopiesEqualAndDistinctAcquisitionsDiffer()
    {
        using var gate = new AsyncLock();
        using var other = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease first));
        AsyncLock.Lease copy = first;
        first.Dispose();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease second));
        Assert.True(other.TryAcquire(out AsyncLock.Lease elsewhere));

        Assert.True(first.Equals(copy));
        Assert.True(first == copy);
        Assert.False(first != copy);
        Assert.Equal(first.GetHashCode(), copy.GetHashCode());
        Assert.True(first.Equals((object)copy));
        Assert.False(first.Equals(second));
        Assert.True(first != second);
        Assert.False(second.Equals(elsewhere));
        Assert.False(second.Equals(default));
        Assert.False(second.Equals("not a lease"));
        Assert.True(default(AsyncLock.Lease) == default);
        second.Dispose();
        elsewhere.Dispose();
    }

    [Fact]
    public async Task Lock_GrantedLease_PointsAtItsLock()
    {
        using var gate = new AsyncLock();

        AsyncLock.Lease lease = await gate.AcquireAsync();

        Assert.Same(gate, lease.Lock);
        lease.Dispose();
        Assert.Same(gate, lease.Lock);
    }

    [Fact]
    public async Task Lease_CrossesAwait_StillReleases()
    {
        using var gate = new AsyncLock();
        AsyncLock.Lease lease = await gate.AcquireAsync();

        await Task.Yield();
        await Task.Delay(1);

        Assert.True(lease.IsHeld);
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }
}
