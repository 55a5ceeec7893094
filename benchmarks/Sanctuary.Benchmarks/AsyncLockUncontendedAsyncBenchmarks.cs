using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using DotNext.Threading;
using Microsoft.VisualStudio.Threading;

namespace Sanctuary.Benchmarks;

/// <summary>
/// One flow awaits the async acquire of a free lock and releases it. Every acquire here
/// completes synchronously, so the benchmark method's own state machine never leaves the
/// stack and any bytes reported belong to the lock.
/// </summary>
[MemoryDiagnoser]
public class AsyncLockUncontendedAsyncBenchmarks
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private readonly AsyncLock _asyncLock = new();
    private readonly AsyncExclusiveLock _dotNextLock = new();
    private readonly Nito.AsyncEx.AsyncLock _nitoLock = new();
    private readonly AsyncSemaphore _visualStudioSemaphore = new(1);
    private long _counter;

    [Benchmark(Baseline = true)]
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
    public async ValueTask AsyncLockAcquireAsync()
    {
        using (await _asyncLock.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
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

    [Benchmark]
    public async ValueTask NitoLockAsync()
    {
        using (await _nitoLock.LockAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    public async ValueTask VisualStudioEnterAsync()
    {
        using (await _visualStudioSemaphore.EnterAsync())
        {
            _counter++;
        }
    }

    /// <summary>
    /// No lock: the cost of the async method and of awaiting an already completed
    /// <c>ValueTask&lt;Lease&gt;</c>, which every row above pays too. Subtract it to compare
    /// the locks alone.
    /// </summary>
    [Benchmark]
    public async ValueTask AwaitCompletedNoLock()
    {
        using (await new ValueTask<AsyncLock.Lease>(default(AsyncLock.Lease)))
        {
            _counter++;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _semaphore.Dispose();
        _asyncLock.Dispose();
        _dotNextLock.Dispose();
        _visualStudioSemaphore.Dispose();
    }
}
