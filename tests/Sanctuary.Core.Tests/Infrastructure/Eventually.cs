using System;
using System.Diagnostics;
using System.Threading;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Bounded polling for state that another thread publishes. A condition that is already true costs one
/// call. A condition that never becomes true costs the full timeout and returns false, so a broken lock
/// turns into a failed assertion instead of a hung test.
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static bool Holds(Func<bool> condition) => Holds(condition, DefaultTimeout);

    public static bool Holds(Func<bool> condition, TimeSpan timeout)
    {
        if (condition())
        {
            return true;
        }

        var clock = Stopwatch.StartNew();
        var spinner = default(SpinWait);
        while (clock.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }

            if (spinner.NextSpinWillYield && clock.ElapsedMilliseconds > 2)
            {
                Thread.Sleep(1);
            }
            else
            {
                spinner.SpinOnce();
            }
        }

        return condition();
    }
}
