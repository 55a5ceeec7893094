using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Tests.Resources;

public sealed class PriorityAgingTests
{
    [Fact]
    public async Task LowWaiter_AfterAgingIntervals_OvertakesLaterHighWaiter()
    {
        var clock = new FakeTimeProvider();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions
        {
            TimeProvider = clock,
            PriorityAgingInterval = TimeSpan.FromSeconds(1),
        });
        ResourceLease holder = await registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.High });

        ValueTask<ResourceLease> low = registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.Low });
        clock.Advance(TimeSpan.FromSeconds(3.5));
        ValueTask<ResourceLease> high = registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.High });

        holder.Dispose();
        ResourceLease first = await low.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(first.IsHeld, "the aged low-priority waiter should hold the resource first");
        Assert.False(high.IsCompleted, "the later high-priority waiter should still wait");
        first.Dispose();
        (await high.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task StrictLevels_WithInfiniteAging_KeepHighFirst()
    {
        var clock = new FakeTimeProvider();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions
        {
            TimeProvider = clock,
            PriorityAgingInterval = Timeout.InfiniteTimeSpan,
        });
        ResourceLease holder = await registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.High });

        ValueTask<ResourceLease> low = registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.Low });
        clock.Advance(TimeSpan.FromSeconds(30));
        ValueTask<ResourceLease> high = registry.AcquireAsync("press", new LeaseOptions { Priority = LockPriority.High });

        holder.Dispose();
        ResourceLease first = await high.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(first.IsHeld, "with strict levels the high-priority waiter should hold the resource first");
        Assert.False(low.IsCompleted, "the low-priority waiter should still wait");
        first.Dispose();
        (await low.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public void PriorityAgingInterval_ZeroOrNegative_Throws()
    {
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceRegistryOptions { PriorityAgingInterval = TimeSpan.Zero });
        Assert.Equal("PriorityAgingInterval", zero.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceRegistryOptions { PriorityAgingInterval = TimeSpan.FromSeconds(-2) });
    }
}
