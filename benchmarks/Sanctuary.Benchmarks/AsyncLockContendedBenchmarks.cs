using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DotNext.Threading;
using Microsoft.VisualStudio.Threading;

namespace Sanctuary.Benchmarks;

/// <summary>
/// <see cref="Tasks"/> async workers each loop acquire, critical section, release, until the
/// invocation has done <see cref="OperationsPerInvoke"/> acquisitions in total. Times and bytes
/// are per acquire+release pair.
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="CriticalSection.Increment"/> the workers contend only while two thread-pool
/// threads run at the same moment, so how often an acquire waits depends on the cores that are
/// free. With <see cref="CriticalSection.IncrementAndYield"/> the holder yields to the thread
/// pool before releasing, so the other workers queue behind it whatever the core count: nearly
/// every acquire goes through the lock's waiter path.
/// </para>
/// <para>
/// The workers live for the whole benchmark (see <see cref="WorkerRounds"/>), so an invocation
/// allocates nothing of its own: with a lock that allocates nothing, B/op is 0. The threading
/// diagnoser's "Completed Work Items" column counts thread-pool hops per acquire+release, so
/// it shows how often acquires actually waited in a run.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class AsyncLockContendedBenchmarks
{
    // Total acquisitions per invocation, split evenly over the workers, so every Tasks value
    // does the same amount of work per invocation and OperationsPerInvoke can be a constant.
    private const int OperationsPerInvoke = 16_384;

    private AsyncLock _asyncLock = null!;
    private SemaphoreSlim _semaphore = null!;
    private AsyncExclusiveLock _dotNextLock = null!;
    private Nito.AsyncEx.AsyncLock _nitoLock = null!;
    private AsyncSemaphore _visualStudioSemaphore = null!;
    private WorkerRounds _rounds = null!;
    private int _iterationsPerTask;
    private bool _yieldWhileHeld;
    private long _counter;

    /// <summary>What a worker does while it holds the lock.</summary>
    public enum CriticalSection
    {
        /// <summary>One field increment.</summary>
        Increment,

        /// <summary>One field increment, then <see cref="Task.Yield"/> before the release.</summary>
        IncrementAndYield,
    }

    [Params(2, 16, 256)]
    public int Tasks { get; set; }

    [Params(CriticalSection.Increment, CriticalSection.IncrementAndYield)]
    public CriticalSection Section { get; set; }

    [GlobalSetup(Target = nameof(SemaphoreSlimWaitAsync))]
    public void SetupSemaphoreSlim()
    {
        _semaphore = new SemaphoreSlim(1, 1);
        StartWorkers(SemaphoreSlimWorkerAsync);
    }

    [GlobalSetup(Target = nameof(AsyncLockFifo))]
    public void SetupAsyncLockFifo()
    {
        _asyncLock = new AsyncLock(new AsyncLockOptions { Fairness = LockFairness.Fifo });
        StartWorkers(AsyncLockWorkerAsync);
    }

    [GlobalSetup(Target = nameof(AsyncLockThroughput))]
    public void SetupAsyncLockThroughput()
    {
        _asyncLock = new AsyncLock(new AsyncLockOptions { Fairness = LockFairness.Throughput });
        StartWorkers(AsyncLockWorkerAsync);
    }

    [GlobalSetup(Target = nameof(DotNextAcquireAsync))]
    public void SetupDotNext()
    {
        _dotNextLock = new AsyncExclusiveLock();
        StartWorkers(DotNextWorkerAsync);
    }

    [GlobalSetup(Target = nameof(NitoLockAsync))]
    public void SetupNito()
    {
        _nitoLock = new Nito.AsyncEx.AsyncLock();
        StartWorkers(NitoWorkerAsync);
    }

    [GlobalSetup(Target = nameof(VisualStudioEnterAsync))]
    public void SetupVisualStudio()
    {
        _visualStudioSemaphore = new AsyncSemaphore(1);
        StartWorkers(VisualStudioWorkerAsync);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    public void SemaphoreSlimWaitAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void AsyncLockFifo() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void AsyncLockThroughput() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void DotNextAcquireAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void NitoLockAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void VisualStudioEnterAsync() => RunRound();

    [GlobalCleanup]
    public void Cleanup()
    {
        _rounds?.Dispose();
        _asyncLock?.Dispose();
        _semaphore?.Dispose();
        _dotNextLock?.Dispose();
        _visualStudioSemaphore?.Dispose();
    }

    private void StartWorkers(Func<WorkerSignal, WorkerRounds, Task> worker)
    {
        _iterationsPerTask = OperationsPerInvoke / Tasks;
        _yieldWhileHeld = Section == CriticalSection.IncrementAndYield;
        _rounds = new WorkerRounds(Tasks, worker);
    }

    private void RunRound()
    {
        long expected = _counter + ((long)_iterationsPerTask * Tasks);
        _rounds.RunRound();

        // A lost update means two workers were inside the critical section at once.
        if (_counter != expected)
        {
            throw new InvalidOperationException(
                $"Mutual exclusion failed: the counter is {_counter} after the round, expected {expected}.");
        }
    }

    // One worker loop per lock, each awaiting the lock's own awaitable directly: wrapping the
    // acquire in a shared helper would add an async state machine per contended acquire.
    private async Task SemaphoreSlimWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                await _semaphore.WaitAsync();
                try
                {
                    _counter++;
                    if (_yieldWhileHeld)
                    {
                        await Task.Yield();
                    }
                }
                finally
                {
                    _semaphore.Release();
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task AsyncLockWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await _asyncLock.AcquireAsync())
                {
                    _counter++;
                    if (_yieldWhileHeld)
                    {
                        await Task.Yield();
                    }
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task DotNextWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                await _dotNextLock.AcquireAsync();
                try
                {
                    _counter++;
                    if (_yieldWhileHeld)
                    {
                        await Task.Yield();
                    }
                }
                finally
                {
                    _dotNextLock.Release();
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task NitoWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await _nitoLock.LockAsync())
                {
                    _counter++;
                    if (_yieldWhileHeld)
                    {
                        await Task.Yield();
                    }
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task VisualStudioWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await _visualStudioSemaphore.EnterAsync())
                {
                    _counter++;
                    if (_yieldWhileHeld)
                    {
                        await Task.Yield();
                    }
                }
            }

            rounds.CompleteWorker();
        }
    }
}
