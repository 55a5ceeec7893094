using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Sanctuary;

/// <summary>
/// Throws the library's exceptions from methods that the JIT keeps out of hot paths.
/// </summary>
[StackTraceHidden]
internal static class ThrowHelper
{
    [DoesNotReturn]
    internal static void ThrowObjectDisposed(string name) =>
        throw new ObjectDisposedException(name, $"The lock '{name}' has been disposed. Create a new lock; a disposed one accepts no acquires.");

    [DoesNotReturn]
    internal static void ThrowTimeoutOutOfRange(string paramName, TimeSpan value, string name) =>
        throw new ArgumentOutOfRangeException(
            paramName,
            value,
            $"The timeout {value} for lock '{name}' is negative. Pass TimeSpan.Zero or more, or Timeout.InfiniteTimeSpan to wait without a limit.");

    [DoesNotReturn]
    internal static void ThrowMillisecondsTimeoutOutOfRange(string paramName, int value, string name) =>
        throw new ArgumentOutOfRangeException(
            paramName,
            value,
            $"The timeout {value} ms for lock '{name}' is less than -1. Pass 0 or more, or -1 to wait without a limit.");

    [DoesNotReturn]
    internal static void ThrowTooManyWaiters(string name, int max) =>
        throw new InvalidOperationException($"The lock '{name}' already has {max} waiters, the most it can queue. Bound the number of concurrent acquirers.");

    [DoesNotReturn]
    internal static void ThrowLeaseNotHeld(string name, string mode) =>
        throw new InvalidOperationException(
            $"The {mode} lease on lock '{name}' no longer holds the lock, or it came from an upgrade. Downgrade or upgrade only a lease that holds the lock and was acquired directly.");

    [DoesNotReturn]
    internal static void ThrowUpgradePending(string name) =>
        throw new InvalidOperationException(
            $"An upgrade of the upgradeable read lease on lock '{name}' is already held or waiting. Release the write lease from the first upgrade before upgrading again.");
}
