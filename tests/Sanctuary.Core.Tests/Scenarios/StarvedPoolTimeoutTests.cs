using System;
using Sanctuary.Tests.Infrastructure;
using Sanctuary.Tests.ReaderWriterLock;
using Xunit;

namespace Sanctuary.Tests.Scenarios;

/// <summary>
/// Blocking acquires with a timeout, on threads outside the thread pool, while every pool thread
/// is blocked. With the system clock the blocked thread ends its own wait at the deadline, so the
/// timeout must not wait until the pool can run the primitive's timer callback.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class StarvedPoolTimeoutTests
{
    private const string Held = "held";
    private const string NotHeld = "not held";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(100);

    // Well under the half second after which the runtime adds a thread to a starved pool (see
    // StarvedThreadPool). A timeout that waited for the timer callback cannot return within it.
    private static readonly TimeSpan s_returnBound = TimeSpan.FromMilliseconds(350);

    // Long enough for the runtime to add a thread, so that a call that waits for the timer
    // callback still returns and the failure message reports how long it took.
    private static readonly TimeSpan s_joinBound = TimeSpan.FromSeconds(5);

    // The deadline is computed from a timestamp read inside the call, and its conversion from a
    // TimeSpan may round down by one tick.
    private static readonly TimeSpan s_earliestTimeout = s_timeout - TimeSpan.FromMilliseconds(1);

    [Theory]
    [InlineData(LockFairness.Fifo, false)]
    [InlineData(LockFairness.Fifo, true)]
    [InlineData(LockFairness.Throughput, false)]
    [InlineData(LockFairness.Throughput, true)]
    public void AsyncLock_BlockingTimeout_EndsWhilePoolStarved(LockFairness fairness, bool throwing)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Name = "starved-lock", Fairness = fairness });
        Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));

        using (StarvedThreadPool starved = StarvedThreadPool.Start())
        {
            DedicatedCall waiter = DedicatedCall.Start("timed acquirer", () =>
            {
                using AsyncLock.Scope scope = throwing ? gate.Acquire(s_timeout) : gate.TryAcquire(s_timeout);
                return scope.IsHeld ? Held : NotHeld;
            });

            AssertTimedOutWhileStarved(starved, waiter, throwing ? nameof(LockTimeoutException) : NotHeld, "The blocking acquire");
        }

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.Release());
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void RwLock_StarvedWriterTimeout_AdmitsReader()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "starved-rw" });
        Assert.True(gate.TryAcquireRead(out AsyncReaderWriterLock.ReadLease holder));

        using (StarvedThreadPool starved = StarvedThreadPool.Start())
        {
            DedicatedCall writer = DedicatedCall.Start("timed writer", () =>
            {
                using AsyncReaderWriterLock.WriteScope scope = gate.TryAcquireWrite(s_timeout);
                return scope.IsHeld ? Held : NotHeld;
            });
            Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The writer did not queue behind the reader.");

            // The waiting writer keeps new readers out, so this reader queues behind it.
            DedicatedCall reader = DedicatedCall.Start("reader behind the writer", () =>
            {
                using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead();
                return scope.IsHeld ? Held : NotHeld;
            });
            Assert.True(
                Eventually.Holds(() => gate.WaitingCount == 2 || writer.Outcome is not null),
                "The reader neither queued behind the writer nor saw the writer leave.");
            Assert.True(writer.Outcome is null, "The writer timed out before the reader queued; the reader's admission after the timeout went untested.");

            AssertTimedOutWhileStarved(starved, writer, NotHeld, "The blocking write acquire");
            AssertEndedWhileStarved(starved, reader, Held, "The reader queued behind the timed-out writer");
        }

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.Release());
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void RwLock_StarvedReadTimeout_Ends()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "starved-rw" });
        Assert.True(gate.TryAcquireWrite(out AsyncReaderWriterLock.WriteLease holder));

        using (StarvedThreadPool starved = StarvedThreadPool.Start())
        {
            DedicatedCall reader = DedicatedCall.Start("timed reader", () =>
            {
                using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead(s_timeout);
                return scope.IsHeld ? Held : NotHeld;
            });

            AssertTimedOutWhileStarved(starved, reader, nameof(LockTimeoutException), "The blocking read acquire");
        }

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.Release());
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PriorityLock_BlockingTimeout_EndsWhilePoolStarved(bool throwing)
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "starved-priority" });
        Assert.True(gate.TryAcquire(out PriorityLock.Lease holder));

        using (StarvedThreadPool starved = StarvedThreadPool.Start())
        {
            DedicatedCall waiter = DedicatedCall.Start("timed acquirer", () =>
            {
                using PriorityLock.Scope scope = throwing
                    ? gate.Acquire(LockPriority.High, s_timeout)
                    : gate.TryAcquire(LockPriority.High, s_timeout);
                return scope.IsHeld ? Held : NotHeld;
            });

            AssertTimedOutWhileStarved(starved, waiter, throwing ? nameof(LockTimeoutException) : NotHeld, "The blocking acquire");
        }

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(holder.Release());
        Assert.False(gate.IsHeld);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CapacityPool_HeadTimeoutWhileStarved_GrantsRequestBehind(bool throwing)
    {
        using var pool = new CapacityPool(4, new CapacityPoolOptions { Name = "starved-pool" });
        Assert.True(pool.TryReserve(3, out CapacityPool.Reservation holder));

        using (StarvedThreadPool starved = StarvedThreadPool.Start())
        {
            DedicatedCall head = DedicatedCall.Start("timed request for 4 units", () =>
            {
                using CapacityPool.Scope scope = throwing ? pool.Reserve(4, s_timeout) : pool.TryReserve(4, s_timeout);
                return scope.IsHeld ? Held : NotHeld;
            });
            Assert.True(Eventually.Holds(() => pool.WaitingCount == 1), "The request for 4 units did not queue.");

            // The one free unit would fit, but requests are granted in order, so this one queues
            // behind the request for 4 units.
            DedicatedCall behind = DedicatedCall.Start("request for 1 unit", () =>
            {
                using CapacityPool.Scope scope = pool.Reserve(1);
                return scope.IsHeld ? Held : NotHeld;
            });
            Assert.True(
                Eventually.Holds(() => pool.WaitingCount == 2 || head.Outcome is not null),
                "The request for 1 unit neither queued behind the request for 4 nor saw it leave.");
            Assert.True(head.Outcome is null, "The request for 4 units timed out before the request for 1 queued; the grant after the timeout went untested.");

            AssertTimedOutWhileStarved(starved, head, throwing ? nameof(CapacityPoolTimeoutException) : NotHeld, "The blocking request for 4 units");
            AssertEndedWhileStarved(starved, behind, Held, "The request for 1 unit behind it");
        }

        Assert.Equal(0, pool.WaitingCount);
        Assert.True(holder.Release());
        Assert.Equal(4, pool.Available);
    }

    private static void AssertTimedOutWhileStarved(StarvedThreadPool starved, DedicatedCall call, string expected, string what)
    {
        AssertEndedWhileStarved(starved, call, expected, what);
        Assert.True(
            call.Elapsed >= s_earliestTimeout,
            $"{what} gave up after {call.Elapsed.TotalMilliseconds:0.#} ms, before its {s_timeout.TotalMilliseconds:0} ms timeout.");
    }

    private static void AssertEndedWhileStarved(StarvedThreadPool starved, DedicatedCall call, string expected, string what)
    {
        Assert.True(call.Join(s_joinBound), $"{what} was still blocked {s_joinBound.TotalSeconds:0} s after it started.");
        Assert.True(
            call.Elapsed < s_returnBound,
            $"{what} returned '{call.Outcome}' after {call.Elapsed.TotalMilliseconds:0} ms; with a {s_timeout.TotalMilliseconds:0} ms timeout it should return within {s_returnBound.TotalMilliseconds:0} ms even while every pool thread is blocked.");
        Assert.Equal(expected, call.Outcome);
        starved.AssertStillStarved(what);
    }
}
