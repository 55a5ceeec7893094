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
/// A holder takes the lock for <see cref="HoldMilliseconds"/> while <see cref="Waiters"/> async
/// waiters queue behind it and give up, either by a timeout or by a token cancelled after
/// <see cref="CancelAfterMilliseconds"/>. Results are per given-up waiter: the B/op column is the
/// cost of one waiter that never got the lock. The time column is dominated by the hold and
/// only shows that every waiter gave up promptly.
/// </summary>
/// <remarks>
/// The benchmark thread issues every wait itself, so all of them are queued before the
/// cancellation. It polls <c>IsCompleted</c> instead of awaiting, so the harness allocates no
/// continuation. The results are read with <c>GetAwaiter().GetResult()</c>, as an
/// <c>await</c> would, so a token-cancelled wait pays for the exception it throws.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class AsyncLockGiveUpBenchmarks
{
    private const int Waiters = 64;
    private const string TimeoutCategory = "Timeout";
    private const string TokenCategory = "Token";
    private const int HoldMilliseconds = 5;
    private const int WaitTimeoutMilliseconds = 1;
    private const int CancelAfterMilliseconds = 1;

    // A waiter that has not given up this long after the hold ended points at a lost timeout.
    private static readonly TimeSpan s_completionTimeout = TimeSpan.FromSeconds(30);

    private static readonly Action<object?> s_ignoreCancellation = static _ => { };

    private readonly AsyncLock _asyncLock = new();
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly AsyncExclusiveLock _dotNextLock = new();
    private readonly ValueTask<AsyncLock.Lease>[] _asyncLockWaits = new ValueTask<AsyncLock.Lease>[Waiters];
    private readonly Task<bool>[] _semaphoreWaits = new Task<bool>[Waiters];
    private readonly ValueTask<bool>[] _dotNextWaits = new ValueTask<bool>[Waiters];
    private readonly CancellationTokenRegistration[] _registrations = new CancellationTokenRegistration[Waiters];

    // A cancelled source cannot be reset, so each invocation gets a new one, made outside the
    // measured workload. The timeout benchmarks share the setup only so that every row runs
    // one invocation per iteration and the table compares like with like.
    private CancellationTokenSource _cancellation = new();

    [IterationSetup]
    public void CreateCancellationSource()
    {
        _cancellation.Dispose();
        _cancellation = new CancellationTokenSource();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters), BenchmarkCategory(TimeoutCategory)]
    public void SemaphoreSlimTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        _semaphore.Wait();

        for (int i = 0; i < Waiters; i++)
        {
            _semaphoreWaits[i] = _semaphore.WaitAsync(WaitTimeoutMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            Task<bool> wait = _semaphoreWaits[i];
            WaitForCompletion(new ValueTask<bool>(wait));
            EnsureGaveUp(!wait.GetAwaiter().GetResult());
        }

        _semaphore.Release();
    }

    [Benchmark(OperationsPerInvoke = Waiters), BenchmarkCategory(TimeoutCategory)]
    public void AsyncLockTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        AcquireAsyncLockHolder(out AsyncLock.Lease holder);

        for (int i = 0; i < Waiters; i++)
        {
            _asyncLockWaits[i] = _asyncLock.TryAcquireAsync(WaitTimeoutMilliseconds);
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_asyncLockWaits[i]);
            AsyncLock.Lease lease = _asyncLockWaits[i].GetAwaiter().GetResult();
            EnsureGaveUp(!lease.IsHeld);
        }

        holder.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Waiters), BenchmarkCategory(TimeoutCategory)]
    public void DotNextTimeout()
    {
        long start = Stopwatch.GetTimestamp();
        AcquireDotNextHolder();

        for (int i = 0; i < Waiters; i++)
        {
            _dotNextWaits[i] = _dotNextLock.TryAcquireAsync(TimeSpan.FromMilliseconds(WaitTimeoutMilliseconds));
        }

        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_dotNextWaits[i]);
            EnsureGaveUp(!_dotNextWaits[i].GetAwaiter().GetResult());
        }

        _dotNextLock.Release();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Waiters), BenchmarkCategory(TokenCategory)]
    public void SemaphoreSlimToken()
    {
        long start = Stopwatch.GetTimestamp();
        _semaphore.Wait();

        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _semaphoreWaits[i] = _semaphore.WaitAsync(Timeout.Infinite, token);
        }

        SleepUntil(start, CancelAfterMilliseconds);
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

        _semaphore.Release();
    }

    [Benchmark(OperationsPerInvoke = Waiters), BenchmarkCategory(TokenCategory)]
    public void AsyncLockToken()
    {
        long start = Stopwatch.GetTimestamp();
        AcquireAsyncLockHolder(out AsyncLock.Lease holder);

        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _asyncLockWaits[i] = _asyncLock.TryAcquireAsync(Timeout.InfiniteTimeSpan, token);
        }

        SleepUntil(start, CancelAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_asyncLockWaits[i]);
            try
            {
                AsyncLock.Lease lease = _asyncLockWaits[i].GetAwaiter().GetResult();
                EnsureGaveUp(!lease.IsHeld);
            }
            catch (OperationCanceledException)
            {
            }
        }

        holder.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Waiters), BenchmarkCategory(TokenCategory)]
    public void DotNextToken()
    {
        long start = Stopwatch.GetTimestamp();
        AcquireDotNextHolder();

        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _dotNextWaits[i] = _dotNextLock.TryAcquireAsync(Timeout.InfiniteTimeSpan, token);
        }

        SleepUntil(start, CancelAfterMilliseconds);
        _cancellation.Cancel();
        SleepUntil(start, HoldMilliseconds);
        for (int i = 0; i < Waiters; i++)
        {
            WaitForCompletion(_dotNextWaits[i]);
            try
            {
                EnsureGaveUp(!_dotNextWaits[i].GetAwaiter().GetResult());
            }
            catch (OperationCanceledException)
            {
            }
        }

        _dotNextLock.Release();
    }

    /// <summary>
    /// No lock: the bytes that any token-cancelled waiter which registers on the token and
    /// surfaces the cancellation as an exception cannot avoid, that is one registration on a
    /// fresh <see cref="CancellationTokenSource"/> and one thrown <see cref="OperationCanceledException"/>.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Waiters), BenchmarkCategory(TokenCategory)]
    public void TokenFloor()
    {
        long start = Stopwatch.GetTimestamp();
        CancellationToken token = _cancellation.Token;
        for (int i = 0; i < Waiters; i++)
        {
            _registrations[i] = token.UnsafeRegister(s_ignoreCancellation, null);
        }

        SleepUntil(start, CancelAfterMilliseconds);
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
        _cancellation.Dispose();
        _asyncLock.Dispose();
        _semaphore.Dispose();
        _dotNextLock.Dispose();
    }

    private void AcquireAsyncLockHolder(out AsyncLock.Lease holder)
    {
        if (!_asyncLock.TryAcquire(out holder))
        {
            throw new InvalidOperationException("The AsyncLock is still held from the previous invocation.");
        }
    }

    private void AcquireDotNextHolder()
    {
        if (!_dotNextLock.TryAcquire())
        {
            throw new InvalidOperationException("The AsyncExclusiveLock is still held from the previous invocation.");
        }
    }

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
                throw new TimeoutException(
                    $"A waiter had not given up {s_completionTimeout.TotalSeconds} s after the hold ended.");
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
