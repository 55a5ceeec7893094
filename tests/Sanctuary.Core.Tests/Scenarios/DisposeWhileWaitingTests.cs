using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.Scenarios;

/// <summary>Dispose while a holder works and five waiters queue, one cancelling and one timing out.</summary>
[Collection(SerialCollection.Name)]
public sealed class DisposeWhileWaitingTests
{
    private static readonly TimeSpan s_completeWithin = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(LockFairness.Fifo, true)]
    [InlineData(LockFairness.Fifo, false)]
    [InlineData(LockFairness.Throughput, true)]
    [InlineData(LockFairness.Throughput, false)]
    public async Task Dispose_RightAfterCancel_EveryWaiterFinishesAndNothingGoesUnobserved(LockFairness fairness, bool fakeClock)
    {
        // The event is process-wide, so count only exceptions that come from this test's lock.
        string name = "closing-" + Guid.NewGuid().ToString("N");
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.ToString().Contains(name, StringComparison.Ordinal) || e.Exception.ToString().Contains("Sanctuary.AsyncLock", StringComparison.Ordinal))
            {
                unobserved.Enqueue(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await RunScenarioAsync(name, fairness, fakeClock);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.True(unobserved.IsEmpty, $"Unobserved exceptions: {string.Join(" | ", unobserved)}");
    }

    private static async Task RunScenarioAsync(string name, LockFairness fairness, bool fakeClock)
    {
        var clock = new FakeTimeProvider();
        var options = fakeClock
            ? new AsyncLockOptions { Name = name, Fairness = fairness, TimeProvider = clock }
            : new AsyncLockOptions { Name = name, Fairness = fairness };
        var gate = new AsyncLock(options);
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
        using var token = new CancellationTokenSource();
        Task<AsyncLock.Lease> w1 = gate.AcquireAsync().AsTask();
        Task<AsyncLock.Lease> w2 = gate.AcquireAsync().AsTask();
        Task<AsyncLock.Lease> w3 = gate.AcquireAsync(token.Token).AsTask();
        Task<AsyncLock.Lease> w4 = gate.AcquireAsync(TimeSpan.FromMilliseconds(50)).AsTask();
        Task<AsyncLock.Lease> w5 = gate.AcquireAsync().AsTask();
        Assert.Equal(5, gate.WaitingCount);

        token.Cancel();
        gate.Dispose();
        if (fakeClock)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
        }
        else
        {
            await Task.Delay(100);
        }

        holder.Release();
        Assert.False(gate.IsHeld, "The holder's release after Dispose did not clear IsHeld.");
        Assert.False(holder.Release(), "The holder's lease released a second time.");

        Task all = Task.WhenAll(w1, w2, w3, w4, w5);
        await Task.WhenAny(all, Task.Delay(s_completeWithin));
        _ = all.Exception;
        foreach (Task<AsyncLock.Lease> waiter in new[] { w1, w2, w4, w5 })
        {
            Assert.True(waiter.IsCompleted, "A waiter was still pending one second after Dispose.");
            await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter);
        }

        Assert.True(w3.IsCompleted, "The cancelled waiter was still pending one second after Dispose.");
        Exception? cancelledOutcome = await Record.ExceptionAsync(() => w3);
        Assert.True(cancelledOutcome is OperationCanceledException or ObjectDisposedException, $"The cancelled waiter ended with {cancelledOutcome?.GetType().Name ?? "a lease"}.");
        Assert.Equal(0, gate.WaitingCount);

        var afterwards = await Assert.ThrowsAsync<ObjectDisposedException>(async () => await gate.AcquireAsync());
        Assert.Contains(name, afterwards.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquire(out _));
        Assert.Throws<ObjectDisposedException>(() => { using AsyncLock.Scope scope = gate.Acquire(); });
    }
}
