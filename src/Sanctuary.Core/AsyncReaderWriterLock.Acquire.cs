using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Sanctuary.Threading;

namespace Sanctuary;

// The acquire forms: read, write and upgradeable read, each async, sync, try-now and timed.
public sealed partial class AsyncReaderWriterLock
{
    private static readonly Func<Waiter> s_createWaiter = static () => new Waiter();
    private static readonly TimerCallback s_onTimer = static state => ((AsyncReaderWriterLock)state!).ExpireWaiters();

    /// <summary>Acquires a read lease, waiting as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A read lease that releases its share of the lock when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<ReadLease> AcquireReadAsync(CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<ReadLease>(KindRead, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

    /// <summary>Acquires a read lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A read lease that releases its share of the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<ReadLease> AcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<ReadLease>(KindRead, Validate(timeout), throwOnTimeout: true, cancellationToken);

    /// <inheritdoc cref="AcquireReadAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<ReadLease> AcquireReadAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<ReadLease>(KindRead, ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken);

    /// <summary>Tries to acquire a read lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held lease, or one whose <see cref="ReadLease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<ReadLease> TryAcquireReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<ReadLease>(KindRead, Validate(timeout), throwOnTimeout: false, cancellationToken);

    /// <inheritdoc cref="TryAcquireReadAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<ReadLease> TryAcquireReadAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<ReadLease>(KindRead, ToTimeout(millisecondsTimeout), throwOnTimeout: false, cancellationToken);

    /// <summary>Tries to acquire a read lease without waiting.</summary>
    /// <param name="lease">The lease when the lock was taken; otherwise a lease that is not held.</param>
    /// <returns><see langword="true"/> if the lock was taken for reading.</returns>
    /// <exception cref="ObjectDisposedException">The lock has been disposed.</exception>
    public bool TryAcquireRead(out ReadLease lease)
    {
        bool taken = TryEnterFast(KindRead, out long token) || TryEnterNoWait(KindRead, out token);
        lease = taken ? new ReadLease(this, token) : default;
        return taken;
    }

    /// <summary>Acquires a read scope, blocking the calling thread as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases its share of the lock when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ReadScope AcquireRead(CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindRead, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Acquires a read scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases its share of the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ReadScope AcquireRead(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindRead, Validate(timeout), throwOnTimeout: true, cancellationToken, 0, out _));

    /// <inheritdoc cref="AcquireRead(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ReadScope AcquireRead(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindRead, ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Tries to acquire a read scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or one whose <see cref="ReadScope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ReadScope TryAcquireRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long token = AcquireSyncCore(KindRead, Validate(timeout), throwOnTimeout: false, cancellationToken, 0, out bool held);
        return held ? new ReadScope(this, token) : default;
    }

    /// <inheritdoc cref="TryAcquireRead(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ReadScope TryAcquireRead(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        TryAcquireRead(ToTimeout(millisecondsTimeout), cancellationToken);

    /// <summary>Acquires the write lease, waiting as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A write lease that releases the lock when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<WriteLease> AcquireWriteAsync(CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<WriteLease>(KindWrite, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

    /// <summary>Acquires the write lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A write lease that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<WriteLease> AcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<WriteLease>(KindWrite, Validate(timeout), throwOnTimeout: true, cancellationToken);

    /// <inheritdoc cref="AcquireWriteAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<WriteLease> AcquireWriteAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<WriteLease>(KindWrite, ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken);

    /// <summary>Tries to acquire the write lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held lease, or one whose <see cref="WriteLease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<WriteLease> TryAcquireWriteAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<WriteLease>(KindWrite, Validate(timeout), throwOnTimeout: false, cancellationToken);

    /// <inheritdoc cref="TryAcquireWriteAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<WriteLease> TryAcquireWriteAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<WriteLease>(KindWrite, ToTimeout(millisecondsTimeout), throwOnTimeout: false, cancellationToken);

    /// <summary>Tries to acquire the write lease without waiting.</summary>
    /// <param name="lease">The lease when the lock was taken; otherwise a lease that is not held.</param>
    /// <returns><see langword="true"/> if the lock was taken for writing.</returns>
    /// <exception cref="ObjectDisposedException">The lock has been disposed.</exception>
    public bool TryAcquireWrite(out WriteLease lease)
    {
        bool taken = TryEnterFast(KindWrite, out long token) || TryEnterNoWait(KindWrite, out token);
        lease = taken ? new WriteLease(this, token) : default;
        return taken;
    }

    /// <summary>Acquires the write scope, blocking the calling thread as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases the lock when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public WriteScope AcquireWrite(CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindWrite, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Acquires the write scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases the lock when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public WriteScope AcquireWrite(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindWrite, Validate(timeout), throwOnTimeout: true, cancellationToken, 0, out _));

    /// <inheritdoc cref="AcquireWrite(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public WriteScope AcquireWrite(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindWrite, ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Tries to acquire the write scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or one whose <see cref="WriteScope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public WriteScope TryAcquireWrite(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long token = AcquireSyncCore(KindWrite, Validate(timeout), throwOnTimeout: false, cancellationToken, 0, out bool held);
        return held ? new WriteScope(this, token) : default;
    }

    /// <inheritdoc cref="TryAcquireWrite(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public WriteScope TryAcquireWrite(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        TryAcquireWrite(ToTimeout(millisecondsTimeout), cancellationToken);

    /// <summary>Acquires the upgradeable read lease, waiting as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>An upgradeable read lease that releases its hold when disposed.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<UpgradeableReadLease> AcquireUpgradeableReadAsync(CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<UpgradeableReadLease>(KindUpgradeable, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

    /// <summary>Acquires the upgradeable read lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>An upgradeable read lease that releases its hold when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<UpgradeableReadLease> AcquireUpgradeableReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<UpgradeableReadLease>(KindUpgradeable, Validate(timeout), throwOnTimeout: true, cancellationToken);

    /// <inheritdoc cref="AcquireUpgradeableReadAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<UpgradeableReadLease> AcquireUpgradeableReadAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<UpgradeableReadLease>(KindUpgradeable, ToTimeout(millisecondsTimeout), throwOnTimeout: true, cancellationToken);

    /// <summary>Tries to acquire the upgradeable read lease, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held lease, or one whose <see cref="UpgradeableReadLease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public ValueTask<UpgradeableReadLease> TryAcquireUpgradeableReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<UpgradeableReadLease>(KindUpgradeable, Validate(timeout), throwOnTimeout: false, cancellationToken);

    /// <inheritdoc cref="TryAcquireUpgradeableReadAsync(TimeSpan, CancellationToken)"/>
    /// <param name="millisecondsTimeout">Longest wait in milliseconds; -1 waits without a limit and 0 does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    public ValueTask<UpgradeableReadLease> TryAcquireUpgradeableReadAsync(int millisecondsTimeout, CancellationToken cancellationToken = default) =>
        AcquireAsyncCore<UpgradeableReadLease>(KindUpgradeable, ToTimeout(millisecondsTimeout), throwOnTimeout: false, cancellationToken);

    /// <summary>Tries to acquire the upgradeable read lease without waiting.</summary>
    /// <param name="lease">The lease when the lock was taken; otherwise a lease that is not held.</param>
    /// <returns><see langword="true"/> if the upgradeable read hold was taken.</returns>
    /// <exception cref="ObjectDisposedException">The lock has been disposed.</exception>
    public bool TryAcquireUpgradeableRead(out UpgradeableReadLease lease)
    {
        bool taken = TryEnterFast(KindUpgradeable, out long token) || TryEnterNoWait(KindUpgradeable, out token);
        lease = taken ? new UpgradeableReadLease(this, token) : default;
        return taken;
    }

    /// <summary>Acquires the upgradeable read scope, blocking the calling thread as long as it takes.</summary>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases its hold when disposed; it cannot cross an <c>await</c>.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public UpgradeableReadScope AcquireUpgradeableRead(CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindUpgradeable, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Acquires the upgradeable read scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A scope that releases its hold when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="LockTimeoutException">The timeout elapsed first; the lock is unchanged.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public UpgradeableReadScope AcquireUpgradeableRead(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(this, AcquireSyncCore(KindUpgradeable, Validate(timeout), throwOnTimeout: true, cancellationToken, 0, out _));

    /// <summary>Tries to acquire the upgradeable read scope, blocking the calling thread at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit and <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>A held scope, or one whose <see cref="UpgradeableReadScope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The lock was disposed before or while waiting.</exception>
    public UpgradeableReadScope TryAcquireUpgradeableRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long token = AcquireSyncCore(KindUpgradeable, Validate(timeout), throwOnTimeout: false, cancellationToken, 0, out bool held);
        return held ? new UpgradeableReadScope(this, token) : default;
    }

    // Upgrades: reached through the upgradeable lease and scope.
    internal ValueTask<WriteLease> UpgradeAsync(long upgradeableToken, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
    {
        Validate(timeout);
        if (!IsUpgradeableHeldWith(upgradeableToken))
        {
            ThrowHelper.ThrowLeaseNotHeld(Name, "upgradeable read");
        }

        return AcquireAsyncCore<WriteLease>(KindUpgrade, timeout, throwOnTimeout, cancellationToken);
    }

    internal long UpgradeSync(long upgradeableToken, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, out bool held)
    {
        Validate(timeout);
        if (!IsUpgradeableHeldWith(upgradeableToken))
        {
            ThrowHelper.ThrowLeaseNotHeld(Name, "upgradeable read");
        }

        return AcquireSyncCore(KindUpgrade, timeout, throwOnTimeout, cancellationToken, upgradeableToken, out held);
    }

    private ValueTask<TLease> AcquireAsyncCore<TLease>(int kind, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
        where TLease : struct
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TLease>(cancellationToken);
        }

        if (kind != KindUpgrade && TryEnterFast(kind, out long token))
        {
            return new ValueTask<TLease>(MakeLease<TLease>(token));
        }

        return AcquireSlowAsync<TLease>(kind, timeout, throwOnTimeout, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<TLease> AcquireSlowAsync<TLease>(int kind, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken)
        where TLease : struct
    {
        WaiterNode? node = Enqueue(kind, isSync: false, timeout, throwOnTimeout, cancellationToken, out long token, out bool timedOut);
        if (node is not null)
        {
            return new ValueTask<TLease>((IValueTaskSource<TLease>)node, node.Version);
        }

        if (!timedOut)
        {
            return new ValueTask<TLease>(MakeLease<TLease>(token));
        }

        return throwOnTimeout ? ValueTask.FromException<TLease>(CreateTimeoutException(timeout)) : default;
    }

    private long AcquireSyncCore(int kind, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, long upgradeableToken, out bool held)
    {
        cancellationToken.ThrowIfCancellationRequested();
        held = true;
        if (kind != KindUpgrade && TryEnterFast(kind, out long token))
        {
            return token;
        }

        WaiterNode? node = Enqueue(kind, isSync: true, timeout, throwOnTimeout, cancellationToken, out token, out bool timedOut);
        if (node is null)
        {
            if (timedOut)
            {
                held = false;
                return throwOnTimeout ? throw CreateTimeoutException(timeout) : 0;
            }

            return token;
        }

        node.WaitSync(_timeProvider);
        bool throws = node.ThrowOnTimeout;
        int status = node.ConsumeSync(out long granted, out TimeSpan waited, out CancellationToken waitedToken);
        held = ThrowIfNotGranted(status, throws, waited, waitedToken);
        return granted;
    }

    // Queues a waiter. Returns null when no wait is needed: then either the lock was taken
    // (token set) or a zero timeout found it busy (timedOut set).
    private WaiterNode? Enqueue(int kind, bool isSync, TimeSpan timeout, bool throwOnTimeout, CancellationToken cancellationToken, out long token, out bool timedOut)
    {
        // Step 1: take the queue bit, or the lock itself if the request may enter now. The clock
        // is read first because reading it costs more than the whole queue edit that follows.
        long now = _timeProvider.GetTimestamp();
        SpinWait spinner = default;
        long state;
        timedOut = false;
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

            bool canEnter = kind == KindUpgrade
                ? (state & (ReaderMask | WriterBit)) == 0
                : CanEnter(kind, state);
            if (canEnter)
            {
                long next = kind == KindUpgrade ? (state + GenerationOne) | WriterBit : Enter(kind, state);
                if (Interlocked.CompareExchange(ref _state, next, state) == state)
                {
                    token = kind == KindUpgrade ? next & GenerationMask : AfterEnter(kind, next);
                    return null;
                }

                continue;
            }

            if (timeout == TimeSpan.Zero && kind != KindUpgrade)
            {
                token = 0;
                timedOut = true;
                return null;
            }

            if (Interlocked.CompareExchange(ref _state, state | QueueBit, state) == state)
            {
                break;
            }
        }

        // Step 2: link a pooled node (an upgrade goes first), then grant whatever the queue
        // allows now, which may be this very node if the lock changed since step 1.
        if (kind == KindUpgrade && ((state & WriterBit) != 0 || _queue.CountOfKind(KindUpgrade) != 0))
        {
            ExitQueue(state);
            ThrowHelper.ThrowUpgradePending(Name);
        }

        if (timeout == TimeSpan.Zero)
        {
            // An upgrade that may not wait: checked here, after the "already upgrading" check.
            ExitQueue(state);
            token = 0;
            timedOut = true;
            return null;
        }

        if (_heldSinceGeneration != (state & GenerationMask))
        {
            // The holders of this generation took the lock without contention; they have held
            // it at least since now.
            _heldSinceGeneration = state & GenerationMask;
            _heldSince = now;
        }

        if (_queue.Count >= MaxWaiters)
        {
            ExitQueue(state);
            ThrowHelper.ThrowTooManyWaiters(Name, MaxWaiters);
        }

        Waiter node = _queue.Rent(s_createWaiter);
        node.Owner = this;
        node.Prepare(isSync, _queue.ToDeadline(now, timeout), timeout, throwOnTimeout, cancellationToken, now, kind);
        if (kind == KindUpgrade)
        {
            _queue.AddFirst(node);
        }
        else
        {
            _queue.AddLast(node);
        }

        ExitQueueAndDispatch(state);

        // Step 3: listen to the token only once the node is queued (see AsyncLock.Enqueue).
        node.RegisterCancellation();
        token = 0;
        return node;
    }

    // Returns true for a grant, false for a timeout that does not throw; throws otherwise.
    private bool ThrowIfNotGranted(int status, bool throwOnTimeout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (status)
        {
            case WaiterStatus.Granted:
                return true;
            case WaiterStatus.TimedOut:
                return throwOnTimeout ? throw CreateTimeoutException(timeout) : false;
            case WaiterStatus.Cancelled:
                throw new LockWaitCanceledException(Name, cancellationToken);
            default:
                if (!IsDisposed)
                {
                    throw new InvalidOperationException(
                        $"The upgrade on lock '{Name}' was abandoned because its upgradeable read lease was released while the upgrade waited.");
                }

                ThrowHelper.ThrowObjectDisposed(Name);
                return false;
        }
    }

    private LockTimeoutException CreateTimeoutException(TimeSpan timeout)
    {
        long state = Volatile.Read(ref _state);
        TimeSpan? heldFor = null;
        if ((state & (ReaderMask | WriterBit | UpgradeableBit)) != 0 &&
            Volatile.Read(ref _heldSinceGeneration) == (state & GenerationMask))
        {
            heldFor = _timeProvider.GetElapsedTime(Volatile.Read(ref _heldSince));
        }

        return new LockTimeoutException(Name, timeout, heldFor);
    }

    private TLease MakeLease<TLease>(long token)
        where TLease : struct
    {
        if (typeof(TLease) == typeof(ReadLease))
        {
            ReadLease lease = new(this, token);
            return Unsafe.As<ReadLease, TLease>(ref lease);
        }

        if (typeof(TLease) == typeof(WriteLease))
        {
            WriteLease lease = new(this, token);
            return Unsafe.As<WriteLease, TLease>(ref lease);
        }

        UpgradeableReadLease upgradeable = new(this, token);
        return Unsafe.As<UpgradeableReadLease, TLease>(ref upgradeable);
    }

    private TimeSpan Validate(TimeSpan timeout)
    {
        Timeouts.Validate(timeout, Name);
        return timeout;
    }

    private TimeSpan ToTimeout(int millisecondsTimeout) => Timeouts.FromMilliseconds(millisecondsTimeout, Name);

    // A pooled waiter that completes the ValueTask of any of the three lease types.
    private sealed class Waiter : WaiterNode, IValueTaskSource<ReadLease>, IValueTaskSource<WriteLease>, IValueTaskSource<UpgradeableReadLease>
    {
        ReadLease IValueTaskSource<ReadLease>.GetResult(short token) => GetLease<ReadLease>(token);

        WriteLease IValueTaskSource<WriteLease>.GetResult(short token) => GetLease<WriteLease>(token);

        UpgradeableReadLease IValueTaskSource<UpgradeableReadLease>.GetResult(short token) => GetLease<UpgradeableReadLease>(token);

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

        private TLease GetLease<TLease>(short token)
            where TLease : struct
        {
            var owner = (AsyncReaderWriterLock)Owner;
            bool throwOnTimeout = ThrowOnTimeout;
            int status = ConsumeAsync(token, out long granted, out TimeSpan timeout, out CancellationToken cancellationToken);
            return owner.ThrowIfNotGranted(status, throwOnTimeout, timeout, cancellationToken)
                ? owner.MakeLease<TLease>(granted)
                : default;
        }
    }
}
