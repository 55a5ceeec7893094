using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Sanctuary.Resources;

namespace Sanctuary.Diagnostics;

/// <summary>
/// The instruments of the named-resource layer. Each recording method first checks that a
/// listener is attached, so a process without one pays a field read and nothing else.
/// </summary>
internal static class ResourceTelemetry
{
    private static readonly Meter s_meter = new(SanctuaryDiagnostics.MeterName, SanctuaryDiagnostics.Version);

    private static readonly string[] s_modeNames = { nameof(LeaseMode.Exclusive), nameof(LeaseMode.Read), nameof(LeaseMode.Write), nameof(LeaseMode.UpgradeableRead) };

    internal static readonly ActivitySource Source = new(SanctuaryDiagnostics.ActivitySourceName, SanctuaryDiagnostics.Version);

    internal static readonly Counter<long> Acquired = s_meter.CreateCounter<long>(SanctuaryDiagnostics.AcquiredCounter, "{lease}", "Leases granted.");
    internal static readonly Counter<long> Released = s_meter.CreateCounter<long>(SanctuaryDiagnostics.ReleasedCounter, "{lease}", "Leases released while held.");
    internal static readonly Counter<long> TimedOut = s_meter.CreateCounter<long>(SanctuaryDiagnostics.TimedOutCounter, "{acquire}", "Acquires whose wait timeout elapsed.");
    internal static readonly Counter<long> Cancelled = s_meter.CreateCounter<long>(SanctuaryDiagnostics.CancelledCounter, "{acquire}", "Acquires cancelled while waiting.");
    internal static readonly Counter<long> Expired = s_meter.CreateCounter<long>(SanctuaryDiagnostics.ExpiredCounter, "{lease}", "Leases whose time-to-live ran out.");
    internal static readonly Counter<long> Lost = s_meter.CreateCounter<long>(SanctuaryDiagnostics.LostCounter, "{lease}", "Leases lost to missed heartbeats or a refused renewal.");
    internal static readonly Histogram<double> WaitTime = s_meter.CreateHistogram<double>(SanctuaryDiagnostics.WaitTimeHistogram, "s", "Time from the start of an acquire to its grant.");
    internal static readonly Histogram<double> HoldTime = s_meter.CreateHistogram<double>(SanctuaryDiagnostics.HoldTimeHistogram, "s", "Time from grant to release or loss.");

    internal static bool AnyAcquireInstrument
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Acquired.Enabled || WaitTime.Enabled;
    }

    internal static bool AnyReleaseInstrument
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Released.Enabled || HoldTime.Enabled || Expired.Enabled || Lost.Enabled;
    }

    internal static void RecordAcquired(string resourceId, LeaseMode mode, bool tagResource, TimeSpan waited)
    {
        TagList tags = Tags(resourceId, mode, tagResource);
        if (Acquired.Enabled)
        {
            Acquired.Add(1, tags);
        }

        if (WaitTime.Enabled)
        {
            WaitTime.Record(waited.TotalSeconds, tags);
        }
    }

    internal static void RecordEnded(Counter<long> counter, string resourceId, LeaseMode mode, bool tagResource, TimeSpan held)
    {
        TagList tags = Tags(resourceId, mode, tagResource);
        if (counter.Enabled)
        {
            counter.Add(1, tags);
        }

        if (HoldTime.Enabled)
        {
            HoldTime.Record(held.TotalSeconds, tags);
        }
    }

    internal static void RecordFailed(Counter<long> counter, string resourceId, LeaseMode mode, bool tagResource)
    {
        if (counter.Enabled)
        {
            counter.Add(1, Tags(resourceId, mode, tagResource));
        }
    }

    internal static Activity? StartWait(string resourceId, LeaseMode mode, LockPriority priority, bool tagResource)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity(SanctuaryDiagnostics.WaitActivityName, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(SanctuaryDiagnostics.ModeTag, ModeName(mode));
            activity.SetTag("sanctuary.priority", priority.ToString());
            if (tagResource)
            {
                activity.SetTag(SanctuaryDiagnostics.ResourceTag, resourceId);
            }
        }

        return activity;
    }

    internal static void EndWait(Activity? activity, string outcome, Exception? error = null)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(SanctuaryDiagnostics.OutcomeTag, outcome);
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
        }

        activity.Dispose();
    }

    private static string ModeName(LeaseMode mode) => (uint)mode < (uint)s_modeNames.Length ? s_modeNames[(int)mode] : mode.ToString();

    private static TagList Tags(string resourceId, LeaseMode mode, bool tagResource)
    {
        var tags = new TagList { new KeyValuePair<string, object?>(SanctuaryDiagnostics.ModeTag, ModeName(mode)) };
        if (tagResource)
        {
            tags.Add(SanctuaryDiagnostics.ResourceTag, resourceId);
        }

        return tags;
    }
}
