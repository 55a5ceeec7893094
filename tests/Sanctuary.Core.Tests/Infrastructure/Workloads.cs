using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Workloads that drive a lock and report what they observed instead of asserting, so the same code
/// proves a correct lock clean and a deliberately broken one guilty.
/// </summary>
internal static class Workloads
{
    /// <summary>What a mutual-exclusion workload saw.</summary>
    internal sealed record ExclusionReport(ExclusionProbe Probe, int FinishedWorkers, int Workers, int FailedReleases, IReadOnlyList<Exception> Errors, bool EndedFree)
    {
        public bool Clean => Probe.Violations == 0 && FinishedWorkers == Workers && FailedReleases == 0 && Errors.Count == 0 && EndedFree;

        public override string ToString() =>
            $"{Probe}; finished workers={FinishedWorkers}/{Workers}; failed releases={FailedReleases}; errors={Errors.Count} ({string.Join(" | ", Errors.Take(3).Select(e => e.GetType().Name + ": " + e.Message))}); ended free={EndedFree}";
    }

    /// <summary>
    /// Workers on the thread pool take the lock in every form (async wait, timed async try, try-now
    /// spin, blocking acquire) and check the protected section with a probe.
    /// </summary>
    public static async Task<ExclusionReport> MutualExclusionAsync(AsyncLock gate, int workers, int iterations, TimeSpan deadline, bool includeBlocking = true)
    {
        var probe = new ExclusionProbe();
        var errors = new ConcurrentQueue<Exception>();
        int failedReleases = 0;
        int finished = 0;
        using var stop = new CancellationTokenSource(deadline);

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WorkerAsync(int worker)
        {
            var random = new Random(worker * 7919);
            try
            {
                await go.Task;
                for (int i = 0; i < iterations; i++)
                {
                    int form = (worker + i) % (includeBlocking ? 4 : 3);
                    if (form == 3)
                    {
                        RunBlocking(gate, probe, stop.Token, ref failedReleases);
                        continue;
                    }

                    AsyncLock.Lease lease;
                    if (form == 0)
                    {
                        lease = await gate.AcquireAsync(stop.Token);
                    }
                    else if (form == 1)
                    {
                        lease = await gate.TryAcquireAsync(TimeSpan.FromMilliseconds(1), stop.Token);
                        if (!lease.IsHeld)
                        {
                            continue;
                        }
                    }
                    else
                    {
                        var spinner = default(SpinWait);
                        while (!gate.TryAcquire(out lease))
                        {
                            stop.Token.ThrowIfCancellationRequested();
                            spinner.SpinOnce();
                        }
                    }

                    probe.Enter();
                    if (random.Next(8) == 0)
                    {
                        await Task.Yield();
                    }
                    else
                    {
                        Thread.SpinWait(random.Next(20, 200));
                    }

                    probe.Exit();
                    if (!lease.Release())
                    {
                        Interlocked.Increment(ref failedReleases);
                    }
                }

                Interlocked.Increment(ref finished);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The deadline passed: this worker counts as unfinished.
            }
            catch (Exception error)
            {
                errors.Enqueue(error);
            }
        }

        Task[] tasks = Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkerAsync(w))).ToArray();
        go.SetResult();
        await Task.WhenAll(tasks);
        bool endedFree = LockAssert.LooksFree(gate);
        return new ExclusionReport(probe, finished, workers, failedReleases, [.. errors], endedFree);
    }

    private static void RunBlocking(AsyncLock gate, ExclusionProbe probe, CancellationToken stop, ref int failedReleases)
    {
        using AsyncLock.Scope scope = gate.Acquire(stop);
        probe.Enter();
        Thread.SpinWait(20);
        probe.Exit();
        if (!scope.Release())
        {
            Interlocked.Increment(ref failedReleases);
        }
    }

    /// <summary>What a hand-off chain saw: the order of grants and any moment the lock looked free or stuck.</summary>
    internal sealed record HandOffReport(IReadOnlyList<int> GrantOrder, int Waiters, int FreeDuringHandOff, bool Stalled, bool EndedFree)
    {
        public bool InArrivalOrder => GrantOrder.SequenceEqual(Enumerable.Range(0, Waiters));

        public override string ToString() =>
            $"grant order=[{string.Join(",", GrantOrder)}] of {Waiters}; free during hand-off={FreeDuringHandOff}; stalled={Stalled}; ended free={EndedFree}";
    }

    /// <summary>
    /// Queues waiters behind a holder, then releases and follows the chain of hand-offs on the calling
    /// thread: after every release exactly one waiter should complete, it should be the oldest, and a
    /// try-now in between should find the lock taken.
    /// </summary>
    public static HandOffReport HandOffChain(AsyncLock gate, int waiters, TimeSpan settle)
    {
        if (!gate.TryAcquire(out AsyncLock.Lease holder))
        {
            return new HandOffReport([], waiters, 0, Stalled: true, EndedFree: false);
        }

        var pending = new ValueTask<AsyncLock.Lease>[waiters];
        for (int i = 0; i < waiters; i++)
        {
            pending[i] = gate.AcquireAsync();
        }

        var done = new bool[waiters];
        var order = new List<int>();
        int freeDuringHandOff = 0;
        bool stalled = false;
        AsyncLock.Lease current = holder;
        for (int round = 0; round < waiters; round++)
        {
            current.Dispose();
            if (gate.TryAcquire(out AsyncLock.Lease intruder))
            {
                freeDuringHandOff++;
                intruder.Dispose();
            }

            int next = -1;
            bool found = Eventually.Holds(
                () =>
                {
                    for (int i = 0; i < waiters; i++)
                    {
                        if (!done[i] && pending[i].IsCompleted)
                        {
                            next = i;
                            return true;
                        }
                    }

                    return false;
                },
                settle);
            if (!found)
            {
                stalled = true;
                break;
            }

            done[next] = true;
            order.Add(next);
            (current, Exception? _) = Waiters.Consume(pending[next]);
        }

        if (!stalled)
        {
            current.Dispose();
        }

        bool endedFree = !stalled && LockAssert.LooksFree(gate);
        gate.Dispose();
        for (int i = 0; i < waiters; i++)
        {
            if (!done[i] && pending[i].IsCompleted)
            {
                Waiters.Consume(pending[i]);
            }
        }

        return new HandOffReport(order, waiters, freeDuringHandOff, stalled, endedFree);
    }

    /// <summary>
    /// H holds and W queues. H releases; once W is inside its protected section (and stays there), a
    /// try-now by a third party must fail. Returns the probe that all three used.
    /// </summary>
    public static async Task<ExclusionProbe> HolderOverlapAsync(AsyncLock gate, TimeSpan settle)
    {
        var probe = new ExclusionProbe();
        var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.TryAcquire(out AsyncLock.Lease holder);
        probe.Enter();

        async Task WaiterAsync()
        {
            AsyncLock.Lease lease = await gate.AcquireAsync();
            probe.Enter();
            await leave.Task;
            probe.Exit();
            lease.Dispose();
        }

        Task waiter = WaiterAsync();
        probe.Exit();
        holder.Dispose();
        if (Eventually.Holds(() => probe.Inside == 1, settle) && gate.TryAcquire(out AsyncLock.Lease intruder))
        {
            probe.Enter();
            probe.Exit();
            intruder.Dispose();
        }

        leave.SetResult();
        await Task.WhenAny(waiter, Task.Delay(settle));
        return probe;
    }

    /// <summary>What a cancellation sweep racing a chain of hand-offs saw.</summary>
    internal sealed record SweepReport(int Waiters, int Granted, int Cancelled, int OtherErrors, int FailedReleases, bool Stalled, Exception? CancellerError, bool EndedFree, ExclusionProbe Probe)
    {
        public bool Clean => !Stalled && OtherErrors == 0 && FailedReleases == 0 && CancellerError is null && EndedFree && Probe.Violations == 0 && Granted + Cancelled == Waiters;

        public override string ToString() =>
            $"waiters={Waiters}, granted={Granted}, cancelled={Cancelled}, other errors={OtherErrors}, failed releases={FailedReleases}, stalled={Stalled}, canceller error={CancellerError?.GetType().Name ?? "none"}, ended free={EndedFree}; {Probe}";
    }

    /// <summary>
    /// Queues waiters behind a holder, each with its own token, then starts a chain in which every
    /// granted waiter releases at once. A canceller thread chases the chain: it keeps cancelling the
    /// waiter right after the last one that finished (sparing every fourth), which is the head of the
    /// queue that the next release is about to hand the lock to. So grants keep meeting waiters that
    /// are giving up at that very moment.
    /// </summary>
    public static async Task<SweepReport> CancelSweepAgainstHandOffAsync(AsyncLock gate, int waiters, TimeSpan bound)
    {
        var probe = new ExclusionProbe();
        int granted = 0, cancelled = 0, otherErrors = 0, failedReleases = 0;
        int frontier = -1;
        bool finished = false;
        Exception? cancellerError = null;
        gate.TryAcquire(out AsyncLock.Lease holder);
        var sources = new CancellationTokenSource[waiters];
        var tasks = new Task[waiters];

        void Reached(int index)
        {
            int seen = Volatile.Read(ref frontier);
            while (index > seen)
            {
                int previous = Interlocked.CompareExchange(ref frontier, index, seen);
                if (previous == seen)
                {
                    break;
                }

                seen = previous;
            }
        }

        async Task WaiterAsync(int index)
        {
            try
            {
                AsyncLock.Lease lease = await gate.AcquireAsync(sources[index].Token);
                Interlocked.Increment(ref granted);
                Reached(index);
                probe.Enter();
                probe.Exit();
                if (!lease.Release())
                {
                    Interlocked.Increment(ref failedReleases);
                }
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
                Reached(index);
            }
            catch (ObjectDisposedException)
            {
                // Only a stalled run disposes the lock to release the waiters it stranded.
            }
            catch (Exception)
            {
                Interlocked.Increment(ref otherErrors);
            }
        }

        for (int i = 0; i < waiters; i++)
        {
            sources[i] = new CancellationTokenSource();
            tasks[i] = WaiterAsync(i);
        }

        var canceller = new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref finished))
                {
                    int head = Volatile.Read(ref frontier) + 1;
                    if (head >= waiters)
                    {
                        return;
                    }

                    if (head % 4 != 3 && !sources[head].IsCancellationRequested)
                    {
                        sources[head].Cancel();
                    }
                    else
                    {
                        // Nothing to cancel until the chain moves on; leave the core to it.
                        Thread.Yield();
                    }
                }
            }
            catch (Exception error)
            {
                cancellerError = error;
            }
        })
        { IsBackground = true, Name = "cancel chaser" };
        canceller.Start();
        holder.Dispose();

        Task all = Task.WhenAll(tasks);
        bool stalled = await Task.WhenAny(all, Task.Delay(bound)) != all;
        Volatile.Write(ref finished, true);
        canceller.Join(bound);
        bool endedFree = !stalled && LockAssert.LooksFree(gate);
        if (stalled)
        {
            gate.Dispose();
            await Task.WhenAny(all, Task.Delay(bound));
        }

        _ = all.Exception;
        foreach (CancellationTokenSource source in sources)
        {
            source.Dispose();
        }

        return new SweepReport(waiters, granted, cancelled, otherErrors, failedReleases, stalled, cancellerError, endedFree, probe);
    }

    /// <summary>What happened to the waiters around one that gave up.</summary>
    internal sealed record GiveUpReport(bool GaveUpCleanly, bool NextGranted, bool EndedFree)
    {
        public bool Clean => GaveUpCleanly && NextGranted && EndedFree;
    }

    /// <summary>
    /// A holds, B waits with a token, C waits behind B. B's token is cancelled, then A releases: the
    /// lock must reach C, never the departed B.
    /// </summary>
    public static GiveUpReport GrantAfterGiveUp(AsyncLock gate, TimeSpan settle)
    {
        gate.TryAcquire(out AsyncLock.Lease holder);
        using var cancellation = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> leaving = gate.AcquireAsync(cancellation.Token);
        ValueTask<AsyncLock.Lease> next = gate.AcquireAsync();

        cancellation.Cancel();
        bool gaveUp = Eventually.Holds(() => leaving.IsCompleted, settle)
            && Waiters.Consume(leaving).Error is OperationCanceledException;
        holder.Dispose();
        bool nextGranted = Eventually.Holds(() => next.IsCompleted, settle);
        bool endedFree = false;
        if (nextGranted)
        {
            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(next);
            nextGranted = error is null && lease.IsHeld;
            lease.Dispose();
            endedFree = LockAssert.LooksFree(gate);
        }

        gate.Dispose();
        return new GiveUpReport(gaveUp, nextGranted, endedFree);
    }
}
