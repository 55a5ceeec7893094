using System;
using System.Globalization;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>Recognises a duration written in a message in any of the usual .NET spellings.</summary>
internal static class Durations
{
    public static bool IsMentionedIn(string message, TimeSpan value)
    {
        foreach (string spelling in Spellings(value))
        {
            if (message.Contains(spelling, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static string[] Spellings(TimeSpan value)
    {
        CultureInfo invariant = CultureInfo.InvariantCulture;
        double ms = value.TotalMilliseconds;
        double seconds = value.TotalSeconds;
        return
        [
            value.ToString(),
            value.ToString("c", invariant),
            value.ToString("g", invariant),
            ms.ToString(invariant) + " ms",
            ms.ToString(invariant) + "ms",
            ms.ToString("N0", invariant) + " ms",
            ms.ToString(invariant) + " milliseconds",
            seconds.ToString(invariant) + " s",
            seconds.ToString(invariant) + "s",
            seconds.ToString(invariant) + " second",
            seconds.ToString("0.0", invariant) + " s",
            seconds.ToString("0.000", invariant) + " s",
        ];
    }
}
