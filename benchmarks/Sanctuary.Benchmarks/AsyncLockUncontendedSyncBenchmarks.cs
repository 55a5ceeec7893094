using System.Threading;
using BenchmarkDotNet.Attributes;

namespace Sanctuary.Benchmarks;

/// <summary>
/// One thread acquires and releases a free lock with a blocking (sync) API. Each method does
/// the same critical section, one field increment, so the difference is the lock's own cost.
/// </summary>
[MemoryDiagnoser]
public class AsyncLockUncontendedSyncBenchmarks
{
    private readonly AsyncLock _asyncLock = new();
    private readonly Lock _systemLock = new();
    private readonly object _monitor = new();
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private int _state;
    private long _counter;

    /// <summary>The floor: one CAS to take a state word and one exchange to free it.</summary>
    [Benchmark(Baseline = true)]
    public void InterlockedPair()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            _counter++;
            Interlocked.Exchange(ref _state, 0);
        }
    }

    [Benchmark]
    public void SystemLockScope()
    {
        using (_systemLock.EnterScope())
        {
            _counter++;
        }
    }

    [Benchmark]
    public void MonitorLock()
    {
        lock (_monitor)
        {
            _counter++;
        }
    }

    [Benchmark]
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
    public void AsyncLockAcquireScope()
    {
        using (_asyncLock.Acquire())
        {
            _counter++;
        }
    }

    [Benchmark]
    public void AsyncLockTryAcquire()
    {
        if (_asyncLock.TryAcquire(out AsyncLock.Lease lease))
        {
            using (lease)
            {
                _counter++;
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _asyncLock.Dispose();
        _semaphore.Dispose();
    }
}
