using System;
using System.Collections.Generic;
using System.Linq;

namespace Sanctuary.Resources;

/// <summary>
/// The exception thrown when a named resource could not be acquired within the wait timeout.
/// It names the resource, its holders at that moment and how long they had held it.
/// </summary>
/// <remarks>
/// In a multi-resource acquire it names the resource that could not be had; everything that
/// had been taken was released before it was thrown.
/// </remarks>
public class ResourceUnavailableException : LockTimeoutException
{
    private readonly string _message;

    /// <summary>Initializes a new instance with a generic message.</summary>
    public ResourceUnavailableException()
        : this("A named resource could not be acquired in time.")
    {
    }

    /// <summary>Initializes a new instance with the given message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public ResourceUnavailableException(string message)
        : base(message)
    {
        _message = message;
        ResourceId = "(unknown)";
        Holders = Array.Empty<LeaseHolder>();
    }

    /// <summary>Initializes a new instance with the given message and inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ResourceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        _message = message;
        ResourceId = "(unknown)";
        Holders = Array.Empty<LeaseHolder>();
    }

    /// <summary>Initializes a new instance that describes a timed-out acquire of a resource.</summary>
    /// <param name="resourceId">Id of the resource that could not be acquired.</param>
    /// <param name="timeout">The wait timeout that elapsed.</param>
    /// <param name="holders">Holders of the resource when the timeout elapsed.</param>
    /// <param name="acquiredFirst">Resources of the same set that had been acquired and were released again; empty for a single acquire.</param>
    public ResourceUnavailableException(string resourceId, TimeSpan timeout, IReadOnlyList<LeaseHolder> holders, IReadOnlyList<string>? acquiredFirst = null)
        : base(resourceId, timeout, LongestHold(holders))
    {
        ArgumentNullException.ThrowIfNull(holders);
        ResourceId = resourceId;
        Holders = holders;
        _message = Format(resourceId, timeout, holders, acquiredFirst ?? Array.Empty<string>());
    }

    /// <summary>Id of the resource that could not be acquired.</summary>
    public string ResourceId { get; }

    /// <summary>Holders of the resource when the wait ended; empty if it was free by then.</summary>
    public IReadOnlyList<LeaseHolder> Holders { get; }

    /// <inheritdoc/>
    public override string Message => _message;

    private static TimeSpan? LongestHold(IReadOnlyList<LeaseHolder>? holders) =>
        holders is { Count: > 0 } ? holders.Max(holder => holder.HeldFor) : null;

    private static string Format(string resourceId, TimeSpan timeout, IReadOnlyList<LeaseHolder> holders, IReadOnlyList<string> acquiredFirst)
    {
        string wait = timeout == System.Threading.Timeout.InfiniteTimeSpan ? "the wait" : $"{timeout.TotalMilliseconds:F0} ms";
        string who = holders.Count == 0
            ? "It was free again when the wait ended (a late release or a store that still listed a holder)."
            : "It is held by " + string.Join("; ", holders) + ".";
        string released = acquiredFirst.Count == 0
            ? string.Empty
            : $" The resources acquired before it ({string.Join(", ", acquiredFirst.Select(id => "'" + id + "'"))}) were released again.";
        return $"Timed out after {wait} waiting for resource '{resourceId}'. {who}{released} " +
               "Increase the wait timeout, give the holder a time-to-live so a stuck holder loses the resource, or shorten the work done while it is held.";
    }
}

/// <summary>
/// The exception thrown when an operation needs a lease that has been lost: its time-to-live ran
/// out, its heartbeat failed, or the store no longer lists it.
/// </summary>
public class LeaseLostException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a generic message.</summary>
    public LeaseLostException()
        : this("The lease has been lost.")
    {
    }

    /// <summary>Initializes a new instance with the given message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public LeaseLostException(string message)
        : base(message)
    {
        ResourceId = "(unknown)";
    }

    /// <summary>Initializes a new instance with the given message and inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
        ResourceId = "(unknown)";
    }

    /// <summary>Initializes a new instance that describes a lost lease.</summary>
    /// <param name="resourceId">Id of the resource the lease was on.</param>
    /// <param name="leaseId">Id of the lost lease.</param>
    /// <param name="reason">Why it was lost.</param>
    /// <param name="operation">What was attempted, such as "extend".</param>
    public LeaseLostException(string resourceId, LeaseId leaseId, LeaseLossReason reason, string operation)
        : base(FormatMessage(resourceId, leaseId, reason, operation))
    {
        ResourceId = resourceId;
        LeaseId = leaseId;
        Reason = reason;
    }

    /// <summary>Id of the resource the lease was on.</summary>
    public string ResourceId { get; }

    /// <summary>Id of the lost lease.</summary>
    public LeaseId LeaseId { get; }

    /// <summary>Why the lease was lost.</summary>
    public LeaseLossReason Reason { get; }

    private static string FormatMessage(string resourceId, LeaseId leaseId, LeaseLossReason reason, string operation)
    {
        string why = reason switch
        {
            LeaseLossReason.Expired => "its time-to-live ran out",
            LeaseLossReason.HeartbeatMissed => "too many heartbeat renewals failed in a row",
            LeaseLossReason.StoreRejected => "the store no longer lists it as a holder",
            LeaseLossReason.RegistryDisposed => "its registry was disposed",
            _ => "it is no longer held",
        };
        return $"Cannot {operation} lease {leaseId} on resource '{resourceId}': the lease was lost because {why}, and the resource may now belong to someone else. " +
               "Stop the work it protected and acquire the resource again; use a longer time-to-live or a heartbeat if the work takes longer.";
    }
}
