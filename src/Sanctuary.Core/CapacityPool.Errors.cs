using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace Sanctuary;

// Argument checks and the exceptions of the pool, kept out of the hot paths.
public sealed partial class CapacityPool
{
    private void ValidateAmount(long amount)
    {
        if (amount <= 0 || amount > Volatile.Read(ref _total))
        {
            ThrowAmountOutOfRange(amount);
        }
    }

    private void ValidateTotal(long total, string paramName)
    {
        if (total < 1 || total > MaxTotal)
        {
            ThrowTotalOutOfRange(total, paramName);
        }
    }

    private void ValidateTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            ThrowTimeoutOutOfRange(timeout);
        }
    }

    private TimeSpan ToTimeout(int millisecondsTimeout)
    {
        if (millisecondsTimeout < -1)
        {
            ThrowMillisecondsTimeoutOutOfRange(millisecondsTimeout);
        }

        return millisecondsTimeout == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(millisecondsTimeout);
    }

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowAmountOutOfRange(long amount)
    {
        long total = Volatile.Read(ref _total);
        string message = amount <= 0
            ? $"The amount {amount} requested from pool '{Name}' (total {total} units) is not positive. Request at least 1 unit."
            : $"The amount {amount} requested from pool '{Name}' exceeds its total of {total} units, so it could never be granted. Request at most {total} units, or grow the pool with Resize first.";
        throw new ArgumentOutOfRangeException(nameof(amount), amount, message);
    }

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowShrunkBelowAmount(long amount) =>
        throw new ArgumentOutOfRangeException(
            nameof(amount),
            amount,
            $"The request for {amount} units of pool '{Name}' can never be granted: the pool was resized to a total of {Volatile.Read(ref _total)} units while the request waited. Request at most the new total, or grow the pool first.");

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowTotalOutOfRange(long total, string paramName) =>
        throw new ArgumentOutOfRangeException(
            paramName,
            total,
            $"The total {total} units for pool '{Name}' is out of range. Pass a total from 1 to {MaxTotal} units.");

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowTimeoutOutOfRange(TimeSpan timeout) =>
        throw new ArgumentOutOfRangeException(
            nameof(timeout),
            timeout,
            $"The timeout {timeout} for pool '{Name}' is negative. Pass TimeSpan.Zero or more, or Timeout.InfiniteTimeSpan to wait without a limit.");

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowMillisecondsTimeoutOutOfRange(int millisecondsTimeout) =>
        throw new ArgumentOutOfRangeException(
            nameof(millisecondsTimeout),
            millisecondsTimeout,
            $"The timeout {millisecondsTimeout} ms for pool '{Name}' is less than -1. Pass 0 or more, or -1 to wait without a limit.");

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowObjectDisposed() =>
        throw new ObjectDisposedException(Name, $"The capacity pool '{Name}' has been disposed. Create a new pool; a disposed one accepts no reservations and no resizes.");

    [DoesNotReturn]
    [StackTraceHidden]
    private void ThrowTooManyWaiters() =>
        throw new InvalidOperationException($"The capacity pool '{Name}' already has {MaxWaiters} queued requests, the most it can queue. Bound the number of concurrent requests.");
}
