using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// A hold on a named resource or a capacity pool reservation. Dispose it to release.
/// </summary>
/// <remarks>
/// <para>
/// A lease is a small struct that names the registry's record of the lease and the life of that
/// record it was granted in, so acquiring allocates nothing. Copies of a lease are the same
/// lease: the first release wins, later ones report <see cref="LeaseReleaseResult.AlreadyReleased"/>,
/// and a stale copy never touches a later lease of the same resource.
/// </para>
/// <para>
/// <see cref="ResourceId"/>, <see cref="LeaseId"/> and <see cref="FencingToken"/> stay readable
/// forever. The other details (owner, mode, times, purpose) are kept only until the lease is
/// released, after which the record serves other leases; reading them then throws
/// <see cref="InvalidOperationException"/>. Call <see cref="ToHolder"/> first to keep a copy.
/// A lost lease keeps its details until it is released.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public readonly struct ResourceLease : IDisposable, IAsyncDisposable, IEquatable<ResourceLease>
{
    private readonly ResourceRegistry? _registry;
    private readonly LeaseRecord? _record;
    private readonly long _sequence;
    private readonly long _fencingToken;

    internal ResourceLease(ResourceRegistry registry, LeaseRecord record, long sequence, long fencingToken)
    {
        _registry = registry;
        _record = record;
        _sequence = sequence;
        _fencingToken = fencingToken;
        ResourceId = record.ResourceId;
    }

    /// <summary>Id of the resource or pool; <see langword="null"/> for a default lease.</summary>
    public string? ResourceId { get; }

    /// <summary>Id of the lease; empty for a default lease.</summary>
    public LeaseId LeaseId => _registry is null ? default : new LeaseId(_registry.Origin, (ulong)_sequence);

    /// <summary>
    /// Fencing token: strictly greater than the token of every earlier lease of the same
    /// resource. Pass it with every write to the protected system, and have that system refuse
    /// writes with a token lower than one it has seen, so a holder that lost its lease without
    /// noticing cannot overwrite its successor's work.
    /// </summary>
    public long FencingToken => _fencingToken;

    /// <summary>Whether the lease holds its resource now.</summary>
    public bool IsHeld => _record is not null && _record.IsHeld(_sequence);

    /// <summary>Where the lease is in its life.</summary>
    public LeaseState State
    {
        get
        {
            if (_record is null)
            {
                return LeaseState.Released;
            }

            long ticket = Volatile.Read(ref _record.Ticket);
            if (LeaseRecord.SequenceOf(ticket) != _sequence)
            {
                return LeaseState.Released;
            }

            return LeaseRecord.StateOf(ticket) switch
            {
                LeaseRecord.Held => LeaseState.Held,
                LeaseRecord.Expiring or LeaseRecord.Lost => LeaseState.Lost,
                _ => LeaseState.Released,
            };
        }
    }

    /// <summary>Why the lease was lost, or <see cref="LeaseLossReason.None"/> while held or after a normal release.</summary>
    public LeaseLossReason LossReason => State == LeaseState.Lost ? _record!.LossReason : LeaseLossReason.None;

    /// <summary>Owner of the lease.</summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public string Owner => Read(static record => record.Owner);

    /// <summary>Purpose text, if one was given.</summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public string? Purpose => Read(static record => record.Purpose);

    /// <summary>How the lease holds its resource.</summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public LeaseMode Mode => Read(static record => record.Mode);

    /// <summary>Units reserved, for a capacity pool reservation; 0 for a lock.</summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public long Units => Read(static record => record.Units);

    /// <summary>When the lease was granted, by the registry's clock.</summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public DateTimeOffset AcquiredAt
    {
        get
        {
            long acquiredAt = Read(static record => record.AcquiredAt);
            return _registry!.Clock.ToUtc(acquiredAt);
        }
    }

    /// <summary>
    /// When the lease runs out unless renewed or extended, by the registry's clock, or
    /// <see langword="null"/> if it never expires.
    /// </summary>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public DateTimeOffset? ExpiresAt
    {
        get
        {
            long expiresAt = Read(static record => Volatile.Read(ref record.ExpiresAt));
            return _registry!.Clock.ToUtcOrNull(expiresAt);
        }
    }

    /// <summary>
    /// A token that is cancelled when the lease is lost: its time-to-live ran out, its heartbeat
    /// failed, the store refused a renewal, or the registry was disposed. It is not cancelled by
    /// a normal release. Pass it to the work the lease protects.
    /// </summary>
    /// <remarks>The first read allocates the token's source; a lease whose token is never read allocates nothing for it.</remarks>
    public CancellationToken LostToken
    {
        get
        {
            if (_record is null)
            {
                return CancellationToken.None;
            }

            long ticket = Volatile.Read(ref _record.Ticket);
            if (LeaseRecord.SequenceOf(ticket) != _sequence)
            {
                return CancellationToken.None;
            }

            if (LeaseRecord.StateOf(ticket) != LeaseRecord.Held)
            {
                return LeaseRecord.StateOf(ticket) is LeaseRecord.Released ? CancellationToken.None : new CancellationToken(canceled: true);
            }

            CancellationTokenSource? source = Volatile.Read(ref _record.LostSource);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _record.LostSource, created, null) ?? created;
            }

            // The loss path moves the state before it reads the source; this path publishes the
            // source before it reads the state. Whichever runs second observes the other, so the
            // token fires even if the lease was lost while it was being created.
            ticket = Volatile.Read(ref _record.Ticket);
            if (LeaseRecord.SequenceOf(ticket) == _sequence && LeaseRecord.StateOf(ticket) is LeaseRecord.Expiring or LeaseRecord.Lost)
            {
                source.Cancel();
            }

            return source.Token;
        }
    }

    private string DebuggerDisplay => _record is null ? "default lease" : $"'{ResourceId}' lease {LeaseId}: {State}, fencing token {_fencingToken}";

    /// <summary>Compares two leases.</summary>
    /// <param name="left">The first lease.</param>
    /// <param name="right">The second lease.</param>
    /// <returns><see langword="true"/> if both are copies of the same lease.</returns>
    public static bool operator ==(ResourceLease left, ResourceLease right) => left.Equals(right);

    /// <summary>Compares two leases.</summary>
    /// <param name="left">The first lease.</param>
    /// <param name="right">The second lease.</param>
    /// <returns><see langword="true"/> if they are different leases.</returns>
    public static bool operator !=(ResourceLease left, ResourceLease right) => !left.Equals(right);

    /// <summary>
    /// Moves the expiry <paramref name="by"/> later. A lease without a time-to-live never
    /// expires; extending it does nothing and returns <see langword="null"/>.
    /// </summary>
    /// <param name="by">How much later the lease should expire; more than zero.</param>
    /// <param name="cancellationToken">Token that abandons the call to an external store.</param>
    /// <returns>The new expiry, or <see langword="null"/> for a lease that never expires.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is zero or negative.</exception>
    /// <exception cref="LeaseLostException">The lease was lost; it is not taken back.</exception>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public ValueTask<DateTimeOffset?> ExtendAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        if (_record is null)
        {
            throw new InvalidOperationException("Cannot extend a default lease; it was never granted.");
        }

        return _registry!.ExtendAsync(_record, _sequence, by, cancellationToken);
    }

    /// <summary>
    /// Throws <see cref="LeaseLostException"/> when the lease has been lost, for example because
    /// its time-to-live ran out while the holder waited for other resources. Call it before work
    /// that the lease must protect; it reads the lease's state and allocates nothing while held.
    /// </summary>
    /// <exception cref="LeaseLostException">The lease was lost, so the resource may belong to someone else.</exception>
    /// <exception cref="InvalidOperationException">The lease was released, or it is a default lease.</exception>
    public void ThrowIfLost()
    {
        LeaseState state = State;
        if (state == LeaseState.Held)
        {
            return;
        }

        if (state == LeaseState.Lost)
        {
            throw new LeaseLostException(ResourceId!, LeaseId, LossReason, "start work under");
        }

        throw new InvalidOperationException(ResourceId is null
            ? "This is a default lease, which was never granted. Acquire the resource first."
            : $"The lease on resource '{ResourceId}' was already released. Acquire the resource again before the work it must protect.");
    }

    /// <summary>
    /// Releases the lease. With an external store, the local hold is freed at once and the store
    /// is told in the background; use <see cref="ReleaseAsync"/> to wait for the store.
    /// </summary>
    /// <returns>
    /// <see cref="LeaseReleaseResult.Released"/>; <see cref="LeaseReleaseResult.Expired"/> if the
    /// lease had been lost, in which case nothing was freed; or
    /// <see cref="LeaseReleaseResult.AlreadyReleased"/>.
    /// </returns>
    public LeaseReleaseResult Release() =>
        _record is null ? LeaseReleaseResult.AlreadyReleased : _registry!.Release(_record, _sequence, out _);

    /// <summary>Releases the lease and, with an external store, waits until the store has removed it.</summary>
    /// <returns>What the release did; see <see cref="Release"/>.</returns>
    public async ValueTask<LeaseReleaseResult> ReleaseAsync()
    {
        if (_record is null)
        {
            return LeaseReleaseResult.AlreadyReleased;
        }

        LeaseReleaseResult result = _registry!.Release(_record, _sequence, out ValueTask storeRelease);
        await storeRelease.ConfigureAwait(false);
        return result;
    }

    /// <summary>Releases the lease; see <see cref="Release"/>.</summary>
    public void Dispose() => Release();

    /// <summary>Releases the lease; see <see cref="ReleaseAsync"/>.</summary>
    /// <returns>A task that completes when the release is done.</returns>
    public async ValueTask DisposeAsync() => await ReleaseAsync().ConfigureAwait(false);

    /// <summary>A copy of the lease's details that stays valid after release.</summary>
    /// <returns>The details.</returns>
    /// <exception cref="InvalidOperationException">The lease was released or is a default lease.</exception>
    public LeaseHolder ToHolder()
    {
        LeaseRecord record = _record ?? throw Released();
        LeaseHolder? holder = _registry!.ReadHolder(record, _sequence, _registry.Clock.Now(), includeLost: true);
        return holder ?? throw Released();
    }

    /// <inheritdoc/>
    public bool Equals(ResourceLease other) => ReferenceEquals(_record, other._record) && _sequence == other._sequence;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ResourceLease other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_record, _sequence);

    // Reads a detail of this life; the state word read after it proves the record was not reused meanwhile.
    private T Read<T>(Func<LeaseRecord, T> read)
    {
        if (_record is null)
        {
            throw Released();
        }

        long before = Volatile.Read(ref _record.Ticket);
        T value = read(_record);
        long after = Volatile.Read(ref _record.Ticket);
        if (LeaseRecord.SequenceOf(before) != _sequence || LeaseRecord.SequenceOf(after) != _sequence ||
            LeaseRecord.StateOf(after) is LeaseRecord.Released or LeaseRecord.Acknowledged or LeaseRecord.ExpiringAcknowledged)
        {
            throw Released();
        }

        return value;
    }

    private InvalidOperationException Released() =>
        new($"Lease {LeaseId} on '{ResourceId}' was released (or never granted), so its details are no longer kept. Read them, or call ToHolder(), before releasing.");
}
