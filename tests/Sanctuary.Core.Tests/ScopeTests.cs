using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

/// <summary>The blocking API and its ref-struct scope.</summary>
public sealed class ScopeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Default_Scope_HoldsNothingAndReleasesNothing()
    {
        AsyncLock.Scope scope = default;

        Assert.False(scope.IsHeld);
        Assert.False(scope.Release());
        scope.Dispose();
    }

    [Fact]
    public void Acquire_Uncontended_HoldsUntilDisposed()
    {
        using var gate = new AsyncLock();

        using (AsyncLock.Scope scope = gate.Acquire())
        {
            Assert.True(scope.IsHeld);
            Assert.True(gate.IsHeld);
            Assert.False(gate.TryAcquire(out _));
        }

        LockAssert.IsFree(gate);
    }

    [Fact]
    public void EverySyncForm_Uncontended_Holds()
    {
        using var gate = new AsyncLock();

        using (AsyncLock.Scope scope = gate.Acquire(CancellationToken.None))
        {
            Assert.True(scope.IsHeld);
        }

        using (AsyncLock.Scope scope = gate.Acquire(TimeSpan.FromSeconds(1)))
        {
            Assert.True(scope.IsHeld);
        }

        using (AsyncLock.Scope scope = gate.Acquire(1000))
        {
            Assert.True(scope.IsHeld);
        }

        using (AsyncLock.Scope scope = gate.TryAcquire(TimeSpan.Zero))
        {
            Assert.True(scope.IsHeld);
        }

        using (AsyncLock.Scope scope = gate.TryAcquire(0))
        {
            Assert.True(scope.IsHeld);
        }

        LockAssert.IsFree(gate);
    }

    [Fact]
    public void Release_Twice_ReturnsTrueOnceThenFalse()
    {
        using var gate = new AsyncLock();
        AsyncLock.Scope scope = gate.Acquire();

        Assert.True(scope.Release());
        Assert.False(scope.IsHeld);
        Assert.False(scope.Release());
        scope.Dispose();

        LockAssert.IsFree(gate);
    }

    [Fact]
    public void StaleScope_AfterAnotherAcquire_NeverReleasesNewHolder()
    {
        using var gate = new AsyncLock();
        AsyncLock.Scope stale = gate.Acquire();
        stale.Dispose();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease current));

        Assert.False(stale.Release());
        stale.Dispose();

        Assert.True(current.IsHeld);
        current.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void TryAcquire_ZeroTimeoutWhileHeld_ReturnsScopeThatIsNotHeld()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        using (AsyncLock.Scope scope = gate.TryAcquire(TimeSpan.Zero))
        {
            Assert.False(scope.IsHeld);
            Assert.False(scope.Release());
        }

        Assert.True(holder.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
    }

    [Fact]
    public async Task Acquire_Contended_BlocksUntilHolderReleases()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var probe = new ExclusionProbe();
        probe.Enter();

        Task<bool> blocked = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.Acquire();
            probe.Enter();
            probe.Exit();
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking acquire never queued.");
        Assert.False(blocked.IsCompleted);
        probe.Exit();
        holder.Dispose();

        Assert.True(await Waiters.WithinAsync(blocked, s_bound, "The blocked acquire"));
        Assert.Equal(0, probe.Violations);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Acquire_TimeoutElapses_ThrowsLockTimeoutNamingLockAndTimeout(bool intForm)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Name = "sync-orders" });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        Task<long> attempt = Waiters.RunOnOwnThread(() =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                using AsyncLock.Scope scope = intForm ? gate.Acquire(60) : gate.Acquire(TimeSpan.FromMilliseconds(60));
            }
            finally
            {
                clock.Stop();
            }

            return clock.ElapsedMilliseconds;
        });

        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => Waiters.WithinAsync(attempt, s_bound, "The timed acquire"));
        Assert.Equal("sync-orders", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(60), error.Timeout);
        Assert.Contains("sync-orders", error.Message, StringComparison.Ordinal);
        Assert.True(Durations.IsMentionedIn(error.Message, TimeSpan.FromMilliseconds(60)), error.Message);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TryAcquire_TimeoutElapses_ReturnsNotHeldAfterWaiting(bool intForm)
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        Task<(bool Held, long Elapsed)> attempt = Waiters.RunOnOwnThread(() =>
        {
            var clock = Stopwatch.StartNew();
            using AsyncLock.Scope scope = intForm ? gate.TryAcquire(60) : gate.TryAcquire(TimeSpan.FromMilliseconds(60));
            return (scope.IsHeld, clock.ElapsedMilliseconds);
        });

        (bool held, long elapsed) = await Waiters.WithinAsync(attempt, s_bound, "The timed try");
        Assert.False(held);
        Assert.True(elapsed >= 50, $"The timed try gave up after {elapsed} ms, before its 60 ms timeout.");
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquire_GrantedBeforeTimeout_Holds()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        Task<bool> attempt = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.TryAcquire(TimeSpan.FromSeconds(30));
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1));

        holder.Dispose();

        Assert.True(await Waiters.WithinAsync(attempt, s_bound, "The timed try"));
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task SyncAndAsyncWaiters_Interleaved_GrantedInArrivalOrder()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();

        Task<bool> firstSync = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.Acquire();
            order.Enqueue("sync-1");
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1));
        ValueTask<AsyncLock.Lease> firstAsync = gate.AcquireAsync();
        Assert.Equal(2, gate.WaitingCount);
        Task<bool> secondSync = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.Acquire();
            order.Enqueue("sync-2");
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 3));

        holder.Dispose();
        AsyncLock.Lease asyncLease = await Waiters.WithinAsync(firstAsync.AsTask(), s_bound, "The async waiter");
        order.Enqueue("async-1");
        asyncLease.Dispose();

        Assert.True(await Waiters.WithinAsync(firstSync, s_bound, "The first blocking waiter"));
        Assert.True(await Waiters.WithinAsync(secondSync, s_bound, "The second blocking waiter"));
        Assert.Equal(["sync-1", "async-1", "sync-2"], order);
        LockAssert.IsFree(gate);
    }
}
