using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DotNext.Threading;
using NitoAsyncSemaphore = Nito.AsyncEx.AsyncSemaphore;
using Timeout = System.Threading.Timeout;
using VisualStudioAsyncSemaphore = Microsoft.VisualStudio.Threading.AsyncSemaphore;

namespace Sanctuary.Benchmarks;

/// <summary>
/// <see cref="CapacityPool"/> side by side with <see cref="SemaphoreSlim"/>, the baseline of every
/// category, and the semaphores of DotNext.Threading (<see cref="AsyncSharedLock"/> taken weakly,
/// and <see cref="AsyncCounter"/>), Nito.AsyncEx and Microsoft.VisualStudio.Threading: an
/// uncontended blocking reserve of one unit, an uncontended async reserve of one unit (and of three,
/// which only the pool can do in one call), 16 async workers sharing 4 units, and requests that give
/// up (by timeout or by token) while a holder keeps every unit. Times and bytes are per
/// reserve+release pair, or per request that gave up.
/// </summary>
/// <remarks>
/// <para>
/// Every uncontended reserve completes synchronously, so an async benchmark method's own state
/// machine never leaves the stack and any bytes reported belong to the primitive.
/// </para>
/// <para>
/// The contended workers live for the whole benchmark (see <see cref="WorkerRounds"/>), so an
/// invocation allocates nothing of its own. Each worker adds its amount to a counter of units in use
/// while it holds them and fails the run if the counter ever exceeds the 4 units. In the give-up
/// categories the benchmark thread issues every request itself, polls <c>IsCompleted</c> instead of
/// awaiting and reads each result as an <c>await</c> would.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CapacityPoolBenchmarks
{
    private const string UncontendedSync = "UncontendedSyncOneUnit";
    private const string UncontendedAsync = "UncontendedAsync";
    private const string Contended = "Contended16TasksOn4Units";
    private const string GiveUpTimeout = "GiveUpTimeout";
    private const string GiveUpToken = "GiveUpToken";

    // Units of every primitive under test.
    private const int Units = 4;

    // Workers of the contended category, and reservations per invocation split evenly over them.
    private const int Tasks = 16;
    private const int OperationsPerInvoke = 16_384;

    // Give-up categories: requests per invocation, how long the holder keeps every unit, and when
    // the requests give up.
    private const int Waiters = 64;
    private const int HoldMilliseconds = 5;
    private const int GiveUpAfterMilliseconds = 1;

    // A request that has not given up this long after the hold ended points at a lost timeout.
    private static readonly TimeSpan s_completionTimeout = TimeSpan.FromSeconds(30);

    private static readonly Action<object?> s_ignoreCancellation = static _ => { };

    private readonly SemaphoreSlim _semaphore = new(Units, Units);
    private readonly CapacityPool _pool = new(Units);
    private readonly AsyncSharedLock _dotNextSharedLock = new(Units);
    private readonly AsyncCounter _dotNextCounter = new(Units);
    private readonly NitoAsyncSemaphore _nitoSemaphore = new(Units);
    private readonly VisualStudioAsyncSemaphore _visualStudioSemaphore = new(Units);
    private readonly Task<bool>[] _semaphoreWaits = new Task<bool>[Waiters];
    private readonly ValueTask<CapacityPool.Reservation>[] _poolWaits = new ValueTask<CapacityPool.Reservation>[Waiters];
    private readonly CancellationTokenRegistration[] _registrations = new CancellationTokenRegistration[Waiters];
    private WorkerRounds? _rounds;
    private SemaphoreSlim? _contendedSemaphore;
    private CapacityPool? _contendedPool;
    private AsyncSharedLock? _contendedSharedLock;
    private int _iterationsPerTask;
    private long _counter;
    private long _unitsInUse;

    // Numbers the contended workers in the order they start; each keeps the level of its number.
    private int _nextWorker;

    // A cancelled source cannot be reset, so each invocation of a token benchmark gets a new one,
    // made outside the measured workload.
    private CancellationTokenSource _cancellation = new();

    // Uncontended blocking reserve of one unit.

    [Benchmark(Baseline = true)]
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

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void CapacityPoolReserveScope()
    {
        using (_pool.Reserve(1))
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void CapacityPoolTryReserve()
    {
        if (_pool.TryReserve(1, out CapacityPool.Reservation reservation))
        {
            using (reservation)
            {
                _counter++;
            }
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedSync)]
    public void DotNextSharedLockTryAcquire()
    {
        if (_dotNextSharedLock.TryAcquire(strongLock: false))
        {
            _counter++;
            _dotNextSharedLock.Release();
        }
    }

    // Uncontended async reserve.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask SemaphoreSlimWaitAsync()
    {
        await _semaphore.WaitAsync();
        try
        {
            _counter++;
        }
        finally
        {
            _semaphore.Release();
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask CapacityPoolReserveAsync()
    {
        using (await _pool.ReserveAsync(1))
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask CapacityPoolReserveThreeUnitsHighAsync()
    {
        using (await _pool.ReserveAsync(3, LockPriority.High))
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask DotNextSharedLockAcquireAsync()
    {
        await _dotNextSharedLock.AcquireAsync(strongLock: false);
        try
        {
            _counter++;
        }
        finally
        {
            _dotNextSharedLock.Release();
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask DotNextCounterWaitAsync()
    {
        await _dotNextCounter.WaitAsync();
        try
        {
            _counter++;
        }
        finally
        {
            _dotNextCounter.Increment();
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask NitoWaitAsync()
    {
        await _nitoSemaphore.WaitAsync();
        try
        {
            _counter++;
        }
        finally
        {
            _nitoSemaphore.Release();
        }
    }

    [Benchmark]
    [BenchmarkCategory(UncontendedAsync)]
    public async ValueTask VisualStudioEnterAsync()
    {
        using (await _visualStudioSemaphore.EnterAsync())
        {
            _counter++;
        }
    }

    // 16 contending async workers on 4 units.

    [GlobalSetup(Target = nameof(SemaphoreSlimContended))]
    public void SetupSemaphoreSlimContended()
    {
        _contendedSemaphore = new SemaphoreSlim(Units, Units);
        StartWorkers(SemaphoreSlimWorkerAsync);
    }

    [GlobalSetup(Target = nameof(CapacityPoolContendedOneUnit))]
    public void SetupCapacityPoolOneUnit()
    {
        _contendedPool = new CapacityPool(Units);
        StartWorkers((start, rounds) => CapacityPoolWorkerAsync(start, rounds, _ => (1, LockPriority.Normal)));
    }

    [GlobalSetup(Target = nameof(CapacityPoolContendedMixedAmountsAndLevels))]
    public void SetupCapacityPoolMixed()
    {
        _contendedPool = new CapacityPool(Units);
        StartWorkers((start, rounds) => CapacityPoolWorkerAsync(start, rounds, i => (1 + (i & 1), (LockPriority)(i & 3))));
    }

    [GlobalSetup(Target = nameof(DotNextSharedLockContended))]
    public void SetupDotNextContended()
    {
        _contendedSharedLock = new AsyncSharedLock(Units);
        StartWorkers(DotNextWorkerAsync);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void SemaphoreSlimContended() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void CapacityPoolContendedOneUnit() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void CapacityPoolContendedMixedAmountsAndLevels() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Contended)]
    public void DotNextSharedLockContended() => RunRound();

    // Requests that give up while a holder keeps every unit.

    [IterationSetup(Targets = [nameof(SemaphoreSlimGiveUpToken), nameof(CapacityPoolGiveUpToken), nameof(TokenFloor)])]
    public void CreateCancellationSource()
    {
        _cancellation.Dispose();
        _cancellation = new CancellationTokenSource();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpTimeout)]
    public void SemaphoreSlimGiveUpTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        TakeEverySemaphoreUnit();
        for (int i = 0; i < Waiters; i++)
        {
            _semaphoreWaits[i] = _semaphore.WaitAsync(GiveUpAfterMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            Task<bool> wait = _semaphoreWaits[i];
            WaitForCompletion(new ValueTask<bool>(wait));
            EnsureGaveUp(!wait.GetAwaiter().GetResult());
        }

        _semaphore.Release(Units);
    }

    [Benchmark(OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpTimeout)]
    public void CapacityPoolGiveUpTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        CapacityPool.Reservation holder = TakeEveryPoolUnit();
        for (int i = 0; i < Waiters; i++)
        {
            _poolWaits[i] = _pool.TryReserveAsync(1 + (i & 3), (LockPriority)(i & 3), GiveUpAfterMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_poolWaits[i]);
            EnsureGaveUp(!_poolWaits[i].GetAwaiter().GetResult().IsHeld);
        }

        holder.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpToken)]
    public void SemaphoreSlimGiveUpToken()
    {
        long start = Stopwatch.GetTimestamp();
        TakeEverySemaphoreUnit();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _semaphoreWaits[i] = _semaphore.WaitAsync(Timeout.Infinite, token);
        }

        SleepUntil(start, GiveUpAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            Task<bool> wait = _semaphoreWaits[i];
            WaitForCompletion(new ValueTask<bool>(wait));
            try
            {
                EnsureGaveUp(!wait.GetAwaiter().GetResult());
            }
            catch (OperationCanceledException)
            {
            }
        }

        _semaphore.Release(Units);
    }

    [Benchmark(OperationsPerInvoke = Waiters)]
    [BenchmarkCategory(GiveUpToken)]
    public void CapacityPoolGiveUpToken()
    {
        long start = Stopwatch.GetTimestamp();
        CapacityPool.Reservation holder = TakeEveryPoolUnit();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _poolWaits[i] = _pool.TryReserveAsync(1 + (i & 3), (LockPriority)(i & 3), Timeout.InfiniteTimeSpan, token);
        }

        SleepUntil(start, GiveUpAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_poolWaits[i]);
            try
            {
                EnsureGaveUp(!_poolWaits[i].GetAwaiter().GetResult().IsHeld);
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
        _contendedSemaphore?.Dispose();
        _contendedPool?.Dispose();
        _contendedSharedLock?.Dispose();
        _cancellation.Dispose();
        _semaphore.Dispose();
        _pool.Dispose();
        _dotNextSharedLock.Dispose();
        _dotNextCounter.Dispose();
    }

    private void StartWorkers(Func<WorkerSignal, WorkerRounds, Task> worker)
    {
        _iterationsPerTask = OperationsPerInvoke / Tasks;
        _rounds = new WorkerRounds(Tasks, worker);
    }

    private void RunRound()
    {
        long expected = Interlocked.Read(ref _counter) + ((long)_iterationsPerTask * Tasks);
        _rounds!.RunRound();
        if (Interlocked.Read(ref _counter) != expected)
        {
            throw new InvalidOperationException($"The round counted {Interlocked.Read(ref _counter)} reservations, expected {expected}.");
        }
    }

    // Counts the units in use while a worker holds them; more than the total is an over-commit.
    private void Hold(long amount)
    {
        if (Interlocked.Add(ref _unitsInUse, amount) > Units)
        {
            throw new InvalidOperationException($"Over-commit: more than {Units} units were in use at once.");
        }

        Interlocked.Increment(ref _counter);
        Interlocked.Add(ref _unitsInUse, -amount);
    }

    // One worker loop per primitive, each awaiting the primitive's own awaitable directly: a shared
    // helper would add an async state machine per contended reserve.
    private async Task SemaphoreSlimWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        SemaphoreSlim semaphore = _contendedSemaphore!;
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                await semaphore.WaitAsync();
                try
                {
                    Hold(1);
                }
                finally
                {
                    semaphore.Release();
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task CapacityPoolWorkerAsync(WorkerSignal start, WorkerRounds rounds, Func<int, (long Amount, LockPriority Level)> requestOf)
    {
        CapacityPool pool = _contendedPool!;
        (long amount, LockPriority level) = requestOf(Interlocked.Increment(ref _nextWorker));
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                using (await pool.ReserveAsync(amount, level))
                {
                    Hold(amount);
                }
            }

            rounds.CompleteWorker();
        }
    }

    private async Task DotNextWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        AsyncSharedLock sharedLock = _contendedSharedLock!;
        while (await start.WaitAsync())
        {
            for (int i = 0; i < _iterationsPerTask; i++)
            {
                await sharedLock.AcquireAsync(strongLock: false);
                try
                {
                    Hold(1);
                }
                finally
                {
                    sharedLock.Release();
                }
            }

            rounds.CompleteWorker();
        }
    }

    private void TakeEverySemaphoreUnit()
    {
        if (!_semaphore.Wait(0) || !_semaphore.Wait(0) || !_semaphore.Wait(0) || !_semaphore.Wait(0))
        {
            throw new InvalidOperationException("The SemaphoreSlim still has units taken from the previous invocation.");
        }
    }

    private CapacityPool.Reservation TakeEveryPoolUnit() =>
        _pool.TryReserve(Units, out CapacityPool.Reservation holder)
            ? holder
            : throw new InvalidOperationException("The CapacityPool still has units reserved from the previous invocation.");

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
                throw new TimeoutException($"A request had not given up {s_completionTimeout.TotalSeconds} s after the hold ended.");
            }

            spinner.SpinOnce();
        }
    }

    private static void EnsureGaveUp(bool gaveUp)
    {
        if (!gaveUp)
        {
            throw new InvalidOperationException("A request got units while the holder still held every unit.");
        }
    }
}
