using System;
using System.Threading;

namespace Sanctuary.Threading;

/// <summary>
/// Validates and converts the timeout arguments of acquire methods.
/// </summary>
internal static class Timeouts
{
    /// <summary>Throws unless <paramref name="timeout"/> is zero or more, or infinite.</summary>
    internal static void Validate(TimeSpan timeout, string lockName)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            ThrowHelper.ThrowTimeoutOutOfRange(nameof(timeout), timeout, lockName);
        }
    }

    /// <summary>Converts milliseconds to a timeout, mapping -1 to <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    internal static TimeSpan FromMilliseconds(int millisecondsTimeout, string lockName)
    {
        if (millisecondsTimeout < -1)
        {
            ThrowHelper.ThrowMillisecondsTimeoutOutOfRange(nameof(millisecondsTimeout), millisecondsTimeout, lockName);
        }

        return millisecondsTimeout == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(millisecondsTimeout);
    }
}
