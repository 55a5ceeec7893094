using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

/// <summary>The uncontended path and steady-state contention allocate nothing.</summary>
[Collection(SerialCollection.Name)]
public sealed class AllocationTests
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
        using var gate = new AsyncLock();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                gate.TryAcquire(out AsyncLock.Lease lease);
                lease.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void AcquireAsyncAndRelease_Uncontended_AllocatesNothing()
    {
        using var gate = new AsyncLock();
        using var source = new CancellationTokenSource();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                Waiters.Consume(gate.AcquireAsync()).Lease.Dispose();
                Waiters.Consume(gate.AcquireAsync(source.Token)).Lease.Dispose();
                Waiters.Consume(gate.TryAcquireAsync(TimeSpan.FromSeconds(1), source.Token)).Lease.Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void SyncAcquireAndRelease_Uncontended_AllocatesNothing()
    {
        using var gate = new AsyncLock();

        long bytes = AllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using AsyncLock.Scope scope = gate.Acquire();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void HandOff_SteadyStateContention_AllocatesNothing()
    {
        using var gate = new AsyncLock();

        long bytes = AllocatedBy(() =>
        {
            Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
            for (int i = 0; i < Rounds; i++)
            {
                ValueTask<AsyncLock.Lease> waiter = gate.AcquireAsync();
                holder.Dispose();
                Assert.True(waiter.IsCompleted);
                holder = Waiters.Consume(waiter).Lease;
            }

            holder.Dispose();
        });

        Assert.True(bytes < 1024, $"Steady-state hand-off allocated {bytes} bytes over {Rounds} rounds.");
    }
}
