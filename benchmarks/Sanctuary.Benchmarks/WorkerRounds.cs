using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Benchmarks;

/// <summary>
/// A fixed set of long-lived async workers that each run one round of work per
/// <see cref="RunRound"/> call. Starting and joining a round allocates nothing, so the
/// memory diagnoser attributes every byte of a contended benchmark to the lock under test.
/// </summary>
internal sealed class WorkerRounds : IDisposable
{
    // A round that has not finished after this long has deadlocked or lost a wake-up.
    private static readonly TimeSpan s_roundTimeout = TimeSpan.FromSeconds(60);

    private readonly WorkerSignal[] _starts;
    private readonly Task[] _workers;
    private readonly ManualResetEventSlim _roundDone = new(initialState: false);
    private int _running;

    /// <param name="workerCount">The number of concurrent workers.</param>
    /// <param name="startWorker">
    /// Starts one worker: it loops <c>while (await start.WaitAsync())</c>, runs its round and then
    /// calls <see cref="CompleteWorker"/>.
    /// </param>
    public WorkerRounds(int workerCount, Func<WorkerSignal, WorkerRounds, Task> startWorker)
    {
        _starts = new WorkerSignal[workerCount];
        _workers = new Task[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            _starts[i] = new WorkerSignal();
            _workers[i] = startWorker(_starts[i], this);
        }
    }

    /// <summary>Starts every worker's round and blocks until the last one has finished.</summary>
    public void RunRound()
    {
        _roundDone.Reset();
        Volatile.Write(ref _running, _starts.Length);
        foreach (WorkerSignal start in _starts)
        {
            start.Start();
        }

        if (!_roundDone.Wait(s_roundTimeout))
        {
            Exception? fault = _workers.FirstOrDefault(worker => worker.IsFaulted)?.Exception;
            throw new TimeoutException(
                $"{Volatile.Read(ref _running)} of {_starts.Length} workers did not finish their round within "
                + $"{s_roundTimeout.TotalSeconds} s; the lock under test lost a wake-up or a worker failed.",
                fault);
        }
    }

    /// <summary>Called by each worker at the end of its round.</summary>
    public void CompleteWorker()
    {
        if (Interlocked.Decrement(ref _running) == 0)
        {
            _roundDone.Set();
        }
    }

    /// <summary>Stops the workers between rounds and waits for them to exit.</summary>
    public void Dispose()
    {
        foreach (WorkerSignal start in _starts)
        {
            start.Stop();
        }

        Task.WaitAll(_workers);
        _roundDone.Dispose();
    }
}
