using System;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary;

// Leases (may cross await) and scopes (ref structs for blocking code) of the three modes.
public sealed partial class AsyncReaderWriterLock
{
    /// <summary>
    /// A share of an <see cref="AsyncReaderWriterLock"/> held for reading; disposing it releases the share.
    /// </summary>
    /// <remarks>
    /// A read lease carries the write generation it read under, so after any writer has entered
    /// it releases nothing. Readers of one generation share the count, so release each lease once.
    /// </remarks>
    public readonly struct ReadLease : IDisposable, IEquatable<ReadLease>
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal ReadLease(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>The lock this lease was granted on, or <see langword="null"/> for a lease that was never granted.</summary>
        public AsyncReaderWriterLock? Lock => _lock;

        /// <summary>Whether readers of this lease's generation still hold the lock.</summary>
        public bool IsHeld => _lock is not null && _lock.IsReadHeldWith(_token);

        /// <summary>Releases this share if its generation still holds the lock.</summary>
        /// <returns><see langword="true"/> if this call released a share.</returns>
        public bool Release() => _lock is not null && _lock.ReleaseRead(_token);

        /// <summary>Releases this share if its generation still holds the lock; otherwise does nothing.</summary>
        public void Dispose() => _lock?.ReleaseRead(_token);

        /// <inheritdoc/>
        public bool Equals(ReadLease other) => ReferenceEquals(_lock, other._lock) && _token == other._token;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is ReadLease other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_lock, _token);

        /// <summary>Compares two leases for equality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if both leases are equal.</returns>
        public static bool operator ==(ReadLease left, ReadLease right) => left.Equals(right);

        /// <summary>Compares two leases for inequality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if the leases differ.</returns>
        public static bool operator !=(ReadLease left, ReadLease right) => !left.Equals(right);
    }

    /// <summary>
    /// The exclusive hold of an <see cref="AsyncReaderWriterLock"/>; disposing it releases the lock,
    /// or, for a lease obtained by an upgrade, returns the holder to upgradeable read.
    /// </summary>
    public readonly struct WriteLease : IDisposable, IEquatable<WriteLease>
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal WriteLease(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>The lock this lease was granted on, or <see langword="null"/> for a lease that was never granted.</summary>
        public AsyncReaderWriterLock? Lock => _lock;

        /// <summary>Whether this lease still holds the lock for writing.</summary>
        public bool IsHeld => _lock is not null && _lock.IsWriteHeldWith(_token);

        /// <summary>Releases the write hold if this lease still has it.</summary>
        /// <returns><see langword="true"/> if this call released the hold.</returns>
        public bool Release() => _lock is not null && _lock.ReleaseWrite(_token);

        /// <summary>Releases the write hold if this lease still has it; otherwise does nothing.</summary>
        public void Dispose() => _lock?.ReleaseWrite(_token);

        /// <summary>
        /// Turns this write hold into a read hold without letting a writer in between, and admits the
        /// readers that wait. This lease no longer holds anything afterwards.
        /// </summary>
        /// <returns>The read lease that now holds the lock.</returns>
        /// <exception cref="InvalidOperationException">The lease does not hold the lock, or came from an upgrade.</exception>
        public ReadLease DowngradeToRead()
        {
            AsyncReaderWriterLock owner = _lock ?? throw new InvalidOperationException("A default write lease holds no lock to downgrade.");
            return new ReadLease(owner, owner.DowngradeWriteToRead(_token));
        }

        /// <summary>
        /// Turns this write hold into an upgradeable read hold without letting a writer in between,
        /// and admits the readers that wait. This lease no longer holds anything afterwards.
        /// </summary>
        /// <returns>The upgradeable read lease that now holds the lock.</returns>
        /// <exception cref="InvalidOperationException">The lease does not hold the lock, or came from an upgrade.</exception>
        public UpgradeableReadLease DowngradeToUpgradeableRead()
        {
            AsyncReaderWriterLock owner = _lock ?? throw new InvalidOperationException("A default write lease holds no lock to downgrade.");
            return new UpgradeableReadLease(owner, owner.DowngradeWriteToUpgradeable(_token));
        }

        /// <inheritdoc/>
        public bool Equals(WriteLease other) => ReferenceEquals(_lock, other._lock) && _token == other._token;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is WriteLease other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_lock, _token);

        /// <summary>Compares two leases for equality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if both leases are equal.</returns>
        public static bool operator ==(WriteLease left, WriteLease right) => left.Equals(right);

        /// <summary>Compares two leases for inequality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if the leases differ.</returns>
        public static bool operator !=(WriteLease left, WriteLease right) => !left.Equals(right);
    }

    /// <summary>
    /// The upgradeable read hold of an <see cref="AsyncReaderWriterLock"/>: shared with plain
    /// readers, exclusive among upgradeable readers, and able to upgrade to the write hold.
    /// Disposing it releases the hold, and the upgrade too if that is held.
    /// </summary>
    public readonly struct UpgradeableReadLease : IDisposable, IEquatable<UpgradeableReadLease>
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal UpgradeableReadLease(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>The lock this lease was granted on, or <see langword="null"/> for a lease that was never granted.</summary>
        public AsyncReaderWriterLock? Lock => _lock;

        /// <summary>Whether this lease still holds the upgradeable read hold.</summary>
        public bool IsHeld => _lock is not null && _lock.IsUpgradeableHeldWith(_token);

        /// <summary>
        /// Upgrades to the write hold, waiting for the plain readers to leave. Disposing the returned
        /// lease returns to upgradeable read.
        /// </summary>
        /// <param name="cancellationToken">Token that abandons the wait.</param>
        /// <returns>The write lease.</returns>
        /// <exception cref="InvalidOperationException">This lease does not hold the lock, or an upgrade is already held or waiting.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled first; the lock is unchanged.</exception>
        public ValueTask<WriteLease> UpgradeAsync(CancellationToken cancellationToken = default) =>
            Owner.UpgradeAsync(_token, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken);

        /// <summary>Upgrades to the write hold, waiting at most <paramref name="timeout"/> for the plain readers to leave.</summary>
        /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit.</param>
        /// <param name="cancellationToken">Token that abandons the wait.</param>
        /// <returns>The write lease.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
        /// <exception cref="LockTimeoutException">The timeout elapsed first; the upgradeable hold is unchanged.</exception>
        /// <exception cref="InvalidOperationException">This lease does not hold the lock, or an upgrade is already held or waiting.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled first; the upgradeable hold is unchanged.</exception>
        public ValueTask<WriteLease> UpgradeAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
            Owner.UpgradeAsync(_token, timeout, throwOnTimeout: true, cancellationToken);

        /// <summary>Tries to upgrade to the write hold, waiting at most <paramref name="timeout"/>.</summary>
        /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit.</param>
        /// <param name="cancellationToken">Token that abandons the wait.</param>
        /// <returns>The write lease, or one whose <see cref="WriteLease.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
        /// <exception cref="InvalidOperationException">This lease does not hold the lock, or an upgrade is already held or waiting.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled first; the upgradeable hold is unchanged.</exception>
        public ValueTask<WriteLease> TryUpgradeAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
            Owner.UpgradeAsync(_token, timeout, throwOnTimeout: false, cancellationToken);

        /// <summary>Releases the upgradeable hold, and its upgrade if held, if this lease still has it.</summary>
        /// <returns><see langword="true"/> if this call released the hold.</returns>
        public bool Release() => _lock is not null && _lock.ReleaseUpgradeable(_token);

        /// <summary>Releases the upgradeable hold if this lease still has it; otherwise does nothing.</summary>
        public void Dispose() => _lock?.ReleaseUpgradeable(_token);

        private AsyncReaderWriterLock Owner =>
            _lock ?? throw new InvalidOperationException("A default upgradeable read lease holds no lock to upgrade.");

        /// <inheritdoc/>
        public bool Equals(UpgradeableReadLease other) => ReferenceEquals(_lock, other._lock) && _token == other._token;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is UpgradeableReadLease other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_lock, _token);

        /// <summary>Compares two leases for equality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if both leases are equal.</returns>
        public static bool operator ==(UpgradeableReadLease left, UpgradeableReadLease right) => left.Equals(right);

        /// <summary>Compares two leases for inequality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if the leases differ.</returns>
        public static bool operator !=(UpgradeableReadLease left, UpgradeableReadLease right) => !left.Equals(right);
    }

    /// <summary>A read hold taken by a blocking acquire; a <c>ref struct</c>, so it cannot cross an <c>await</c>.</summary>
    public ref struct ReadScope
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal ReadScope(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>Whether readers of this scope's generation still hold the lock; <see langword="false"/> after a failed try.</summary>
        public readonly bool IsHeld => _lock is not null && _lock.IsReadHeldWith(_token);

        /// <summary>Releases this share if its generation still holds the lock.</summary>
        /// <returns><see langword="true"/> if this call released a share.</returns>
        public readonly bool Release() => _lock is not null && _lock.ReleaseRead(_token);

        /// <summary>Releases this share if its generation still holds the lock; otherwise does nothing.</summary>
        public readonly void Dispose() => _lock?.ReleaseRead(_token);

        /// <summary>
        /// Hands this scope's hold over to a lease, for a caller that must keep the hold beyond one
        /// stack frame (the named-resource layer stores it in a lease record). Do not dispose the
        /// scope afterwards: the returned lease owns the hold.
        /// </summary>
        /// <param name="lease">The lease that owns the hold now; default when the scope holds nothing.</param>
        /// <returns><see langword="false"/> for a default scope, as a failed try returns.</returns>
        internal readonly bool TryTransfer(out ReadLease lease)
        {
            if (_lock is null)
            {
                lease = default;
                return false;
            }

            lease = new ReadLease(_lock, _token);
            return true;
        }
    }

    /// <summary>A write hold taken by a blocking acquire; a <c>ref struct</c>, so it cannot cross an <c>await</c>.</summary>
    public ref struct WriteScope
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal WriteScope(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>Whether this scope still holds the lock for writing; <see langword="false"/> after a failed try.</summary>
        public readonly bool IsHeld => _lock is not null && _lock.IsWriteHeldWith(_token);

        /// <summary>Releases the write hold if this scope still has it.</summary>
        /// <returns><see langword="true"/> if this call released the hold.</returns>
        public readonly bool Release() => _lock is not null && _lock.ReleaseWrite(_token);

        /// <summary>Releases the write hold if this scope still has it; otherwise does nothing.</summary>
        public readonly void Dispose() => _lock?.ReleaseWrite(_token);

        /// <summary>
        /// Hands this scope's hold over to a lease, for a caller that must keep the hold beyond one
        /// stack frame (the named-resource layer stores it in a lease record). Do not dispose the
        /// scope afterwards: the returned lease owns the hold.
        /// </summary>
        /// <param name="lease">The lease that owns the hold now; default when the scope holds nothing.</param>
        /// <returns><see langword="false"/> for a default scope, as a failed try returns.</returns>
        internal readonly bool TryTransfer(out WriteLease lease)
        {
            if (_lock is null)
            {
                lease = default;
                return false;
            }

            lease = new WriteLease(_lock, _token);
            return true;
        }
    }

    /// <summary>An upgradeable read hold taken by a blocking acquire; a <c>ref struct</c>, so it cannot cross an <c>await</c>.</summary>
    public ref struct UpgradeableReadScope
    {
        private readonly AsyncReaderWriterLock? _lock;
        private readonly long _token;

        internal UpgradeableReadScope(AsyncReaderWriterLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>Whether this scope still holds the upgradeable read hold; <see langword="false"/> after a failed try.</summary>
        public readonly bool IsHeld => _lock is not null && _lock.IsUpgradeableHeldWith(_token);

        /// <summary>Upgrades to the write hold, blocking until the plain readers leave.</summary>
        /// <param name="cancellationToken">Token that abandons the wait.</param>
        /// <returns>The write scope; disposing it returns to upgradeable read.</returns>
        /// <exception cref="InvalidOperationException">This scope does not hold the lock, or an upgrade is already held or waiting.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled first; the upgradeable hold is unchanged.</exception>
        public readonly WriteScope Upgrade(CancellationToken cancellationToken = default) =>
            new(Owner, Owner.UpgradeSync(_token, Timeout.InfiniteTimeSpan, throwOnTimeout: true, cancellationToken, out _));

        /// <summary>Tries to upgrade to the write hold, blocking at most <paramref name="timeout"/>.</summary>
        /// <param name="timeout">Longest wait; <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit.</param>
        /// <param name="cancellationToken">Token that abandons the wait.</param>
        /// <returns>The write scope, or one whose <see cref="WriteScope.IsHeld"/> is <see langword="false"/> when the timeout elapsed.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
        /// <exception cref="InvalidOperationException">This scope does not hold the lock, or an upgrade is already held or waiting.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled first; the upgradeable hold is unchanged.</exception>
        public readonly WriteScope TryUpgrade(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            long token = Owner.UpgradeSync(_token, timeout, throwOnTimeout: false, cancellationToken, out bool held);
            return held ? new WriteScope(Owner, token) : default;
        }

        /// <summary>Releases the upgradeable hold, and its upgrade if held, if this scope still has it.</summary>
        /// <returns><see langword="true"/> if this call released the hold.</returns>
        public readonly bool Release() => _lock is not null && _lock.ReleaseUpgradeable(_token);

        /// <summary>Releases the upgradeable hold if this scope still has it; otherwise does nothing.</summary>
        public readonly void Dispose() => _lock?.ReleaseUpgradeable(_token);

        /// <summary>
        /// Hands this scope's hold over to a lease, for a caller that must keep the hold beyond one
        /// stack frame (the named-resource layer stores it in a lease record). Do not dispose the
        /// scope afterwards: the returned lease owns the hold.
        /// </summary>
        /// <param name="lease">The lease that owns the hold now; default when the scope holds nothing.</param>
        /// <returns><see langword="false"/> for a default scope, as a failed try returns.</returns>
        internal readonly bool TryTransfer(out UpgradeableReadLease lease)
        {
            if (_lock is null)
            {
                lease = default;
                return false;
            }

            lease = new UpgradeableReadLease(_lock, _token);
            return true;
        }

        private readonly AsyncReaderWriterLock Owner =>
            _lock ?? throw new InvalidOperationException("A default upgradeable read scope holds no lock to upgrade.");
    }
}
