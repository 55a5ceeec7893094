using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.PriorityLocks.PriorityLockKit;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>The uncontended path and steady-state contention of the priority lock allocate nothing.</summary>
[Collection(SerialCollection.Name)]
public sealed class PriorityLockAllocationTests
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
    public void TryAcquireAndRelease_Uncontended_AllocatesNothing()
    {
        using var gate = new PriorityLock();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                gate.TryAcquire(out PriorityLock.Lease lease);
                lease.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void AcquireAsyncAndRelease_Uncontended_AllocatesNothing()
    {
        using var gate = new PriorityLock();
        using var source = new CancellationTokenSource();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                Consume(gate.AcquireAsync()).Lease.Dispose();
                Consume(gate.AcquireAsync(LockPriority.Critical, source.Token)).Lease.Dispose();
                Consume(gate.TryAcquireAsync(LockPriority.Low, TimeSpan.FromSeconds(1), source.Token)).Lease.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void SyncAcquireAndRelease_Uncontended_AllocatesNothing()
    {
        using var gate = new PriorityLock();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using PriorityLock.Scope scope = gate.Acquire(LockPriority.High);
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void HandOff_SteadyStateContentionAcrossLevels_AllocatesNothing()
    {
        var clock = new FakeTimeProvider();
        using var gate = new PriorityLock(new PriorityLockOptions { TimeProvider = clock, AgingInterval = TimeSpan.FromMilliseconds(5) });
        var pending = new ValueTask<PriorityLock.Lease>[4];

        long bytes = AllocatedBy(() =>
        {
            Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));
            for (int i = 0; i < Rounds; i++)
            {
                for (int level = 0; level < pending.Length; level++)
                {
                    pending[level] = gate.TryAcquireAsync((LockPriority)level, TimeSpan.FromSeconds(1));
                }

                for (int granted = pending.Length - 1; granted >= 0; granted--)
                {
                    holder.Dispose();
                    Assert.True(pending[granted].IsCompleted);
                    holder = Consume(pending[granted]).Lease;
                }

                clock.Advance(TimeSpan.FromMilliseconds(1));
            }

            holder.Dispose();
        });

        Assert.True(bytes < 1024, $"Steady-state hand-off allocated {bytes} bytes over {Rounds} rounds.");
    }
}
