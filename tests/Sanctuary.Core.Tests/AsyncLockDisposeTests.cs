using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockDisposeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    public static TheoryData<int> AcquireForms => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

    private static async Task AcquireByForm(AsyncLock gate, int form)
    {
        switch (form)
        {
            case 0: (await gate.AcquireAsync()).Dispose(); break;
            case 1: (await gate.AcquireAsync(TimeSpan.FromSeconds(1))).Dispose(); break;
            case 2: (await gate.AcquireAsync(1000)).Dispose(); break;
            case 3: (await gate.TryAcquireAsync(TimeSpan.FromSeconds(1))).Dispose(); break;
            case 4: (await gate.TryAcquireAsync(1000)).Dispose(); break;
            case 5: gate.TryAcquire(out AsyncLock.Lease lease); lease.Dispose(); break;
            case 6: AcquireSync(gate, scopeForm: 0); break;
            case 7: AcquireSync(gate, scopeForm: 1); break;
            case 8: AcquireSync(gate, scopeForm: 2); break;
            case 9: AcquireSync(gate, scopeForm: 3); break;
            default: AcquireSync(gate, scopeForm: 4); break;
        }
    }

    private static void AcquireSync(AsyncLock gate, int scopeForm)
    {
        using AsyncLock.Scope scope = scopeForm switch
        {
            0 => gate.Acquire(),
            1 => gate.Acquire(TimeSpan.FromSeconds(1)),
            2 => gate.Acquire(1000),
            3 => gate.TryAcquire(TimeSpan.FromSeconds(1)),
            _ => gate.TryAcquire(1000),
        };
    }

    [Fact]
    public void Dispose_Twice_IsHarmless()
    {
        var gate = new AsyncLock();

        gate.Dispose();
        gate.Dispose();

        Assert.True(gate.IsDisposed);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
    }

    [Theory]
    [MemberData(nameof(AcquireForms))]
    public async Task Acquire_AfterDispose_ThrowsObjectDisposedNamingLock(int form)
    {
        var gate = new AsyncLock(new AsyncLockOptions { Name = "closed-ledger" });
        gate.Dispose();

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => AcquireByForm(gate, form));

        Assert.Contains("closed-ledger", error.Message, StringComparison.Ordinal);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public async Task Dispose_WithQueuedAsyncWaiters_FailsEachWithObjectDisposed()
    {
        var gate = new AsyncLock(new AsyncLockOptions { Name = "queue-owner" });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease>[] pending = Waiters.QueueInOrder(gate, 4, i => (i % 2) == 0 ? gate.AcquireAsync() : gate.TryAcquireAsync(TimeSpan.FromMinutes(1)));

        gate.Dispose();

        Assert.Equal(0, gate.WaitingCount);
        foreach (ValueTask<AsyncLock.Lease> waiter in pending)
        {
            Assert.True(waiter.IsCompleted, "Dispose left a waiter pending.");
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await waiter);
            Assert.Contains("queue-owner", error.Message, StringComparison.Ordinal);
        }

        holder.Dispose();
    }

    [Fact]
    public async Task Dispose_WithBlockedSyncWaiter_FailsItWithObjectDisposed()
    {
        var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        Task<bool> blocked = Waiters.RunOnOwnThread(() =>
        {
            using AsyncLock.Scope scope = gate.Acquire();
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking acquire never queued.");

        gate.Dispose();

        Assert.True(Eventually.Holds(() => blocked.IsCompleted, s_bound), "Dispose did not wake the blocked acquire.");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocked);
        holder.Dispose();
    }

    [Fact]
    public void Dispose_WhileHeld_HolderStillHoldsUntilItReleasesOnce()
    {
        var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        gate.Dispose();

        Assert.True(gate.IsHeld);
        Assert.True(holder.IsHeld);
        holder.Release();
        Assert.False(holder.IsHeld);
        Assert.False(gate.IsHeld);
        Assert.False(holder.Release(), "A second release after dispose reported that it released something.");
        holder.Dispose();
    }

    [Fact]
    public async Task Dispose_BeforeWaiterTimeout_TimerFiringLaterIsHarmless()
    {
        var clock = new FakeTimeProvider();
        var gate = new AsyncLock(new AsyncLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        ValueTask<AsyncLock.Lease> timed = gate.AcquireAsync(TimeSpan.FromMilliseconds(50));

        gate.Dispose();
        clock.Advance(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await timed);
        holder.Dispose();
        Assert.False(gate.IsHeld);
    }
}
