using System;
using System.Diagnostics;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.CapacityPools.CapacityPoolKit;

namespace Sanctuary.Tests.CapacityPools;

public sealed class CapacityPoolReserveTests
{
    public static TheoryData<int> AsyncForms => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    public static TheoryData<int> SyncForms => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    private static ValueTask<CapacityPool.Reservation> StartAsyncForm(CapacityPool pool, long amount, int form, CancellationToken token = default) => form switch
    {
        0 => pool.ReserveAsync(amount, token),
        1 => pool.ReserveAsync(amount, LockPriority.High, token),
        2 => pool.ReserveAsync(amount, TimeSpan.FromMinutes(1), token),
        3 => pool.ReserveAsync(amount, LockPriority.Low, TimeSpan.FromMinutes(1), token),
        4 => pool.ReserveAsync(amount, 60_000, token),
        5 => pool.ReserveAsync(amount, LockPriority.Critical, 60_000, token),
        6 => pool.TryReserveAsync(amount, TimeSpan.FromMinutes(1), token),
        7 => pool.TryReserveAsync(amount, LockPriority.High, TimeSpan.FromMinutes(1), token),
        8 => pool.TryReserveAsync(amount, 60_000, token),
        _ => pool.TryReserveAsync(amount, LockPriority.Low, 60_000, token),
    };

    private static CapacityPool.Scope ReserveSyncForm(CapacityPool pool, long amount, int form, CancellationToken token = default) => form switch
    {
        0 => pool.Reserve(amount, token),
        1 => pool.Reserve(amount, LockPriority.High, token),
        2 => pool.Reserve(amount, TimeSpan.FromMinutes(1), token),
        3 => pool.Reserve(amount, LockPriority.Low, TimeSpan.FromMinutes(1), token),
        4 => pool.Reserve(amount, 60_000, token),
        5 => pool.Reserve(amount, LockPriority.Critical, 60_000, token),
        6 => pool.TryReserve(amount, TimeSpan.FromMinutes(1), token),
        7 => pool.TryReserve(amount, LockPriority.High, TimeSpan.FromMinutes(1), token),
        8 => pool.TryReserve(amount, 60_000, token),
        _ => pool.TryReserve(amount, LockPriority.Low, 60_000, token),
    };

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public void AsyncForm_EnoughUnits_CompletesSynchronouslyWithHeldReservation(int form)
    {
        using var pool = new CapacityPool(10);

        ValueTask<CapacityPool.Reservation> pending = StartAsyncForm(pool, 4, form);

        Assert.True(pending.IsCompletedSuccessfully);
        CapacityPool.Reservation reservation = Consume(pending).Reservation;
        Assert.True(reservation.IsHeld);
        Assert.Same(pool, reservation.Pool);
        Assert.Equal(4, reservation.Amount);
        Assert.Equal(4, pool.Reserved);
        Assert.Equal(6, pool.Available);
        Assert.Equal(0.4, pool.Utilization, precision: 10);
        Assert.True(reservation.Release());
        AssertIdle(pool);
    }

    [Theory]
    [MemberData(nameof(SyncForms))]
    public void SyncForm_EnoughUnits_ReturnsHeldScope(int form)
    {
        using var pool = new CapacityPool(10);

        CapacityPool.Scope scope = ReserveSyncForm(pool, 3, form);

        Assert.True(scope.IsHeld);
        Assert.Equal(3, scope.Amount);
        Assert.Equal(7, pool.Available);
        Assert.True(scope.Release());
        Assert.False(scope.Release(), "A second release of the same scope returned its units again.");
        scope.Dispose();
        AssertIdle(pool);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AsyncForm_NotEnoughUnits_WaitsForRelease(int form)
    {
        using var pool = new CapacityPool(10);
        CapacityPool.Reservation holder = ReserveNow(pool, 8);

        ValueTask<CapacityPool.Reservation> pending = StartAsyncForm(pool, 5, form);

        Assert.False(pending.IsCompleted);
        Assert.Equal(1, pool.WaitingCount);
        Assert.True(holder.Release());
        CapacityPool.Reservation reservation = await pending;
        Assert.True(reservation.IsHeld);
        Assert.Equal(5, pool.Reserved);
        Assert.Equal(0, pool.WaitingCount);
        reservation.Dispose();
        AssertIdle(pool);
    }

    [Theory]
    [MemberData(nameof(SyncForms))]
    public async Task SyncForm_NotEnoughUnits_BlocksUntilRelease(int form)
    {
        using var pool = new CapacityPool(4);
        CapacityPool.Reservation holder = ReserveNow(pool, 4);

        Task<long> blocked = RunOnOwnThread(() =>
        {
            using CapacityPool.Scope scope = ReserveSyncForm(pool, 2, form);
            return scope.IsHeld ? scope.Amount : -1;
        });
        Assert.True(Eventually.Holds(() => pool.WaitingCount == 1), "The blocking reserve never queued.");
        holder.Dispose();

        Assert.Equal(2, await blocked.WaitAsync(Bound));
        AssertIdle(pool);
    }

    [Fact]
    public void HeadOfLine_LargeRequestFirst_SmallRequestsBehindWaitEvenThoughTheyFit()
    {
        using var pool = new CapacityPool(10);
        CapacityPool.Reservation holder = ReserveNow(pool, 6);
        ValueTask<CapacityPool.Reservation> large = pool.ReserveAsync(8);
        ValueTask<CapacityPool.Reservation> small = pool.ReserveAsync(1);

        Assert.False(small.IsCompleted, "A small request overtook the large request at the head of the line.");
        Assert.False(pool.TryReserve(1, out _), "A try-now overtook the large request at the head of the line.");
        Assert.Equal(4, pool.Available);
        Assert.Equal(2, pool.WaitingCount);

        holder.Dispose();

        Assert.True(large.IsCompleted);
        Assert.True(small.IsCompleted, "The small request behind the large one was not granted when both fit.");
        CapacityPool.Reservation largeReservation = Consume(large).Reservation;
        CapacityPool.Reservation smallReservation = Consume(small).Reservation;
        Assert.Equal(9, pool.Reserved);
        largeReservation.Dispose();
        smallReservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public async Task HeadGivesUpByCancellation_FittingWaitersBehindAreGrantedAtOnce()
    {
        using var pool = new CapacityPool(10);
        CapacityPool.Reservation holder = ReserveNow(pool, 7);
        using var source = new CancellationTokenSource();
        ValueTask<CapacityPool.Reservation> head = pool.ReserveAsync(9, source.Token);
        ValueTask<CapacityPool.Reservation> fitsA = pool.ReserveAsync(2);
        ValueTask<CapacityPool.Reservation> tooLarge = pool.ReserveAsync(3);
        ValueTask<CapacityPool.Reservation> fitsB = pool.ReserveAsync(1);

        source.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await head);
        Assert.True(fitsA.IsCompleted, "The request right behind the cancelled head was not granted.");
        Assert.False(tooLarge.IsCompleted, "A request that does not fit was granted.");
        Assert.False(fitsB.IsCompleted, "A request behind a blocked head was granted (no head-of-line blocking).");
        Assert.Equal(1, pool.Available);
        holder.Dispose();
        Assert.True(tooLarge.IsCompleted);
        Assert.True(fitsB.IsCompleted);
        Consume(fitsA).Reservation.Dispose();
        Consume(tooLarge).Reservation.Dispose();
        Consume(fitsB).Reservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public async Task HeadGivesUpByTimeout_FittingWaitersBehindAreGrantedAtOnce()
    {
        var clock = new FakeTimeProvider();
        using var pool = new CapacityPool(10, new CapacityPoolOptions { TimeProvider = clock });
        CapacityPool.Reservation holder = ReserveNow(pool, 5);
        ValueTask<CapacityPool.Reservation> head = pool.TryReserveAsync(8, TimeSpan.FromMilliseconds(20));
        ValueTask<CapacityPool.Reservation> behind = pool.ReserveAsync(5);

        clock.Advance(TimeSpan.FromMilliseconds(20));

        Assert.False((await head).IsHeld);
        Assert.True(behind.IsCompleted, "The request behind the timed-out head was not granted.");
        Assert.Equal(0, pool.WaitingCount);
        Consume(behind).Reservation.Dispose();
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Priority_HigherLevelArrivesLater_IsGrantedFirstAndFifoWithinLevel()
    {
        using var pool = new CapacityPool(4);
        CapacityPool.Reservation holder = ReserveNow(pool, 4);
        ValueTask<CapacityPool.Reservation> normal = pool.ReserveAsync(4);
        ValueTask<CapacityPool.Reservation> highFirst = pool.ReserveAsync(3, LockPriority.High);
        ValueTask<CapacityPool.Reservation> highSecond = pool.ReserveAsync(2, LockPriority.High);
        ValueTask<CapacityPool.Reservation> low = pool.ReserveAsync(1, LockPriority.Low);

        holder.Dispose();

        Assert.True(highFirst.IsCompleted);
        Assert.False(highSecond.IsCompleted, "The second High request passed the first one, which blocks the line.");
        Assert.False(normal.IsCompleted);
        Assert.False(low.IsCompleted);
        Consume(highFirst).Reservation.Dispose();
        Assert.True(highSecond.IsCompleted);
        Assert.False(normal.IsCompleted, "The Normal request does not fit beside the second High one.");
        Consume(highSecond).Reservation.Dispose();
        Assert.True(normal.IsCompleted);
        Consume(normal).Reservation.Dispose();
        Assert.True(low.IsCompleted);
        Consume(low).Reservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Priority_UrgentRequestThatFitsBesideBlockedHead_IsGrantedAtOnce()
    {
        using var pool = new CapacityPool(10);
        CapacityPool.Reservation holder = ReserveNow(pool, 6);
        ValueTask<CapacityPool.Reservation> blockedNormal = pool.ReserveAsync(8);

        ValueTask<CapacityPool.Reservation> critical = pool.ReserveAsync(3, LockPriority.Critical);
        ValueTask<CapacityPool.Reservation> normalBehind = pool.ReserveAsync(1);

        Assert.True(critical.IsCompleted, "A Critical request that fits waited behind a blocked Normal one.");
        Assert.False(normalBehind.IsCompleted, "A Normal request passed the blocked Normal head.");
        Assert.False(blockedNormal.IsCompleted);
        Assert.Equal(1, pool.Available);
        Consume(critical).Reservation.Dispose();
        holder.Dispose();
        Consume(blockedNormal).Reservation.Dispose();
        Consume(normalBehind).Reservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Aging_LowRequestWaitedLongEnough_RanksAheadOfLaterCritical()
    {
        var clock = new FakeTimeProvider();
        using var pool = new CapacityPool(1, new CapacityPoolOptions { TimeProvider = clock, AgingInterval = TimeSpan.FromMilliseconds(10) });
        CapacityPool.Reservation holder = ReserveNow(pool, 1);
        ValueTask<CapacityPool.Reservation> low = pool.ReserveAsync(1, LockPriority.Low);
        clock.Advance(TimeSpan.FromMilliseconds(31));
        ValueTask<CapacityPool.Reservation> critical = pool.ReserveAsync(1, LockPriority.Critical);

        holder.Dispose();

        Assert.True(low.IsCompleted, "The aged Low request was not granted ahead of the later Critical one.");
        Assert.False(critical.IsCompleted);
        Consume(low).Reservation.Dispose();
        Consume(critical).Reservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Resize_Grow_GrantsQueuedRequestsThatNowFit()
    {
        using var pool = new CapacityPool(4);
        CapacityPool.Reservation holder = ReserveNow(pool, 3);
        ValueTask<CapacityPool.Reservation> waiting = pool.ReserveAsync(4);

        pool.Resize(8);

        Assert.Equal(8, pool.Total);
        Assert.True(waiting.IsCompleted, "Growing the pool did not grant the request that now fits.");
        Assert.Equal(1, pool.Available);
        Consume(waiting).Reservation.Dispose();
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Resize_ShrinkBelowReserved_KeepsHoldersAndGrantsNothingUntilReleases()
    {
        using var pool = new CapacityPool(10);
        CapacityPool.Reservation first = ReserveNow(pool, 4);
        CapacityPool.Reservation second = ReserveNow(pool, 4);

        pool.Resize(5);

        Assert.True(first.IsHeld);
        Assert.True(second.IsHeld);
        Assert.Equal(5, pool.Total);
        Assert.Equal(8, pool.Reserved);
        Assert.Equal(0, pool.Available);
        Assert.Equal(1.6, pool.Utilization, precision: 10);
        Assert.False(pool.TryReserve(1, out _), "A shrunk pool granted units while holders still exceed the new total.");
        ValueTask<CapacityPool.Reservation> waiting = pool.ReserveAsync(2);

        first.Dispose();
        Assert.False(waiting.IsCompleted, "4 reserved + 2 requested exceed the new total of 5.");
        second.Dispose();

        Assert.True(waiting.IsCompleted);
        Assert.Equal(3, pool.Available);
        Consume(waiting).Reservation.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public async Task Resize_ShrinkBelowQueuedAmount_FailsThatRequestAndLetsOthersThrough()
    {
        using var pool = new CapacityPool(10, new CapacityPoolOptions { Name = "gpu" });
        CapacityPool.Reservation holder = ReserveNow(pool, 2);
        ValueTask<CapacityPool.Reservation> tooLarge = pool.ReserveAsync(9);
        ValueTask<CapacityPool.Reservation> small = pool.ReserveAsync(3);

        pool.Resize(6);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tooLarge);
        Assert.Equal(9L, error.ActualValue);
        Assert.Contains("gpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("6", error.Message, StringComparison.Ordinal);
        Assert.True(small.IsCompleted, "The request behind the failed one was not granted.");
        Consume(small).Reservation.Dispose();
        holder.Dispose();
        AssertIdle(pool);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-3L)]
    [InlineData(11L)]
    public void Reserve_AmountOutOfRange_ThrowsAtOnceNamingAmountAndTotal(long amount)
    {
        using var pool = new CapacityPool(10, new CapacityPoolOptions { Name = "licenses" });
        CapacityPool.Reservation holder = ReserveNow(pool, 10);

        var asyncError = Assert.Throws<ArgumentOutOfRangeException>(() => pool.ReserveAsync(amount, TimeSpan.FromHours(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryReserveAsync(amount, LockPriority.High, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryReserve(amount, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => { using CapacityPool.Scope scope = pool.Reserve(amount); });

        Assert.Equal("amount", asyncError.ParamName);
        Assert.Equal(amount, asyncError.ActualValue);
        Assert.Contains(amount.ToString(System.Globalization.CultureInfo.InvariantCulture), asyncError.Message, StringComparison.Ordinal);
        Assert.Contains("10", asyncError.Message, StringComparison.Ordinal);
        Assert.Contains("licenses", asyncError.Message, StringComparison.Ordinal);
        Assert.Equal(0, pool.WaitingCount);
        holder.Dispose();
        AssertIdle(pool);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(CapacityPool.MaxTotal + 1)]
    public void Total_OutOfRange_ThrowsNamingValue(long total)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CapacityPool(total));
        Assert.Equal("total", error.ParamName);
        Assert.Equal(total, error.ActualValue);

        using var pool = new CapacityPool(3);
        var resizeError = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Resize(total));
        Assert.Equal("newTotal", resizeError.ParamName);
        Assert.Equal(3, pool.Total);
    }

    [Fact]
    public void MaxTotal_LargeAmounts_CountCorrectly()
    {
        using var pool = new CapacityPool(CapacityPool.MaxTotal);
        CapacityPool.Reservation big = ReserveNow(pool, CapacityPool.MaxTotal - 1);
        CapacityPool.Reservation one = ReserveNow(pool, 1);

        Assert.Equal(CapacityPool.MaxTotal, pool.Reserved);
        Assert.Equal(0, pool.Available);
        big.Dispose();
        one.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public async Task Timeout_Elapses_ThrowsPoolTimeoutNamingAmountPoolAndTimeout()
    {
        var clock = new FakeTimeProvider();
        using var pool = new CapacityPool(10, new CapacityPoolOptions { Name = "workers", TimeProvider = clock });
        CapacityPool.Reservation holder = ReserveNow(pool, 7);
        ValueTask<CapacityPool.Reservation> pending = pool.ReserveAsync(5, LockPriority.High, 250);

        clock.Advance(TimeSpan.FromMilliseconds(250));

        var error = await Assert.ThrowsAsync<CapacityPoolTimeoutException>(async () => await pending);
        Assert.IsAssignableFrom<LockTimeoutException>(error);
        Assert.Equal("workers", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), error.Timeout);
        Assert.Equal(5, error.Amount);
        Assert.Equal(10, error.Total);
        Assert.Equal(3, error.Available);
        Assert.Contains("workers", error.Message, StringComparison.Ordinal);
        Assert.Contains("250 ms", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 units", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pool.WaitingCount);
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void ZeroTimeout_NotEnoughUnits_FailsAtOnceWithoutQueueing()
    {
        using var pool = new CapacityPool(2);
        CapacityPool.Reservation holder = ReserveNow(pool, 2);

        Assert.False(Consume(pool.TryReserveAsync(1, TimeSpan.Zero)).Reservation.IsHeld);
        Assert.IsType<CapacityPoolTimeoutException>(Consume(pool.ReserveAsync(1, 0)).Error);
        Assert.False(pool.TryReserve(1, LockPriority.Critical, 0).IsHeld);
        Assert.Throws<CapacityPoolTimeoutException>(() => { using CapacityPool.Scope scope = pool.Reserve(1, TimeSpan.Zero); });
        Assert.Equal(0, pool.WaitingCount);
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void InvalidTimeoutsAndPriority_ThrowNamingValueAndPool()
    {
        using var pool = new CapacityPool(5, new CapacityPoolOptions { Name = "strict" });

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => pool.ReserveAsync(1, TimeSpan.FromMilliseconds(-2)));
        var milliseconds = Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryReserveAsync(1, -5));
        var priority = Assert.Throws<ArgumentOutOfRangeException>(() => pool.ReserveAsync(1, (LockPriority)9));

        Assert.Equal("timeout", negative.ParamName);
        Assert.Contains("strict", negative.Message, StringComparison.Ordinal);
        Assert.Equal("millisecondsTimeout", milliseconds.ParamName);
        Assert.Equal(-5, milliseconds.ActualValue);
        Assert.Equal("priority", priority.ParamName);
        Assert.Contains("9", priority.Message, StringComparison.Ordinal);
        AssertIdle(pool);
    }

    [Fact]
    public async Task Cancelled_WhileWaiting_LeavesQueueAtOnce()
    {
        using var pool = new CapacityPool(3, new CapacityPoolOptions { Name = "cpu" });
        CapacityPool.Reservation holder = ReserveNow(pool, 3);
        using var source = new CancellationTokenSource();
        ValueTask<CapacityPool.Reservation> pending = pool.ReserveAsync(2, LockPriority.High, source.Token);

        source.Cancel();

        Assert.Equal(0, pool.WaitingCount);
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(source.Token, error.CancellationToken);
        Assert.Contains("cpu", error.Message, StringComparison.Ordinal);
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Reservation_ReleasedTwice_ReturnsItsUnitsOnce()
    {
        using var pool = new CapacityPool(5);
        CapacityPool.Reservation reservation = ReserveNow(pool, 3);
        CapacityPool.Reservation copy = reservation;

        reservation.Dispose();
        reservation.Dispose();
        Assert.False(copy.Release());

        Assert.Equal(5, pool.Available);
        Assert.Equal(0, pool.Reserved);
        Assert.False(reservation.IsHeld);
        Assert.False(default(CapacityPool.Reservation).Release());
        Assert.Equal(0, default(CapacityPool.Reservation).Amount);
        AssertIdle(pool);
    }

    [Fact]
    public void Reservation_StaleCopyAfterSlotReuse_ReleasesNothing()
    {
        using var pool = new CapacityPool(4);
        CapacityPool.Reservation first = ReserveNow(pool, 4);
        CapacityPool.Reservation stale = first;
        first.Dispose();
        CapacityPool.Reservation next = ReserveNow(pool, 4);

        Assert.False(stale.Release(), "A stale copy released the units of the reservation that reused its slot.");
        Assert.True(next.IsHeld);
        Assert.Equal(0, pool.Available);
        Assert.True(stale != next);
        next.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void Ledger_ThousandsOfOpenReservations_EachReleasesOnce()
    {
        const int Count = 5_000;
        using var pool = new CapacityPool(Count);
        var reservations = new CapacityPool.Reservation[Count];
        for (int i = 0; i < Count; i++)
        {
            reservations[i] = ReserveNow(pool, 1);
        }

        Assert.Equal(0, pool.Available);
        for (int i = 0; i < Count; i += 2)
        {
            Assert.True(reservations[i].Release());
        }

        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i % 2 == 1, reservations[i].IsHeld);
            Assert.Equal(i % 2 == 1, reservations[i].Release());
        }

        AssertIdle(pool);
    }

    [Fact]
    public async Task Dispose_WithQueuedRequests_FailsEachAndLaterReleasesStillCount()
    {
        var pool = new CapacityPool(4, new CapacityPoolOptions { Name = "closing-pool" });
        CapacityPool.Reservation holder = ReserveNow(pool, 3);
        ValueTask<CapacityPool.Reservation> first = pool.ReserveAsync(2);
        ValueTask<CapacityPool.Reservation> second = pool.ReserveAsync(1, LockPriority.Low, TimeSpan.FromMinutes(1));

        pool.Dispose();
        pool.Dispose();

        Assert.True(pool.IsDisposed);
        Assert.Equal(0, pool.WaitingCount);
        foreach (ValueTask<CapacityPool.Reservation> waiter in new[] { first, second })
        {
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await waiter);
            Assert.Contains("closing-pool", error.Message, StringComparison.Ordinal);
        }

        Assert.True(holder.IsHeld);
        Assert.True(holder.Release());
        Assert.False(holder.Release());
        Assert.Equal(4, pool.Available);
        Assert.Throws<ObjectDisposedException>(() => pool.TryReserve(1, out _));
        Assert.Throws<ObjectDisposedException>(() => pool.Resize(8));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.ReserveAsync(1));
    }

    [Fact]
    public void Constructor_Defaults_GeneratedNameAndFullPool()
    {
        using var first = new CapacityPool(7);
        using var second = new CapacityPool(7, null);

        Assert.StartsWith("CapacityPool#", first.Name, StringComparison.Ordinal);
        Assert.NotEqual(first.Name, second.Name);
        Assert.Equal(7, first.Total);
        Assert.Equal(7, first.Available);
        Assert.Equal(0, first.Reserved);
        Assert.Equal(0, first.Utilization);
        Assert.Equal(Timeout.InfiniteTimeSpan, first.AgingInterval);
        Assert.False(first.IsDisposed);
    }

    [Fact]
    public void DebuggerDisplay_NamesPoolAndCounts()
    {
        using var pool = new CapacityPool(8, new CapacityPoolOptions { Name = "shown-in-debugger" });
        Assert.NotNull(typeof(CapacityPool).GetCustomAttribute<DebuggerDisplayAttribute>());
        PropertyInfo display = typeof(CapacityPool).GetProperty("DebuggerDisplay", BindingFlags.Instance | BindingFlags.NonPublic)!;
        CapacityPool.Reservation reservation = ReserveNow(pool, 3);

        string text = (string)display.GetValue(pool)!;

        Assert.Contains("shown-in-debugger", text, StringComparison.Ordinal);
        Assert.Contains("3 of 8", text, StringComparison.Ordinal);
        reservation.Dispose();
    }
}
