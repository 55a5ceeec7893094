using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.PriorityLocks.PriorityLockKit;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>Timeouts, cancellation, dispose and argument validation of the priority lock.</summary>
public sealed class PriorityLockGiveUpTests
{
    private readonly FakeTimeProvider _clock = new();

    private PriorityLock CreateLock(string name = "orders") =>
        new(new PriorityLockOptions { Name = name, TimeProvider = _clock });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AcquireAsync_TimeoutElapses_ThrowsNamingLockTimeoutAndHolder(bool intForm)
    {
        using PriorityLock gate = CreateLock("orders");
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        _clock.Advance(TimeSpan.FromSeconds(1));

        ValueTask<PriorityLock.Lease> pending = intForm
            ? gate.AcquireAsync(LockPriority.High, 250)
            : gate.AcquireAsync(LockPriority.High, TimeSpan.FromMilliseconds(250));
        _clock.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(pending.IsCompleted, "The acquire gave up before its timeout.");
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.Equal("orders", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), error.Timeout);
        Assert.NotNull(error.HeldFor);
        Assert.InRange(error.HeldFor.Value, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(1250));
        Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        Assert.True(Durations.IsMentionedIn(error.Message, TimeSpan.FromMilliseconds(250)), $"The message does not name the timeout: {error.Message}");
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
        AssertFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TryAcquireAsync_TimeoutElapses_ReturnsUnheldLeaseAndLeavesQueue(bool intForm)
    {
        using PriorityLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        ValueTask<PriorityLock.Lease> pending = intForm
            ? gate.TryAcquireAsync(LockPriority.Critical, 100)
            : gate.TryAcquireAsync(LockPriority.Critical, TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, gate.WaitingCount);
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        Assert.True(pending.IsCompleted, "The timed-out try did not complete when its timer fired.");
        PriorityLock.Lease lease = await pending;
        Assert.False(lease.IsHeld);
        Assert.False(lease.Release());
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public void ZeroTimeoutWhileHeld_FailsAtOnceWithoutQueueing()
    {
        using PriorityLock gate = CreateLock("zero");
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        ValueTask<PriorityLock.Lease> tried = gate.TryAcquireAsync(LockPriority.Critical, TimeSpan.Zero);
        ValueTask<PriorityLock.Lease> thrown = gate.AcquireAsync(LockPriority.Critical, 0);
        PriorityLock.Scope scope = gate.TryAcquire(LockPriority.High, 0);

        Assert.False(Consume(tried).Lease.IsHeld);
        Assert.IsType<LockTimeoutException>(Consume(thrown).Error);
        Assert.False(scope.IsHeld);
        Assert.Throws<LockTimeoutException>(() => { using PriorityLock.Scope failed = gate.Acquire(LockPriority.Low, TimeSpan.Zero); });
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public async Task TimedOutWaiter_AtHeadOfLevel_NextWaiterGetsLock()
    {
        using PriorityLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease> timed = gate.TryAcquireAsync(LockPriority.Critical, TimeSpan.FromMilliseconds(10));
        ValueTask<PriorityLock.Lease> low = gate.AcquireAsync(LockPriority.Low);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.False((await timed).IsHeld);
        Assert.Equal(1, gate.WaitingCount);

        holder.Dispose();

        Assert.True(low.IsCompleted, "The waiter behind the timed-out one was not granted.");
        Consume(low).Lease.Dispose();
        AssertFree(gate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task CancelledWhileWaiting_LeavesQueueAtOnce(int form)
    {
        using PriorityLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<PriorityLock.Lease> pending = form switch
        {
            0 => gate.AcquireAsync(LockPriority.Low, source.Token),
            1 => gate.AcquireAsync(LockPriority.High, TimeSpan.FromMinutes(1), source.Token),
            _ => gate.TryAcquireAsync(LockPriority.Critical, 60_000, source.Token),
        };
        Assert.Equal(1, gate.WaitingCount);

        source.Cancel();

        Assert.True(pending.IsCompleted, "Cancelling the token did not complete the waiter.");
        Assert.Equal(0, gate.WaitingCount);
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        Assert.True(holder.Release());
        Assert.False(gate.IsHeld, "The release handed the lock to a waiter that had already given up.");
        AssertFree(gate);
    }

    [Fact]
    public async Task AlreadyCancelledToken_ThrowsWithoutQueueingOrTakingLock()
    {
        using PriorityLock gate = CreateLock();
        using var source = new CancellationTokenSource();
        source.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.AcquireAsync(LockPriority.High, source.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => { using PriorityLock.Scope scope = gate.Acquire(LockPriority.High, source.Token); });
        Assert.False(gate.IsHeld);
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.AcquireAsync(LockPriority.Low, source.Token));
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public async Task SyncAcquire_CancelledWhileBlocked_ThrowsAndLeavesQueue()
    {
        using PriorityLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        using var source = new CancellationTokenSource();
        Task<bool> blocked = RunOnOwnThread(() =>
        {
            using PriorityLock.Scope scope = gate.Acquire(LockPriority.Critical, source.Token);
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking acquire never queued.");

        source.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Bound));
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public void SyncAcquire_TimeoutElapses_ThrowsOrReturnsUnheldScope()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "sync-timeout" });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        var error = Assert.Throws<LockTimeoutException>(() => { using PriorityLock.Scope scope = gate.Acquire(LockPriority.High, 20); });
        PriorityLock.Scope tried = gate.TryAcquire(LockPriority.High, TimeSpan.FromMilliseconds(20));

        Assert.Equal("sync-timeout", error.LockName);
        Assert.False(tried.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public async Task Dispose_WithQueuedWaitersOfEveryLevel_FailsEachWithObjectDisposed()
    {
        var gate = new PriorityLock(new PriorityLockOptions { Name = "queue-owner", TimeProvider = _clock });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease>[] pending = QueueInOrder(gate, [LockPriority.Low, LockPriority.Critical, LockPriority.Normal, LockPriority.High]);
        ValueTask<PriorityLock.Lease> timed = gate.AcquireAsync(LockPriority.Low, TimeSpan.FromMilliseconds(50));

        gate.Dispose();
        _clock.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(gate.IsDisposed);
        ValueTask<PriorityLock.Lease>[] everyWaiter = [.. pending, timed];
        foreach (ValueTask<PriorityLock.Lease> waiter in everyWaiter)
        {
            Assert.True(waiter.IsCompleted, "Dispose left a waiter pending.");
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await waiter);
            Assert.Contains("queue-owner", error.Message, StringComparison.Ordinal);
        }

        Assert.True(holder.IsHeld, "Dispose took the lock away from its holder.");
        Assert.True(holder.Release());
        Assert.False(gate.IsHeld);
        Assert.False(holder.Release());
        gate.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquire(out _));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await gate.AcquireAsync(LockPriority.Critical));
        Assert.Throws<ObjectDisposedException>(() => { using PriorityLock.Scope scope = gate.Acquire(LockPriority.Low); });
    }

    [Fact]
    public void InvalidPriority_ThrowsNamingValueAndLock()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "picky" });
        var bad = (LockPriority)7;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireAsync(bad));
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireAsync((LockPriority)(-1), TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => { using PriorityLock.Scope scope = gate.Acquire(bad, 10); });

        Assert.Equal("priority", error.ParamName);
        Assert.Equal(bad, error.ActualValue);
        Assert.Contains("7", error.Message, StringComparison.Ordinal);
        Assert.Contains("picky", error.Message, StringComparison.Ordinal);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void InvalidTimeouts_ThrowLikeAsyncLock()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "same-messages" });
        using var reference = new AsyncLock(new AsyncLockOptions { Name = "same-messages" });
        TimeSpan negative = TimeSpan.FromMilliseconds(-2);

        var timeSpanError = Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireAsync(LockPriority.High, negative));
        var referenceTimeSpanError = Assert.Throws<ArgumentOutOfRangeException>(() => reference.AcquireAsync(negative));
        var millisecondsError = Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireAsync(LockPriority.Low, -2));
        var referenceMillisecondsError = Assert.Throws<ArgumentOutOfRangeException>(() => reference.TryAcquireAsync(-2));

        Assert.Equal(referenceTimeSpanError.Message, timeSpanError.Message);
        Assert.Equal(referenceTimeSpanError.ParamName, timeSpanError.ParamName);
        Assert.Equal(referenceMillisecondsError.Message, millisecondsError.Message);
        Assert.Equal(referenceMillisecondsError.ParamName, millisecondsError.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => { using PriorityLock.Scope scope = gate.TryAcquire(negative); });
        Assert.False(gate.IsHeld);
    }
}
