using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static Sanctuary.Tests.CapacityPools.CapacityPoolKit;

namespace Sanctuary.Tests.CapacityPools;

/// <summary>
/// Races and loads that broke widely used semaphores: cancellation at the moment of a request or of a
/// grant, double release, long chains of waiters, blocking waiters on a busy thread pool, abandoned
/// requests piling up, dispose while requests queue and cancellation after an immediate grant. A counter
/// of units in use must never exceed the total, and each test ends with the pool as free as it started.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CapacityPoolScenarioTests
{
    private const int Rounds = 10_000;
    private const long MaxHeapGrowth = 1024 * 1024;
    private static readonly LockPriority[] s_levels = [LockPriority.Low, LockPriority.Normal, LockPriority.High, LockPriority.Critical];
    private readonly ITestOutputHelper _output;

    public CapacityPoolScenarioTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void CancelAtMomentOfRequest_TenThousandRounds_GrantedOnceOrNothingHeld()
    {
        using var pool = new CapacityPool(1);
        var units = new UnitCounter(1);
        int granted = 0;
        int cancelled = 0;
        int failedReleases = 0;
        int secondReleases = 0;
        using var barrier = new Barrier(3);
        CancellationTokenSource? cancellation = null;
        CapacityPool.Reservation holder = default;
        bool stop = false;

        void Canceller()
        {
            var random = new Random(17);
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.SpinWait(random.Next(0, 300));
                Volatile.Read(ref cancellation)!.Cancel();
                barrier.SignalAndWait();
            }
        }

        void Releaser()
        {
            var random = new Random(29);
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.SpinWait(random.Next(0, 300));
                units.Exit(1);
                if (!holder.Release())
                {
                    Interlocked.Increment(ref failedReleases);
                }

                barrier.SignalAndWait();
            }
        }

        Thread[] helpers = [new Thread(Canceller) { IsBackground = true }, new Thread(Releaser) { IsBackground = true }];
        foreach (Thread helper in helpers)
        {
            helper.Start();
        }

        var levels = new Random(5);
        for (int round = 0; round < Rounds; round++)
        {
            holder = ReserveNow(pool, 1);
            units.Enter(1);
            cancellation?.Dispose();
            Volatile.Write(ref cancellation, new CancellationTokenSource());
            barrier.SignalAndWait();

            LockPriority level = s_levels[levels.Next(s_levels.Length)];
            ValueTask<CapacityPool.Reservation> request = Start(() => pool.ReserveAsync(1, level, cancellation.Token));
            Assert.True(Eventually.Holds(() => request.IsCompleted, Bound), $"Round {round}: the request neither got its unit nor gave up.");
            (CapacityPool.Reservation reservation, Exception? error) = Consume(request);
            if (error is null)
            {
                granted++;
                units.Enter(1);
                units.Exit(1);
                if (!reservation.Release())
                {
                    failedReleases++;
                }

                if (reservation.Release())
                {
                    secondReleases++;
                }
            }
            else
            {
                Assert.IsAssignableFrom<OperationCanceledException>(error);
                cancelled++;
            }

            barrier.SignalAndWait();
            Assert.Equal(1, pool.Available);
        }

        Volatile.Write(ref stop, true);
        barrier.SignalAndWait();
        foreach (Thread helper in helpers)
        {
            helper.Join();
        }

        cancellation?.Dispose();
        _output.WriteLine($"granted {granted}, cancelled {cancelled}; {units}");
        Assert.Equal(Rounds, granted + cancelled);
        Assert.Equal(0, failedReleases);
        Assert.Equal(0, secondReleases);
        Assert.Equal(0, units.Violations);
        AssertIdle(pool);
    }

    [Fact]
    public async Task GrantMeetsCancellingWaiters_RandomDelays_AllUnitsFreeWhenQuiet()
    {
        const int Total = 4;
        const int WaiterCount = 8;
        const int StressRounds = 1_000;
        using var pool = new CapacityPool(Total);
        var units = new UnitCounter(Total);
        var random = new Random(41);
        int granted = 0;
        int cancelled = 0;

        for (int round = 0; round < StressRounds; round++)
        {
            CapacityPool.Reservation[] holders = Enumerable.Range(0, Total).Select(_ => ReserveNow(pool, 1)).ToArray();
            units.Enter(Total);
            var sources = new CancellationTokenSource[WaiterCount];
            var waiters = new Task[WaiterCount];
            for (int i = 0; i < WaiterCount; i++)
            {
                sources[i] = new CancellationTokenSource();
                LockPriority level = s_levels[random.Next(s_levels.Length)];
                long amount = random.Next(1, 3);
                TimeSpan hold = RandomDelay(random);
                CancellationToken token = sources[i].Token;
                waiters[i] = Task.Run(async () =>
                {
                    CapacityPool.Reservation reservation;
                    try
                    {
                        reservation = await pool.ReserveAsync(amount, level, token);
                    }
                    catch (OperationCanceledException)
                    {
                        Interlocked.Increment(ref cancelled);
                        return;
                    }

                    units.Enter(amount);
                    Spin(hold);
                    units.Exit(amount);
                    Interlocked.Increment(ref granted);
                    reservation.Dispose();
                });
            }

            TimeSpan[] cancelAfter = Enumerable.Range(0, WaiterCount).Select(_ => RandomDelay(random)).ToArray();
            TimeSpan[] releaseAfter = Enumerable.Range(0, Total).Select(_ => RandomDelay(random)).ToArray();
            Task cancelling = Task.Run(() =>
            {
                var clock = Stopwatch.StartNew();
                foreach (int i in Enumerable.Range(0, WaiterCount).OrderBy(i => cancelAfter[i]))
                {
                    Spin(cancelAfter[i] - clock.Elapsed);
                    sources[i].Cancel();
                }
            });
            var releaseClock = Stopwatch.StartNew();
            foreach (int i in Enumerable.Range(0, Total).OrderBy(i => releaseAfter[i]))
            {
                Spin(releaseAfter[i] - releaseClock.Elapsed);
                units.Exit(1);
                holders[i].Dispose();
            }

            await Task.WhenAll([.. waiters, cancelling]).WaitAsync(Bound);
            Assert.True(LooksIdle(pool), $"Round {round}: {pool.Available} of {Total} units were free and {pool.WaitingCount} requests queued when the round was quiet.");
            foreach (CancellationTokenSource source in sources)
            {
                source.Dispose();
            }
        }

        _output.WriteLine($"granted {granted}, cancelled {cancelled}; {units}");
        Assert.Equal(StressRounds * WaiterCount, granted + cancelled);
        Assert.Equal(0, units.Violations);
        AssertIdle(pool);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReleaseInsideCancellationCallback_UnitGoesOnOrBackToPool(bool callbackRegisteredBeforeWaiter)
    {
        using var pool = new CapacityPool(1);
        using var source = new CancellationTokenSource();
        CapacityPool.Reservation holder = ReserveNow(pool, 1);
        bool releasedInCallback = false;
        CancellationTokenRegistration registration = default;
        if (callbackRegisteredBeforeWaiter)
        {
            registration = source.Token.Register(() => releasedInCallback = holder.Release());
        }

        ValueTask<CapacityPool.Reservation> waiter = pool.ReserveAsync(1, LockPriority.High, source.Token);
        if (!callbackRegisteredBeforeWaiter)
        {
            registration = source.Token.Register(() => releasedInCallback = holder.Release());
        }

        source.Cancel();
        await registration.DisposeAsync();

        Assert.True(releasedInCallback, "The holder's release inside the cancellation callback failed.");
        Assert.True(waiter.IsCompleted, "The request neither got its unit nor gave up.");
        (CapacityPool.Reservation reservation, Exception? error) = Consume(waiter);
        if (error is null)
        {
            Assert.True(reservation.IsHeld, "The grant reached the request but its reservation is not held.");
            Assert.Equal(0, pool.Available);
            Assert.True(reservation.Release());
        }
        else
        {
            Assert.IsAssignableFrom<OperationCanceledException>(error);
        }

        AssertIdle(pool);
    }

    [Fact]
    public void ReleasingTwice_AfterHandOff_StaleReservationLeavesNextHolderAlone()
    {
        using var pool = new CapacityPool(1);
        CapacityPool.Reservation a = ReserveNow(pool, 1);
        ValueTask<CapacityPool.Reservation> waitingB = pool.ReserveAsync(1, LockPriority.Low);

        a.Dispose();
        CapacityPool.Reservation b = Consume(waitingB).Reservation;
        a.Dispose();

        Assert.False(pool.TryReserve(1, out CapacityPool.Reservation c), "A try-reserve succeeded while B held the only unit.");
        Assert.False(c.IsHeld);
        Assert.True(b.IsHeld, "A's second dispose released B's unit.");
        Assert.Equal(0, pool.Available);
        Assert.True(b.Release());
        AssertIdle(pool);
    }

    [Fact]
    public void ReleasingTwice_ThreeOfFiveUnits_PoolReturnsToFiveNotEight()
    {
        using var pool = new CapacityPool(5);
        CapacityPool.Reservation reservation = ReserveNow(pool, 3);

        reservation.Dispose();
        reservation.Dispose();

        Assert.Equal(5, pool.Available);
        Assert.Equal(0, pool.Reserved);
        Assert.False(pool.TryReserve(5, out CapacityPool.Reservation all) && pool.TryReserve(1, out _), "The pool granted more than its 5 units.");
        all.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public async Task TenThousandWaiters_ReleaseOnGrant_StackStaysFlatAndNoneRunsInsideRelease()
    {
        const int WaiterCount = 10_000;
        const int MaxFrames = 200;
        using var pool = new CapacityPool(2);
        CapacityPool.Reservation holder = ReserveNow(pool, 2);
        var units = new UnitCounter(2);
        var depths = new int[WaiterCount];
        var insideRelease = new bool[WaiterCount];
        int releasing = 0;
        int releasingThread = Environment.CurrentManagedThreadId;

        async Task WaiterAsync(int index)
        {
            long amount = 1 + (index % 2);
            CapacityPool.Reservation reservation = await pool.ReserveAsync(amount, s_levels[index % s_levels.Length]);
            units.Enter(amount);
            depths[index] = new StackTrace().FrameCount;
            insideRelease[index] = Volatile.Read(ref releasing) == 1 && Environment.CurrentManagedThreadId == releasingThread;
            units.Exit(amount);
            reservation.Dispose();
        }

        Task[] waiters = Enumerable.Range(0, WaiterCount).Select(WaiterAsync).ToArray();
        Assert.Equal(WaiterCount, pool.WaitingCount);
        Volatile.Write(ref releasing, 1);
        Assert.True(holder.Release());
        Volatile.Write(ref releasing, 0);

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(60));
        int deepest = depths.Max();
        Assert.True(deepest < MaxFrames, $"A request was granted {deepest} frames deep.");
        Assert.DoesNotContain(true, insideRelease);
        Assert.Equal(0, units.Violations);
        AssertIdle(pool);
    }

    [Fact]
    public async Task BusyThreadPool_BlockingAndAsyncReservers_AllFinishWithoutThreadGrowth()
    {
        using var pool = new CapacityPool(3);
        var units = new UnitCounter(3);
        int threadsBefore = ThreadPool.ThreadCount;
        var clock = Stopwatch.StartNew();

        void Critical(long amount)
        {
            units.Enter(amount);
            Thread.SpinWait(50);
            units.Exit(amount);
        }

        Task[] blocking = Enumerable.Range(0, 100).Select(i => Task.Run(() =>
        {
            using (pool.Reserve(1, s_levels[i % 4]))
            {
                Critical(1);
            }

            using (pool.Reserve(3, s_levels[(i + 1) % 4], TimeSpan.FromSeconds(30)))
            {
                Critical(3);
            }
        })).ToArray();
        await Task.WhenAll(blocking).WaitAsync(TimeSpan.FromSeconds(20));

        Task[] mixed = Enumerable.Range(0, 100).Select(i => i % 2 == 0
            ? Task.Run(() =>
            {
                using (pool.Reserve(2, s_levels[i % 4]))
                {
                    Critical(2);
                }
            })
            : Task.Run(async () =>
            {
                using (await pool.ReserveAsync(2, s_levels[i % 4]))
                {
                    Critical(2);
                }
            })).ToArray();
        await Task.WhenAll(mixed).WaitAsync(TimeSpan.FromSeconds(20));

        int growth = ThreadPool.ThreadCount - threadsBefore;
        _output.WriteLine($"elapsed {clock.ElapsedMilliseconds} ms, thread pool grew by {growth} threads; {units}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The reservers took {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.True(growth < 20, $"The thread pool grew by {growth} threads: blocked reservers needed new threads to be woken.");
        Assert.Equal(0, units.Violations);
        AssertIdle(pool);
    }

    [Fact]
    public void MillionGiveUps_FakeClock_QueueEmptiesAndHeapStaysFlat()
    {
        const int BatchSize = 1_000;
        var clock = new FakeTimeProvider();
        using var pool = new CapacityPool(4, new CapacityPoolOptions { TimeProvider = clock });
        CapacityPool.Reservation holder = ReserveNow(pool, 4);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var batch = new ValueTask<CapacityPool.Reservation>[BatchSize];
        int RunBatch() => RunGiveUpBatch(pool, batch, cancelled.Token, () => clock.Advance(TimeSpan.FromMilliseconds(1)));
        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunBatch();
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        int maxEntries = 0;
        for (int round = 0; round < 1_000_000 / BatchSize; round++)
        {
            wrong += RunBatch();
            maxEntries = Math.Max(maxEntries, pool.QueueEntryCount);
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;
        _output.WriteLine($"heap growth after 1,000,000 give-ups: {growth:N0} bytes; most channel entries left after a batch: {maxEntries}");
        Assert.Equal(0, wrong);
        Assert.Equal(0, pool.WaitingCount);
        Assert.True(maxEntries < 128, $"Abandoned requests piled up in the channels: {maxEntries} entries after a batch.");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 1,000,000 abandoned requests.");
        Assert.True(holder.Release());
        AssertIdle(pool);
    }

    [Fact]
    public void HundredThousandGiveUps_RealClock_QueueEmptiesAndHeapStaysFlat()
    {
        const int BatchSize = 1_000;
        using var pool = new CapacityPool(4);
        CapacityPool.Reservation holder = ReserveNow(pool, 4);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var batch = new ValueTask<CapacityPool.Reservation>[BatchSize];
        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunGiveUpBatch(pool, batch, cancelled.Token, () => { });
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        for (int round = 0; round < 100_000 / BatchSize; round++)
        {
            wrong += RunGiveUpBatch(pool, batch, cancelled.Token, () => { });
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;
        _output.WriteLine($"heap growth after 100,000 real-clock give-ups: {growth:N0} bytes");
        Assert.Equal(0, wrong);
        Assert.True(Eventually.Holds(() => pool.WaitingCount == 0), $"{pool.WaitingCount} requests are still queued.");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 100,000 abandoned requests.");
        holder.Dispose();
        AssertIdle(pool);
    }

    [Fact]
    public void MillionUncontendedReserves_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var pool = new CapacityPool(8);
        using var longLived = new CancellationTokenSource();
        for (int i = 0; i < 1_000; i++)
        {
            Consume(pool.ReserveAsync(2, LockPriority.High, longLived.Token)).Reservation.Dispose();
        }

        long before = HeapAfterFullCollection();
        int failures = 0;
        for (int i = 0; i < 1_000_000; i++)
        {
            (CapacityPool.Reservation reservation, Exception? error) = Consume(pool.ReserveAsync(1 + (i & 7), s_levels[i & 3], longLived.Token));
            if (error is not null || !reservation.Release())
            {
                failures++;
            }
        }

        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);
        _output.WriteLine($"heap growth after 1,000,000 uncontended reserves with one token: {growth:N0} bytes");
        Assert.Equal(0, failures);
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes while the long-lived token stayed alive.");
        AssertIdle(pool);
    }

    [Fact]
    public async Task DisposeWhileRequestsQueue_EveryRequestEndsAndLaterReserveThrows()
    {
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var pool = new CapacityPool(1, new CapacityPoolOptions { Name = "closing" });
            CapacityPool.Reservation holder = ReserveNow(pool, 1);
            using var token = new CancellationTokenSource();
            Task<CapacityPool.Reservation> w1 = pool.ReserveAsync(1, LockPriority.Low).AsTask();
            Task<CapacityPool.Reservation> w2 = pool.ReserveAsync(1, LockPriority.Critical).AsTask();
            Task<CapacityPool.Reservation> w3 = pool.ReserveAsync(1, LockPriority.High, token.Token).AsTask();
            Task<CapacityPool.Reservation> w4 = pool.ReserveAsync(1, LockPriority.Normal, TimeSpan.FromMilliseconds(50)).AsTask();
            Task<CapacityPool.Reservation> w5 = pool.ReserveAsync(1).AsTask();

            token.Cancel();
            pool.Dispose();
            await Task.Delay(100);
            bool released = holder.Release();

            Task[] all = [w1, w2, w3, w4, w5];
            await Task.WhenAny(Task.WhenAll(all), Task.Delay(TimeSpan.FromSeconds(1)));
            Assert.All(all, waiter => Assert.True(waiter.IsCompleted, "A request was still pending 1 s after Dispose."));
            Exception? third = await Record.ExceptionAsync(() => w3);
            Assert.True(third is OperationCanceledException or ObjectDisposedException, $"W3 ended with {third?.GetType().Name}.");
            foreach (Task<CapacityPool.Reservation> waiter in new[] { w1, w2, w4, w5 })
            {
                await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter);
            }

            Assert.True(released, "The holder's release after Dispose did not report that it returned its unit.");
            Assert.Equal(1, pool.Available);
            Assert.False(holder.Release());
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.ReserveAsync(1, LockPriority.Critical));
            Assert.Contains("closing", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.Empty(unobserved);
    }

    [Fact]
    public void CancelAfterImmediateGrant_TenThousandRounds_ReservationOrFreePool()
    {
        using var pool = new CapacityPool(3);
        using var barrier = new Barrier(2);
        CancellationTokenSource? cancellation = null;
        bool stop = false;
        int granted = 0;
        int cancelled = 0;
        int heldAfterThrow = 0;

        var canceller = new Thread(() =>
        {
            var random = new Random(3);
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.SpinWait(random.Next(0, 100));
                Volatile.Read(ref cancellation)!.Cancel();
                barrier.SignalAndWait();
            }
        })
        {
            IsBackground = true,
        };
        canceller.Start();

        for (int round = 0; round < Rounds; round++)
        {
            cancellation?.Dispose();
            Volatile.Write(ref cancellation, new CancellationTokenSource());
            barrier.SignalAndWait();
            ValueTask<CapacityPool.Reservation> request = Start(() => pool.ReserveAsync(1 + (round % 3), s_levels[round & 3], cancellation.Token));
            barrier.SignalAndWait();

            (CapacityPool.Reservation reservation, Exception? error) = Consume(request);
            if (error is null)
            {
                granted++;
                Assert.True(reservation.Release(), $"Round {round}: the granted reservation could not be released.");
            }
            else
            {
                Assert.IsAssignableFrom<OperationCanceledException>(error);
                cancelled++;
            }

            if (!pool.TryReserve(3, out CapacityPool.Reservation probe))
            {
                heldAfterThrow++;
                continue;
            }

            probe.Dispose();
        }

        Volatile.Write(ref stop, true);
        barrier.SignalAndWait();
        canceller.Join();
        cancellation?.Dispose();
        _output.WriteLine($"granted {granted}, cancelled {cancelled}");
        Assert.Equal(0, heldAfterThrow);
        AssertIdle(pool);
    }

    /// <summary>
    /// Starts one batch of requests against a pool whose units stay held: a quarter with a zero timeout, a
    /// quarter with a 1 ms timeout, a quarter with an already-cancelled token and a quarter whose token is
    /// cancelled after they queued. Then lets the timeouts fire and checks that each one gave up.
    /// </summary>
    private static int RunGiveUpBatch(CapacityPool pool, ValueTask<CapacityPool.Reservation>[] batch, CancellationToken cancelled, Action letTimeoutsFire)
    {
        using var later = new CancellationTokenSource();
        for (int i = 0; i < batch.Length; i++)
        {
            LockPriority level = s_levels[i & 3];
            long amount = 1 + (i % 3);
            batch[i] = (i % 4) switch
            {
                0 => Start(() => pool.TryReserveAsync(amount, level, TimeSpan.Zero)),
                1 => Start(() => pool.TryReserveAsync(amount, level, TimeSpan.FromMilliseconds(1))),
                2 => Start(() => pool.TryReserveAsync(amount, level, TimeSpan.FromMilliseconds(1), cancelled)),
                _ => Start(() => pool.ReserveAsync(amount, level, later.Token)),
            };
        }

        later.Cancel();
        letTimeoutsFire();
        int wrong = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            ValueTask<CapacityPool.Reservation> attempt = batch[i];
            if (!attempt.IsCompleted && !Eventually.Holds(() => attempt.IsCompleted, TimeSpan.FromSeconds(5)))
            {
                wrong++;
                continue;
            }

            (CapacityPool.Reservation reservation, Exception? error) = Consume(attempt);
            bool expected = (i % 4) >= 2 ? error is OperationCanceledException : error is null && !reservation.IsHeld;
            if (!expected)
            {
                wrong++;
            }
        }

        return wrong;
    }

    private static long HeapAfterFullCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    // Mostly short delays, where races are densest, with an occasional one up to 2 ms.
    private static TimeSpan RandomDelay(Random random) =>
        TimeSpan.FromTicks(random.Next(8) == 0 ? random.Next(0, 20_000) : random.Next(0, 1_000));

    private static void Spin(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < delay)
        {
            Thread.SpinWait(20);
        }
    }

    /// <summary>Counts the units that granted holders use; more than the total at once is an over-commit.</summary>
    private sealed class UnitCounter(long total)
    {
        private long _inUse;
        private long _maxInUse;
        private int _violations;

        public int Violations => Volatile.Read(ref _violations);

        public void Enter(long amount)
        {
            long now = Interlocked.Add(ref _inUse, amount);
            if (now > total)
            {
                Interlocked.Increment(ref _violations);
            }

            long seen = Volatile.Read(ref _maxInUse);
            while (now > seen)
            {
                long previous = Interlocked.CompareExchange(ref _maxInUse, now, seen);
                if (previous == seen)
                {
                    break;
                }

                seen = previous;
            }
        }

        public void Exit(long amount) => Interlocked.Add(ref _inUse, -amount);

        public override string ToString() =>
            $"units in use {Volatile.Read(ref _inUse)}, most at once {Volatile.Read(ref _maxInUse)} of {total}, over-commits {Violations}";
    }
}
