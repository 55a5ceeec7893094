using System;
using System.Diagnostics;
using System.Threading;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Starts numbered rounds shared by a driver thread and one helper thread. Both sides spin instead of
/// blocking, so the helper leaves the start line within nanoseconds of the driver and the two really
/// race, which a blocking barrier (that wakes its last waiters late) does not give.
/// </summary>
internal sealed class RoundStarter
{
    private int _started = -1;
    private int _finished = -1;
    private volatile bool _stopped;

    public bool Stopped => _stopped;

    /// <summary>Driver: lets the helper run round <paramref name="round"/>.</summary>
    public void Start(int round) => Volatile.Write(ref _started, round);

    /// <summary>Helper: waits for round <paramref name="round"/>; false when the driver stopped.</summary>
    public bool WaitForStart(int round)
    {
        // Busy-spin first so the helper reacts within nanoseconds; fall back to yielding spins if the
        // driver is slow to start the round.
        long hotUntil = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 5_000);
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _started) < round)
        {
            if (_stopped)
            {
                return false;
            }

            if (Stopwatch.GetTimestamp() < hotUntil)
            {
                Thread.SpinWait(1);
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        return !_stopped;
    }

    /// <summary>Helper: reports round <paramref name="round"/> done.</summary>
    public void Finish(int round) => Volatile.Write(ref _finished, round);

    /// <summary>Driver: waits for the helper to finish round <paramref name="round"/>, with a bound.</summary>
    public bool WaitForFinish(int round, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _finished) < round)
        {
            if (clock.Elapsed > bound)
            {
                return false;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    public void Stop() => _stopped = true;
}
