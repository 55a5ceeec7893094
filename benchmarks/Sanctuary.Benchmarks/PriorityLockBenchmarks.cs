using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DotNext.Threading;
using Timeout = System.Threading.Timeout;

namespace Sanctuary.Benchmarks;

/// <summary>
/// <see cref="PriorityLock"/> side by side with <see cref="AsyncLock"/>, the baseline of every
/// category, and the usual peers: an uncontended async acquire, an uncontended blocking acquire,
/// 16 async workers of mixed priorities, and waiters that give up (by timeout or by token) while a
/// holder keeps the lock. Times and bytes are per acquire+release pair, or per waiter that gave up.
/// </summary>
/// <remarks>
/// <para>
/// Every uncontended acquire completes synchronously, so an async benchmark method's own state
/// machine never leaves the stack and any bytes reported belong to the lock.
/// </para>
/// <para>
/// The contended workers live for the whole benchmark (see <see cref="WorkerRounds"/>), so an
/// invocation allocates nothing of its own; a lost increment fails the run. In the give-up
/// categories the benchmark thread issues every wait itself, polls <c>IsCompleted</c> instead of
/// awaiting and reads each result as an <c>await</c> would, so a token-cancelled wait pays for
/// the exception it throws; the token floor is that unavoidable cost.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PriorityLockBenchmarks
{
    private const string UncontendedAsync = "UncontendedAsync";
    private const string UncontendedSync = "UncontendedSync";
    private const string Contended = "Contended16Tasks";
    private const string GiveUpTimeout = "GiveUpTimeout";
    private const string GiveUpToken = "GiveUpToken";

    // Workers of the contended category, and acquisitions per invocation split evenly over them.
    private const int Tasks = 16;
    private const int OperationsPerInvoke = 16_384;

    // Give-up categories: waiters per invocation, how long the holder keeps the lock, and when the
    // waiters give up.
    private const int Waiters = 64;
    private const int HoldMilliseconds = 5;
    private const int GiveUpAfterMilliseconds = 1;

    // A waiter that has not given up this long after the hold ended points at a lost timeout.
    private static readonly TimeSpan s_completionTimeout = TimeSpan.FromSeconds(30);

    private static readonly Action<object?> s_ignoreCancellation = static _ => { };

    private readonly AsyncLock _asyncLock = new();
    private readonly PriorityLock _priorityLock = new();
    private readonly AsyncExclusiveLock _dotNextLock = new();
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly ValueTask<AsyncLock.Lease>[] _asyncLockWaits = new ValueTask<AsyncLock.Lease>[Waiters];
    private readonly ValueTask<PriorityLock.Lease>[] _priorityWaits = new ValueTask<PriorityLock.Lease>[Waiters];
    private readonly CancellationTokenRegistration[] _registrations = new CancellationTokenRegistration[Waiters];
    private WorkerRounds? _rounds;
    private AsyncLock? _contendedAsyncLock;
    private PriorityLock? _contendedPriorityLock;
    private int _iterationsPerTask;
    private long _counter;

    // Numbers the contended workers in the order they start; each keeps the level of its number.
    private int _nextWorker;

    // A cancelled source cannot be reset, so each invocation of a token benchmark gets a new one,
    // made outside the measured workload.
    private CancellationTokenSource _cancellation = new();

    // Uncontended async acquire.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask AsyncLockAcquireAsync()
    {
        using (await _asyncLock.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask PriorityLockAcquireAsync()
    {
        using (await _priorityLock.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask PriorityLockAcquireHighAsync()
    {
        using (await _priorityLock.AcquireAsync(LockPriority.High))
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask DotNextAcquireAsync()
    {
        await _dotNextLock.AcquireAsync();
        try
        {
            _counter++;
        }
        finally
        {
            _dotNextLock.Release();
        }
    }

    // Uncontended blocking acquire and try-now.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(UncontendedSync)]
    public void AsyncLockAcquireScope()
    {
        using (_asyncLock.Acquire())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void PriorityLockAcquireScope()
    {
        using (_priorityLock.Acquire(LockPriority.High))
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void PriorityLockTryAcquire()
    {
        if (_priorityLock.TryAcquire(out PriorityLock.Lease lease))
        {
            using (lease)
            {
                _counter++;
            }
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void SemaphoreSlimWait()
    {
        _semaphore.Wait();
        try
        {
            _counter++;
        }
        finally
        {
            _semaphore.Release();
        }
    }

    // 16 contending async workers.

    [GlobalSetup(Target = nameof(AsyncLockContended))]
    public void SetupAsyncLockContended()
    {
        _contendedAsyncLock = new AsyncLock();
        StartWorkers(AsyncLockWorkerAsync);
    }

    [GlobalSetup(Target = nameof(PriorityLockContendedOneLevel))]
    public void SetupPriorityLockOneLevel()
    {
        _contendedPriorityLock = new PriorityLock();
        StartWorkers((start, rounds) => PriorityLockWorkerAsync(start, rounds, _ => LockPriority.Normal));
    }

    [GlobalSetup(Target = nameof(PriorityLockContendedMixedLevels))]
    public void SetupPriorityLockMixedLevels()
    {
        _contendedPriorityLock = new PriorityLock();
        StartWorkers((start, rounds) => PriorityLockWorkerAsync(start, rounds, i => (LockPriority)(i & 3)));
    }

    [GlobalSetup(Target = nameof(PriorityLockContendedMixedLevelsAging))]
    public void SetupPriorityLockMixedLevelsAging()
    {
        _contendedPriorityLock = new PriorityLock(new PriorityLockOptions { AgingInterval = TimeSpan.FromMilliseconds(1) });
        StartWorkers((start, rounds) => PriorityLockWorkerAsync(start, rounds, i => (LockPriority)(i & 3)));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void AsyncLockContended() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void PriorityLockContendedOneLevel() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void PriorityLockContendedMixedLevels() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void PriorityLockContendedMixedLevelsAging() => RunRound();

    // Waiters that give up while a holder keeps the lock.

    [IterationSetup(Targets = [nameof(AsyncLockGiveUpToken), nameof(PriorityLockGiveUpToken), nameof(TokenFloor)])]
    public void CreateCancellationSource()
    {
        _cancellation.Dispose();
        _cancellation = new CancellationTokenSource();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpTimeout)]
    public void AsyncLockGiveUpTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        AsyncLock.Lease holder = HoldAsyncLock();
        for (int i = 0; i < Waiters; i++)
        {
            _asyncLockWaits[i] = _asyncLock.TryAcquireAsync(GiveUpAfterMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_asyncLockWaits[i]);
            EnsureGaveUp(!_asyncLockWaits[i].GetAwaiter().GetResult().IsHeld);
        }

        holder.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpTimeout)]
    public void PriorityLockGiveUpTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        PriorityLock.Lease holder = HoldPriorityLock();
        for (int i = 0; i < Waiters; i++)
        {
            _priorityWaits[i] = _priorityLock.TryAcquireAsync((LockPriority)(i & 3), GiveUpAfterMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_priorityWaits[i]);
            EnsureGaveUp(!_priorityWaits[i].GetAwaiter().GetResult().IsHeld);
        }

        holder.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpToken)]
    public void AsyncLockGiveUpToken()
    {
        long start = Stopwatch.GetTimestamp();
        AsyncLock.Lease holder = HoldAsyncLock();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _asyncLockWaits[i] = _asyncLock.TryAcquireAsync(Timeout.InfiniteTimeSpan, token);
        }

        SleepUntil(start, GiveUpAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_asyncLockWaits[i]);
            try
            {
                EnsureGaveUp(!_asyncLockWaits[i].GetAwaiter().GetResult().IsHeld);
            }
            catch (OperationCanceledException)
            {
            }
        }

        holder.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpToken)]
    public void PriorityLockGiveUpToken()
    {
        long start = Stopwatch.GetTimestamp();
        PriorityLock.Lease holder = HoldPriorityLock();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _priorityWaits[i] = _priorityLock.TryAcquireAsync((LockPriority)(i & 3), Timeout.InfiniteTimeSpan, token);
        }

        SleepUntil(start, GiveUpAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_priorityWaits[i]);
            try
            {
                EnsureGaveUp(!_priorityWaits[i].GetAwaiter().GetResult().IsHeld);
            }
            catch (OperationCanceledException)
            {
            }
        }

        holder.Dispose();
    }

    /// <summary>
    /// No primitive: the bytes that any token-cancelled waiter which registers on the token and
    /// surfaces the cancellation as an exception cannot avoid, that is one registration on a fresh
    /// <see cref="CancellationTokenSource"/> and one thrown <see cref="OperationCanceledException"/>.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpToken)]
    public void TokenFloor()
    {
        long start = Stopwatch.GetTimestamp();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _registrations[i] = token.UnsafeRegister(s_ignoreCancellation, null);
        }

        SleepUntil(start, GiveUpAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            _registrations[i].Dispose();
            try
            {
                token.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rounds?.Dispose();
        _contendedAsyncLock?.Dispose();
        _contendedPriorityLock?.Dispose();
        _cancellation.Dispose();
        _asyncLock.Dispose();
        _priorityLock.Dispose();
        _dotNextLock.Dispose();
        _semaphore.Dispose();
    }

    private void StartWorkers(Func<WorkerSignal, WorkerRounds, Task> worker)
    {
        _iterationsPerTask = OperationsPerInvoke / Tasks;
        _rounds = new WorkerRounds(Tasks, worker);
    }

    private void RunRound()
    {
        long expected = _counter + ((long)_iterationsPerTask * Tasks);
        _rounds!.RunRound();

        // A lost update means two workers were inside the critical section at once.
        if (_counter != expected)
        {
            throw new InvalidOperationException(
                $"Mutual exclusion failed: the counter is {_counter} after the round, expected {expected}.");
        }
    }

    private async Task AsyncLockWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        AsyncLock gate = _contendedAsyncLock!;
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await gate.AcquireAsync())
                {
                    _counter++;
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task PriorityLockWorkerAsync(WorkerSignal start, WorkerRounds rounds, Func<int, LockPriority> levelOf)
    {
        PriorityLock gate = _contendedPriorityLock!;
        LockPriority level = levelOf(Interlocked.Increment(ref _nextWorker));
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await gate.AcquireAsync(level))
                {
                    _counter++;
                }
            }

            rounds.CompleteWorker();
        }
    }

    private AsyncLock.Lease HoldAsyncLock() =>
        _asyncLock.TryAcquire(out AsyncLock.Lease holder)
            ? holder
            : throw new InvalidOperationException("The AsyncLock is still held from the previous invocation.");

    private PriorityLock.Lease HoldPriorityLock() =>
        _priorityLock.TryAcquire(out PriorityLock.Lease holder)
            ? holder
            : throw new InvalidOperationException("The PriorityLock is still held from the previous invocation.");

    private static void SleepUntil(long start, int milliseconds)
    {
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < milliseconds)
        {
            Thread.Sleep(1);
        }
    }

    // Polls instead of awaiting: a lambda or an await here would allocate inside the measurement.
    private static void WaitForCompletion<T>(ValueTask<T> wait)
    {
        long start = Stopwatch.GetTimestamp();
        SpinWait spinner = default;
        while (!wait.IsCompleted)
        {
            if (Stopwatch.GetElapsedTime(start) > s_completionTimeout)
            {
                throw new TimeoutException($"A waiter had not given up {s_completionTimeout.TotalSeconds} s after the hold ended.");
            }

            spinner.SpinOnce();
        }
    }

    private static void EnsureGaveUp(bool gaveUp)
    {
        if (!gaveUp)
        {
            throw new InvalidOperationException("A waiter acquired the lock while the holder still held it.");
        }
    }
}
