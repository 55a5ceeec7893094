using System;
using System.Globalization;

namespace Sanctuary.Resources;

/// <summary>
/// Identifies one lease, unique across registries and processes: 64 random bits chosen when the
/// registry starts, and a 64-bit sequence number within the registry.
/// </summary>
/// <remarks>
/// Stores check it on extend and release, so only the holder of a lease can extend or release
/// it. Formatting allocates; comparing and hashing do not.
/// </remarks>
public readonly struct LeaseId : IEquatable<LeaseId>
{
    /// <summary>Creates a lease id from its two halves.</summary>
    /// <param name="origin">Random bits that identify the registry that granted the lease.</param>
    /// <param name="sequence">Sequence number of the lease within that registry.</param>
    public LeaseId(ulong origin, ulong sequence)
    {
        Origin = origin;
        Sequence = sequence;
    }

    /// <summary>Random bits that identify the registry that granted the lease.</summary>
    public ulong Origin { get; }

    /// <summary>Sequence number of the lease within its registry.</summary>
    public ulong Sequence { get; }

    /// <summary>Whether this is the default value, which no lease has.</summary>
    public bool IsEmpty => Origin == 0 && Sequence == 0;

    /// <summary>Compares two lease ids.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> if both name the same lease.</returns>
    public static bool operator ==(LeaseId left, LeaseId right) => left.Equals(right);

    /// <summary>Compares two lease ids.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> if they name different leases.</returns>
    public static bool operator !=(LeaseId left, LeaseId right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(LeaseId other) => Origin == other.Origin && Sequence == other.Sequence;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is LeaseId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Origin, Sequence);

    /// <summary>Formats the id as two groups of 16 hexadecimal digits, such as <c>3f2a…-00000000000004d2</c>.</summary>
    /// <returns>The formatted id.</returns>
    public override string ToString() =>
        Origin.ToString("x16", CultureInfo.InvariantCulture) + "-" + Sequence.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses the format of <see cref="ToString"/>.</summary>
    /// <param name="text">Text to parse.</param>
    /// <param name="id">The parsed id, or the default.</param>
    /// <returns><see langword="true"/> if <paramref name="text"/> was a lease id.</returns>
    public static bool TryParse(string? text, out LeaseId id)
    {
        id = default;
        if (text is not { Length: 33 } || text[16] != '-')
        {
            return false;
        }

        if (ulong.TryParse(text.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong origin) &&
            ulong.TryParse(text.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong sequence))
        {
            id = new LeaseId(origin, sequence);
            return true;
        }

        return false;
    }
}
