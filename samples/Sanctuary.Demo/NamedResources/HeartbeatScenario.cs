using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// One lease with a time-to-live and a heartbeat, held several times longer than its time-to-live:
/// the registry renews it, so it is never lost, and it releases normally at the end.
/// </summary>
internal sealed class HeartbeatScenario
{
    public const string ResourceId = "report:daily";
    public const string Owner = "reporter";
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The lease is held at least this long, even when the workload is shorter.</summary>
    public static readonly TimeSpan MinimumHold = TimeSpan.FromSeconds(2.5);

    private static readonly TimeSpan s_sampleInterval = TimeSpan.FromMilliseconds(100);

    private static readonly LeaseOptions s_options = new()
    {
        Owner = Owner,
        Purpose = "daily report",
        TimeToLive = TimeToLive,
        HeartbeatInterval = HeartbeatInterval,
    };

    public TimeSpan HeldFor { get; private set; }

    /// <summary>Times the lease's expiry was seen to move later while it was held.</summary>
    public int Renewals { get; private set; }

    public LeaseState StateBeforeRelease { get; private set; }

    public bool LostTokenFired { get; private set; }

    public LeaseReleaseResult Release { get; private set; }

    public string? Failure { get; private set; }

    /// <summary>Holds the lease until <paramref name="stopToken"/> fires, and at least <see cref="MinimumHold"/>.</summary>
    public async Task RunAsync(ResourceRegistry registry, CancellationToken stopToken)
    {
        try
        {
            long start = Stopwatch.GetTimestamp();
            ResourceLease lease = await registry.AcquireAsync(ResourceId, s_options);
            try
            {
                CancellationToken lost = lease.LostToken;
                DateTimeOffset? lastExpiry = lease.ExpiresAt;
                while ((!stopToken.IsCancellationRequested || Stopwatch.GetElapsedTime(start) < MinimumHold) && !lost.IsCancellationRequested)
                {
                    await Task.Delay(s_sampleInterval, CancellationToken.None);
                    if (lease.State != LeaseState.Held)
                    {
                        break;
                    }

                    DateTimeOffset? expiry = lease.ExpiresAt;
                    if (expiry > lastExpiry)
                    {
                        Renewals++;
                        lastExpiry = expiry;
                    }
                }

                HeldFor = Stopwatch.GetElapsedTime(start);
                StateBeforeRelease = lease.State;
                LostTokenFired = lost.IsCancellationRequested;
            }
            finally
            {
                Release = await lease.ReleaseAsync();
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Failure = $"{exception.GetType().Name}: {exception.Message}";
        }
    }

    public InvariantCheck Check()
    {
        const string Name = "Heartbeat kept the lease";
        if (Failure is not null)
        {
            return InvariantCheck.Fail(Name, Failure);
        }

        return InvariantCheck.That(
            Name,
            HeldFor > TimeToLive && Renewals > 0 && StateBeforeRelease == LeaseState.Held && !LostTokenFired && Release == LeaseReleaseResult.Released,
            $"{Format.Seconds(HeldFor)} on a {Format.Seconds(TimeToLive)} ttl, {Renewals} renewals",
            $"held {Format.Seconds(HeldFor)}, {Renewals} renewals seen, state {StateBeforeRelease}, lost token fired: {LostTokenFired}, release: {Release}");
    }

    public IEnumerable<(string Measure, string Value)> Rows()
    {
        yield return ($"Heartbeat lease on {ResourceId}", $"ttl {Format.Seconds(TimeToLive)}, every {Format.Milliseconds(HeartbeatInterval)}");
        yield return ("  held / renewals seen", $"{Format.Seconds(HeldFor)} / {Renewals}");
    }
}
