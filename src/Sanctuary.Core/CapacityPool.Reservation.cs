using System;
using System.Diagnostics;

namespace Sanctuary;

public sealed partial class CapacityPool
{
    /// <summary>
    /// Units held from a <see cref="CapacityPool"/>; disposing the reservation returns them. It may
    /// cross <c>await</c>.
    /// </summary>
    /// <remarks>
    /// A reservation returns its units at most once. The pool records each reservation until it
    /// is released, so disposing a copy, a default reservation or one that was already released
    /// returns nothing.
    /// </remarks>
    [DebuggerDisplay("{DebuggerDisplay,nq}")]
    public readonly struct Reservation : IDisposable, IEquatable<Reservation>
    {
        private readonly CapacityPool? _pool;
        private readonly long _amount;
        private readonly long _stamp;

        internal Reservation(CapacityPool pool, long amount, long stamp)
        {
            _pool = pool;
            _amount = amount;
            _stamp = stamp;
        }

        /// <summary>
        /// The pool the units were reserved from, or <see langword="null"/> for a reservation that was never granted.
        /// </summary>
        public CapacityPool? Pool => _pool;

        /// <summary>Units this reservation was granted; 0 for a reservation that was never granted.</summary>
        public long Amount => _amount;

        /// <summary>
        /// Whether this reservation still holds its units: <see langword="false"/> for a default
        /// reservation, a failed try and after release.
        /// </summary>
        public bool IsHeld => _pool is not null && _pool.IsReserved(_stamp);

        private string DebuggerDisplay => _pool is null ? "not granted" : $"{_amount} units of {_pool.Name}: {(IsHeld ? "held" : "released")}";

        /// <summary>
        /// Returns the units to the pool if this reservation has not been released yet.
        /// </summary>
        /// <returns><see langword="true"/> if this call returned the units; <see langword="false"/> if the reservation was default, stale or already released.</returns>
        public bool Release() => _pool is not null && _pool.Release(_stamp, _amount);

        /// <summary>
        /// Returns the units to the pool if this reservation has not been released yet; otherwise does nothing.
        /// </summary>
        public void Dispose() => _pool?.Release(_stamp, _amount);

        /// <inheritdoc/>
        public bool Equals(Reservation other) => ReferenceEquals(_pool, other._pool) && _stamp == other._stamp && _amount == other._amount;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is Reservation other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(_pool, _stamp, _amount);

        /// <summary>Compares two reservations for equality.</summary>
        /// <param name="left">The first reservation.</param>
        /// <param name="right">The second reservation.</param>
        /// <returns><see langword="true"/> if both come from the same grant of the same pool.</returns>
        public static bool operator ==(Reservation left, Reservation right) => left.Equals(right);

        /// <summary>Compares two reservations for inequality.</summary>
        /// <param name="left">The first reservation.</param>
        /// <param name="right">The second reservation.</param>
        /// <returns><see langword="true"/> if the reservations come from different grants.</returns>
        public static bool operator !=(Reservation left, Reservation right) => !left.Equals(right);
    }

    /// <summary>
    /// Units held from a <see cref="CapacityPool"/> by a blocking reserve. It is a <c>ref struct</c>,
    /// so the compiler forbids keeping it across an <c>await</c> or storing it in a field.
    /// </summary>
    public ref struct Scope
    {
        private readonly CapacityPool? _pool;
        private readonly long _amount;
        private readonly long _stamp;

        internal Scope(CapacityPool pool, long amount, long stamp)
        {
            _pool = pool;
            _amount = amount;
            _stamp = stamp;
        }

        /// <summary>Units this scope was granted; 0 after a failed try.</summary>
        public readonly long Amount => _amount;

        /// <summary>
        /// Whether this scope still holds its units: <see langword="false"/> after a failed try and after release.
        /// </summary>
        public readonly bool IsHeld => _pool is not null && _pool.IsReserved(_stamp);

        /// <summary>
        /// Returns the units to the pool if this scope has not been released yet.
        /// </summary>
        /// <returns><see langword="true"/> if this call returned the units.</returns>
        public readonly bool Release() => _pool is not null && _pool.Release(_stamp, _amount);

        /// <summary>
        /// Returns the units to the pool if this scope has not been released yet; otherwise does nothing.
        /// </summary>
        public readonly void Dispose() => _pool?.Release(_stamp, _amount);

        /// <summary>
        /// Hands this scope's hold over to a reservation, for a caller that must keep the hold beyond one
        /// stack frame (the named-resource layer stores it in a lease record). Do not dispose the
        /// scope afterwards: the returned reservation owns the hold.
        /// </summary>
        /// <param name="reservation">The reservation that owns the units now; default when the scope holds none.</param>
        /// <returns><see langword="false"/> for a default scope, as a failed try returns.</returns>
        internal readonly bool TryTransfer(out Reservation reservation)
        {
            if (_pool is null)
            {
                reservation = default;
                return false;
            }

            reservation = new Reservation(_pool, _amount, _stamp);
            return true;
        }
    }
}
