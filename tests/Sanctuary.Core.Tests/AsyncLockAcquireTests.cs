using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockAcquireTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void AcquireAsync_Uncontended_CompletesSynchronouslyWithHeldLease()
    {
        using var gate = new AsyncLock();

        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync();

        Assert.True(pending.IsCompletedSuccessfully);
        AsyncLock.Lease lease = Waiters.Consume(pending).Lease;
        Assert.True(lease.IsHeld);
        Assert.Same(gate, lease.Lock);
        Assert.True(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryAsyncForm_Uncontended_CompletesSynchronously(int form)
    {
        using var gate = new AsyncLock();

        ValueTask<AsyncLock.Lease> pending = form switch
        {
            0 => gate.AcquireAsync(TimeSpan.FromSeconds(1)),
            1 => gate.AcquireAsync(1000),
            2 => gate.TryAcquireAsync(TimeSpan.FromSeconds(1)),
            3 => gate.TryAcquireAsync(1000),
            _ => gate.AcquireAsync(Timeout.InfiniteTimeSpan, CancellationToken.None),
        };

        Assert.True(pending.IsCompletedSuccessfully);
        AsyncLock.Lease lease = Waiters.Consume(pending).Lease;
        Assert.True(lease.IsHeld);
        lease.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void TryAcquire_Free_TakesLock()
    {
        using var gate = new AsyncLock();

        Assert.True(gate.TryAcquire(out AsyncLock.Lease lease));

        Assert.True(lease.IsHeld);
        Assert.True(gate.IsHeld);
        lease.Dispose();
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void TryAcquire_Held_FailsWithDefaultLeaseAndDoesNotQueue()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        Assert.False(gate.TryAcquire(out AsyncLock.Lease refused));

        Assert.False(refused.IsHeld);
        Assert.Null(refused.Lock);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
    }

    [Fact]
    public async Task AcquireAsync_Held_WaitsUntilHolderReleases()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync();

        Assert.False(pending.IsCompleted);
        Assert.Equal(1, gate.WaitingCount);
        Assert.True(holder.Release());
        AsyncLock.Lease lease = await Waiters.WithinAsync(pending.AsTask(), s_bound, "The queued acquire");
        Assert.True(lease.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void Release_FifoWithWaiter_HandsLockStraightToWaiter()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync();

        Assert.True(holder.Release());

        // A barging try-now right after the release must fail because the waiter already owns the lock.
        Assert.False(gate.TryAcquire(out _));
        Assert.True(gate.IsHeld);
        Assert.True(pending.IsCompleted, "A FIFO hand-off should complete the waiter during the release.");
        AsyncLock.Lease lease = Waiters.Consume(pending).Lease;
        Assert.True(lease.IsHeld);
        lease.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_TenQueuedWaiters_GrantsInArrivalOrder()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var order = new ConcurrentQueue<int>();
        ValueTask<AsyncLock.Lease>[] pending = Waiters.QueueInOrder(gate, 10);
        Task[] recorders = pending.Select((p, i) => Waiters.RecordGrantAndRelease(p, i, order)).ToArray();

        holder.Dispose();

        await Waiters.WithinAsync(Task.WhenAll(recorders), s_bound, "The ten waiters");
        Assert.Equal(Enumerable.Range(0, 10), Waiters.Drain(order));
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_MixedAsyncForms_GrantsInArrivalOrder()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var order = new ConcurrentQueue<int>();
        ValueTask<AsyncLock.Lease>[] pending = Waiters.QueueInOrder(gate, 8, i => (i % 4) switch
        {
            0 => gate.AcquireAsync(),
            1 => gate.AcquireAsync(TimeSpan.FromMinutes(5)),
            2 => gate.TryAcquireAsync(300_000),
            _ => gate.TryAcquireAsync(Timeout.InfiniteTimeSpan),
        });
        Task[] recorders = pending.Select((p, i) => Waiters.RecordGrantAndRelease(p, i, order)).ToArray();

        holder.Dispose();

        await Waiters.WithinAsync(Task.WhenAll(recorders), s_bound, "The eight waiters");
        Assert.Equal(Enumerable.Range(0, 8), Waiters.Drain(order));
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_WaiterContinuation_NeverRunsInsideRelease()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        bool ranInsideRelease = true;
        int releasingThread = Environment.CurrentManagedThreadId;

        async Task WaiterAsync()
        {
            AsyncLock.Lease lease = await gate.AcquireAsync();
            ranInsideRelease = ReleaseTracker.InsideRelease;
            lease.Dispose();
        }

        Task waiter = WaiterAsync();
        Assert.True(ReleaseTracker.Release(holder));

        await Waiters.WithinAsync(waiter, s_bound, "The waiter");
        Assert.False(ranInsideRelease, "The waiter's continuation ran on the releaser's stack.");
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void Acquire_NotReentrant_SecondAcquireFromHolderWaits()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        ValueTask<AsyncLock.Lease> again = gate.TryAcquireAsync(TimeSpan.Zero);

        Assert.True(again.IsCompletedSuccessfully);
        Assert.False(Waiters.Consume(again).Lease.IsHeld);
        Assert.True(holder.IsHeld);
        holder.Dispose();
    }
}
