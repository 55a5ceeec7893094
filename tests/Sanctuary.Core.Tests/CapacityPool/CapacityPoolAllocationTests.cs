using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.CapacityPools.CapacityPoolKit;

namespace Sanctuary.Tests.CapacityPools;

/// <summary>The uncontended path and steady-state contention of the capacity pool allocate nothing.</summary>
[Collection(SerialCollection.Name)]
public sealed class CapacityPoolAllocationTests
{
    private const int Rounds = 10_000;

    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void TryReserveAndRelease_Uncontended_AllocatesNothing()
    {
        using var pool = new CapacityPool(16);

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                pool.TryReserve(1 + (i & 7), out CapacityPool.Reservation reservation);
                reservation.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void ReserveAsyncAndRelease_Uncontended_AllocatesNothing()
    {
        using var pool = new CapacityPool(16);
        using var source = new CancellationTokenSource();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                Consume(pool.ReserveAsync(3)).Reservation.Dispose();
                Consume(pool.ReserveAsync(5, LockPriority.Critical, source.Token)).Reservation.Dispose();
                Consume(pool.TryReserveAsync(16, LockPriority.Low, TimeSpan.FromSeconds(1), source.Token)).Reservation.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void SyncReserveAndRelease_Uncontended_AllocatesNothing()
    {
        using var pool = new CapacityPool(4);

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using CapacityPool.Scope scope = pool.Reserve(2, LockPriority.High);
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void ManyOpenReservations_AfterLedgerGrew_AllocateNothing()
    {
        using var pool = new CapacityPool(2_000);
        var open = new CapacityPool.Reservation[2_000];

        long bytes = AllocatedBy(() =>
        {
            for (int round = 0; round < 10; round++)
            {
                for (int i = 0; i < open.Length; i++)
                {
                    Assert.True(pool.TryReserve(1, out open[i]));
                }

                for (int i = open.Length - 1; i >= 0; i--)
                {
                    open[i].Dispose();
                }
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void Grants_SteadyStateContentionAcrossLevels_AllocateNothing()
    {
        using var pool = new CapacityPool(4);
        var pending = new ValueTask<CapacityPool.Reservation>[4];

        long bytes = AllocatedBy(() =>
        {
            CapacityPool.Reservation holder = ReserveNow(pool, 4);
            for (int i = 0; i < Rounds; i++)
            {
                for (int level = 0; level < pending.Length; level++)
                {
                    pending[level] = pool.TryReserveAsync(4, (LockPriority)level, TimeSpan.FromSeconds(1));
                }

                for (int granted = pending.Length - 1; granted >= 0; granted--)
                {
                    holder.Dispose();
                    Assert.True(pending[granted].IsCompleted);
                    holder = Consume(pending[granted]).Reservation;
                }
            }

            holder.Dispose();
        });

        Assert.True(bytes < 1024, $"Steady-state grants allocated {bytes} bytes over {Rounds} rounds.");
    }
}
