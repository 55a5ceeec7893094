using System;
using System.Diagnostics;
using System.Threading;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Runs a blocking call on a new thread that does not belong to the thread pool and records its
/// outcome and how long it took.
/// </summary>
internal sealed class DedicatedCall
{
    private readonly Thread _thread;
    private readonly Func<string> _call;
    private string? _outcome;
    private long _elapsedTicks;

    private DedicatedCall(string name, Func<string> call)
    {
        _call = call;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>
    /// The string the call returned, or the name of the exception type it threw; <see langword="null"/>
    /// while it runs.
    /// </summary>
    public string? Outcome => Volatile.Read(ref _outcome);

    /// <summary>Time from the start of the call until it returned or threw.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _elapsedTicks));

    /// <summary>Starts <paramref name="call"/> on a new background thread.</summary>
    public static DedicatedCall Start(string name, Func<string> call)
    {
        var dedicated = new DedicatedCall(name, call);
        dedicated._thread.Start();
        return dedicated;
    }

    /// <summary>Waits at most <paramref name="bound"/> for the call to end; returns whether it did.</summary>
    public bool Join(TimeSpan bound) => _thread.Join(bound);

    private void Run()
    {
        long started = Stopwatch.GetTimestamp();
        string outcome;
        try
        {
            outcome = _call();
        }
        catch (Exception error)
        {
            outcome = error.GetType().Name;
        }

        Volatile.Write(ref _elapsedTicks, Stopwatch.GetTimestamp() - started);
        Volatile.Write(ref _outcome, outcome);
    }
}
