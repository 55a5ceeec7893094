using System;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// The seam between a named resource and the primitive that provides its exclusion. Each kind
/// of primitive has one subclass; the registry picks the subclass per entry (see
/// <see cref="ResourceKind"/>) and only ever talks to this type.
/// </summary>
/// <remarks>
/// A gate has no notion of names, owners, time-to-live or stores. It grants, rejects and frees
/// holds, as cheaply as its primitive allows. <see cref="Exit"/> is called at most once per
/// hold (the lease record's state word guarantees it), so gates need no defence against double
/// release of their own.
/// </remarks>
internal abstract class ResourceGate : IDisposable
{
    /// <summary>Which primitive this gate wraps.</summary>
    public abstract ResourceKind Kind { get; }

    /// <summary>Whether a hold in <paramref name="mode"/> excludes every other hold of this gate.</summary>
    public abstract bool HoldsAlone(LeaseMode mode);

    /// <summary>Whether someone holds the gate now.</summary>
    public abstract bool IsHeld { get; }

    /// <summary>Number of queued waiters now.</summary>
    public abstract int WaitingCount { get; }

    /// <summary>Takes a hold if that is possible without waiting.</summary>
    public abstract bool TryEnter(LeaseMode mode, long units, out Hold hold);

    /// <summary>
    /// Waits for a hold. Throws <see cref="LockTimeoutException"/> when <paramref name="timeout"/>
    /// elapses and <see cref="OperationCanceledException"/> when the token fires; either way the
    /// gate is left as it was.
    /// </summary>
    public abstract ValueTask<Hold> EnterAsync(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Blocks the calling thread for a hold, through the primitive's own blocking acquire (no task
    /// is created and no thread-pool thread is needed to finish the wait). Returns
    /// <see langword="false"/> when <paramref name="timeout"/> elapses and throws
    /// <see cref="OperationCanceledException"/> when the token fires; either way the gate is left
    /// as it was.
    /// </summary>
    public abstract bool Enter(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken, out Hold hold);

    /// <summary>Frees a hold that <see cref="TryEnter"/>, <see cref="Enter"/> or <see cref="EnterAsync"/> granted.</summary>
    public abstract void Exit(in Hold hold);

    /// <summary>
    /// Copies the one field of <paramref name="source"/> that this gate fills into a lease record's
    /// hold. Copying the whole struct would cost a write barrier for every reference in it.
    /// </summary>
    public abstract void Store(in Hold source, ref Hold target);

    /// <summary>Fails every waiter with <see cref="ObjectDisposedException"/>.</summary>
    public abstract void Dispose();

    /// <summary>
    /// What a gate needs to free a hold. One field per primitive's lease type, so that no hold is
    /// boxed; a gate fills only its own.
    /// </summary>
    internal struct Hold
    {
        public AsyncLock.Lease Exclusive;
        public PriorityLock.Lease Prioritized;
        public AsyncReaderWriterLock.ReadLease Read;
        public AsyncReaderWriterLock.WriteLease Write;
        public AsyncReaderWriterLock.UpgradeableReadLease Upgradeable;
        public CapacityPool.Reservation Reservation;
        public long Units;
    }
}

/// <summary>
/// A resource backed by an <see cref="AsyncLock"/>: every mode holds alone, priorities are
/// served in arrival order.
/// </summary>
internal sealed class ExclusiveGate : ResourceGate
{
    private readonly AsyncLock _lock;

    public ExclusiveGate(TimeProvider timeProvider)
    {
        _lock = new AsyncLock(new AsyncLockOptions { Name = "named resource", TimeProvider = timeProvider });
    }

    public override ResourceKind Kind => ResourceKind.Exclusive;

    public override bool IsHeld => _lock.IsHeld;

    public override int WaitingCount => _lock.WaitingCount;

    public override bool HoldsAlone(LeaseMode mode) => true;

    public override bool TryEnter(LeaseMode mode, long units, out Hold hold)
    {
        hold = default;
        return _lock.TryAcquire(out hold.Exclusive);
    }

    /// <summary>The registry's uncontended path: takes the lock without a whole hold.</summary>
    public bool TryEnter(out AsyncLock.Lease lease) => _lock.TryAcquire(out lease);

    public override ValueTask<Hold> EnterAsync(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ValueTask<AsyncLock.Lease> pending = _lock.AcquireAsync(timeout, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<Hold>(new Hold { Exclusive = pending.Result });
        }

        return AwaitAsync(pending);

        static async ValueTask<Hold> AwaitAsync(ValueTask<AsyncLock.Lease> pending) =>
            new Hold { Exclusive = await pending.ConfigureAwait(false) };
    }

    public override bool Enter(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken, out Hold hold)
    {
        hold = default;
        return _lock.TryAcquire(timeout, cancellationToken).TryTransfer(out hold.Exclusive);
    }

    public override void Exit(in Hold hold) => hold.Exclusive.Dispose();

    public override void Store(in Hold source, ref Hold target) => target.Exclusive = source.Exclusive;

    public override void Dispose() => _lock.Dispose();
}

/// <summary>
/// A resource backed by an <see cref="AsyncReaderWriterLock"/>: <see cref="LeaseMode.Read"/>
/// shares, <see cref="LeaseMode.UpgradeableRead"/> shares with readers and is alone among
/// upgradeable readers, <see cref="LeaseMode.Write"/> and <see cref="LeaseMode.Exclusive"/> hold
/// alone. Priorities are served in the lock's own order.
/// </summary>
internal sealed class ReaderWriterGate : ResourceGate
{
    private readonly AsyncReaderWriterLock _lock;

    public ReaderWriterGate(TimeProvider timeProvider)
    {
        _lock = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "named resource", TimeProvider = timeProvider });
    }

    public override ResourceKind Kind => ResourceKind.ReaderWriter;

    public override bool IsHeld => _lock.IsWriteHeld || _lock.CurrentReadCount != 0 || _lock.IsUpgradeableReadHeld;

    public override int WaitingCount => _lock.WaitingCount;

    public override bool HoldsAlone(LeaseMode mode) => mode is LeaseMode.Exclusive or LeaseMode.Write;

    public override bool TryEnter(LeaseMode mode, long units, out Hold hold)
    {
        hold = default;
        return mode switch
        {
            LeaseMode.Read => _lock.TryAcquireRead(out hold.Read),
            LeaseMode.UpgradeableRead => _lock.TryAcquireUpgradeableRead(out hold.Upgradeable),
            _ => _lock.TryAcquireWrite(out hold.Write),
        };
    }

    public override ValueTask<Hold> EnterAsync(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (mode)
        {
            case LeaseMode.Read:
            {
                ValueTask<AsyncReaderWriterLock.ReadLease> pending = _lock.AcquireReadAsync(timeout, cancellationToken);
                return pending.IsCompletedSuccessfully ? new ValueTask<Hold>(new Hold { Read = pending.Result }) : AwaitReadAsync(pending);
            }

            case LeaseMode.UpgradeableRead:
            {
                ValueTask<AsyncReaderWriterLock.UpgradeableReadLease> pending = _lock.AcquireUpgradeableReadAsync(timeout, cancellationToken);
                return pending.IsCompletedSuccessfully ? new ValueTask<Hold>(new Hold { Upgradeable = pending.Result }) : AwaitUpgradeableAsync(pending);
            }

            default:
            {
                ValueTask<AsyncReaderWriterLock.WriteLease> pending = _lock.AcquireWriteAsync(timeout, cancellationToken);
                return pending.IsCompletedSuccessfully ? new ValueTask<Hold>(new Hold { Write = pending.Result }) : AwaitWriteAsync(pending);
            }
        }

        static async ValueTask<Hold> AwaitReadAsync(ValueTask<AsyncReaderWriterLock.ReadLease> pending) =>
            new Hold { Read = await pending.ConfigureAwait(false) };

        static async ValueTask<Hold> AwaitUpgradeableAsync(ValueTask<AsyncReaderWriterLock.UpgradeableReadLease> pending) =>
            new Hold { Upgradeable = await pending.ConfigureAwait(false) };

        static async ValueTask<Hold> AwaitWriteAsync(ValueTask<AsyncReaderWriterLock.WriteLease> pending) =>
            new Hold { Write = await pending.ConfigureAwait(false) };
    }

    public override bool Enter(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken, out Hold hold)
    {
        hold = default;
        return mode switch
        {
            LeaseMode.Read => _lock.TryAcquireRead(timeout, cancellationToken).TryTransfer(out hold.Read),
            LeaseMode.UpgradeableRead => _lock.TryAcquireUpgradeableRead(timeout, cancellationToken).TryTransfer(out hold.Upgradeable),
            _ => _lock.TryAcquireWrite(timeout, cancellationToken).TryTransfer(out hold.Write),
        };
    }

    public override void Exit(in Hold hold)
    {
        // Exactly one of the three is a real lease; the others are default and release nothing.
        hold.Read.Dispose();
        hold.Upgradeable.Dispose();
        hold.Write.Dispose();
    }

    public override void Store(in Hold source, ref Hold target)
    {
        target.Read = source.Read;
        target.Upgradeable = source.Upgradeable;
        target.Write = source.Write;
    }

    public override void Dispose() => _lock.Dispose();
}

/// <summary>
/// A resource backed by a <see cref="PriorityLock"/>: every mode holds alone; waiters are granted
/// by priority, then in arrival order.
/// </summary>
internal sealed class PriorityGate : ResourceGate
{
    private readonly PriorityLock _lock;

    public PriorityGate(TimeProvider timeProvider, TimeSpan agingInterval)
    {
        _lock = new PriorityLock(new PriorityLockOptions { Name = "named resource", TimeProvider = timeProvider, AgingInterval = agingInterval });
    }

    public override ResourceKind Kind => ResourceKind.Priority;

    public override bool IsHeld => _lock.IsHeld;

    public override int WaitingCount => _lock.WaitingCount;

    public override bool HoldsAlone(LeaseMode mode) => true;

    public override bool TryEnter(LeaseMode mode, long units, out Hold hold)
    {
        hold = default;
        return _lock.TryAcquire(out hold.Prioritized);
    }

    public override ValueTask<Hold> EnterAsync(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ValueTask<PriorityLock.Lease> pending = _lock.AcquireAsync(priority, timeout, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<Hold>(new Hold { Prioritized = pending.Result });
        }

        return AwaitAsync(pending);

        static async ValueTask<Hold> AwaitAsync(ValueTask<PriorityLock.Lease> pending) =>
            new Hold { Prioritized = await pending.ConfigureAwait(false) };
    }

    public override bool Enter(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken, out Hold hold)
    {
        hold = default;
        return _lock.TryAcquire(priority, timeout, cancellationToken).TryTransfer(out hold.Prioritized);
    }

    public override void Exit(in Hold hold) => hold.Prioritized.Dispose();

    public override void Store(in Hold source, ref Hold target) => target.Prioritized = source.Prioritized;

    public override void Dispose() => _lock.Dispose();
}
