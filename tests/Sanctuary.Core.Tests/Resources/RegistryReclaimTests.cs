using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.Resources;

/// <summary>Idle entries are reclaimed at once, and never while someone waits on them.</summary>
[Collection(SerialCollection.Name)]
public sealed class RegistryReclaimTests
{
    [Fact]
    public async Task ContendedKey_ManyIterations_ExclusiveAndEmpty()
    {
        using var registry = new ResourceRegistry();
        var k = new ExclusionProbe();
        var j = new ExclusionProbe();
        const int Iterations = 100_000;
        int remaining = Iterations;

        // A, B and C contend on "k" until the shared budget of iterations is spent, so each
        // entry is reclaimed and recreated many times while others wait for it.
        async Task Contend(int worker)
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                ResourceLease lease;
                if (worker != 0 || !registry.TryAcquire("k", out lease))
                {
                    lease = await registry.AcquireAsync("k");
                }

                k.Enter();
                if ((remaining & 63) == 0)
                {
                    await Task.Yield();
                }

                k.Exit();
                lease.Dispose();
            }
        }

        using var stop = new CancellationTokenSource();
        Task neighbour = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using ResourceLease lease = await registry.AcquireAsync("j");
                j.Enter();
                j.Exit();
            }
        });

        Task[] workers = { Task.Run(() => Contend(0)), Task.Run(() => Contend(1)), Task.Run(() => Contend(2)) };
        await Waiters.WithinAsync(Task.WhenAll(workers), TimeSpan.FromSeconds(120), "three workers contending on 'k'");
        stop.Cancel();
        await Waiters.WithinAsync(neighbour, TimeSpan.FromSeconds(10), "the worker on 'j'");

        Assert.True(k.Violations == 0, $"'k': {k}");
        Assert.True(j.Violations == 0, $"'j': {j}");
        Assert.True(k.Entries >= Iterations, $"'k' was entered {k.Entries} times; expected {Iterations}.");
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task MillionDistinctIds_TouchedOnce_LeaveNoEntries()
    {
        using var registry = new ResourceRegistry();
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 1_000_000; i++)
        {
            ResourceLease lease = await registry.AcquireAsync("order:" + i);
            lease.Dispose();
        }

        Assert.Equal(0, registry.ResourceCount);
        long growth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        Assert.True(growth < 4 * 1024 * 1024, $"The heap grew by {growth} bytes after a million distinct ids; expected the idle entries to be gone.");
    }

    [Fact]
    public async Task Waiter_KeepsEntryAlive()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("k");
        ValueTask<ResourceLease> waiter = registry.AcquireAsync("k");
        holder.Dispose();
        Assert.Equal(1, registry.ResourceCount);
        ResourceLease granted = await Waiters.WithinAsync(waiter.AsTask(), TimeSpan.FromSeconds(5), "the waiter");
        Assert.False(registry.TryAcquire("k", out _));
        granted.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task TimedOutWaiter_LeavesNoEntryBehind()
    {
        using var registry = new ResourceRegistry();
        ResourceLease holder = await registry.AcquireAsync("k");
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await registry.AcquireAsync("k", new LeaseOptions { WaitTimeout = TimeSpan.FromMilliseconds(10) }));
        holder.Dispose();
        Assert.Equal(0, registry.ResourceCount);
    }
}
