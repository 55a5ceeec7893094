using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.Scenarios;

/// <summary>Blocking acquirers on thread-pool threads, alone and mixed with async acquirers.</summary>
[Collection(SerialCollection.Name)]
public sealed class BusyThreadPoolTests
{
    private const int Rounds = 3;

    // The runtime adds threads quickly, up to a fixed budget (about 8 per core), while pool threads
    // block; that growth levels off. A lock that needed a free pool thread to wake each blocked
    // acquirer would need up to one thread per acquirer and seconds per injected thread.
    private const int AllowedTotalGrowth = 32;
    private static readonly TimeSpan s_finishWithin = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public BusyThreadPoolTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private readonly record struct RoundResult(long ElapsedMs, int Baseline, int Peak);

    /// <summary>Samples the pool's thread count on a dedicated thread while a workload runs.</summary>
    private sealed class ThreadCountSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private int _peak;

        public ThreadCountSampler()
        {
            Baseline = ThreadPool.ThreadCount;
            _peak = Baseline;
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    _peak = Math.Max(_peak, ThreadPool.ThreadCount);
                    Thread.Sleep(5);
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public int Baseline { get; }

        public int Peak => Math.Max(_peak, ThreadPool.ThreadCount);

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    /// <summary>Holds the lock for a fixed slice of real time, long enough that the other acquirers block.</summary>
    private static void Work()
    {
        long until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10_000);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }

    /// <summary>Waits until earlier tests stop adding pool threads, so their growth is not counted here.</summary>
    private static void LetPoolSettle()
    {
        var clock = Stopwatch.StartNew();
        int last = ThreadPool.ThreadCount;
        var stableSince = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3) && stableSince.Elapsed < TimeSpan.FromMilliseconds(300))
        {
            Thread.Sleep(20);
            int now = ThreadPool.ThreadCount;
            if (now != last)
            {
                last = now;
                stableSince.Restart();
            }
        }
    }

    /// <summary>
    /// Runs the same load several times; every round must finish within seconds and the pool must stay
    /// within the growth that blocking compensation alone explains.
    /// </summary>
    private async Task<List<RoundResult>> RunRoundsAsync(string name, Func<Task[]> startLoad)
    {
        LetPoolSettle();
        var results = new List<RoundResult>();
        for (int round = 0; round < Rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            using var sampler = new ThreadCountSampler();
            await Waiters.WithinAsync(Task.WhenAll(startLoad()), s_finishWithin, $"Round {round} of {name}");
            var result = new RoundResult(clock.ElapsedMilliseconds, sampler.Baseline, sampler.Peak);
            results.Add(result);
            _output.WriteLine($"{name}, round {round}: {result.ElapsedMs} ms, pool threads {result.Baseline} -> peak {result.Peak}");
        }

        int totalGrowth = results.Max(r => r.Peak) - results[0].Baseline;
        Assert.True(
            totalGrowth <= AllowedTotalGrowth,
            $"The pool grew by {totalGrowth} threads: first baseline {results[0].Baseline}, peaks per round {string.Join(", ", results.Select(r => r.Peak))}.");
        return results;
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task HundredPoolTasks_BlockingAcquireTwice_FinishQuicklyWithBoundedThreadGrowth(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        var probe = new ExclusionProbe();

        await RunRoundsAsync($"{fairness}, 100 blocking tasks", () => Enumerable.Range(0, 100).Select(_ => Task.Run(() =>
        {
            for (int pass = 0; pass < 2; pass++)
            {
                using AsyncLock.Scope scope = gate.Acquire();
                probe.Enter();
                Work();
                probe.Exit();
            }
        })).ToArray());

        Assert.Equal(0, probe.Violations);
        Assert.Equal(Rounds * 200, probe.Entries);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task FiftyBlockingAndFiftyAsyncAcquirers_FinishQuicklyWithBoundedThreadGrowth(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        var probe = new ExclusionProbe();

        await RunRoundsAsync($"{fairness}, 50 blocking and 50 async acquirers", () =>
        {
            IEnumerable<Task> blocking = Enumerable.Range(0, 50).Select(_ => Task.Run(() =>
            {
                using AsyncLock.Scope scope = gate.Acquire();
                probe.Enter();
                Work();
                probe.Exit();
            }));
            IEnumerable<Task> asynchronous = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
            {
                AsyncLock.Lease lease = await gate.AcquireAsync();
                probe.Enter();
                Work();
                probe.Exit();
                lease.Dispose();
            }));
            return blocking.Concat(asynchronous).ToArray();
        });

        Assert.Equal(0, probe.Violations);
        Assert.Equal(Rounds * 100, probe.Entries);
        LockAssert.IsFree(gate);
    }
}
