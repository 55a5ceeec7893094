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
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>
/// Scenarios that shipped as faults in other reader-writer locks: stale releases, long chains of
/// waiters, blocking acquirers on a busy pool, dispose while waiters queue, contended upgrades, and
/// a mixed stress run with an exclusion probe.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReaderWriterScenarioTests
{
    private const int ChainLength = 10_000;
    private const int MaxFrames = 200;
    private const int AllowedThreadGrowth = 8;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public ReaderWriterScenarioTests(ITestOutputHelper output)
    {
        _output = output;
    }

    /// <summary>The modes of the first holder whose lease is released twice.</summary>
    public enum FirstHolder
    {
        Writer,
        Upgradeable,
        UpgradedWriter,
        Reader,
    }

    [Theory]
    [InlineData(FirstHolder.Writer)]
    [InlineData(FirstHolder.Upgradeable)]
    [InlineData(FirstHolder.UpgradedWriter)]
    [InlineData(FirstHolder.Reader)]
    public async Task ReleaseTwice_NextHolderGrantedInBetween_SecondReleaseLeavesTheNextHolderAlone(FirstHolder first)
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "release-twice" });
        Func<bool> releaseA;
        UpgradeableReadLease upgradeableOfA = default;
        switch (first)
        {
            case FirstHolder.Writer:
                WriteLease a = await gate.AcquireWriteAsync();
                releaseA = () => a.Release();
                break;
            case FirstHolder.Upgradeable:
                UpgradeableReadLease u = await gate.AcquireUpgradeableReadAsync();
                releaseA = () => u.Release();
                break;
            case FirstHolder.UpgradedWriter:
                upgradeableOfA = await gate.AcquireUpgradeableReadAsync();
                WriteLease upgraded = await upgradeableOfA.UpgradeAsync();
                releaseA = () =>
                {
                    bool released = upgraded.Release();
                    return upgradeableOfA.Release() && released;
                };
                break;
            default:
                ReadLease r = await gate.AcquireReadAsync();
                releaseA = () => r.Release();
                break;
        }

        ValueTask<WriteLease> waitingB = gate.AcquireWriteAsync();
        Assert.False(waitingB.IsCompleted);

        Assert.True(releaseA(), "A's first release failed.");
        WriteLease b = await waitingB;
        Assert.True(b.IsHeld);
        Assert.False(releaseA(), "A's second release reported that it released something.");

        Assert.True(b.IsHeld, "A's second release freed B's hold.");
        Assert.True(gate.IsWriteHeld);
        Assert.False(gate.TryAcquireWrite(out _), "C's try-write succeeded while B held the lock.");
        Assert.False(gate.TryAcquireRead(out _), "C's try-read succeeded while B held the lock.");
        Assert.False(gate.TryAcquireUpgradeableRead(out _), "C's try-upgradeable succeeded while B held the lock.");
        b.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public async Task TenThousandWaiters_ReleaseOnGrant_StackStaysFlatAndNoneRunsInsideRelease(int writerEvery)
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "chain" });
        WriteLease holder = await gate.AcquireWriteAsync();
        var depths = new int[ChainLength];
        var insideRelease = new bool[ChainLength];
        var probe = new ReaderWriterProbe();
        int failedReleases = 0;

        async Task ReaderAsync(int index)
        {
            ReadLease lease = await gate.AcquireReadAsync();
            probe.EnterRead();
            depths[index] = new StackTrace().FrameCount;
            insideRelease[index] = InsideRelease.Now;
            probe.ExitRead();
            if (!InsideRelease.Run(lease.Release))
            {
                Interlocked.Increment(ref failedReleases);
            }
        }

        async Task WriterAsync(int index)
        {
            WriteLease lease = await gate.AcquireWriteAsync();
            probe.EnterWrite();
            depths[index] = new StackTrace().FrameCount;
            insideRelease[index] = InsideRelease.Now;
            probe.ExitWrite();
            if (!InsideRelease.Run(lease.Release))
            {
                Interlocked.Increment(ref failedReleases);
            }
        }

        Task[] waiters = Enumerable.Range(0, ChainLength)
            .Select(i => writerEvery > 0 && i % writerEvery == writerEvery - 1 ? WriterAsync(i) : ReaderAsync(i))
            .ToArray();
        Assert.Equal(ChainLength, gate.WaitingCount);
        Assert.True(InsideRelease.Run(holder.Release));

        await Waiters.WithinAsync(Task.WhenAll(waiters), TimeSpan.FromSeconds(60), "The chain of waiters");
        int deepest = depths.Max();
        int[] ranInsideRelease = Enumerable.Range(0, ChainLength).Where(i => insideRelease[i]).Take(5).ToArray();
        _output.WriteLine($"deepest grant: {deepest} frames; {probe}");
        Assert.True(deepest < MaxFrames, $"A waiter was granted {deepest} frames deep (first {depths[0]}, middle {depths[ChainLength / 2]}, last {depths[^1]}).");
        Assert.True(ranInsideRelease.Length == 0, $"Waiters ran inside another flow's release: {string.Join(", ", ranInsideRelease)}.");
        Assert.Equal(0, failedReleases);
        Assert.Equal(0, probe.Violations);
        Assert.Equal(ChainLength, probe.ReadEntries + probe.WriteEntries);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task HundredPoolTasks_BlockingReadThenBlockingWrite_FinishQuicklyWithoutThreadGrowth()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "busy-pool" });
        var probe = new ReaderWriterProbe();

        Task[] Start() => Enumerable.Range(0, 100).Select(_ => Task.Run(() =>
        {
            using (AsyncReaderWriterLock.ReadScope read = gate.AcquireRead())
            {
                probe.EnterRead();
                Thread.SpinWait(1_000);
                probe.ExitRead();
            }

            using AsyncReaderWriterLock.WriteScope write = gate.AcquireWrite();
            probe.EnterWrite();
            Thread.SpinWait(1_000);
            probe.ExitWrite();
        })).ToArray();

        await AssertFinishWithoutThreadGrowthAsync(Start, "The hundred blocking tasks", probe);
        Assert.Equal(200, probe.ReadEntries);
        Assert.Equal(200, probe.WriteEntries);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task FiftyBlockingAndFiftyAsyncAcquirers_AllModes_FinishQuicklyWithoutThreadGrowth()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "busy-pool-mixed" });
        var probe = new ReaderWriterProbe();

        Task[] Start()
        {
            Task[] blocking = Enumerable.Range(0, 50).Select(worker => Task.Run(() =>
            {
                for (int pass = 0; pass < 10; pass++)
                {
                    if ((worker + pass) % 3 == 0)
                    {
                        using AsyncReaderWriterLock.WriteScope write = gate.AcquireWrite();
                        probe.EnterWrite();
                        Thread.SpinWait(300);
                        probe.ExitWrite();
                    }
                    else
                    {
                        using AsyncReaderWriterLock.ReadScope read = gate.AcquireRead();
                        probe.EnterRead();
                        Thread.SpinWait(300);
                        probe.ExitRead();
                    }
                }
            })).ToArray();
            Task[] asynchronous = Enumerable.Range(0, 50).Select(worker => Task.Run(async () =>
            {
                for (int pass = 0; pass < 10; pass++)
                {
                    if ((worker + pass) % 4 == 0)
                    {
                        UpgradeableReadLease upgradeable = await gate.AcquireUpgradeableReadAsync();
                        probe.EnterUpgradeable();
                        probe.ExitUpgradeable();
                        WriteLease write = await upgradeable.UpgradeAsync();
                        probe.EnterWrite();
                        Thread.SpinWait(300);
                        probe.ExitWrite();
                        write.Dispose();
                        upgradeable.Dispose();
                    }
                    else
                    {
                        ReadLease read = await gate.AcquireReadAsync();
                        probe.EnterRead();
                        Thread.SpinWait(300);
                        probe.ExitRead();
                        read.Dispose();
                    }
                }
            })).ToArray();
            return blocking.Concat(asynchronous).ToArray();
        }

        await AssertFinishWithoutThreadGrowthAsync(Start, "The mixed acquirers", probe);
        ReaderWriterLockAssert.IsFree(gate);
    }

    // Runs the workload twice. Both rounds must finish within the bound: a sync waiter that needed a
    // free pool thread to be woken would stall for the pool's thread injection delay, many times
    // over. The second round must not grow the pool further: the thread count may rise once
    // (tests of other classes share the pool) but does not keep climbing.
    private async Task AssertFinishWithoutThreadGrowthAsync(Func<Task[]> start, string what, ReaderWriterProbe probe)
    {
        var clock = Stopwatch.StartNew();
        await Waiters.WithinAsync(Task.WhenAll(start()), s_bound, what + " (first round)");
        long firstRound = clock.ElapsedMilliseconds;
        int baseline, peak;
        using (var sampler = new ThreadCountSampler())
        {
            await Waiters.WithinAsync(Task.WhenAll(start()), s_bound, what + " (second round)");
            baseline = sampler.Baseline;
            peak = sampler.Peak;
        }

        _output.WriteLine($"rounds took {firstRound} ms and {clock.ElapsedMilliseconds - firstRound} ms; pool threads in the second round {baseline} -> peak {peak}; {probe}");
        Assert.True(peak - baseline <= AllowedThreadGrowth, $"The pool grew from {baseline} to {peak} threads in the second round while blocking acquirers waited.");
        Assert.Equal(0, probe.Violations);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dispose_RightAfterCancel_EveryWaiterFinishesAndNothingGoesUnobserved(bool fakeClock)
    {
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await DisposeWhileWaitingAsync(fakeClock);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.True(unobserved.IsEmpty, $"Unobserved exceptions: {string.Join(" | ", unobserved)}");
    }

    private static async Task DisposeWhileWaitingAsync(bool fakeClock)
    {
        var clock = new FakeTimeProvider();
        var gate = new AsyncReaderWriterLock(fakeClock
            ? new AsyncReaderWriterLockOptions { Name = "closing", TimeProvider = clock }
            : new AsyncReaderWriterLockOptions { Name = "closing" });
        WriteLease holder = await gate.AcquireWriteAsync();
        using var token = new CancellationTokenSource();
        Task<ReadLease> w1 = gate.AcquireReadAsync().AsTask();
        Task<WriteLease> w2 = gate.AcquireWriteAsync().AsTask();
        Task<UpgradeableReadLease> w3 = gate.AcquireUpgradeableReadAsync(token.Token).AsTask();
        Task<ReadLease> w4 = gate.AcquireReadAsync(TimeSpan.FromMilliseconds(50)).AsTask();
        Task<WriteLease> w5 = gate.AcquireWriteAsync().AsTask();
        Assert.Equal(5, gate.WaitingCount);

        token.Cancel();
        gate.Dispose();
        if (fakeClock)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
        }
        else
        {
            await Task.Delay(100);
        }

        holder.Release();
        Assert.False(gate.IsWriteHeld, "The holder's release after Dispose did not clear IsWriteHeld.");
        Assert.False(holder.Release(), "The holder's lease released a second time.");

        Task all = Task.WhenAll(w1, w2, w3, w4, w5);
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(1)));

        // The combined task fails with the waiters' exceptions; observe it so that only the lock's
        // own unobserved exceptions would reach the handler.
        _ = all.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (Task waiter in new Task[] { w1, w2, w4, w5 })
        {
            Assert.True(waiter.IsCompleted, "A waiter was still pending one second after Dispose.");
            await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter);
        }

        Assert.True(w3.IsCompleted, "The cancelled waiter was still pending one second after Dispose.");
        Exception? cancelledOutcome = await Record.ExceptionAsync(() => w3);
        Assert.True(cancelledOutcome is OperationCanceledException or ObjectDisposedException, $"The cancelled waiter ended with {cancelledOutcome?.GetType().Name ?? "a lease"}.");
        Assert.Equal(0, gate.WaitingCount);

        var afterwards = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ReaderWriterOutcomes.Start(() => gate.AcquireWriteAsync()));
        Assert.Contains("closing", afterwards.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquireRead(out _));
    }

    [Fact]
    public async Task FourUpgradeableReaders_EachUpgradesWithATimeout_AllFinishAndPlainReadersShareWithTheHolder()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "upgrades" });
        var probe = new ReaderWriterProbe();
        int upgraded = 0;
        int plainReadersAdmittedAlongside = 0;
        using var holderInside = new SemaphoreSlim(0);
        using var readerDone = new SemaphoreSlim(0);

        async Task UpgraderAsync(int index)
        {
            UpgradeableReadLease upgradeable = await gate.AcquireUpgradeableReadAsync(TimeSpan.FromSeconds(5));
            probe.EnterUpgradeable();
            if (index == 0)
            {
                // The first holder waits here until a plain reader has been admitted next to it.
                holderInside.Release();
                await readerDone.WaitAsync();
            }

            probe.ExitUpgradeable();
            WriteLease write = await upgradeable.UpgradeAsync(TimeSpan.FromSeconds(2));
            probe.EnterWrite();
            await Task.Yield();
            probe.ExitWrite();
            Interlocked.Increment(ref upgraded);
            Assert.True(write.Release());
            Assert.True(upgradeable.Release());
        }

        Task first = Task.Run(() => UpgraderAsync(0));
        await holderInside.WaitAsync(s_bound);
        Task[] others = Enumerable.Range(1, 3).Select(i => Task.Run(() => UpgraderAsync(i))).ToArray();
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 3), $"The other upgradeable readers did not queue; {gate.WaitingCount} wait.");

        ValueTask<ReadLease> plain = gate.AcquireReadAsync();
        Assert.True(plain.IsCompleted, "A plain reader was not admitted alongside the upgradeable holder while no writer waited.");
        ReadLease reader = await plain;
        probe.EnterRead();
        plainReadersAdmittedAlongside++;
        probe.ExitRead();
        reader.Dispose();
        readerDone.Release();

        await Waiters.WithinAsync(Task.WhenAll(others.Append(first)), s_bound, "The four upgrades");
        _output.WriteLine(probe.ToString());
        Assert.Equal(4, upgraded);
        Assert.Equal(1, plainReadersAdmittedAlongside);
        Assert.Equal(0, probe.Violations);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(ReaderWriterPreference.Writer)]
    [InlineData(ReaderWriterPreference.Reader)]
    public async Task MixedWorkers_EveryModeAndForm_NeverAWriterWithAnyoneElse(ReaderWriterPreference preference)
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "stress", Preference = preference });

        ReaderWriterWorkloads.Report report = await ReaderWriterWorkloads.MixedAsync(gate, workers: 4, iterations: 2_000, deadline: TimeSpan.FromSeconds(30));

        _output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        Assert.True(report.Probe.WriteEntries > 0, report.ToString());
        Assert.True(report.Probe.ReadEntries > 0, report.ToString());
    }

    /// <summary>Marks the stack of the current thread while it is inside a release call.</summary>
    private static class InsideRelease
    {
        [ThreadStatic]
        private static int t_depth;

        public static bool Now => t_depth > 0;

        public static bool Run(Func<bool> release)
        {
            t_depth++;
            try
            {
                return release();
            }
            finally
            {
                t_depth--;
            }
        }
    }

    /// <summary>Samples the pool's thread count on a dedicated thread while a workload runs.</summary>
    private sealed class ThreadCountSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public ThreadCountSampler()
        {
            Baseline = ThreadPool.ThreadCount;
            Peak = Baseline;
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    Peak = Math.Max(Peak, ThreadPool.ThreadCount);
                    Thread.Sleep(10);
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public int Baseline { get; }

        public int Peak { get; private set; }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}
