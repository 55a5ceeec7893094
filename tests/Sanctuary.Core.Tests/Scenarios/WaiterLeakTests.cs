using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.Scenarios;

/// <summary>Waiters that give up, and tokens that outlive many acquires, leave nothing behind.</summary>
[Collection(SerialCollection.Name)]
public sealed class WaiterLeakTests
{
    private const long MaxHeapGrowth = 1024 * 1024;
    private const int BatchSize = 1_000;
    private readonly ITestOutputHelper _output;

    public WaiterLeakTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private static long HeapAfterFullCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// Starts one batch of try-acquires against a lock that stays held: a third with a zero timeout, a
    /// third with a 1 ms timeout and a third with an already-cancelled token. Then it lets the timeouts
    /// fire and counts the attempts that did not give up without the lock.
    /// </summary>
    private static int RunGiveUpBatch(AsyncLock gate, ValueTask<AsyncLock.Lease>[] batch, CancellationToken cancelled, Action letTimeoutsFire)
    {
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = Waiters.Start(() => (i % 3) switch
            {
                0 => gate.TryAcquireAsync(TimeSpan.Zero),
                1 => gate.TryAcquireAsync(TimeSpan.FromMilliseconds(1)),
                _ => gate.TryAcquireAsync(TimeSpan.FromMilliseconds(1), cancelled),
            });
        }

        letTimeoutsFire();
        int wrong = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            ValueTask<AsyncLock.Lease> attempt = batch[i];
            if (!attempt.IsCompleted && !Eventually.Holds(() => attempt.IsCompleted, TimeSpan.FromSeconds(5)))
            {
                wrong++;
                continue;
            }

            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(attempt);
            bool expected = (i % 3) == 2 ? error is OperationCanceledException : error is null && !lease.IsHeld;
            if (!expected)
            {
                wrong++;
            }
        }

        return wrong;
    }

    [Fact]
    public void MillionGiveUps_FakeClock_QueueEmptiesAndHeapStaysFlat()
    {
        var clock = new FakeTimeProvider();
        using var gate = new AsyncLock(new AsyncLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var cancelledSource = new CancellationTokenSource();
        cancelledSource.Cancel();
        var batch = new ValueTask<AsyncLock.Lease>[BatchSize];
        void Fire() => clock.Advance(TimeSpan.FromMilliseconds(1));
        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunGiveUpBatch(gate, batch, cancelledSource.Token, Fire);
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        for (int round = 0; round < 1_000_000 / BatchSize; round++)
        {
            wrong += RunGiveUpBatch(gate, batch, cancelledSource.Token, Fire);
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;

        _output.WriteLine($"heap growth after 1,000,000 give-ups: {growth:N0} bytes");
        Assert.Equal(0, wrong);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 1,000,000 abandoned acquires.");
        Assert.True(holder.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void HundredThousandGiveUps_RealClock_QueueEmptiesAndHeapStaysFlat()
    {
        using var gate = new AsyncLock();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var cancelledSource = new CancellationTokenSource();
        cancelledSource.Cancel();
        var batch = new ValueTask<AsyncLock.Lease>[BatchSize];
        static void Nothing()
        {
        }

        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunGiveUpBatch(gate, batch, cancelledSource.Token, Nothing);
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        for (int round = 0; round < 100_000 / BatchSize; round++)
        {
            wrong += RunGiveUpBatch(gate, batch, cancelledSource.Token, Nothing);
        }

        Array.Clear(batch);
        long growth = HeapAfterFullCollection() - before;

        _output.WriteLine($"heap growth after 100,000 real-clock give-ups: {growth:N0} bytes");
        Assert.Equal(0, wrong);
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 0), $"{gate.WaitingCount} waiters are still queued.");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 100,000 abandoned acquires.");
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void MillionUncontendedAcquires_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var gate = new AsyncLock();
        using var longLived = new CancellationTokenSource();
        for (int i = 0; i < 1_000; i++)
        {
            Waiters.Consume(gate.AcquireAsync(longLived.Token)).Lease.Dispose();
        }

        long before = HeapAfterFullCollection();
        for (int i = 0; i < 1_000_000; i++)
        {
            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(gate.AcquireAsync(longLived.Token));
            Assert.Null(error);
            lease.Dispose();
        }

        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);

        _output.WriteLine($"heap growth after 1,000,000 uncontended acquires with one token: {growth:N0} bytes");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes while the long-lived token stayed alive.");
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void HundredThousandGrantedWaits_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var gate = new AsyncLock();
        using var longLived = new CancellationTokenSource();
        void Rounds(int count)
        {
            Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
            for (int i = 0; i < count; i++)
            {
                ValueTask<AsyncLock.Lease> waiter = gate.AcquireAsync(longLived.Token);
                holder.Dispose();
                Assert.True(Eventually.Holds(() => waiter.IsCompleted), "A waiter was not granted after the release.");
                (holder, Exception? error) = Waiters.Consume(waiter);
                Assert.Null(error);
            }

            holder.Dispose();
        }

        Rounds(1_000);
        long before = HeapAfterFullCollection();
        Rounds(100_000);
        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);

        _output.WriteLine($"heap growth after 100,000 granted waits with one token: {growth:N0} bytes");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes: granted waiters left registrations on the long-lived token.");
        LockAssert.IsFree(gate);
    }
}
