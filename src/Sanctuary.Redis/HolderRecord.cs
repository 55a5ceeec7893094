using System;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis;

/// <summary>
/// Writes the client's part of a holder record and reads the records that the scripts store:
/// a leading field (lease id or expiry), the fencing token, then
/// <c>mode|units|acquired ms|owner bytes|owner</c> followed by the purpose.
/// </summary>
internal static class HolderRecord
{
    /// <summary>
    /// Formats the part of the record that the client knows before the grant. The acquired time
    /// is this client's clock, so the server needs no clock read on the common path.
    /// </summary>
    public static string Format(LeaseStoreRequest request, DateTimeOffset now)
    {
        char mode = request.Mode switch
        {
            LeaseMode.Read => 'R',
            LeaseMode.Write => 'W',
            LeaseMode.UpgradeableRead => 'U',
            _ => 'X',
        };
        return string.Concat(
            mode + "|" + request.Units.ToString(CultureInfo.InvariantCulture) + "|",
            now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "|",
            Encoding.UTF8.GetByteCount(request.Owner).ToString(CultureInfo.InvariantCulture) + "|" + request.Owner,
            request.Purpose);
    }

    /// <summary>
    /// Builds a <see cref="LeaseHolder"/>, or returns <see langword="null"/> for a record this
    /// version cannot read (written by something else under the same prefix).
    /// </summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <param name="leaseId">The lease id.</param>
    /// <param name="record">The record.</param>
    /// <param name="left">Milliseconds until the lease expires, or -1 if it never does.</param>
    /// <param name="now">This client's clock, to turn <paramref name="left"/> into a time.</param>
    /// <param name="millisecondsLeft">Milliseconds until expiry, or positive infinity.</param>
    public static LeaseHolder? Parse(string resourceId, RedisResult leaseId, RedisResult record, RedisResult left, DateTimeOffset now, out double millisecondsLeft)
    {
        millisecondsLeft = double.PositiveInfinity;
        string? id = (string?)leaseId;
        byte[]? bytes = (byte[]?)record;
        long? remaining = (long?)left;
        if (id is null || bytes is null || remaining is null || !LeaseId.TryParse(id, out LeaseId parsedId))
        {
            return null;
        }

        if (remaining.Value >= 0)
        {
            millisecondsLeft = remaining.Value;
        }

        // Skip the leading field; then the fencing token, the mode letter and three numbers, each ended by '|'.
        ReadOnlySpan<byte> rest = bytes;
        int bar = rest.IndexOf((byte)'|');
        if (bar < 0)
        {
            return null;
        }

        rest = rest[(bar + 1)..];
        if (!TryReadNumber(ref rest, out long fencingToken) || rest.Length < 2 || rest[1] != (byte)'|')
        {
            return null;
        }

        LeaseMode mode = (char)rest[0] switch
        {
            'R' => LeaseMode.Read,
            'W' => LeaseMode.Write,
            'U' => LeaseMode.UpgradeableRead,
            _ => LeaseMode.Exclusive,
        };
        rest = rest[2..];
        if (!TryReadNumber(ref rest, out long units) || !TryReadNumber(ref rest, out long acquiredAt) || !TryReadNumber(ref rest, out long ownerBytes))
        {
            return null;
        }

        int ownerLength = (int)Math.Min(ownerBytes, rest.Length);
        string owner = Encoding.UTF8.GetString(rest[..ownerLength]);
        string? purpose = rest.Length > ownerLength ? Encoding.UTF8.GetString(rest[ownerLength..]) : null;
        DateTimeOffset acquired = DateTimeOffset.FromUnixTimeMilliseconds(acquiredAt);
        DateTimeOffset? expires = remaining.Value >= 0 ? now.AddMilliseconds(remaining.Value) : null;
        return new LeaseHolder(resourceId, parsedId, owner, mode, acquired, expires, fencingToken, purpose, units)
        {
            HeldFor = now > acquired ? now - acquired : TimeSpan.Zero,
        };
    }

    // Reads digits up to the next '|' and moves past it.
    private static bool TryReadNumber(ref ReadOnlySpan<byte> rest, out long value)
    {
        int bar = rest.IndexOf((byte)'|');
        if (bar < 0 || !Utf8Parser.TryParse(rest[..bar], out value, out int consumed) || consumed != bar)
        {
            value = 0;
            return false;
        }

        rest = rest[(bar + 1)..];
        return true;
    }
}
