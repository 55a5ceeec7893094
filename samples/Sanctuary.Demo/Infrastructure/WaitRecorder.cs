using System.Diagnostics;

namespace Sanctuary.Demo;

/// <summary>Wait times of one worker's acquires: every grant, and the grants that had to wait.</summary>
internal sealed class WaitRecorder
{
    public WaitTimeHistogram All { get; } = new();

    public WaitTimeHistogram Contended { get; } = new();

    public void Record(long startTimestamp, bool completedAtOnce)
    {
        long waited = Stopwatch.GetTimestamp() - startTimestamp;
        All.Record(waited);
        if (!completedAtOnce)
        {
            Contended.Record(waited);
        }
    }

    public void Add(WaitRecorder other)
    {
        All.Add(other.All);
        Contended.Add(other.Contended);
    }
}
