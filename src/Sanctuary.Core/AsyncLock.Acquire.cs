using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Sanctuary.Threading;

namespace Sanctuary;

// Acquire forms that may wait: async, sync, timeouts and the shared timer.
public sealed partial class AsyncLock
{
    // The count field of the state word has 24 bits.
    private const int MaxWaiters = (1 << 24) - 1;

    private static readonly Func<Waiter> s_createWaiter = static () => new Waiter();
    private static readonly TimerCallback s_onTimer = static state => ((AsyncLock)state!).ExpireWaiters();

    /// <summary>
    /// Acquires the lock, waiting as long as it takes.
    /// </summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A lease that releases the lock when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled before the lock was granted; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<Lease> AcquireAsync(CancellationToken cancellationToken = default) =>
        AcquireCoreAsync(Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

    /// <summary>
    /// Acquires the lock, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A lease that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<Lease> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        return AcquireCoreAsync(timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Acquires the lock, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A lease that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="millisecondsTimeout"/> is less than -1.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<Lease> AcquireAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireCoreAsync(ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken);

    /// <summary>
    /// Tries to acquire the lock, waiting at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held lease, or a lease whose <see cref="Lease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<Lease> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        return AcquireCoreAsync(timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to acquire the lock, waiting at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held lease, or a lease whose <see cref="Lease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="millisecondsTimeout"/> is less than -1.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<Lease> TryAcquireAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireCoreAsync(ToTimeout(millisecondsTimeout), throwOnTimeout: false, cancellationToken);

    /// <summary>
    /// Acquires the lock, blocking the calling thread as long as it takes.
    /// </summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases the lock when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public Scope Acquire(CancellationToken cancellationToken = default) =>
        AcquireSync(Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

    /// <summary>
    /// Acquires the lock, blocking the calling thread at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public Scope Acquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        return AcquireSync(timeout, throwOnTimeout: true, cancellationToken);
    }

    /// <summary>
    /// Acquires the lock, blocking the calling thread at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="millisecondsTimeout"/> is less than -1.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public Scope Acquire(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireSync(ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken);

    /// <summary>
    /// Tries to acquire the lock, blocking the calling thread at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public Scope TryAcquire(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        return AcquireSync(timeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>
    /// Tries to acquire the lock, blocking the calling thread at most <paramref name="millisecondsTimeout"/> milliseconds.
    /// </summary>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or a scope whose <see cref="Scope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="millisecondsTimeout"/> is less than -1.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public Scope TryAcquire(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireSync(ToTimeout(millisecondsTimeout), throwOnTimeout: false, cancellationToken);

    private ValueTask<Lease> AcquireCoreAsync(TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Lease>(cancellationToken);
        }

        if (TryAcquireFast(out long token))
        {
            return new ValueTask<Lease>(new Lease(this, token));
        }

        return AcquireSlowAsync(timeout, throwOnTimeout, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<Lease> AcquireSlowAsync(TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        if (timeout == TimeSpan.Zero)
        {
            if (TryAcquireNoWait(out long taken))
            {
                return new ValueTask<Lease>(new Lease(this, taken));
            }

            return throwOnTimeout
                ? ValueTask.FromException<Lease>(CreateTimeoutException(timeout))
                : default;
        }

        WaiterNode? node = Enqueue(isSync: false, timeout, throwOnTimeout, cancellationToken, out long token);
        if (node is null)
        {
            return new ValueTask<Lease>(new Lease(this, token));
        }

        return new ValueTask<Lease>((Waiter)node, node.Version);
    }

    private Scope AcquireSync(TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryAcquireFast(out long token))
        {
            return new Scope(this, token);
        }

        if (timeout == TimeSpan.Zero)
        {
            if (TryAcquireNoWait(out token))
            {
                return new Scope(this, token);
            }

            return throwOnTimeout ? throw CreateTimeoutException(timeout) : default;
        }

        WaiterNode? node = Enqueue(isSync: true, timeout, throwOnTimeout, cancellationToken, out token);
        if (node is null)
        {
            return new Scope(this, token);
        }

        node.WaitSync(_timeProvider);
        bool throws = node.ThrowOnTimeout;
        int status = node.ConsumeSync(out long granted, out TimeSpan waited, out CancellationToken token2);
        Lease lease = ToLease(status, granted, throws, waited, token2);
        return lease.Lock is null ? default : new Scope(this, granted);
    }

    // Queues a waiter, or takes the lock if it became free meanwhile (then returns null and the token).
    private WaiterNode? Enqueue(bool isSync, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, out long token)
    {
        // Step 1: take the queue bit, or the lock itself if it is free. The clock is read first
        // because reading it costs more than the whole queue edit that follows.
        long now = _timeProvider.GetTimestamp();
        SpinWait spinner = default;
        long state;
        while (true)
        {
            state = Volatile.Read(ref _state);
            if ((state & DisposedBit) != 0)
            {
                ThrowHelper.ThrowObjectDisposed(Name);
            }

            if ((state & QueueBit) != 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (CanTakeNow(state))
            {
                long next = (state + GenerationOne) | HeldBit;
                if (Interlocked.CompareExchange(ref _state, next, state) == state)
                {
                    token = next & GenerationMask;
                    return null;
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
            {
                break;
            }
        }

        // Step 2: link a pooled node at the tail; its deadline joins the heap.
        if (_queue.Count >= MaxWaiters)
        {
            ExitQueue(state);
            ThrowHelper.ThrowTooManyWaiters(Name, MaxWaiters);
        }

        long deadline = _queue.ToDeadline(now, timeout);
        Waiter node = _queue.Rent(s_createWaiter);
        node.Owner = this;
        node.Prepare(isSync, deadline, timeout, throwOnTimeout, cancellationToken, now, kind: 0);
        if (_heldSinceGeneration != (state & GenerationMask))
        {
            // The holder took the lock without contention; it has held it at least since now.
            _heldSinceGeneration = state & GenerationMask;
            _heldSince = now;
        }

        _queue.AddLast(node);
        if (deadline != long.MaxValue)
        {
            _queue.RearmTimer();
        }

        ExitQueue((state & ~CountMask) | ((long)_queue.Count << CountShift));

        // Step 3: only now listen to the token, so a callback always finds the node queued or
        // already granted. A token cancelled meanwhile runs the callback right here.
        node.RegisterCancellation();
        token = 0;
        return node;
    }

    // Timer callback, also run by a blocked thread whose deadline has passed: times out every
    // waiter whose deadline has passed.
    private void ExpireWaiters()
    {
        long state = EnterQueue();
        if ((state & DisposedBit) != 0)
        {
            ExitQueue(state);
            return;
        }

        WaiterNode? expired = _queue.RemoveExpired();
        long next = (state & ~CountMask) | ((long)_queue.Count << CountShift);
        if (_queue.Count == 0)
        {
            next &= ~HandOffBit;
        }

        ExitQueue(next);

        WaiterQueue.CompleteChain(expired);
    }

    // Turns a waiter's outcome into a lease or the matching exception.
    private Lease ToLease(int status, long grantedToken, bool throwOnTimeout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (status)
        {
            case WaiterStatus.Granted:
                return new Lease(this, grantedToken);
            case WaiterStatus.TimedOut:
                return throwOnTimeout ? throw CreateTimeoutException(timeout) : default;
            case WaiterStatus.Cancelled:
                throw new LockWaitCanceledException(Name, cancellationToken);
            default:
                ThrowHelper.ThrowObjectDisposed(Name);
                return default;
        }
    }

    private LockTimeoutException CreateTimeoutException(TimeSpan timeout)
    {
        long state = Volatile.Read(ref _state);
        TimeSpan? heldFor = null;
        if ((state & HeldBit) != 0 && Volatile.Read(ref _heldSinceGeneration) == (state & GenerationMask))
        {
            heldFor = _timeProvider.GetElapsedTime(Volatile.Read(ref _heldSince));
        }

        return new LockTimeoutException(Name, timeout, heldFor);
    }

    private void ValidateTimeout(TimeSpan timeout) => Timeouts.Validate(timeout, Name);

    private TimeSpan ToTimeout(int millisecondsTimeout) => Timeouts.FromMilliseconds(millisecondsTimeout, Name);

    // A pooled waiter that completes a ValueTask<Lease>.
    private sealed class Waiter : WaiterNode, IValueTaskSource<Lease>
    {
        public Lease GetResult(short token)
        {
            var owner = (AsyncLock)Owner;
            bool throwOnTimeout = ThrowOnTimeout;
            int status = ConsumeAsync(token, out long granted, out TimeSpan timeout, out CancellationToken cancellationToken);
            return owner.ToLease(status, granted, throwOnTimeout, timeout, cancellationToken);
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
