using System;
using System.Diagnostics;
using System.Threading;
using Sanctuary.Tests.Infrastructure;
using Sanctuary.Tests.ReaderWriterLock;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.Scenarios;

/// <summary>
/// A release that lands at the deadline of a blocked waiter, with the system clock. The releaser's
/// grant, the primitive's timer and the blocked thread's own deadline race to complete the waiter.
/// Whichever wins, the grant must reach either that waiter or the waiter without a timeout behind
/// it, never neither.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SyncDeadlineRaceTests
{
    private const int Rounds = 300;
    private const string Held = "held";
    private const string NotHeld = "not held";

    // The holder releases at a random point within this window after the timed waiter starts,
    // and the waiter's timeout is a random number of whole milliseconds below it.
    private const double ReleaseWindowMilliseconds = 4;
    private const int MaxTimeoutMilliseconds = 3;

    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public SyncDeadlineRaceTests(ITestOutputHelper output)
    {
        _output = output;
    }

    /// <summary>
    /// Hooks of one primitive: take the hold that the waiters block on, wait with a timeout, and
    /// wait without one. Each returns <see cref="Held"/> or <see cref="NotHeld"/>, or throws.
    /// </summary>
    private sealed record Contenders(Func<Func<bool>> TakeHold, Func<TimeSpan, string> WaitWithTimeout, Func<string> WaitWithoutTimeout);

    [Theory]
    [InlineData(LockFairness.Fifo)]
    [InlineData(LockFairness.Throughput)]
    public void AsyncLock_DeadlineRelease_KeepsGrant(LockFairness fairness)
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Name = "deadline-race", Fairness = fairness });
        var probe = new ExclusionProbe();

        string Enter(bool held)
        {
            if (!held)
            {
                return NotHeld;
            }

            probe.Enter();
            probe.Exit();
            return Held;
        }

        var contenders = new Contenders(
            TakeHold: () =>
            {
                Assert.True(gate.TryAcquire(out AsyncLock.Lease holder), "The lock was not free at the start of a round.");
                probe.Enter();
                return () =>
                {
                    probe.Exit();
                    return holder.Release();
                };
            },
            WaitWithTimeout: timeout =>
            {
                using AsyncLock.Scope scope = gate.TryAcquire(timeout);
                return Enter(scope.IsHeld);
            },
            WaitWithoutTimeout: () =>
            {
                using AsyncLock.Scope scope = gate.Acquire();
                return Enter(scope.IsHeld);
            });

        RunRounds($"AsyncLock ({fairness})", contenders);

        Assert.Equal(0, probe.Violations);
        LockAssert.IsFree(gate);
    }

    [Fact]
    public void RwLock_WriterDeadline_AdmitsReader()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "deadline-race" });

        var contenders = new Contenders(
            TakeHold: () =>
            {
                Assert.True(gate.TryAcquireRead(out AsyncReaderWriterLock.ReadLease holder), "The lock was not free at the start of a round.");
                return holder.Release;
            },
            WaitWithTimeout: timeout =>
            {
                using AsyncReaderWriterLock.WriteScope scope = gate.TryAcquireWrite(timeout);
                return scope.IsHeld ? Held : NotHeld;
            },
            WaitWithoutTimeout: () =>
            {
                using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead();
                return scope.IsHeld ? Held : NotHeld;
            });

        RunRounds("AsyncReaderWriterLock", contenders);

        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void PriorityLock_DeadlineRelease_KeepsGrant()
    {
        using var gate = new PriorityLock(new PriorityLockOptions { Name = "deadline-race" });

        var contenders = new Contenders(
            TakeHold: () =>
            {
                Assert.True(gate.TryAcquire(out PriorityLock.Lease holder), "The lock was not free at the start of a round.");
                return holder.Release;
            },
            WaitWithTimeout: timeout =>
            {
                using PriorityLock.Scope scope = gate.TryAcquire(LockPriority.High, timeout);
                return scope.IsHeld ? Held : NotHeld;
            },
            WaitWithoutTimeout: () =>
            {
                using PriorityLock.Scope scope = gate.Acquire(LockPriority.Normal);
                return scope.IsHeld ? Held : NotHeld;
            });

        RunRounds("PriorityLock", contenders);

        Assert.Equal(0, gate.WaitingCount);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void CapacityPool_HeadDeadline_GrantsNext()
    {
        using var pool = new CapacityPool(4, new CapacityPoolOptions { Name = "deadline-race" });

        var contenders = new Contenders(
            TakeHold: () =>
            {
                Assert.True(pool.TryReserve(3, out CapacityPool.Reservation holder), "The pool was not idle at the start of a round.");
                return holder.Release;
            },
            WaitWithTimeout: timeout =>
            {
                using CapacityPool.Scope scope = pool.TryReserve(4, timeout);
                return scope.IsHeld ? Held : NotHeld;
            },
            WaitWithoutTimeout: () =>
            {
                using CapacityPool.Scope scope = pool.Reserve(2);
                return scope.IsHeld ? Held : NotHeld;
            });

        RunRounds("CapacityPool", contenders);

        Assert.Equal(0, pool.WaitingCount);
        Assert.Equal(4, pool.Available);
    }

    private static void SpinFor(TimeSpan duration)
    {
        long until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }
    }

    // Each round: take the hold, start the timed waiter and the waiter without a timeout on their
    // own threads, and release at a random moment around the timed waiter's deadline.
    private void RunRounds(string name, Contenders contenders)
    {
        var random = new Random(41);
        int timedHeld = 0;
        int timedOut = 0;
        for (int round = 0; round < Rounds; round++)
        {
            Func<bool> release = contenders.TakeHold();
            TimeSpan timeout = TimeSpan.FromMilliseconds(random.Next(1, MaxTimeoutMilliseconds + 1));
            TimeSpan releaseAfter = TimeSpan.FromMilliseconds(random.NextDouble() * ReleaseWindowMilliseconds);

            DedicatedCall timed = DedicatedCall.Start("waiter with a timeout", () => contenders.WaitWithTimeout(timeout));
            DedicatedCall patient = DedicatedCall.Start("waiter without a timeout", contenders.WaitWithoutTimeout);
            SpinFor(releaseAfter);
            Assert.True(release(), $"{name}, round {round}: the holder's release returned false.");

            Assert.True(timed.Join(s_bound), $"{name}, round {round}: the waiter with a {timeout.TotalMilliseconds:0} ms timeout was still blocked after {s_bound.TotalSeconds:0} s.");
            Assert.True(patient.Join(s_bound), $"{name}, round {round}: the waiter without a timeout was still blocked after {s_bound.TotalSeconds:0} s, so a grant was lost.");
            Assert.Equal(Held, patient.Outcome);
            if (timed.Outcome == Held)
            {
                timedHeld++;
            }
            else
            {
                Assert.Equal(NotHeld, timed.Outcome);
                timedOut++;
            }
        }

        _output.WriteLine($"{name}: the waiter with a timeout was granted in {timedHeld} rounds and timed out in {timedOut}.");
    }
}
