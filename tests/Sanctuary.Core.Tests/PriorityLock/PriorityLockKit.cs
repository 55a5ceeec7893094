using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>Helpers shared by the priority lock tests.</summary>
internal static class PriorityLockKit
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Reads the outcome of a completed value task exactly once: the lease, or the exception it threw.</summary>
    public static (PriorityLock.Lease Lease, Exception? Error) Consume(ValueTask<PriorityLock.Lease> completed)
    {
        try
        {
            return (completed.GetAwaiter().GetResult(), null);
        }
        catch (Exception error)
        {
            return (default, error);
        }
    }

    /// <summary>Starts an acquire, turning a synchronous throw into a faulted value task.</summary>
    public static ValueTask<PriorityLock.Lease> Start(Func<ValueTask<PriorityLock.Lease>> start)
    {
        try
        {
            return start();
        }
        catch (Exception error)
        {
            return ValueTask.FromException<PriorityLock.Lease>(error);
        }
    }

    /// <summary>
    /// Queues one async acquire per priority, in the given order, and checks that each one queued before
    /// the next started, so the arrival order is the index order.
    /// </summary>
    public static ValueTask<PriorityLock.Lease>[] QueueInOrder(PriorityLock gate, IReadOnlyList<LockPriority> priorities)
    {
        var pending = new ValueTask<PriorityLock.Lease>[priorities.Count];
        int before = gate.WaitingCount;
        for (int i = 0; i < priorities.Count; i++)
        {
            pending[i] = gate.AcquireAsync(priorities[i]);
            Assert.False(pending[i].IsCompleted, $"Waiter {i} completed at once although the lock is held.");
            Assert.Equal(before + i + 1, gate.WaitingCount);
        }

        return pending;
    }

    /// <summary>
    /// Releases the holder and then each granted waiter in turn, and returns the indices in grant order.
    /// Each grant is a hand-off, so the next waiter's task is complete right after the release.
    /// </summary>
    public static List<int> ReleaseAndRecordGrantOrder(PriorityLock.Lease holder, ValueTask<PriorityLock.Lease>[] pending)
    {
        var order = new List<int>();
        var done = new bool[pending.Length];
        PriorityLock.Lease current = holder;
        for (int step = 0; step < pending.Length; step++)
        {
            Assert.True(current.Release(), "A holder could not release the lease it was granted.");
            int granted = -1;
            for (int i = 0; i < pending.Length; i++)
            {
                if (!done[i] && pending[i].IsCompleted)
                {
                    Assert.True(granted < 0, $"Waiters {granted} and {i} were both granted by one release.");
                    granted = i;
                }
            }

            Assert.True(granted >= 0, $"No waiter was granted by release {step}.");
            done[granted] = true;
            order.Add(granted);
            (PriorityLock.Lease lease, Exception? error) = Consume(pending[granted]);
            Assert.Null(error);
            current = lease;
        }

        Assert.True(current.Release(), "The last waiter could not release its lease.");
        return order;
    }

    /// <summary>
    /// Asserts that the lock is exactly as free as a new one: no waiter is queued, one try-acquire succeeds, a
    /// second one fails while the first lease is held, and releasing that lease frees the lock again.
    /// </summary>
    public static void AssertFree(PriorityLock gate)
    {
        Assert.True(
            Eventually.Holds(() => gate.WaitingCount == 0),
            $"Lock '{gate.Name}' still reports {gate.WaitingCount} waiter(s) when it should be idle.");
        Assert.True(gate.TryAcquire(out PriorityLock.Lease first), $"Lock '{gate.Name}' should be free, but a try-acquire failed.");
        Assert.False(gate.TryAcquire(out PriorityLock.Lease second), $"Lock '{gate.Name}' granted a second try-acquire while the first lease was held.");
        Assert.False(second.IsHeld);
        Assert.True(first.Release(), $"Releasing the probe lease of '{gate.Name}' returned false.");
        Assert.False(gate.IsHeld, $"Lock '{gate.Name}' still reports a holder after the probe lease was released.");
    }

    /// <summary>Non-throwing twin of <see cref="AssertFree"/> for checks that run against a broken lock.</summary>
    public static bool LooksFree(PriorityLock gate)
    {
        if (gate.WaitingCount != 0 || !gate.TryAcquire(out PriorityLock.Lease first))
        {
            return false;
        }

        bool secondRefused = !gate.TryAcquire(out PriorityLock.Lease second);
        second.Dispose();
        return secondRefused && first.Release() && !gate.IsHeld;
    }

    /// <summary>Runs a blocking body on a dedicated thread, so a blocked acquire cannot starve the thread pool.</summary>
    public static Task<T> RunOnOwnThread<T>(Func<T> body)
    {
        var outcome = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                outcome.SetResult(body());
            }
            catch (Exception error)
            {
                outcome.SetException(error);
            }
        })
        {
            IsBackground = true,
            Name = "blocking priority acquirer",
        };
        thread.Start();
        return outcome.Task;
    }
}
