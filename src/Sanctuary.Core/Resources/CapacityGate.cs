using System;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// A capacity pool's gate, backed by a <see cref="CapacityPool"/>: holds are amounts of units out
/// of a fixed total, and waiters are served by priority, then in arrival order, so a large
/// request at the head is never overtaken by small ones.
/// </summary>
internal sealed class CapacityGate : ResourceGate
{
    private readonly CapacityPool _pool;

    public CapacityGate(string poolId, long total, TimeProvider timeProvider, TimeSpan agingInterval)
    {
        _pool = new CapacityPool(total, new CapacityPoolOptions { Name = poolId, TimeProvider = timeProvider, AgingInterval = agingInterval });
    }

    public override ResourceKind Kind => ResourceKind.Capacity;

    public long Total => _pool.Total;

    public long Reserved => _pool.Reserved;

    public override bool IsHeld => _pool.Reserved != 0;

    public override int WaitingCount => _pool.WaitingCount;

    public override bool HoldsAlone(LeaseMode mode) => false;

    public override bool TryEnter(LeaseMode mode, long units, out Hold hold)
    {
        hold = default;
        hold.Units = units;
        return _pool.TryReserve(units, out hold.Reservation);
    }

    public override ValueTask<Hold> EnterAsync(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ValueTask<CapacityPool.Reservation> pending = _pool.ReserveAsync(units, priority, timeout, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<Hold>(new Hold { Reservation = pending.Result, Units = units });
        }

        return AwaitAsync(pending, units);

        static async ValueTask<Hold> AwaitAsync(ValueTask<CapacityPool.Reservation> pending, long units) =>
            new Hold { Reservation = await pending.ConfigureAwait(false), Units = units };
    }

    public override bool Enter(LeaseMode mode, LockPriority priority, long units, TimeSpan timeout, CancellationToken cancellationToken, out Hold hold)
    {
        hold = default;
        hold.Units = units;
        return _pool.TryReserve(units, priority, timeout, cancellationToken).TryTransfer(out hold.Reservation);
    }

    public override void Exit(in Hold hold) => hold.Reservation.Dispose();

    public override void Store(in Hold source, ref Hold target)
    {
        target.Reservation = source.Reservation;
        target.Units = source.Units;
    }

    public override void Dispose() => _pool.Dispose();
}
