using System;
using System.Diagnostics;
using System.Threading;
using Xunit;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Keeps every thread-pool worker blocked in a work item until disposed, so that nothing queued
/// to the pool, timer callbacks included, runs until the runtime injects a thread. The pool's
/// limits stay as they are. Use it only in <see cref="SerialCollection"/>.
/// </summary>
/// <remarks>
/// In dotnet/runtime's portable thread pool (<c>PortableThreadPool.GateThread.cs</c>), the gate
/// thread checks for starvation every 500 ms and adds a worker only when no work item has been
/// dequeued for more than 500 ms, or longer while the CPU is busy. The last blocker starts about
/// 20 ms before <see cref="Start"/> returns, so no pool thread becomes free for almost half a
/// second after that. On .NET 10.0.12 with 2 cores, the first new worker came between 0.7 s and
/// more than 5 s after the pool became starved, and a timeout that waited for the primitive's
/// timer callback ended only then.
/// </remarks>
internal sealed class StarvedThreadPool : IDisposable
{
    // More blockers than workers: a worker that the pool adds or wakes takes a blocker from the
    // queue, so the queue never runs dry while the pool is meant to be starved.
    private const int SurplusBlockers = 16;

    private static readonly TimeSpan s_saturationBound = TimeSpan.FromSeconds(5);

    // Time without a new blocker starting after which every worker the pool would use is taken.
    private static readonly TimeSpan s_settleTime = TimeSpan.FromMilliseconds(20);

    private readonly ManualResetEventSlim _release = new();
    private readonly CountdownEvent _finished;
    private readonly int _queued;
    private int _running;

    private StarvedThreadPool(int queued)
    {
        _queued = queued;
        _finished = new CountdownEvent(queued);
    }

    /// <summary>Number of pool threads blocked when the pool became starved.</summary>
    public int BlockedWorkers { get; private set; }

    /// <summary>The pool's count of completed work items when it became starved.</summary>
    public long CompletedWorkItemsAtStart { get; private set; }

    /// <summary>Stopwatch timestamp at which the pool became starved.</summary>
    public long StartedAt { get; private set; }

    /// <summary>
    /// Queues blocking work items until every worker the pool runs is blocked and some remain
    /// queued. Fails the test if that takes more than 5 s.
    /// </summary>
    public static StarvedThreadPool Start()
    {
        ThreadPool.GetMinThreads(out int minWorkers, out _);
        int queued = Math.Max(ThreadPool.ThreadCount, minWorkers) + SurplusBlockers;
        var starved = new StarvedThreadPool(queued);
        for (int i = 0; i < queued; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Block(), starved, preferLocal: false);
        }

        starved.WaitUntilSaturated();
        return starved;
    }

    /// <summary>
    /// Asserts that no pool thread has been free since <see cref="Start"/>: no work item completed
    /// and no queued blocker started, so nothing else queued to the pool can have run.
    /// </summary>
    public void AssertStillStarved(string what)
    {
        long completed = ThreadPool.CompletedWorkItemCount - CompletedWorkItemsAtStart;
        int running = Volatile.Read(ref _running);
        Assert.True(
            completed == 0 && running == BlockedWorkers,
            $"{what}: the pool was not starved the whole time. {completed} work item(s) completed and {running - BlockedWorkers} more blocker(s) started since the pool became starved {ElapsedSinceStart().TotalMilliseconds:0} ms ago.");
    }

    /// <summary>Time since the pool became starved.</summary>
    public TimeSpan ElapsedSinceStart() => Stopwatch.GetElapsedTime(StartedAt);

    /// <summary>Releases every blocker and waits until all of them have run.</summary>
    public void Dispose()
    {
        _release.Set();
        bool drained = _finished.Wait(TimeSpan.FromSeconds(30));
        Assert.True(drained, $"{_finished.CurrentCount} of {_queued} pool blockers did not finish within 30 s after they were released.");
        _finished.Dispose();
        _release.Dispose();
    }

    private void Block()
    {
        Interlocked.Increment(ref _running);
        _release.Wait();
        _finished.Signal();
    }

    private void WaitUntilSaturated()
    {
        var clock = Stopwatch.StartNew();
        int last = -1;
        var stableFor = Stopwatch.StartNew();
        while (true)
        {
            int running = Volatile.Read(ref _running);
            if (running != last)
            {
                last = running;
                stableFor.Restart();
            }
            else if (running > 0 && running < _queued && stableFor.Elapsed >= s_settleTime)
            {
                break;
            }

            if (clock.Elapsed > s_saturationBound)
            {
                _release.Set();
                Assert.Fail($"The thread pool did not settle with every worker blocked within {s_saturationBound.TotalSeconds:0} s: {running} of {_queued} blockers running, {ThreadPool.ThreadCount} pool threads.");
            }

            Thread.Sleep(1);
        }

        BlockedWorkers = last;
        CompletedWorkItemsAtStart = ThreadPool.CompletedWorkItemCount;
        StartedAt = Stopwatch.GetTimestamp();
    }
}
