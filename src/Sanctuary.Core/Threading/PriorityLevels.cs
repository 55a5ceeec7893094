using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Sanctuary.Threading;

/// <summary>
/// Validation of <see cref="LockPriority"/> arguments and of aging intervals.
/// </summary>
internal static class PriorityLevels
{
    /// <summary>Number of priority levels, from <see cref="LockPriority.Low"/> to <see cref="LockPriority.Critical"/>.</summary>
    internal const int Count = 4;

    /// <summary>Returns the level of <paramref name="priority"/>, throwing when it is not a defined value.</summary>
    internal static int ToLevel(LockPriority priority, string ownerName)
    {
        if ((uint)priority >= Count)
        {
            ThrowPriorityOutOfRange(priority, ownerName);
        }

        return (int)priority;
    }

    /// <summary>Throws unless <paramref name="interval"/> is positive or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    internal static TimeSpan ValidateAgingInterval(TimeSpan interval, string propertyName)
    {
        if (interval <= TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                propertyName,
                interval,
                $"The aging interval {interval} is not positive. Pass a positive interval, or Timeout.InfiniteTimeSpan to turn aging off.");
        }

        return interval;
    }

    [DoesNotReturn]
    [StackTraceHidden]
    private static void ThrowPriorityOutOfRange(LockPriority priority, string ownerName) =>
        throw new ArgumentOutOfRangeException(
            nameof(priority),
            priority,
            $"The priority {(int)priority} passed to '{ownerName}' is not a defined LockPriority value. Pass Low, Normal, High or Critical.");
}
