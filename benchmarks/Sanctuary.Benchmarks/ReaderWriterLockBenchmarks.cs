using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DotNextAsyncReaderWriterLock = DotNext.Threading.AsyncReaderWriterLock;
using NitoAsyncReaderWriterLock = Nito.AsyncEx.AsyncReaderWriterLock;
using VisualStudioAsyncReaderWriterLock = Microsoft.VisualStudio.Threading.AsyncReaderWriterLock;

namespace Sanctuary.Benchmarks;

/// <summary>
/// <see cref="AsyncReaderWriterLock"/> side by side with <see cref="ReaderWriterLockSlim"/> (sync),
/// DotNext.Threading, Nito.AsyncEx and Microsoft.VisualStudio.Threading, in four categories, each
/// with <see cref="ReaderWriterLockSlim"/> as its baseline: an uncontended read, an uncontended
/// write, an uncontended upgrade (upgradeable read, then write), and 16 workers
/// doing 95 % reads and 5 % writes. Times and bytes are per operation.
/// </summary>
/// <remarks>
/// <para>
/// Every uncontended acquire completes synchronously, so an async benchmark method's own state
/// machine never leaves the stack and any bytes reported belong to the lock.
/// </para>
/// <para>
/// In the mixed category every 20th operation of a worker writes (increments a counter) and the
/// others read it into a local sum, so readers share no written cache line. The workers live for the whole benchmark (see <see cref="WorkerRounds"/>), so an
/// invocation allocates nothing of its own. A lost increment fails the run: two writers were inside
/// at once. Nito.AsyncEx has no upgradeable read; DotNext's upgrade releases the read lock and
/// queues for the write lock, the closest it offers.
/// </para>
/// <para>
/// The Visual Studio lock is created without a JoinableTaskContext (its <c>(bool)</c> constructor),
/// so it runs as a plain library lock, without main-thread or deadlock-avoidance machinery.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ReaderWriterLockBenchmarks
{
    private const string Read = "UncontendedRead";
    private const string Write = "UncontendedWrite";
    private const string Upgrade = "UncontendedUpgrade";
    private const string Mixed = "Mixed95Read5Write";

    // Workers of the mixed category.
    private const int Tasks = 16;

    // Total operations per mixed invocation, split evenly over the workers.
    private const int OperationsPerInvoke = 16_384;

    // One write in this many operations: 5 %.
    private const int WriteEvery = 20;

    private readonly ReaderWriterLockSlim _slim = new(LockRecursionPolicy.NoRecursion);
    private readonly AsyncReaderWriterLock _sanctuary = new();
    private readonly DotNextAsyncReaderWriterLock _dotNext = new();
    private readonly NitoAsyncReaderWriterLock _nito = new();
    private readonly VisualStudioAsyncReaderWriterLock _visualStudio = new(captureDiagnostics: false);
    private WorkerRounds? _rounds;
    private int _iterationsPerTask;
    private long _counter;
    private long _sink;

    // Uncontended read.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Read)]
    public void SlimRead()
    {
        _slim.EnterReadLock();
        _sink += _counter;
        _slim.ExitReadLock();
    }

    [Benchmark]
    [BenchmarkCategory(Read)]
    public async ValueTask SanctuaryReadAsync()
    {
        using (await _sanctuary.AcquireReadAsync())
        {
            _sink += _counter;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Read)]
    public void SanctuaryReadScope()
    {
        using (_sanctuary.AcquireRead())
        {
            _sink += _counter;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Read)]
    public async ValueTask DotNextReadAsync()
    {
        await _dotNext.EnterReadLockAsync();
        _sink += _counter;
        _dotNext.Release();
    }

    [Benchmark]
    [BenchmarkCategory(Read)]
    public async ValueTask NitoReadAsync()
    {
        using (await _nito.ReaderLockAsync())
        {
            _sink += _counter;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Read)]
    public async ValueTask VisualStudioReadAsync()
    {
        using (await _visualStudio.ReadLockAsync())
        {
            _sink += _counter;
        }
    }

    // Uncontended write.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Write)]
    public void SlimWrite()
    {
        _slim.EnterWriteLock();
        _counter++;
        _slim.ExitWriteLock();
    }

    [Benchmark]
    [BenchmarkCategory(Write)]
    public async ValueTask SanctuaryWriteAsync()
    {
        using (await _sanctuary.AcquireWriteAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Write)]
    public void SanctuaryWriteScope()
    {
        using (_sanctuary.AcquireWrite())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Write)]
    public async ValueTask DotNextWriteAsync()
    {
        await _dotNext.EnterWriteLockAsync();
        _counter++;
        _dotNext.Release();
    }

    [Benchmark]
    [BenchmarkCategory(Write)]
    public async ValueTask NitoWriteAsync()
    {
        using (await _nito.WriterLockAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Write)]
    public async ValueTask VisualStudioWriteAsync()
    {
        using (await _visualStudio.WriteLockAsync())
        {
            _counter++;
        }
    }

    // Uncontended upgrade: take an upgradeable read, upgrade, write, release both.

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Upgrade)]
    public void SlimUpgrade()
    {
        _slim.EnterUpgradeableReadLock();
        _slim.EnterWriteLock();
        _counter++;
        _slim.ExitWriteLock();
        _slim.ExitUpgradeableReadLock();
    }

    [Benchmark]
    [BenchmarkCategory(Upgrade)]
    public async ValueTask SanctuaryUpgradeAsync()
    {
        using (AsyncReaderWriterLock.UpgradeableReadLease upgradeable = await _sanctuary.AcquireUpgradeableReadAsync())
        {
            using (await upgradeable.UpgradeAsync())
            {
                _counter++;
            }
        }
    }

    [Benchmark]
    [BenchmarkCategory(Upgrade)]
    public void SanctuaryUpgradeScope()
    {
        using AsyncReaderWriterLock.UpgradeableReadScope upgradeable = _sanctuary.AcquireUpgradeableRead();
        using (upgradeable.Upgrade())
        {
            _counter++;
        }
    }

    [Benchmark]
    [BenchmarkCategory(Upgrade)]
    public async ValueTask DotNextUpgradeAsync()
    {
        await _dotNext.EnterReadLockAsync();
        await _dotNext.UpgradeToWriteLockAsync();
        _counter++;
        _dotNext.Release();
    }

    [Benchmark]
    [BenchmarkCategory(Upgrade)]
    public async ValueTask VisualStudioUpgradeAsync()
    {
        using (await _visualStudio.UpgradeableReadLockAsync())
        {
            using (await _visualStudio.WriteLockAsync())
            {
                _counter++;
            }
        }
    }

    // 16 workers, 95 % reads and 5 % writes.

    [GlobalSetup(Target = nameof(SlimMixed))]
    public void SetupSlimMixed() => StartWorkers(SlimWorkerAsync);

    [GlobalSetup(Target = nameof(SanctuaryMixedAsync))]
    public void SetupSanctuaryMixedAsync() => StartWorkers(SanctuaryWorkerAsync);

    [GlobalSetup(Target = nameof(SanctuaryMixedScope))]
    public void SetupSanctuaryMixedScope() => StartWorkers(SanctuaryScopeWorkerAsync);

    [GlobalSetup(Target = nameof(DotNextMixedAsync))]
    public void SetupDotNextMixedAsync() => StartWorkers(DotNextWorkerAsync);

    [GlobalSetup(Target = nameof(NitoMixedAsync))]
    public void SetupNitoMixedAsync() => StartWorkers(NitoWorkerAsync);

    [GlobalSetup(Target = nameof(VisualStudioMixedAsync))]
    public void SetupVisualStudioMixedAsync() => StartWorkers(VisualStudioWorkerAsync);

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void SlimMixed() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void SanctuaryMixedAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void SanctuaryMixedScope() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void DotNextMixedAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void NitoMixedAsync() => RunRound();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [BenchmarkCategory(Mixed)]
    public void VisualStudioMixedAsync() => RunRound();

    [GlobalCleanup]
    public void Cleanup()
    {
        _rounds?.Dispose();
        _slim.Dispose();
        _sanctuary.Dispose();
        _dotNext.Dispose();
        _visualStudio.Dispose();
    }

    private void StartWorkers(Func<WorkerSignal, WorkerRounds, Task> worker)
    {
        _iterationsPerTask = OperationsPerInvoke / Tasks;
        _rounds = new WorkerRounds(Tasks, worker);
    }

    private void RunRound()
    {
        long expected = _counter + ((long)(_iterationsPerTask / WriteEvery) * Tasks);
        _rounds!.RunRound();

        // A lost increment means two writers were inside at once.
        if (_counter != expected)
        {
            throw new InvalidOperationException(
                $"Exclusion failed: the counter is {_counter} after the round, expected {expected}.");
        }
    }

    // One worker loop per lock, each awaiting the lock's own awaitable directly: a shared helper
    // would add an async state machine per contended acquire.
    private async Task SlimWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            long seen = 0;
            for (int i = 1; i <= _iterationsPerTask; i++)
            {
                if (i % WriteEvery == 0)
                {
                    _slim.EnterWriteLock();
                    _counter++;
                    _slim.ExitWriteLock();
                }
                else
                {
                    _slim.EnterReadLock();
                    seen += _counter;
                    _slim.ExitReadLock();
                }
            }

            _sink = seen;
            rounds.CompleteWorker();
        }
    }

    private async Task SanctuaryWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            long seen = 0;
            for (int i = 1; i <= _iterationsPerTask; i++)
            {
                if (i % WriteEvery == 0)
                {
                    using (await _sanctuary.AcquireWriteAsync())
                    {
                        _counter++;
                    }
                }
                else
                {
                    using (await _sanctuary.AcquireReadAsync())
                    {
                        seen += _counter;
                    }
                }
            }

            _sink = seen;
            rounds.CompleteWorker();
        }
    }

    private async Task SanctuaryScopeWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            _sink = RunSanctuaryScopes();
            rounds.CompleteWorker();
        }
    }

    // Scopes are ref structs, so the blocking loop lives outside the async method.
    private long RunSanctuaryScopes()
    {
        long seen = 0;
        for (int i = 1; i <= _iterationsPerTask; i++)
        {
            if (i % WriteEvery == 0)
            {
                using (_sanctuary.AcquireWrite())
                {
                    _counter++;
                }
            }
            else
            {
                using (_sanctuary.AcquireRead())
                {
                    seen += _counter;
                }
            }
        }

        return seen;
    }

    private async Task DotNextWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            long seen = 0;
            for (int i = 1; i <= _iterationsPerTask; i++)
            {
                if (i % WriteEvery == 0)
                {
                    await _dotNext.EnterWriteLockAsync();
                    _counter++;
                    _dotNext.Release();
                }
                else
                {
                    await _dotNext.EnterReadLockAsync();
                    seen += _counter;
                    _dotNext.Release();
                }
            }

            _sink = seen;
            rounds.CompleteWorker();
        }
    }

    private async Task NitoWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            long seen = 0;
            for (int i = 1; i <= _iterationsPerTask; i++)
            {
                if (i % WriteEvery == 0)
                {
                    using (await _nito.WriterLockAsync())
                    {
                        _counter++;
                    }
                }
                else
                {
                    using (await _nito.ReaderLockAsync())
                    {
                        seen += _counter;
                    }
                }
            }

            _sink = seen;
            rounds.CompleteWorker();
        }
    }

    private async Task VisualStudioWorkerAsync(WorkerSignal start, WorkerRounds rounds)
    {
        while (await start.WaitAsync())
        {
            long seen = 0;
            for (int i = 1; i <= _iterationsPerTask; i++)
            {
                if (i % WriteEvery == 0)
                {
                    using (await _visualStudio.WriteLockAsync())
                    {
                        _counter++;
                    }
                }
                else
                {
                    using (await _visualStudio.ReadLockAsync())
                    {
                        seen += _counter;
                    }
                }
            }

            _sink = seen;
            rounds.CompleteWorker();
        }
    }
}
