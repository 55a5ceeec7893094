using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests;

[Collection(SerialCollection.Name)]
public sealed class ThroughputModeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public ThroughputModeTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private static AsyncLock CreateLock(int maxPassOvers = 4) =>
        new(new AsyncLockOptions { Name = "throughput", Fairness = LockFairness.Throughput, MaxPassOvers = maxPassOvers });

    [Fact]
    public async Task Release_QueuedWaitersWithoutBargers_GrantedInArrivalOrder()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        var order = new ConcurrentQueue<int>();
        ValueTask<AsyncLock.Lease>[] pending = Waiters.QueueInOrder(gate, 10);
        Task[] recorders = pending.Select((p, i) => Waiters.RecordGrantAndRelease(p, i, order)).ToArray();

        holder.Dispose();

        await Waiters.WithinAsync(Task.WhenAll(recorders), s_bound, "The ten waiters");
        Assert.Equal(Enumerable.Range(0, 10), Waiters.Drain(order));
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Barging_HolderRetakesAfterEachRelease_WaiterPassedOverAtMostMaxPassOversTimes(int maxPassOvers)
    {
        using AsyncLock gate = CreateLock(maxPassOvers);
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> waiting = gate.AcquireAsync();
        Task<AsyncLock.Lease> waiter = waiting.AsTask();
        int barges = 0;

        // Each cycle releases, barges straight back in before the woken waiter runs, then holds until
        // the waiter has woken, found the lock taken and queued again (one pass-over).
        for (int cycle = 0; cycle < 50 && !waiter.IsCompleted; cycle++)
        {
            Assert.True(holder.Release());
            if (!gate.TryAcquire(out holder))
            {
                break;
            }

            barges++;
            await Task.Delay(5);
            Assert.True(
                Eventually.Holds(() => gate.WaitingCount == 1 || waiter.IsCompleted, s_bound),
                "The woken waiter neither queued again nor finished.");
        }

        AsyncLock.Lease granted = await Waiters.WithinAsync(waiter, s_bound, "The passed-over waiter");
        _output.WriteLine($"MaxPassOvers={maxPassOvers}: the waiter lost {barges} barging races before it was granted.");
        Assert.True(granted.IsHeld);
        Assert.True(barges <= maxPassOvers, $"The waiter lost the lock to {barges} barging acquires, but the bound is {maxPassOvers} pass-overs.");
        granted.Dispose();
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Barging_TwoThreadsHammerLock_QueuedWaitersStillGranted()
    {
        using AsyncLock gate = CreateLock(maxPassOvers: 2);
        var probe = new ExclusionProbe();
        using var stop = new CancellationTokenSource();
        long bargeCount = 0;

        void Hammer()
        {
            while (!stop.IsCancellationRequested)
            {
                if (gate.TryAcquire(out AsyncLock.Lease lease))
                {
                    probe.Enter();
                    Thread.SpinWait(50);
                    probe.Exit();
                    lease.Dispose();
                    Interlocked.Increment(ref bargeCount);
                }
            }
        }

        var bargers = Enumerable.Range(0, 2).Select(_ => new Thread(Hammer) { IsBackground = true }).ToArray();
        foreach (Thread barger in bargers)
        {
            barger.Start();
        }

        try
        {
            Assert.True(Eventually.Holds(() => Interlocked.Read(ref bargeCount) > 1000), "The barging threads never got going.");
            for (int round = 0; round < 20; round++)
            {
                AsyncLock.Lease lease = await Waiters.WithinAsync(gate.AcquireAsync().AsTask(), s_bound, $"Waiter {round} among barging threads");
                probe.Enter();
                probe.Exit();
                Assert.True(lease.Release());
            }
        }
        finally
        {
            stop.Cancel();
            foreach (Thread barger in bargers)
            {
                barger.Join();
            }
        }

        _output.WriteLine($"{Interlocked.Read(ref bargeCount)} barging acquires ran while 20 queued waiters were granted.");
        Assert.Equal(0, probe.Violations);
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task CancelledWaiter_ThroughputMode_NeverKeepsLock()
    {
        using AsyncLock gate = CreateLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> cancelled = gate.AcquireAsync(source.Token);
        ValueTask<AsyncLock.Lease> next = gate.AcquireAsync();

        source.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        holder.Dispose();

        AsyncLock.Lease lease = await Waiters.WithinAsync(next.AsTask(), s_bound, "The waiter behind the cancelled one");
        Assert.True(lease.Release());
        LockAssert.IsFree(gate);
    }
}
