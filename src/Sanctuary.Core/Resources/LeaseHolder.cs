using System;

namespace Sanctuary.Resources;

/// <summary>
/// One lease as seen from outside: who holds which resource, how, since when and why.
/// Snapshots and errors carry these; they are copies and do not change afterwards.
/// </summary>
/// <param name="ResourceId">Id of the resource or capacity pool.</param>
/// <param name="LeaseId">Id of the lease.</param>
/// <param name="Owner">Owner given when the lease was acquired.</param>
/// <param name="Mode">How the lease holds the resource.</param>
/// <param name="AcquiredAt">When the lease was granted.</param>
/// <param name="ExpiresAt">When the lease runs out unless renewed, or <see langword="null"/> if it never expires.</param>
/// <param name="FencingToken">Fencing token of the lease.</param>
/// <param name="Purpose">Purpose text given when the lease was acquired, if any.</param>
/// <param name="Units">Units reserved, for a capacity pool reservation; 0 for a lock.</param>
public sealed record LeaseHolder(
    string ResourceId,
    LeaseId LeaseId,
    string Owner,
    LeaseMode Mode,
    DateTimeOffset AcquiredAt,
    DateTimeOffset? ExpiresAt,
    long FencingToken,
    string? Purpose,
    long Units)
{
    /// <summary>How long the lease had been held when this copy was taken.</summary>
    public TimeSpan HeldFor { get; init; }

    /// <summary>Formats the holder for messages: owner, lease id, mode, held time and purpose.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString()
    {
        string purpose = Purpose is null ? string.Empty : $", purpose '{Purpose}'";
        string units = Units > 0 ? $", {Units} unit(s)" : string.Empty;
        return $"owner '{Owner}' (lease {LeaseId}, {Mode}{units}, held for {HeldFor.TotalMilliseconds:F0} ms{purpose})";
    }
}
