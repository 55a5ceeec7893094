using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockCancellationTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    public static TheoryData<int> AsyncForms => new() { 0, 1, 2, 3, 4 };

    private static ValueTask<AsyncLock.Lease> StartForm(AsyncLock gate, int form, CancellationToken token) => form switch
    {
        0 => gate.AcquireAsync(token),
        1 => gate.AcquireAsync(TimeSpan.FromMinutes(1), token),
        2 => gate.AcquireAsync(60_000, token),
        3 => gate.TryAcquireAsync(TimeSpan.FromMinutes(1), token),
        _ => gate.TryAcquireAsync(60_000, token),
    };

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AsyncAcquire_AlreadyCancelledTokenOnFreeLock_ThrowsWithoutTakingLock(int form)
    {
        using var gate = new AsyncLock();
        using var source = new CancellationTokenSource();
        source.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await StartForm(gate, form, source.Token));

        Assert.Equal(source.Token, error.CancellationToken);
        Assert.False(gate.IsHeld, "An already-cancelled acquire took the lock.");
        LockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AsyncAcquire_AlreadyCancelledTokenOnHeldLock_ThrowsWithoutQueueing(int form)
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        source.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await StartForm(gate, form, source.Token));

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void SyncAcquire_AlreadyCancelledToken_ThrowsWithoutTakingLock()
    {
        using var gate = new AsyncLock();
        using var source = new CancellationTokenSource();
        source.Cancel();

        var first = Assert.ThrowsAny<OperationCanceledException>(() => { using AsyncLock.Scope scope = gate.Acquire(source.Token); });
        Assert.ThrowsAny<OperationCanceledException>(() => { using AsyncLock.Scope scope = gate.Acquire(TimeSpan.FromSeconds(1), source.Token); });
        Assert.ThrowsAny<OperationCanceledException>(() => { using AsyncLock.Scope scope = gate.TryAcquire(1000, source.Token); });

        Assert.Equal(source.Token, first.CancellationToken);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AsyncAcquire_CancelledWhileWaiting_ThrowsAndLeavesQueue(int form)
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> pending = StartForm(gate, form, source.Token);
        Assert.Equal(1, gate.WaitingCount);

        source.Cancel();

        Assert.True(pending.IsCompleted, "Cancelling the token did not complete the waiter.");
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        Assert.True(holder.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task CancelledWaiter_InMiddleOfQueue_NextWaiterGetsLock()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> first = gate.AcquireAsync();
        ValueTask<AsyncLock.Lease> cancelled = gate.AcquireAsync(source.Token);
        ValueTask<AsyncLock.Lease> third = gate.AcquireAsync();

        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        Assert.Equal(2, gate.WaitingCount);
        holder.Dispose();
        AsyncLock.Lease firstLease = await Waiters.WithinAsync(first.AsTask(), s_bound, "The first waiter");
        firstLease.Dispose();
        AsyncLock.Lease thirdLease = await Waiters.WithinAsync(third.AsTask(), s_bound, "The third waiter");

        Assert.True(thirdLease.IsHeld);
        thirdLease.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task CancelledOnlyWaiter_ThenRelease_LockBecomesFree()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync(source.Token);

        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.True(holder.Release());

        Assert.False(gate.IsHeld, "The release handed the lock to a waiter that had already given up.");
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Cancel_AfterGrant_HasNoEffectOnLease()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync(source.Token);
        holder.Dispose();
        AsyncLock.Lease lease = await pending;

        source.Cancel();

        Assert.True(lease.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task CancelAndTimeout_SameWaiter_ExactlyOneOutcome()
    {
        var clock = new FakeTimeProvider();
        using var gate = new AsyncLock(new AsyncLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> pending = gate.TryAcquireAsync(TimeSpan.FromMilliseconds(5), source.Token);

        source.Cancel();
        clock.Advance(TimeSpan.FromMilliseconds(5));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task SyncAcquire_CancelledWhileBlocked_ThrowsAndLeavesQueue()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();

        Task<bool> blocked = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.Acquire(source.Token);
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking acquire never queued.");
        source.Cancel();

        Assert.True(Eventually.Holds(() => blocked.IsCompleted, s_bound), "The blocked acquire ignored the cancellation.");
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }
}
