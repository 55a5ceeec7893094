using System;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Sanctuary.Benchmarks;

/// <summary>
/// A reusable, allocation-free start signal for one long-lived async worker: the benchmark
/// thread calls <see cref="Start"/> once per round and the worker awaits <see cref="WaitAsync"/>.
/// </summary>
/// <remarks>
/// The worker's await resets the signal in <see cref="GetResult"/> before it runs its round, and
/// the benchmark thread signals again only after every worker has finished the round, so
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/> never gets two completions of one version.
/// </remarks>
internal sealed class WorkerSignal : IValueTaskSource<bool>
{
    // Mutable struct: must stay a non-readonly field so its methods change this copy.
    private ManualResetValueTaskSourceCore<bool> _core;

    public WorkerSignal()
    {
        // The worker's round must run on the thread pool, never inline on the benchmark thread.
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>Waits for the next round; the result is false when the worker should exit.</summary>
    public ValueTask<bool> WaitAsync() => new(this, _core.Version);

    public void Start() => _core.SetResult(true);

    public void Stop() => _core.SetResult(false);

    public bool GetResult(short token)
    {
        bool result = _core.GetResult(token);
        _core.Reset();
        return result;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(
        Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
