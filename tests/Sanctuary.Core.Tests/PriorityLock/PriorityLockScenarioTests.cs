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
using static Sanctuary.Tests.PriorityLocks.PriorityLockKit;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>
/// Races and loads that broke widely used locks: cancellation at the moment of a request or of a grant,
/// double release, long chains of waiters, blocking waiters on a busy thread pool, abandoned waiters
/// piling up, dispose while waiters queue and cancellation after an immediate grant.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PriorityLockScenarioTests
{
    private const int Rounds = 10_000;
    private const long MaxHeapGrowth = 1024 * 1024;
    private static readonly LockPriority[] s_levels = [LockPriority.Low, LockPriority.Normal, LockPriority.High, LockPriority.Critical];
    private readonly ITestOutputHelper _output;

    public PriorityLockScenarioTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void CancelAtMomentOfRequest_TenThousandRounds_GrantedOnceOrNothingHeld()
    {
        using var gate = new PriorityLock();
        int inside = 0;
        int maxInside = 0;
        int granted = 0;
        int cancelled = 0;
        int failedReleases = 0;
        int secondReleases = 0;
        using var barrier = new Barrier(3);
        CancellationTokenSource? cancellation = null;
        PriorityLock.Lease holder = default;
        bool stop = false;

        void Enter()
        {
            int now = Interlocked.Increment(ref inside);
            InterlockedMax(ref maxInside, now);
        }

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
                Interlocked.Decrement(ref inside);
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
            Assert.True(gate.TryAcquire(out holder), $"Round {round}: the lock was not free at the start.");
            Enter();
            cancellation?.Dispose();
            Volatile.Write(ref cancellation, new CancellationTokenSource());
            barrier.SignalAndWait();

            LockPriority level = s_levels[levels.Next(s_levels.Length)];
            ValueTask<PriorityLock.Lease> request = Start(() => gate.AcquireAsync(level, cancellation.Token));
            Assert.True(Eventually.Holds(() => request.IsCompleted, Bound), $"Round {round}: the request neither got the lock nor gave up.");
            (PriorityLock.Lease lease, Exception? error) = Consume(request);
            if (error is null)
            {
                granted++;
                Enter();
                Interlocked.Decrement(ref inside);
                if (!lease.Release())
                {
                    failedReleases++;
                }

                if (lease.Release())
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
            Assert.False(gate.IsHeld, $"Round {round}: the lock stayed held after the round.");
        }

        Volatile.Write(ref stop, true);
        barrier.SignalAndWait();
        foreach (Thread helper in helpers)
        {
            helper.Join();
        }

        cancellation?.Dispose();
        _output.WriteLine($"granted {granted}, cancelled {cancelled}, max inside {maxInside}");
        Assert.Equal(Rounds, granted + cancelled);
        Assert.Equal(0, failedReleases);
        Assert.Equal(0, secondReleases);
        Assert.Equal(1, maxInside);
        AssertFree(gate);
    }

    [Fact]
    public async Task GrantMeetsCancellingWaiters_RandomDelays_LockEndsFree()
    {
        const int WaiterCount = 8;
        const int StressRounds = 1_000;
        using var gate = new PriorityLock();
        var random = new Random(41);
        int inside = 0;
        int maxInside = 0;
        int granted = 0;
        int cancelled = 0;

        for (int round = 0; round < StressRounds; round++)
        {
            Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
            var sources = new CancellationTokenSource[WaiterCount];
            var waiters = new Task[WaiterCount];
            for (int i = 0; i < WaiterCount; i++)
            {
                sources[i] = new CancellationTokenSource();
                LockPriority level = s_levels[random.Next(s_levels.Length)];
                TimeSpan hold = RandomDelay(random);
                CancellationToken token = sources[i].Token;
                waiters[i] = Task.Run(async () =>
                {
                    PriorityLock.Lease lease;
                    try
                    {
                        lease = await gate.AcquireAsync(level, token);
                    }
                    catch (OperationCanceledException)
                    {
                        Interlocked.Increment(ref cancelled);
                        return;
                    }

                    InterlockedMax(ref maxInside, Interlocked.Increment(ref inside));
                    Spin(hold);
                    Interlocked.Decrement(ref inside);
                    Interlocked.Increment(ref granted);
                    lease.Dispose();
                });
            }

            TimeSpan[] cancelAfter = Enumerable.Range(0, WaiterCount).Select(_ => RandomDelay(random)).ToArray();
            TimeSpan releaseAfter = RandomDelay(random);
            Task cancelling = Task.Run(() =>
            {
                var clock = Stopwatch.StartNew();
                foreach (int i in Enumerable.Range(0, WaiterCount).OrderBy(i => cancelAfter[i]))
                {
                    Spin(cancelAfter[i] - clock.Elapsed);
                    sources[i].Cancel();
                }
            });
            Spin(releaseAfter);
            holder.Dispose();

            await Task.WhenAll([.. waiters, cancelling]).WaitAsync(Bound);
            Assert.True(LooksFree(gate), $"Round {round}: the lock was not free when the round was quiet.");
            foreach (CancellationTokenSource source in sources)
            {
                source.Dispose();
            }
        }

        _output.WriteLine($"granted {granted}, cancelled {cancelled}, max inside {maxInside}");
        Assert.Equal(StressRounds * WaiterCount, granted + cancelled);
        Assert.Equal(1, maxInside);
        AssertFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReleaseInsideCancellationCallback_GrantGoesOnOrLockFrees(bool callbackRegisteredBeforeWaiter)
    {
        using var gate = new PriorityLock();
        using var source = new CancellationTokenSource();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        bool releasedInCallback = false;
        CancellationTokenRegistration registration = default;
        if (callbackRegisteredBeforeWaiter)
        {
            registration = source.Token.Register(() => releasedInCallback = holder.Release());
        }

        ValueTask<PriorityLock.Lease> waiter = gate.AcquireAsync(LockPriority.High, source.Token);
        if (!callbackRegisteredBeforeWaiter)
        {
            registration = source.Token.Register(() => releasedInCallback = holder.Release());
        }

        source.Cancel();
        await registration.DisposeAsync();

        Assert.True(releasedInCallback, "The holder's release inside the cancellation callback failed.");
        Assert.True(waiter.IsCompleted, "The waiter neither got the lock nor gave up.");
        (PriorityLock.Lease lease, Exception? error) = Consume(waiter);
        if (error is null)
        {
            Assert.True(lease.IsHeld, "The grant reached the waiter but its lease is not held.");
            Assert.True(lease.Release());
        }
        else
        {
            Assert.IsAssignableFrom<OperationCanceledException>(error);
        }

        AssertFree(gate);
    }

    [Fact]
    public void ReleasingTwice_AfterHandOff_StaleLeaseLeavesNextHolderAlone()
    {
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease a));
        ValueTask<PriorityLock.Lease> waitingB = gate.AcquireAsync(LockPriority.Low);

        a.Dispose();
        PriorityLock.Lease b = Consume(waitingB).Lease;
        a.Dispose();

        Assert.False(gate.TryAcquire(out PriorityLock.Lease c), "A try-acquire succeeded while B held the lock.");
        Assert.False(c.IsHeld);
        Assert.True(b.IsHeld, "A's second dispose released B's hold.");
        Assert.True(b.Release());
        AssertFree(gate);
    }

    [Fact]
    public async Task TenThousandWaiters_ReleaseOnGrant_StackStaysFlatAndNoneRunsInsideRelease()
    {
        const int WaiterCount = 10_000;
        const int MaxFrames = 200;
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        var depths = new int[WaiterCount];
        var insideRelease = new bool[WaiterCount];
        int releasing = 0;
        int releasingThread = Environment.CurrentManagedThreadId;
        int inside = 0;
        int maxInside = 0;

        async Task WaiterAsync(int index)
        {
            PriorityLock.Lease lease = await gate.AcquireAsync(s_levels[index % s_levels.Length]);
            InterlockedMax(ref maxInside, Interlocked.Increment(ref inside));
            depths[index] = new StackTrace().FrameCount;
            insideRelease[index] = Volatile.Read(ref releasing) == 1 && Environment.CurrentManagedThreadId == releasingThread;
            Interlocked.Decrement(ref inside);
            lease.Dispose();
        }

        Task[] waiters = Enumerable.Range(0, WaiterCount).Select(WaiterAsync).ToArray();
        Assert.Equal(WaiterCount, gate.WaitingCount);
        Volatile.Write(ref releasing, 1);
        Assert.True(holder.Release());
        Volatile.Write(ref releasing, 0);

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(60));
        int deepest = depths.Max();
        Assert.True(deepest < MaxFrames, $"A waiter was granted {deepest} frames deep.");
        Assert.DoesNotContain(true, insideRelease);
        Assert.Equal(1, maxInside);
        AssertFree(gate);
    }

    [Fact]
    public async Task BusyThreadPool_BlockingAndAsyncAcquirers_AllFinishWithoutThreadGrowth()
    {
        using var gate = new PriorityLock();
        int threadsBefore = ThreadPool.ThreadCount;
        int inside = 0;
        int maxInside = 0;
        var clock = Stopwatch.StartNew();

        void Critical()
        {
            InterlockedMax(ref maxInside, Interlocked.Increment(ref inside));
            Thread.SpinWait(50);
            Interlocked.Decrement(ref inside);
        }

        Task[] blocking = Enumerable.Range(0, 100).Select(i => Task.Run(() =>
        {
            using (gate.Acquire(s_levels[i % 4]))
            {
                Critical();
            }

            using (gate.Acquire(s_levels[(i + 1) % 4], TimeSpan.FromSeconds(30)))
            {
                Critical();
            }
        })).ToArray();
        await Task.WhenAll(blocking).WaitAsync(TimeSpan.FromSeconds(20));

        Task[] mixed = Enumerable.Range(0, 100).Select(i => i % 2 == 0
            ? Task.Run(() =>
            {
                using (gate.Acquire(s_levels[i % 4]))
                {
                    Critical();
                }
            })
            : Task.Run(async () =>
            {
                using (await gate.AcquireAsync(s_levels[i % 4]))
                {
                    Critical();
                }
            })).ToArray();
        await Task.WhenAll(mixed).WaitAsync(TimeSpan.FromSeconds(20));

        int growth = ThreadPool.ThreadCount - threadsBefore;
        _output.WriteLine($"elapsed {clock.ElapsedMilliseconds} ms, thread pool grew by {growth} threads");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The acquirers took {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.True(growth < 20, $"The thread pool grew by {growth} threads: blocked acquirers needed new threads to be woken.");
        Assert.Equal(1, maxInside);
        AssertFree(gate);
    }

    [Fact]
    public void MillionGiveUps_FakeClock_QueueEmptiesAndHeapStaysFlat()
    {
        const int BatchSize = 1_000;
        var clock = new FakeTimeProvider();
        using var gate = new PriorityLock(new PriorityLockOptions { TimeProvider = clock, AgingInterval = TimeSpan.FromMilliseconds(1) });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var batch = new ValueTask<PriorityLock.Lease>[BatchSize];
        int RunBatch() => RunGiveUpBatch(gate, batch, cancelled.Token, () => clock.Advance(TimeSpan.FromMilliseconds(1)));
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
            maxEntries = Math.Max(maxEntries, gate.QueueEntryCount);
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;
        _output.WriteLine($"heap growth after 1,000,000 give-ups: {growth:N0} bytes; most channel entries left after a batch: {maxEntries}");
        Assert.Equal(0, wrong);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(maxEntries < 128, $"Abandoned waiters piled up in the channels: {maxEntries} entries after a batch.");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 1,000,000 abandoned acquires.");
        Assert.True(holder.IsHeld);
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public void HundredThousandGiveUps_RealClock_QueueEmptiesAndHeapStaysFlat()
    {
        const int BatchSize = 1_000;
        using var gate = new PriorityLock();
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var batch = new ValueTask<PriorityLock.Lease>[BatchSize];
        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunGiveUpBatch(gate, batch, cancelled.Token, () => { });
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        for (int round = 0; round < 100_000 / BatchSize; round++)
        {
            wrong += RunGiveUpBatch(gate, batch, cancelled.Token, () => { });
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;
        _output.WriteLine($"heap growth after 100,000 real-clock give-ups: {growth:N0} bytes");
        Assert.Equal(0, wrong);
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 0), $"{gate.WaitingCount} waiters are still queued.");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 100,000 abandoned acquires.");
        holder.Dispose();
        AssertFree(gate);
    }

    [Fact]
    public void MillionUncontendedAcquires_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var gate = new PriorityLock();
        using var longLived = new CancellationTokenSource();
        for (int i = 0; i < 1_000; i++)
        {
            Consume(gate.AcquireAsync(LockPriority.High, longLived.Token)).Lease.Dispose();
        }

        long before = HeapAfterFullCollection();
        int failures = 0;
        for (int i = 0; i < 1_000_000; i++)
        {
            (PriorityLock.Lease lease, Exception? error) = Consume(gate.AcquireAsync(s_levels[i & 3], longLived.Token));
            if (error is not null || !lease.Release())
            {
                failures++;
            }
        }

        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);
        _output.WriteLine($"heap growth after 1,000,000 uncontended acquires with one token: {growth:N0} bytes");
        Assert.Equal(0, failures);
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes while the long-lived token stayed alive.");
        AssertFree(gate);
    }

    [Fact]
    public async Task DisposeWhileWaitersQueue_EveryWaiterEndsAndLaterAcquireThrows()
    {
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var gate = new PriorityLock(new PriorityLockOptions { Name = "closing" });
            Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
            using var token = new CancellationTokenSource();
            Task<PriorityLock.Lease> w1 = gate.AcquireAsync(LockPriority.Low).AsTask();
            Task<PriorityLock.Lease> w2 = gate.AcquireAsync(LockPriority.Critical).AsTask();
            Task<PriorityLock.Lease> w3 = gate.AcquireAsync(LockPriority.High, token.Token).AsTask();
            Task<PriorityLock.Lease> w4 = gate.AcquireAsync(LockPriority.Normal, TimeSpan.FromMilliseconds(50)).AsTask();
            Task<PriorityLock.Lease> w5 = gate.AcquireAsync(LockPriority.Normal).AsTask();

            token.Cancel();
            gate.Dispose();
            await Task.Delay(100);
            bool released = holder.Release();

            Task[] all = [w1, w2, w3, w4, w5];
            await Task.WhenAny(Task.WhenAll(all), Task.Delay(TimeSpan.FromSeconds(1)));
            Assert.All(all, waiter => Assert.True(waiter.IsCompleted, "A waiter was still pending 1 s after Dispose."));
            Exception? third = await Record.ExceptionAsync(() => w3);
            Assert.True(third is OperationCanceledException or ObjectDisposedException, $"W3 ended with {third?.GetType().Name}.");
            foreach (Task<PriorityLock.Lease> waiter in new[] { w1, w2, w4, w5 })
            {
                await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter);
            }

            Assert.True(released, "The holder's release after Dispose did not report that it released its hold.");
            Assert.False(gate.IsHeld);
            Assert.False(holder.Release());
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await gate.AcquireAsync(LockPriority.Critical));
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
    public void CancelAfterImmediateGrant_TenThousandRounds_LeaseOrFreeLock()
    {
        using var gate = new PriorityLock();
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
            ValueTask<PriorityLock.Lease> request = Start(() => gate.AcquireAsync(s_levels[round & 3], cancellation.Token));
            barrier.SignalAndWait();

            (PriorityLock.Lease lease, Exception? error) = Consume(request);
            if (error is null)
            {
                granted++;
                Assert.True(lease.Release(), $"Round {round}: the granted lease could not be released.");
            }
            else
            {
                Assert.IsAssignableFrom<OperationCanceledException>(error);
                cancelled++;
            }

            if (!gate.TryAcquire(out PriorityLock.Lease probe))
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
        AssertFree(gate);
    }

    /// <summary>
    /// Starts one batch of try-acquires against a lock that stays held: a quarter with a zero timeout, a
    /// quarter with a 1 ms timeout, a quarter with an already-cancelled token and a quarter whose token is
    /// cancelled after they queued. Then lets the timeouts fire and checks that each one gave up.
    /// </summary>
    private static int RunGiveUpBatch(PriorityLock gate, ValueTask<PriorityLock.Lease>[] batch, CancellationToken cancelled, Action letTimeoutsFire)
    {
        using var later = new CancellationTokenSource();
        for (int i = 0; i < batch.Length; i++)
        {
            LockPriority level = s_levels[i & 3];
            batch[i] = (i % 4) switch
            {
                0 => Start(() => gate.TryAcquireAsync(level, TimeSpan.Zero)),
                1 => Start(() => gate.TryAcquireAsync(level, TimeSpan.FromMilliseconds(1))),
                2 => Start(() => gate.TryAcquireAsync(level, TimeSpan.FromMilliseconds(1), cancelled)),
                _ => Start(() => gate.AcquireAsync(level, later.Token)),
            };
        }

        later.Cancel();
        letTimeoutsFire();
        int wrong = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            ValueTask<PriorityLock.Lease> attempt = batch[i];
            if (!attempt.IsCompleted && !Eventually.Holds(() => attempt.IsCompleted, TimeSpan.FromSeconds(5)))
            {
                wrong++;
                continue;
            }

            (PriorityLock.Lease lease, Exception? error) = Consume(attempt);
            bool expected = (i % 4) >= 2 ? error is OperationCanceledException : error is null && !lease.IsHeld;
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

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
