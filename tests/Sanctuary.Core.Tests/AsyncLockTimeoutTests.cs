using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

/// <summary>Async timeouts, driven by a fake clock so nothing depends on real time.</summary>
public sealed class AsyncLockTimeoutTests
{
    private readonly FakeTimeProvider _clock = new();

    private AsyncLock CreateLock(string name = "orders") =>
        new(new AsyncLockOptions { Name = name, TimeProvider = _clock });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AcquireAsync_TimeoutElapses_ThrowsLockTimeoutExceptionNamingLockAndTimeout(bool intForm)
    {
        using AsyncLock gate = CreateLock("orders");
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        ValueTask<AsyncLock.Lease> pending = intForm ? gate.AcquireAsync(250) : gate.AcquireAsync(TimeSpan.FromMilliseconds(250));
        _clock.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(pending.IsCompleted, "The acquire gave up before its timeout.");
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.Equal("orders", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), error.Timeout);
        Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        Assert.True(Durations.IsMentionedIn(error.Message, TimeSpan.FromMilliseconds(250)), $"The message does not name the timeout: {error.Message}");
        Assert.IsAssignableFrom<TimeoutException>(error);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireAsync_TimeoutElapses_ReportsHowLongTheHolderHeldIt()
    {
        using AsyncLock gate = CreateLock("ledger");
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        _clock.Advance(TimeSpan.FromSeconds(1));

        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync(TimeSpan.FromSeconds(2));
        _clock.Advance(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.NotNull(error.HeldFor);
        TimeSpan heldFor = error.HeldFor.Value;

        // The holder took the lock without contention one second before the waiter queued, so the
        // lock may only know a lower bound (the two seconds the waiter watched it being held).
        Assert.InRange(heldFor, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
        Assert.True(Durations.IsMentionedIn(error.Message, heldFor), $"The message does not say how long the holder held the lock: {error.Message}");
        holder.Dispose();
    }

    [Fact]
    public async Task AcquireAsync_HolderTookLockFromQueue_HeldForIsExact()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease first));
        ValueTask<AsyncLock.Lease> second = gate.AcquireAsync();
        first.Dispose();
        AsyncLock.Lease holder = await second;
        _clock.Advance(TimeSpan.FromSeconds(5));

        ValueTask<AsyncLock.Lease> pending = gate.AcquireAsync(TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.Equal(TimeSpan.FromSeconds(6), error.HeldFor);
        holder.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TryAcquireAsync_TimeoutElapses_ReturnsLeaseThatIsNotHeld(bool intForm)
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        ValueTask<AsyncLock.Lease> pending = intForm ? gate.TryAcquireAsync(100) : gate.TryAcquireAsync(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, gate.WaitingCount);
        _clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(pending.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(pending.IsCompleted, "The timed-out try did not complete when its timer fired.");
        AsyncLock.Lease lease = await pending;
        Assert.False(lease.IsHeld);
        Assert.False(lease.Release());
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryAcquireAsync_ZeroTimeoutWhileHeld_FailsAtOnceWithoutQueueing(bool intForm)
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        ValueTask<AsyncLock.Lease> pending = intForm ? gate.TryAcquireAsync(0) : gate.TryAcquireAsync(TimeSpan.Zero);

        Assert.True(pending.IsCompletedSuccessfully);
        Assert.False(Waiters.Consume(pending).Lease.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
    }

    [Fact]
    public async Task AcquireAsync_ZeroTimeoutWhileHeld_ThrowsAtOnce()
    {
        using AsyncLock gate = CreateLock("zero");
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await gate.AcquireAsync(TimeSpan.Zero));

        Assert.Equal("zero", error.LockName);
        Assert.Equal(TimeSpan.Zero, error.Timeout);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
    }

    [Fact]
    public async Task TryAcquireAsync_ZeroTimeoutWhileFree_TakesLock()
    {
        using AsyncLock gate = CreateLock();

        AsyncLock.Lease lease = await gate.TryAcquireAsync(TimeSpan.Zero);

        Assert.True(lease.IsHeld);
        lease.Dispose();
    }

    [Fact]
    public async Task TryAcquireAsync_GrantedBeforeTimeout_KeepsLeaseWhenTimerWouldHaveFired()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> pending = gate.TryAcquireAsync(TimeSpan.FromMilliseconds(100));
        _clock.Advance(TimeSpan.FromMilliseconds(50));

        holder.Dispose();
        AsyncLock.Lease lease = await pending;
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(lease.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TimedOutWaiter_InMiddleOfQueue_IsSkippedByHandOff()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> first = gate.AcquireAsync();
        ValueTask<AsyncLock.Lease> timed = gate.TryAcquireAsync(TimeSpan.FromMilliseconds(10));
        ValueTask<AsyncLock.Lease> third = gate.AcquireAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.False((await timed).IsHeld);
        Assert.Equal(2, gate.WaitingCount);

        holder.Dispose();
        AsyncLock.Lease firstLease = await first;
        Assert.False(third.IsCompleted);
        firstLease.Dispose();
        AsyncLock.Lease thirdLease = await third;

        Assert.True(thirdLease.IsHeld);
        thirdLease.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void InfiniteTimeout_BothForms_NeverTimesOut()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> byTimeSpan = gate.AcquireAsync(Timeout.InfiniteTimeSpan);
        ValueTask<AsyncLock.Lease> byInt = gate.TryAcquireAsync(Timeout.Infinite);

        _clock.Advance(TimeSpan.FromDays(30));

        Assert.False(byTimeSpan.IsCompleted);
        Assert.False(byInt.IsCompleted);
        Assert.Equal(2, gate.WaitingCount);
        holder.Dispose();
        AsyncLock.Lease first = Waiters.Consume(byTimeSpan).Lease;
        first.Dispose();
        AsyncLock.Lease second = Waiters.Consume(byInt).Lease;
        Assert.True(second.IsHeld);
        second.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void LockTimeoutException_Constructors_SetMembers()
    {
        var described = new LockTimeoutException("inventory", TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(4));
        var plain = new LockTimeoutException();
        var withMessage = new LockTimeoutException("custom text");
        var inner = new InvalidOperationException("cause");
        var wrapped = new LockTimeoutException("outer text", inner);

        Assert.Equal("inventory", described.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), described.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(4), described.HeldFor);
        Assert.Contains("inventory", described.Message, StringComparison.Ordinal);
        Assert.True(Durations.IsMentionedIn(described.Message, TimeSpan.FromMilliseconds(1500)));
        Assert.True(Durations.IsMentionedIn(described.Message, TimeSpan.FromSeconds(4)));
        Assert.False(string.IsNullOrEmpty(plain.Message));
        Assert.NotNull(plain.LockName);
        Assert.Null(plain.HeldFor);
        Assert.Equal("custom text", withMessage.Message);
        Assert.NotNull(withMessage.LockName);
        Assert.Equal("outer text", wrapped.Message);
        Assert.Same(inner, wrapped.InnerException);
    }

    [Fact]
    public void LockTimeoutException_NoHolder_MessageOmitsHeldFor()
    {
        var error = new LockTimeoutException("idle", TimeSpan.FromSeconds(1), heldFor: null);

        Assert.Null(error.HeldFor);
        Assert.Contains("idle", error.Message, StringComparison.Ordinal);
    }
}
