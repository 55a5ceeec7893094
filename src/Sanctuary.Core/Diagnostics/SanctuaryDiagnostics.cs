using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Sanctuary.Diagnostics;

/// <summary>
/// Names of the library's meter, activity source, instruments and tags, for configuring
/// OpenTelemetry or a <see cref="MeterListener"/>.
/// </summary>
/// <remarks>
/// <para>
/// Instruments (all on the meter <see cref="MeterName"/>): the counters
/// <see cref="AcquiredCounter"/>, <see cref="ReleasedCounter"/>, <see cref="TimedOutCounter"/>,
/// <see cref="CancelledCounter"/>, <see cref="ExpiredCounter"/> and <see cref="LostCounter"/> count
/// leases of named resources and capacity pools; the histograms <see cref="WaitTimeHistogram"/>
/// and <see cref="HoldTimeHistogram"/> record seconds. Every measurement carries the tag
/// <see cref="ModeTag"/>; <see cref="ResourceTag"/> only when the registry was created with
/// <c>TagMetricsWithResourceId</c>.
/// </para>
/// <para>
/// Every acquire that had to wait is an activity named <see cref="WaitActivityName"/> on the
/// source <see cref="ActivitySourceName"/>.
/// </para>
/// <para>
/// Nothing is measured, and nothing is allocated for it, while no listener is attached.
/// </para>
/// </remarks>
public static class SanctuaryDiagnostics
{
    /// <summary>Name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "Sanctuary";

    /// <summary>Name of the <see cref="ActivitySource"/>.</summary>
    public const string ActivitySourceName = "Sanctuary";

    /// <summary>Name of the activity that covers an acquire that had to wait.</summary>
    public const string WaitActivityName = "sanctuary.acquire";

    /// <summary>Counter of granted leases.</summary>
    public const string AcquiredCounter = "sanctuary.lease.acquired";

    /// <summary>Counter of leases released while held.</summary>
    public const string ReleasedCounter = "sanctuary.lease.released";

    /// <summary>Counter of acquires whose wait timeout elapsed.</summary>
    public const string TimedOutCounter = "sanctuary.lease.timed_out";

    /// <summary>Counter of acquires cancelled while waiting.</summary>
    public const string CancelledCounter = "sanctuary.lease.cancelled";

    /// <summary>Counter of leases whose time-to-live ran out.</summary>
    public const string ExpiredCounter = "sanctuary.lease.expired";

    /// <summary>Counter of leases lost for another reason: missed heartbeats or a store that refused a renewal.</summary>
    public const string LostCounter = "sanctuary.lease.lost";

    /// <summary>Histogram of the time from an acquire's start to its grant, in seconds.</summary>
    public const string WaitTimeHistogram = "sanctuary.lease.wait_time";

    /// <summary>Histogram of the time from grant to release or loss, in seconds.</summary>
    public const string HoldTimeHistogram = "sanctuary.lease.hold_time";

    /// <summary>Tag with the lease mode, such as <c>Exclusive</c>.</summary>
    public const string ModeTag = "sanctuary.mode";

    /// <summary>Tag with the resource or pool id; present only when the registry opted in.</summary>
    public const string ResourceTag = "sanctuary.resource";

    /// <summary>Tag on the wait activity with the outcome: acquired, timed_out, cancelled or failed.</summary>
    public const string OutcomeTag = "sanctuary.outcome";

    internal static readonly string Version = typeof(SanctuaryDiagnostics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
