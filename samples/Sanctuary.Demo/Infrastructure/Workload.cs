using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>
/// Runs a set of loops for a fixed duration, then stops them and waits for them to finish,
/// recording a run that hangs (a lost wake-up leaves a loop waiting forever) instead of hanging itself.
/// </summary>
/// <remarks>
/// Each loop receives two tokens: <c>stop</c> asks it to start no new work, and <c>abort</c>
/// cancels waits that are still pending, which only happens when the run outlasted the grace period.
/// </remarks>
internal sealed class Workload : IProgressSource, IDisposable
{
    /// <summary>How long the loops may take to finish after the stop before the run counts as hung.</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly List<(string Name, Func<CancellationToken, CancellationToken, Task> Loop)> _loops = [];
    private readonly List<Task> _tasks = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<Workload, string> _status;

    private CancellationTokenRegistration _userCancellation;
    private long _startTimestamp;
    private long _stopTimestamp;

    public Workload(TimeSpan duration, Func<Workload, string> status)
    {
        Duration = duration;
        _status = status;
    }

    public TimeSpan Duration { get; }

    public bool IsStopRequested => _stop.IsCancellationRequested;

    public TimeSpan Elapsed => _startTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startTimestamp);

    public string Status => _status(this);

    /// <summary>Token that is cancelled when the loops must stop.</summary>
    public CancellationToken StopToken => _stop.Token;

    /// <summary>Adds a loop. Call it before <see cref="Start"/>.</summary>
    public void Add(string name, Func<CancellationToken, CancellationToken, Task> loop) => _loops.Add((name, loop));

    /// <summary>Starts every loop and schedules the stop after <see cref="Duration"/> or on <paramref name="userCancellation"/>.</summary>
    public void Start(CancellationToken userCancellation)
    {
        CancellationToken stopToken = _stop.Token;
        CancellationToken abortToken = _abort.Token;
        _startTimestamp = Stopwatch.GetTimestamp();
        foreach ((string _, Func<CancellationToken, CancellationToken, Task> loop) in _loops)
        {
            _tasks.Add(Task.Run(() => loop(stopToken, abortToken), CancellationToken.None));
        }

        // Registered before anything can cancel, so the stop time is set before CompleteAsync resumes.
        stopToken.Register(() =>
        {
            Interlocked.CompareExchange(ref _stopTimestamp, Stopwatch.GetTimestamp(), 0);
            _stopped.TrySetResult();
        });
        _userCancellation = userCancellation.Register(static state => ((CancellationTokenSource)state!).Cancel(), _stop);
        _stop.CancelAfter(Duration);
    }

    /// <summary>
    /// Waits for the stop, then for every loop, aborting waits that hang. <paramref name="describeBusy"/>
    /// lists the primitives that were still held or waited on when the run counted as hung.
    /// </summary>
    public async Task<WorkloadOutcome> CompleteAsync(Func<IReadOnlyList<string>> describeBusy)
    {
        await _stopped.Task;
        Task all = Task.WhenAll(_tasks);
        IReadOnlyList<string> busy = [];
        bool hung = false;
        if (!await CompletesWithinAsync(all, ShutdownGrace))
        {
            hung = true;
            busy = describeBusy();
            await _abort.CancelAsync();
            await CompletesWithinAsync(all, ShutdownGrace);
        }

        var faults = new List<string>();
        for (int i = 0; i < _tasks.Count; i++)
        {
            if (_tasks[i].IsFaulted)
            {
                foreach (Exception exception in _tasks[i].Exception!.InnerExceptions)
                {
                    faults.Add($"{_loops[i].Name}: {exception.GetType().Name}: {exception.Message}");
                }
            }
        }

        TimeSpan runTime = Stopwatch.GetElapsedTime(_startTimestamp, Volatile.Read(ref _stopTimestamp));
        return new WorkloadOutcome(runTime, _tasks.Count, hung, busy, faults, _tasks.All(task => task.IsCompleted));
    }

    public void Dispose()
    {
        _userCancellation.Dispose();
        _stop.Dispose();
        _abort.Dispose();
    }

    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit)
    {
        Task finished = await Task.WhenAny(task, Task.Delay(limit));
        return finished == task;
    }
}

/// <summary>How a <see cref="Workload"/> ended.</summary>
/// <param name="RunTime">Time from the start of the loops until the stop.</param>
/// <param name="Loops">Number of loops that ran.</param>
/// <param name="Hung">Whether the loops were still running a grace period after the stop.</param>
/// <param name="Busy">Primitives held or waited on when the run counted as hung.</param>
/// <param name="Faults">Exceptions that ended loops, one line each.</param>
/// <param name="AllFinished">Whether every loop has finished, so the primitives may be disposed.</param>
internal sealed record WorkloadOutcome(TimeSpan RunTime, int Loops, bool Hung, IReadOnlyList<string> Busy, IReadOnlyList<string> Faults, bool AllFinished)
{
    /// <summary>Returns the check that every loop stopped in time and none failed.</summary>
    public InvariantCheck FinishedCheck()
    {
        const string Name = "Workers finished";
        if (Faults.Count > 0)
        {
            return InvariantCheck.Fail(Name, $"{Faults.Count} failed, first: {Faults[0]}");
        }

        if (Hung)
        {
            string busy = Busy.Count == 0
                ? "nothing was held or waited on"
                : $"{Busy.Count:N0} busy, first: {string.Join(", ", Busy.Take(3))}";
            return InvariantCheck.Fail(Name, $"still running {Workload.ShutdownGrace.TotalSeconds:N0} s after the stop (a lost wake-up?); {busy}");
        }

        return InvariantCheck.Pass(Name, $"{Loops:N0} loops stopped within {Workload.ShutdownGrace.TotalSeconds:N0} s");
    }
}
