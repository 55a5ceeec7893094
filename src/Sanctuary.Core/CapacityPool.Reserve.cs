using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Sanctuary.Threading;

namespace Sanctuary;

// Reserve forms that may wait: async, sync, timeouts and the shared timer.
public sealed partial class CapacityPool
{
    private const int MaxWaiters = int.MaxValue / 2;
    private const int NormalLevel = (int)LockPriority.Normal;

    // Final waiter status, beside the WaiterStatus values: a shrink left the request larger
    // than the whole pool, so it can never be granted.
    private const int StatusExceedsTotal = 100;

    private static readonly Func<Waiter> s_createWaiter = static () => new Waiter();
    private static readonly TimerCallback s_onTimer = static state => ((CapacityPool)state!).ExpireWaiters();

    private string? _cancelledMessage;

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, waiting as long as it takes.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        return ReserveCoreAsync(amount, NormalLevel, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, waiting as long as it takes.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, LockPriority priority, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        return ReserveCoreAsync(amount, level, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        ValidateTimeout(timeout);
        return ReserveCoreAsync(amount, NormalLevel, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, LockPriority priority, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        ValidateTimeout(timeout);
        return ReserveCoreAsync(amount, level, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveCoreAsync(amount, NormalLevel, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A reservation that returns the units when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> ReserveAsync(long amount, LockPriority priority, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveCoreAsync(amount, level, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held reservation, or a reservation whose <see cref="Reservation.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> TryReserveAsync(long amount, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        ValidateTimeout(timeout);
        return ReserveCoreAsync(amount, NormalLevel, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at the given priority, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held reservation, or a reservation whose <see cref="Reservation.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> TryReserveAsync(long amount, LockPriority priority, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        ValidateTimeout(timeout);
        return ReserveCoreAsync(amount, level, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held reservation, or a reservation whose <see cref="Reservation.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> TryReserveAsync(long amount, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveCoreAsync(amount, NormalLevel, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at the given priority, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held reservation, or a reservation whose <see cref="Reservation.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public ValueTask<Reservation> TryReserveAsync(long amount, LockPriority priority, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveCoreAsync(amount, level, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, blocking the calling thread, waiting as long as it takes.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        return ReserveSync(amount, NormalLevel, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, blocking the calling thread, waiting as long as it takes.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, LockPriority priority, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        return ReserveSync(amount, level, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, blocking the calling thread, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        ValidateTimeout(timeout);
        return ReserveSync(amount, NormalLevel, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, blocking the calling thread, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, LockPriority priority, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        ValidateTimeout(timeout);
        return ReserveSync(amount, level, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, blocking the calling thread, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveSync(amount, NormalLevel, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Reserves <paramref name="amount"/> units at the given priority, blocking the calling thread, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that returns the units when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="CapacityPoolTimeoutException">The timeout elapsed first; the pool is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope Reserve(long amount, LockPriority priority, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveSync(amount, level, timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, blocking the calling thread, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope TryReserve(long amount, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        ValidateTimeout(timeout);
        return ReserveSync(amount, NormalLevel, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at the given priority, blocking the calling thread, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="timeout"/> is negative and not infinite; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope TryReserve(long amount, LockPriority priority, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        ValidateTimeout(timeout);
        return ReserveSync(amount, level, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at <see cref="LockPriority.Normal"/>, blocking the calling thread, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/> or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope TryReserve(long amount, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveSync(amount, NormalLevel, timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to reserve <paramref name="amount"/> units at the given priority, blocking the calling thread, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="amount">Units to reserve, from 1 to <see cref="Total"/>.</param>
    /// <param name="priority">Level the request queues at.</param>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is less than 1 or greater than <see cref="Total"/>, <paramref name="priority"/> is not a defined <see cref="LockPriority"/> value, or <paramref name="millisecondsTimeout"/> is less than -1; also when <see cref="Resize"/> shrinks the total below <paramref name="amount"/> while the request waits.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the pool is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed before or while waiting.</exception>
    public Scope TryReserve(long amount, LockPriority priority, int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ValidateAmount(amount);
        int level = ToLevel(priority);
        TimeSpan timeout = ToTimeout(millisecondsTimeout);
        return ReserveSync(amount, level, timeout, throwOnTimeout: false, cancellationToken);
    }

    private ValueTask<Reservation> ReserveCoreAsync(long amount, int level, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Reservation>(cancellationToken);
        }

        if (TryReserveFast(amount, out long stamp))
        {
            return new ValueTask<Reservation>(new Reservation(this, amount, stamp));
        }

        return ReserveSlowAsync(amount, level, timeout, throwOnTimeout, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<Reservation> ReserveSlowAsync(long amount, int level, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        if (timeout == TimeSpan.Zero)
        {
            if (TryReserveNoWait(amount, out long taken))
            {
                return new ValueTask<Reservation>(new Reservation(this, amount, taken));
            }

            return throwOnTimeout
                ? ValueTask.FromException<Reservation>(CreateTimeoutException(amount, timeout))
                : default;
        }

        Waiter? node = Enqueue(amount, level, isSync: false, timeout, throwOnTimeout, cancellationToken, out long stamp);
        if (node is null)
        {
            return new ValueTask<Reservation>(new Reservation(this, amount, stamp));
        }

        return new ValueTask<Reservation>(node, node.Version);
    }

    private Scope ReserveSync(long amount, int level, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryReserveFast(amount, out long stamp))
        {
            return new Scope(this, amount, stamp);
        }

        if (timeout == TimeSpan.Zero)
        {
            if (TryReserveNoWait(amount, out stamp))
            {
                return new Scope(this, amount, stamp);
            }

            return throwOnTimeout ? throw CreateTimeoutException(amount, timeout) : default;
        }

        Waiter? node = Enqueue(amount, level, isSync: true, timeout, throwOnTimeout, cancellationToken, out stamp);
        if (node is null)
        {
            return new Scope(this, amount, stamp);
        }

        node.WaitSync(_timeProvider);
        bool throws = node.ThrowOnTimeout;
        int status = node.ConsumeSync(out long granted, out TimeSpan waited, out CancellationToken waitToken);
        Reservation reservation = ToReservation(status, amount, granted, throws, waited, waitToken);
        return reservation.Pool is null ? default : new Scope(this, amount, granted);
    }

    // Queues a request at the given level, or takes the units if they can be taken now (then
    // returns null and the stamp). The returned node may already be granted: a request of a
    // higher level than the blocked first request becomes the first one and may fit at once.
    private Waiter? Enqueue(long amount, int level, bool isSync, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, out long stamp)
    {
        // Step 1: take the queue bit, or the units themselves if no request waits and they fit.
        // The clock is read first because reading it costs more than the whole queue edit.
        long now = _timeProvider.GetTimestamp();
        SpinWait spinner = default;
        long state;
        while (true)
        {
            state = Volatile.Read(ref _state);
            if ((state & DisposedBit) != 0)
            {
                ThrowObjectDisposed();
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (CanTakeNow(state, amount))
            {
                if (Interlocked.CompareExchange(ref _state, state - (amount << AvailableShift), state) == state)
                {
                    stamp = _ledger.Open();
                    return null;
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
            {
                break;
            }
        }

        // Step 2: the total may have shrunk since the amount was validated.
        if (amount > _total)
        {
            ExitQueue(state);
            ThrowAmountOutOfRange(amount);
        }

        if (_queue.Count >= MaxWaiters)
        {
            ExitQueue(state);
            ThrowTooManyWaiters();
        }

        // Step 3: queue a pooled node behind the requests of its level; its deadline joins the heap.
        long deadline = _queue.ToDeadline(now, timeout);
        Waiter node = _queue.Rent(s_createWaiter);
        node.Owner = this;
        node.Prepare(isSync, deadline, timeout, throwOnTimeout, cancellationToken, now, kind: level);
        node.Level = level;
        node.Amount = amount;
        _queue.Enqueue(node);
        if (deadline != long.MaxValue)
        {
            _queue.RearmTimer();
        }

        // Step 4: with others queued, the new request may rank first and fit.
        long available = state >> AvailableShift;
        WaiterNode? granted = (state & WaitersBit) != 0 ? GrantWaiters(ref available) : null;
        PublishAndExitQueue(state, available);
        WaiterQueue.CompleteChain(granted);

        // Step 5: only now listen to the token, so a callback always finds the node queued or
        // already granted. A token cancelled meanwhile runs the callback right here.
        node.RegisterCancellation();
        stamp = 0;
        return node;
    }

    // Timer callback, also run by a blocked thread whose deadline has passed: times out every
    // request whose deadline has passed, then grants the requests behind them that now fit.
    private void ExpireWaiters()
    {
        long state = EnterQueue();
        if ((state & DisposedBit) != 0)
        {
            ExitQueue(state);
            return;
        }

        WaiterNode? expired = _queue.RemoveExpired();
        long available = state >> AvailableShift;
        WaiterNode? granted = (_faults & CapacityPoolFaults.SkipGrantAfterGiveUp) == 0 ? GrantWaiters(ref available) : null;
        PublishAndExitQueue(state, available);
        WaiterQueue.CompleteChain(expired);
        WaiterQueue.CompleteChain(granted);
    }

    // Turns a request's outcome into a reservation or the matching exception.
    private Reservation ToReservation(int status, long amount, long stamp, bool throwOnTimeout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (status)
        {
            case WaiterStatus.Granted:
                return new Reservation(this, amount, stamp);
            case WaiterStatus.TimedOut:
                return throwOnTimeout ? throw CreateTimeoutException(amount, timeout) : default;
            case WaiterStatus.Cancelled:
                throw new OperationCanceledException(CancelledMessage, cancellationToken);
            case StatusExceedsTotal:
                ThrowShrunkBelowAmount(amount);
                return default;
            default:
                ThrowObjectDisposed();
                return default;
        }
    }

    // Built once per pool: cancelled requests can be frequent, and the message would otherwise be
    // most of the bytes a cancelled request allocates.
    private string CancelledMessage =>
        _cancelledMessage ??= $"A request to pool '{Name}' was cancelled before its units were granted; the pool is unchanged.";

    private CapacityPoolTimeoutException CreateTimeoutException(long amount, TimeSpan timeout)
    {
        (long total, long available) = ReadUnits();
        return new CapacityPoolTimeoutException(Name, amount, timeout, total, Math.Max(0, available));
    }

    private int ToLevel(LockPriority priority) => PriorityLevels.ToLevel(priority, Name);

    // A pooled request that completes a ValueTask<Reservation>.
    private sealed class Waiter : PriorityWaiterNode, IValueTaskSource<Reservation>
    {
        public Reservation GetResult(short token)
        {
            var owner = (CapacityPool)Owner;
            bool throwOnTimeout = ThrowOnTimeout;
            long amount = Amount;
            int status = ConsumeAsync(token, out long stamp, out TimeSpan timeout, out CancellationToken cancellationToken);
            return owner.ToReservation(status, amount, stamp, throwOnTimeout, timeout, cancellationToken);
        }

        public ValueTaskSourceStatus GetStatus(short token)
        {
            ValueTaskSourceStatus core = GetCoreStatus(token);
            if (core != ValueTaskSourceStatus.Succeeded)
            {
                return core;
            }

            return Status switch
            {
                WaiterStatus.Granted => ValueTaskSourceStatus.Succeeded,
                WaiterStatus.TimedOut => ThrowOnTimeout ? ValueTaskSourceStatus.Faulted : ValueTaskSourceStatus.Succeeded,
                WaiterStatus.Cancelled => ValueTaskSourceStatus.Canceled,
                _ => ValueTaskSourceStatus.Faulted,
            };
        }

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            OnCoreCompleted(continuation, state, token, flags);
    }
}
