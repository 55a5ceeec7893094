using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>Helpers that queue waiters in a known order and observe how they finish.</summary>
internal static class Waiters
{
    /// <summary>
    /// Starts <paramref name="count"/> async acquires one after another and checks that each one queued
    /// before the next starts, so their arrival order is exactly their index order.
    /// </summary>
    public static ValueTask<AsyncLock.Lease>[] QueueInOrder(AsyncLock gate, int count, Func<int, ValueTask<AsyncLock.Lease>>? start = null)
    {
        var pending = new ValueTask<AsyncLock.Lease>[count];
        int before = gate.WaitingCount;
        for (int i = 0; i < count; i++)
        {
            pending[i] = start is null ? gate.AcquireAsync() : start(i);
            Assert.False(pending[i].IsCompleted, $"Waiter {i} completed at once although the lock is held.");
            Assert.Equal(before + i + 1, gate.WaitingCount);
        }

        return pending;
    }

    /// <summary>
    /// Awaits a queued acquire, records its index when granted, and releases at once.
    /// </summary>
    public static async Task RecordGrantAndRelease(ValueTask<AsyncLock.Lease> pending, int index, ConcurrentQueue<int> order)
    {
        AsyncLock.Lease lease = await pending;
        order.Enqueue(index);
        Assert.True(lease.Release(), $"Waiter {index} could not release the lease it was granted.");
    }

    /// <summary>Waits for a task with a bound, failing the test instead of hanging it.</summary>
    public static async Task WithinAsync(Task task, TimeSpan bound, string what)
    {
        Task first = await Task.WhenAny(task, Task.Delay(bound));
        Assert.True(ReferenceEquals(first, task), $"{what} did not finish within {bound.TotalSeconds:0.#} s.");
        await task;
    }

    public static async Task<T> WithinAsync<T>(Task<T> task, TimeSpan bound, string what)
    {
        Task first = await Task.WhenAny(task, Task.Delay(bound));
        Assert.True(ReferenceEquals(first, task), $"{what} did not finish within {bound.TotalSeconds:0.#} s.");
        return await task;
    }

    /// <summary>
    /// Reads the outcome of a completed value task exactly once: the lease, or the exception it threw.
    /// </summary>
    public static (AsyncLock.Lease Lease, Exception? Error) Consume(ValueTask<AsyncLock.Lease> completed)
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
    public static ValueTask<AsyncLock.Lease> Start(Func<ValueTask<AsyncLock.Lease>> start)
    {
        try
        {
            return start();
        }
        catch (Exception error)
        {
            return ValueTask.FromException<AsyncLock.Lease>(error);
        }
    }

    /// <summary>
    /// Runs a blocking body on a dedicated thread (never a pool thread) and completes the task with its
    /// result or its exception.
    /// </summary>
    public static Task<T> RunOnOwnThread<T>(Func<T> body, string name = "blocking acquirer")
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
            Name = name,
        };
        thread.Start();
        return outcome.Task;
    }

    public static List<int> Drain(ConcurrentQueue<int> order) => [.. order];
}
