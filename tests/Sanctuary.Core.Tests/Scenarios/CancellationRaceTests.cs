using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.Scenarios;

/// <summary>Cancellation racing a request, a grant or a hand-off.</summary>
[Collection(SerialCollection.Name)]
public sealed class CancellationRaceTests
{
    private const int Rounds = 10_000;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public CancellationRaceTests(ITestOutputHelper output)
    {
        _output = output;
    }

    /// <summary>What a run of racing rounds saw.</summary>
    internal sealed record RaceReport(int Rounds, int Granted, int Cancelled, int OtherErrors, int FailedReleases, int DoubleReleases, int NotFreeAfterRound, int Stalls, ExclusionProbe Probe, Exception? HelperError)
    {
        public bool Clean => OtherErrors == 0 && FailedReleases == 0 && DoubleReleases == 0 && NotFreeAfterRound == 0 && Stalls == 0 && Probe.Violations == 0 && HelperError is null;

        public override string ToString() =>
            $"rounds={Rounds}, granted={Granted}, cancelled={Cancelled}, other errors={OtherErrors}, failed releases={FailedReleases}, second releases that succeeded={DoubleReleases}, not free after round={NotFreeAfterRound}, stalls={Stalls}, canceller error={HelperError?.GetType().Name ?? "none"} {HelperError?.InnerException?.Message}; {Probe}";
    }

    /// <summary>
    /// Each round: H holds; the requester (this thread) and a canceller leave the start line together.
    /// The requester requests the lock with token T while the canceller cancels T, and H releases at a random point
    /// of the round: before the request, or after it while the cancellation may be in flight.
    /// </summary>
    internal static RaceReport CancelAtRequest(AsyncLock gate, int rounds, TimeSpan stallBound)
    {
        var probe = new ExclusionProbe();
        var starter = new RoundStarter();
        var cancellations = new CancellationTokenSource?[rounds];
        int granted = 0, cancelled = 0, otherErrors = 0, failedReleases = 0, doubleReleases = 0, notFree = 0, stalls = 0;
        Exception? helperError = null;

        var canceller = new Thread(() =>
        {
            var random = new Random(17);
            try
            {
                for (int round = 0; round < rounds && starter.WaitForStart(round); round++)
                {
                    Thread.SpinWait(random.Next(0, 400));
                    Volatile.Read(ref cancellations[round])!.Cancel();
                    starter.Finish(round);
                }
            }
            catch (Exception error)
            {
                // A throwing cancellation callback ends the helper, and the driver then reports a stalled round.
                helperError = error;
            }
        })
        { IsBackground = true, Name = "canceller" };
        canceller.Start();

        var random = new Random(29);
        for (int round = 0; round < rounds; round++)
        {
            if (!gate.TryAcquire(out AsyncLock.Lease holder))
            {
                notFree++;
                break;
            }

            probe.Enter();
            var cancellation = new CancellationTokenSource();
            Volatile.Write(ref cancellations[round], cancellation);
            bool releaseFirst = random.Next(4) == 0;
            int spin = random.Next(0, 400);
            starter.Start(round);

            ValueTask<AsyncLock.Lease> request;
            if (releaseFirst)
            {
                Thread.SpinWait(spin);
                probe.Exit();
                failedReleases += holder.Release() ? 0 : 1;
                request = Waiters.Start(() => gate.AcquireAsync(cancellation.Token));
            }
            else
            {
                request = Waiters.Start(() => gate.AcquireAsync(cancellation.Token));
                Thread.SpinWait(spin);
                probe.Exit();
                failedReleases += holder.Release() ? 0 : 1;
            }

            bool completed = Eventually.Holds(() => request.IsCompleted, stallBound);
            bool cancellerDone = starter.WaitForFinish(round, stallBound);
            if (!completed || !cancellerDone)
            {
                stalls++;
                break;
            }

            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(request);
            if (error is OperationCanceledException)
            {
                cancelled++;
            }
            else if (error is not null)
            {
                otherErrors++;
            }
            else
            {
                granted++;
                probe.Enter();
                probe.Exit();
                failedReleases += lease.Release() ? 0 : 1;
                doubleReleases += lease.Release() ? 1 : 0;
            }

            cancellation.Dispose();
            if (!LockAssert.LooksFree(gate))
            {
                notFree++;
                break;
            }
        }

        starter.Stop();
        canceller.Join(TimeSpan.FromSeconds(5));
        return new RaceReport(rounds, granted, cancelled, otherErrors, failedReleases, doubleReleases, notFree, stalls, probe, helperError);
    }

    /// <summary>
    /// Each round starts with the lock free. The requester requests it with token T while a canceller
    /// cancels T at the same moment. Afterwards the request either returned a lease or threw, and the lock is free.
    /// </summary>
    internal static RaceReport CancelAfterImmediateGrant(AsyncLock gate, int rounds, TimeSpan stallBound)
    {
        var probe = new ExclusionProbe();
        var starter = new RoundStarter();
        var cancellations = new CancellationTokenSource?[rounds];
        int granted = 0, cancelled = 0, otherErrors = 0, failedReleases = 0, notFree = 0, stalls = 0;
        Exception? helperError = null;
        var canceller = new Thread(() =>
        {
            var random = new Random(41);
            try
            {
                for (int round = 0; round < rounds && starter.WaitForStart(round); round++)
                {
                    Thread.SpinWait(random.Next(0, 20));
                    Volatile.Read(ref cancellations[round])!.Cancel();
                    starter.Finish(round);
                }
            }
            catch (Exception error)
            {
                helperError = error;
            }
        })
        { IsBackground = true, Name = "canceller" };
        canceller.Start();

        for (int round = 0; round < rounds; round++)
        {
            var cancellation = new CancellationTokenSource();
            Volatile.Write(ref cancellations[round], cancellation);
            starter.Start(round);
            ValueTask<AsyncLock.Lease> request = Waiters.Start(() => gate.AcquireAsync(cancellation.Token));
            bool completed = Eventually.Holds(() => request.IsCompleted, stallBound);
            bool cancellerDone = starter.WaitForFinish(round, stallBound);
            if (!completed || !cancellerDone)
            {
                stalls++;
                break;
            }

            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(request);
            if (error is null)
            {
                granted++;
                probe.Enter();
                probe.Exit();
                failedReleases += lease.Release() ? 0 : 1;
            }
            else if (error is OperationCanceledException)
            {
                cancelled++;
            }
            else
            {
                otherErrors++;
            }

            cancellation.Dispose();
            if (!LockAssert.LooksFree(gate))
            {
                notFree++;
                break;
            }
        }

        starter.Stop();
        canceller.Join(TimeSpan.FromSeconds(5));
        return new RaceReport(rounds, granted, cancelled, otherErrors, failedReleases, 0, notFree, stalls, probe, helperError);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task CancelAtMomentOfRequest_HolderReleasesMeanwhile_EachRoundGrantedOnceOrCancelledEmpty(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        RaceReport report = await Task.Run(() => CancelAtRequest(gate, Rounds, s_bound));

        _output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        Assert.Equal(Rounds, report.Granted + report.Cancelled);
        Assert.Equal(1, report.Probe.MaxInside);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task CancelRightAfterImmediateGrant_EitherLeaseOrFreeLock(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });

        RaceReport report = await Task.Run(() => CancelAfterImmediateGrant(gate, Rounds, s_bound));

        _output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        Assert.Equal(Rounds, report.Granted + report.Cancelled);
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public async Task GrantMeetsCancellingWaiters_RandomDelays_NoGrantLostAndNeverTwoHolders(LockFairness fairness)
    {
        // Eight independent lanes of rounds share the work so the millisecond delays overlap.
        const int Lanes = 8;
        var probes = new ExclusionProbe[Lanes];
        var locks = new AsyncLock[Lanes];
        int failedReleases = 0, notFree = 0, granted = 0, cancelledCount = 0, otherErrors = 0;

        async Task LaneAsync(int lane)
        {
            var random = new Random(lane * 31 + (int)fairness);
            var probe = probes[lane] = new ExclusionProbe();
            var gate = locks[lane] = new AsyncLock(new AsyncLockOptions { Fairness = fairness, Name = $"lane-{lane}" });
            for (int round = 0; round < Rounds / Lanes; round++)
            {
                if (!gate.TryAcquire(out AsyncLock.Lease holder))
                {
                    Interlocked.Increment(ref notFree);
                    return;
                }

                probe.Enter();
                var waiters = new Task[8];
                var sources = new CancellationTokenSource[8];
                for (int w = 0; w < waiters.Length; w++)
                {
                    sources[w] = new CancellationTokenSource();
                    waiters[w] = WaiterAsync(gate, probe, sources[w].Token, random.Next(0, 3));
                    sources[w].CancelAfter(random.Next(0, 3));
                }

                await Task.Delay(random.Next(0, 3));
                probe.Exit();
                if (!holder.Release())
                {
                    Interlocked.Increment(ref failedReleases);
                }

                await Waiters.WithinAsync(Task.WhenAll(waiters), s_bound, $"Round {round} of lane {lane}");
                foreach (CancellationTokenSource source in sources)
                {
                    source.Dispose();
                }

                if (!LockAssert.LooksFree(gate))
                {
                    Interlocked.Increment(ref notFree);
                    return;
                }
            }
        }

        async Task WaiterAsync(AsyncLock gate, ExclusionProbe probe, CancellationToken token, int holdMs)
        {
            await Task.Yield();
            AsyncLock.Lease lease;
            try
            {
                lease = await gate.AcquireAsync(token);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelledCount);
                return;
            }
            catch (Exception)
            {
                Interlocked.Increment(ref otherErrors);
                return;
            }

            Interlocked.Increment(ref granted);
            probe.Enter();
            if (holdMs > 0)
            {
                await Task.Delay(holdMs);
            }

            probe.Exit();
            if (!lease.Release())
            {
                Interlocked.Increment(ref failedReleases);
            }
        }

        await Task.WhenAll(Enumerable(Lanes, lane => Task.Run(() => LaneAsync(lane))));

        foreach (ExclusionProbe probe in probes)
        {
            Assert.True(probe.Violations == 0, probe.ToString());
        }

        Assert.Equal(0, failedReleases);
        Assert.Equal(0, otherErrors);
        Assert.Equal(0, notFree);
        Assert.Equal(Rounds * 8, granted + cancelledCount);
        foreach (AsyncLock gate in locks)
        {
            LockAssert.IsFree(gate);
            gate.Dispose();
        }
    }

    private static Task[] Enumerable(int count, Func<int, Task> start)
    {
        var tasks = new Task[count];
        for (int i = 0; i < count; i++)
        {
            tasks[i] = start(i);
        }

        return tasks;
    }

    [Theory]
    [InlineData(LockFairness.Fifo, true)]
    [InlineData(LockFairness.Fifo, false)]
    [InlineData(LockFairness.Throughput, true)]
    [InlineData(LockFairness.Throughput, false)]
    public async Task ReleaseInsideWaitersCancellationCallback_GrantReachesLiveWaiterOrLockIsFree(LockFairness fairness, bool releaseCallbackFirst)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        bool? releasedInCallback = null;

        // Callbacks run newest first: registering the release before the waiter queues makes the
        // lock's own cancellation callback run first, and registering it after makes it run second.
        if (releaseCallbackFirst)
        {
            source.Token.Register(() => releasedInCallback = holder.Release());
        }

        ValueTask<AsyncLock.Lease> cancelling = gate.AcquireAsync(source.Token);
        ValueTask<AsyncLock.Lease> behind = gate.AcquireAsync();
        if (!releaseCallbackFirst)
        {
            source.Token.Register(() => releasedInCallback = holder.Release());
        }

        source.Cancel();

        Assert.True(releasedInCallback);
        Task<AsyncLock.Lease> cancellingTask = cancelling.AsTask();
        Task<AsyncLock.Lease> behindTask = behind.AsTask();
        await Task.WhenAny(cancellingTask, Task.Delay(s_bound));
        Assert.True(cancellingTask.IsCompleted, "The cancelled waiter never finished.");
        if (cancellingTask.IsCompletedSuccessfully)
        {
            // The grant won the race: the waiter holds the lock and must pass it on when it releases.
            AsyncLock.Lease lease = await cancellingTask;
            Assert.True(lease.IsHeld);
            Assert.False(behindTask.IsCompleted);
            Assert.True(lease.Release());
        }
        else
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancellingTask);
        }

        AsyncLock.Lease last = await Waiters.WithinAsync(behindTask, s_bound, "The waiter behind the cancelled one");
        Assert.True(last.IsHeld);
        Assert.True(last.Release());
        LockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(LockFairness.Fifo, true)]
    [InlineData(LockFairness.Fifo, false)]
    [InlineData(LockFairness.Throughput, true)]
    [InlineData(LockFairness.Throughput, false)]
    public async Task ReleaseInsideCancellationCallback_OnlyWaiter_LockEndsFreeOrWithWaiter(LockFairness fairness, bool releaseCallbackFirst)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Fairness = fairness });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var source = new CancellationTokenSource();
        if (releaseCallbackFirst)
        {
            source.Token.Register(() => holder.Release());
        }

        Task<AsyncLock.Lease> waiter = gate.AcquireAsync(source.Token).AsTask();
        if (!releaseCallbackFirst)
        {
            source.Token.Register(() => holder.Release());
        }

        source.Cancel();

        await Task.WhenAny(waiter, Task.Delay(s_bound));
        Assert.True(waiter.IsCompleted, "The waiter never finished.");
        if (waiter.IsCompletedSuccessfully)
        {
            Assert.True((await waiter).Release());
        }

        LockAssert.IsFree(gate);
    }
}
