using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static Sanctuary.Tests.PriorityLocks.PriorityLockKit;

namespace Sanctuary.Tests.PriorityLocks;

public sealed class PriorityLockAcquireTests
{
    public static TheoryData<int> AsyncForms => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    public static TheoryData<int> SyncForms => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    private static ValueTask<PriorityLock.Lease> StartAsyncForm(PriorityLock gate, int form, CancellationToken token = default) => form switch
    {
        0 => gate.AcquireAsync(token),
        1 => gate.AcquireAsync(LockPriority.High, token),
        2 => gate.AcquireAsync(TimeSpan.FromMinutes(1), token),
        3 => gate.AcquireAsync(LockPriority.Low, TimeSpan.FromMinutes(1), token),
        4 => gate.AcquireAsync(60_000, token),
        5 => gate.AcquireAsync(LockPriority.Critical, 60_000, token),
        6 => gate.TryAcquireAsync(TimeSpan.FromMinutes(1), token),
        7 => gate.TryAcquireAsync(LockPriority.High, TimeSpan.FromMinutes(1), token),
        8 => gate.TryAcquireAsync(60_000, token),
        _ => gate.TryAcquireAsync(LockPriority.Low, 60_000, token),
    };

    private static PriorityLock.Scope AcquireSyncForm(PriorityLock gate, int form, CancellationToken token = default) => form switch
    {
        0 => gate.Acquire(token),
        1 => gate.Acquire(LockPriority.High, token),
        2 => gate.Acquire(TimeSpan.FromMinutes(1), token),
        3 => gate.Acquire(LockPriority.Low, TimeSpan.FromMinutes(1), token),
        4 => gate.Acquire(60_000, token),
        5 => gate.Acquire(LockPriority.Critical, 60_000, token),
        6 => gate.TryAcquire(TimeSpan.FromMinutes(1), token),
        7 => gate.TryAcquire(LockPriority.High, TimeSpan.FromMinutes(1), token),
        8 => gate.TryAcquire(60_000, token),
        _ => gate.TryAcquire(LockPriority.Low, 60_000, token),
    };

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public void AsyncForm_Uncontended_CompletesSynchronouslyWithHeldLease(int form)
    {
        using var gate = new PriorityLock();

        ValueTask<PriorityLock.Lease> pending = StartAsyncForm(gate, form);

        Assert.True(pending.IsCompletedSuccessfully);
        PriorityLock.Lease lease = Consume(pending).Lease;
        Assert.True(lease.IsHeld);
        Assert.Same(gate, lease.Lock);
        Assert.True(gate.IsHeld);
        Assert.True(lease.Release());
        AssertFree(gate);
    }

    [Theory]
    [MemberData(nameof(SyncForms))]
    public void SyncForm_Uncontended_ReturnsHeldScope(int form)
    {
        using var gate = new PriorityLock();

        PriorityLock.Scope scope = AcquireSyncForm(gate, form);

        Assert.True(scope.IsHeld);
        Assert.True(gate.IsHeld);
        Assert.True(scope.Release());
        Assert.False(scope.Release(), "A second release of the same scope reported that it released something.");
        scope.Dispose();
        AssertFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AsyncForm_Held_WaitsUntilHolderReleases(int form)
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        ValueTask<PriorityLock.Lease> pending = StartAsyncForm(gate, form);

        Assert.False(pending.IsCompleted);
        Assert.Equal(1, gate.WaitingCount);
        Assert.True(holder.Release());
        PriorityLock.Lease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        lease.Dispose();
        AssertFree(gate);
    }

    [Theory]
    [MemberData(nameof(SyncForms))]
    public async Task SyncForm_Held_BlocksUntilHolderReleases(int form)
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        Task<bool> blocked = RunOnOwnThread(() =>
        {
            using PriorityLock.Scope scope = AcquireSyncForm(gate, form);
            return scope.IsHeld;
        });
        Assert.True(Infrastructure.Eventually.Holds(() => gate.WaitingCount == 1), "The blocking acquire never queued.");
        Assert.False(blocked.IsCompleted);
        holder.Dispose();

        Assert.True(await blocked.WaitAsync(Bound), "The blocked acquire returned a scope that was not held.");
        AssertFree(gate);
    }

    [Fact]
    public void TryAcquire_Held_FailsWithDefaultLeaseAndDoesNotQueue()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        Assert.False(gate.TryAcquire(out PriorityLock.Lease refused));

        Assert.False(refused.IsHeld);
        Assert.Null(refused.Lock);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.IsHeld);
        holder.Dispose();
    }

    [Fact]
    public void Release_WithWaiter_HandsLockStraightToWaiter()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease> pending = gate.AcquireAsync(LockPriority.Low);

        Assert.True(holder.Release());

        Assert.False(gate.TryAcquire(out _), "A barging try-now took the lock that the release handed to the waiter.");
        Assert.True(pending.IsCompleted, "The hand-off should complete the waiter during the release.");
        PriorityLock.Lease lease = Consume(pending).Lease;
        Assert.True(lease.IsHeld);
        lease.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public void Release_MixedLevels_GrantsHighestLevelFirstAndFifoWithinLevel()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        LockPriority[] levels =
        [
            LockPriority.Low, LockPriority.Normal, LockPriority.Critical, LockPriority.Normal,
            LockPriority.High, LockPriority.Low, LockPriority.Critical, LockPriority.High,
        ];
        ValueTask<PriorityLock.Lease>[] pending = QueueInOrder(gate, levels);

        List<int> order = ReleaseAndRecordGrantOrder(holder, pending);

        Assert.Equal([2, 6, 4, 7, 1, 3, 0, 5], order);
        AssertFree(gate);
    }

    [Fact]
    public void Release_CriticalArrivesLate_OvertakesQueuedNormalWaiters()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease>[] normal = QueueInOrder(gate, [LockPriority.Normal, LockPriority.Normal]);
        ValueTask<PriorityLock.Lease> critical = gate.AcquireAsync(LockPriority.Critical);

        holder.Dispose();

        Assert.True(critical.IsCompleted, "The critical waiter was not granted first.");
        Assert.False(normal[0].IsCompleted);
        Consume(critical).Lease.Dispose();
        Assert.True(normal[0].IsCompleted);
        Consume(normal[0]).Lease.Dispose();
        Consume(normal[1]).Lease.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public async Task Release_SyncAndAsyncWaitersOfMixedLevels_GrantsByLevel()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        var order = new List<string>();
        ValueTask<PriorityLock.Lease> lowAsync = gate.AcquireAsync(LockPriority.Low);
        Task blockedHigh = RunOnOwnThread(() =>
        {
            using PriorityLock.Scope scope = gate.Acquire(LockPriority.High);
            lock (order)
            {
                order.Add("high, sync");
            }

            return 0;
        });
        Assert.True(Infrastructure.Eventually.Holds(() => gate.WaitingCount == 2), "The blocking acquire never queued.");

        holder.Dispose();
        await blockedHigh.WaitAsync(Bound);
        PriorityLock.Lease low = await lowAsync.AsTask().WaitAsync(Bound);
        lock (order)
        {
            order.Add("low, async");
        }

        low.Dispose();
        Assert.Equal(["high, sync", "low, async"], order);
        AssertFree(gate);
    }

    [Fact]
    public void Aging_LowWaiterPastThreeIntervals_RanksAsCriticalAheadOfLaterCriticals()
    {
        var clock = new FakeTimeProvider();
        using var gate = new PriorityLock(new PriorityLockOptions { AgingInterval = TimeSpan.FromMilliseconds(10), TimeProvider = clock });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease> low = gate.AcquireAsync(LockPriority.Low);
        ValueTask<PriorityLock.Lease> earlyCritical = gate.AcquireAsync(LockPriority.Critical);
        clock.Advance(TimeSpan.FromMilliseconds(30));
        ValueTask<PriorityLock.Lease> lateCritical = gate.AcquireAsync(LockPriority.Critical);
        ValueTask<PriorityLock.Lease> lateHigh = gate.AcquireAsync(LockPriority.High);

        List<int> order = ReleaseAndRecordGrantOrder(holder, [low, earlyCritical, lateCritical, lateHigh]);

        // The low waiter reached Critical at 30 ms: after the critical waiter that was already
        // queued, before the one that arrived at 30 ms (the tie goes to the older waiter).
        Assert.Equal([1, 0, 2, 3], order);
        AssertFree(gate);
    }

    [Fact]
    public void Aging_EveryLevelAges_RanksByTimeEachWaiterReachedItsLevel()
    {
        var clock = new FakeTimeProvider();
        using var gate = new PriorityLock(new PriorityLockOptions { AgingInterval = TimeSpan.FromMilliseconds(10), TimeProvider = clock });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease> normalBefore = gate.AcquireAsync(LockPriority.Normal);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        ValueTask<PriorityLock.Lease> low = gate.AcquireAsync(LockPriority.Low);
        clock.Advance(TimeSpan.FromMilliseconds(12));
        ValueTask<PriorityLock.Lease> normalAfter = gate.AcquireAsync(LockPriority.Normal);
        ValueTask<PriorityLock.Lease> high = gate.AcquireAsync(LockPriority.High);

        List<int> order = ReleaseAndRecordGrantOrder(holder, [normalBefore, low, normalAfter, high]);

        // At 13 ms the first Normal waiter counts as High since 10 ms, so it goes ahead of the High
        // waiter that arrived at 13 ms. The Low waiter counts as Normal since 11 ms, so it goes ahead
        // of the Normal waiter that arrived at 13 ms.
        Assert.Equal([0, 3, 1, 2], order);
        AssertFree(gate);
    }

    [Fact]
    public void Aging_Off_LowWaiterStaysBehindEveryLaterHigherWaiter()
    {
        var clock = new FakeTimeProvider();
        using var gate = new PriorityLock(new PriorityLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        ValueTask<PriorityLock.Lease> low = gate.AcquireAsync(LockPriority.Low);
        clock.Advance(TimeSpan.FromDays(1));
        ValueTask<PriorityLock.Lease>[] later = QueueInOrder(gate, [LockPriority.Normal, LockPriority.High]);

        List<int> order = ReleaseAndRecordGrantOrder(holder, [low, later[0], later[1]]);

        Assert.Equal([2, 1, 0], order);
        Assert.Equal(Timeout.InfiniteTimeSpan, gate.AgingInterval);
        AssertFree(gate);
    }

    [Fact]
    public async Task Release_WaiterContinuation_NeverRunsInsideRelease()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        int releasingThread = Environment.CurrentManagedThreadId;
        bool insideRelease = false;
        bool releasing = false;

        async Task WaiterAsync()
        {
            PriorityLock.Lease lease = await gate.AcquireAsync(LockPriority.High);
            insideRelease = Volatile.Read(ref releasing) && Environment.CurrentManagedThreadId == releasingThread;
            lease.Dispose();
        }

        Task waiter = WaiterAsync();
        Volatile.Write(ref releasing, true);
        Assert.True(holder.Release());
        Volatile.Write(ref releasing, false);

        await waiter.WaitAsync(Bound);
        Assert.False(insideRelease, "The waiter's continuation ran on the releaser's stack.");
        AssertFree(gate);
    }

    [Fact]
    public void Lease_ReleasedTwiceAfterHandOff_SecondReleaseLeavesNextHolderAlone()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease first));
        PriorityLock.Lease copy = first;
        ValueTask<PriorityLock.Lease> next = gate.AcquireAsync();

        Assert.True(first.Release());
        PriorityLock.Lease second = Consume(next).Lease;

        Assert.False(first.Release(), "A released lease released again.");
        Assert.False(copy.Release(), "A copy of a released lease released the next holder.");
        copy.Dispose();
        Assert.True(second.IsHeld);
        Assert.False(first.IsHeld);
        Assert.False(gate.TryAcquire(out _));
        Assert.True(second.Release());
        AssertFree(gate);
    }

    [Fact]
    public void Lease_Equality_ComparesAcquisitions()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease lease));
        PriorityLock.Lease copy = lease;
        lease.Dispose();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease later));

        Assert.True(lease == copy);
        Assert.True(lease.Equals((object)copy));
        Assert.Equal(lease.GetHashCode(), copy.GetHashCode());
        Assert.True(lease != later);
        Assert.False(default(PriorityLock.Lease).IsHeld);
        Assert.False(default(PriorityLock.Lease).Release());
        later.Dispose();
    }

    [Fact]
    public void Constructor_Defaults_GeneratedNameNoAgingFree()
    {
        using var first = new PriorityLock();
        using var second = new PriorityLock(null);

        Assert.StartsWith("PriorityLock#", first.Name, StringComparison.Ordinal);
        Assert.NotEqual(first.Name, second.Name);
        Assert.Equal(Timeout.InfiniteTimeSpan, first.AgingInterval);
        Assert.False(first.IsHeld);
        Assert.False(first.IsDisposed);
        Assert.Equal(0, first.WaitingCount);
    }

    [Fact]
    public void Options_NameAndAging_AreTaken()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "render", AgingInterval = TimeSpan.FromSeconds(2) });

        Assert.Equal("render", gate.Name);
        Assert.Equal(TimeSpan.FromSeconds(2), gate.AgingInterval);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Options_AgingIntervalNotPositive_ThrowsNamingValue(int milliseconds)
    {
        TimeSpan interval = TimeSpan.FromMilliseconds(milliseconds);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PriorityLockOptions { AgingInterval = interval });

        Assert.Equal("AgingInterval", error.ParamName);
        Assert.Equal(interval, error.ActualValue);
        Assert.Contains("InfiniteTimeSpan", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_NullTimeProvider_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new PriorityLockOptions { TimeProvider = null! });
    }

    [Fact]
    public void DebuggerDisplay_NamesLockAndState()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "shown-in-debugger" });
        Assert.NotNull(typeof(PriorityLock).GetCustomAttribute<DebuggerDisplayAttribute>());
        PropertyInfo display = typeof(PriorityLock).GetProperty("DebuggerDisplay", BindingFlags.Instance | BindingFlags.NonPublic)!;

        string free = (string)display.GetValue(gate)!;
        Assert.True(gate.TryAcquire(out PriorityLock.Lease lease));
        string held = (string)display.GetValue(gate)!;
        lease.Dispose();

        Assert.Contains("shown-in-debugger", free, StringComparison.Ordinal);
        Assert.Contains("free", free, StringComparison.Ordinal);
        Assert.Contains("held", held, StringComparison.Ordinal);
    }
}
