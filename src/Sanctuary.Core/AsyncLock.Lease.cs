using System;
using System.Diagnostics;
using System.Threading;

namespace Sanctuary;

public sealed partial class AsyncLock
{
    /// <summary>
    /// A hold on an <see cref="AsyncLock"/> that may cross <c>await</c>; disposing it releases the lock.
    /// </summary>
    /// <remarks>
    /// A lease releases at most once. It carries the generation of the acquisition that created
    /// it, so disposing a copy, a default lease or a lease that was already released never
    /// releases a hold that belongs to someone else.
    /// </remarks>
    [DebuggerDisplay("{DebuggerDisplay,nq}")]
    public readonly struct Lease : IDisposable, IEquatable<Lease>
    {
        private readonly AsyncLock? _lock;
        private readonly long _token;

        internal Lease(AsyncLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>
        /// The lock this lease was granted on, or <see langword="null"/> for a lease that was never granted.
        /// </summary>
        public AsyncLock? Lock => _lock;

        /// <summary>
        /// Whether this lease still holds its lock: <see langword="false"/> for a default lease, a
        /// failed try and after release.
        /// </summary>
        public bool IsHeld => _lock is not null && _lock.IsHeldWith(_token);

        private string DebuggerDisplay => _lock is null ? "not granted" : $"{_lock.Name}: {(IsHeld ? "held" : "released")}";

        /// <summary>
        /// Releases the lock if this lease still holds it.
        /// </summary>
        /// <returns><see langword="true"/> if this call released the lock; <see langword="false"/> if the lease was default, stale or already released.</returns>
        public bool Release() => _lock is not null && _lock.Release(_token);

        /// <summary>
        /// Releases the lock if this lease still holds it; otherwise does nothing.
        /// </summary>
        public void Dispose() => _lock?.Release(_token);

        /// <inheritdoc/>
        public bool Equals(Lease other) => ReferenceEquals(_lock, other._lock) && _token == other._token;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is Lease other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_lock, _token);

        /// <summary>Compares two leases for equality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if both come from the same acquisition of the same lock.</returns>
        public static bool operator ==(Lease left, Lease right) => left.Equals(right);

        /// <summary>Compares two leases for inequality.</summary>
        /// <param name="left">The first lease.</param>
        /// <param name="right">The second lease.</param>
        /// <returns><see langword="true"/> if the leases come from different acquisitions.</returns>
        public static bool operator !=(Lease left, Lease right) => !left.Equals(right);
    }

    /// <summary>
    /// A hold on an <see cref="AsyncLock"/> taken by a blocking acquire. It is a <c>ref struct</c>,
    /// so the compiler forbids keeping it across an <c>await</c> or storing it in a field.
    /// </summary>
    public ref struct Scope
    {
        private readonly AsyncLock? _lock;
        private readonly long _token;

        internal Scope(AsyncLock owner, long token)
        {
            _lock = owner;
            _token = token;
        }

        /// <summary>
        /// Whether this scope still holds its lock: <see langword="false"/> after a failed try and after release.
        /// </summary>
        public readonly bool IsHeld => _lock is not null && _lock.IsHeldWith(_token);

        /// <summary>
        /// Releases the lock if this scope still holds it.
        /// </summary>
        /// <returns><see langword="true"/> if this call released the lock.</returns>
        public readonly bool Release() => _lock is not null && _lock.Release(_token);

        /// <summary>
        /// Releases the lock if this scope still holds it; otherwise does nothing.
        /// </summary>
        public readonly void Dispose() => _lock?.Release(_token);

        /// <summary>
        /// Hands this scope's hold over to a lease, for a caller that must keep the hold beyond one
        /// stack frame (the named-resource layer stores it in a lease record). Do not dispose the
        /// scope afterwards: the returned lease owns the hold.
        /// </summary>
        /// <param name="lease">The lease that owns the hold now; default when the scope holds nothing.</param>
        /// <returns><see langword="false"/> for a default scope, as a failed try returns.</returns>
        internal readonly bool TryTransfer(out Lease lease)
        {
            if (_lock is null)
            {
                lease = default;
                return false;
            }

            lease = new Lease(_lock, _token);
            return true;
        }
    }

    internal bool IsHeldWith(long token) =>
        (Volatile.Read(ref _state) & (GenerationMask | HeldBit)) == (token | HeldBit);
}
