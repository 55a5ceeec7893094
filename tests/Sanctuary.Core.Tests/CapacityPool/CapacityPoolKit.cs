using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.CapacityPools;

/// <summary>Helpers shared by the capacity pool tests.</summary>
internal static class CapacityPoolKit
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Reads the outcome of a completed value task exactly once: the reservation, or the exception it threw.</summary>
    public static (CapacityPool.Reservation Reservation, Exception? Error) Consume(ValueTask<CapacityPool.Reservation> completed)
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

    /// <summary>Starts a reserve, turning a synchronous throw into a faulted value task.</summary>
    public static ValueTask<CapacityPool.Reservation> Start(Func<ValueTask<CapacityPool.Reservation>> start)
    {
        try
        {
            return start();
        }
        catch (Exception error)
        {
            return ValueTask.FromException<CapacityPool.Reservation>(error);
        }
    }

    /// <summary>Takes a reservation that must be granted at once.</summary>
    public static CapacityPool.Reservation ReserveNow(CapacityPool pool, long amount)
    {
        Assert.True(pool.TryReserve(amount, out CapacityPool.Reservation reservation), $"{amount} units of '{pool.Name}' should have been available at once.");
        return reservation;
    }

    /// <summary>Asserts that the pool is idle: no request waits, no units are reserved, and the whole total can be reserved once.</summary>
    public static void AssertIdle(CapacityPool pool)
    {
        Assert.True(
            Eventually.Holds(() => pool.WaitingCount == 0),
            $"Pool '{pool.Name}' still reports {pool.WaitingCount} queued request(s) when it should be idle.");
        Assert.Equal(0, pool.Reserved);
        Assert.Equal(pool.Total, pool.Available);
        Assert.True(pool.TryReserve(pool.Total, out CapacityPool.Reservation all), $"The whole total of '{pool.Name}' could not be reserved.");
        Assert.False(pool.TryReserve(1, out CapacityPool.Reservation more), $"Pool '{pool.Name}' granted a unit beyond its total.");
        Assert.False(more.IsHeld);
        Assert.True(all.Release());
        Assert.Equal(pool.Total, pool.Available);
    }

    /// <summary>Non-throwing twin of <see cref="AssertIdle"/> for checks that run against a broken pool.</summary>
    public static bool LooksIdle(CapacityPool pool)
    {
        if (pool.WaitingCount != 0 || pool.Reserved != 0 || !pool.TryReserve(pool.Total, out CapacityPool.Reservation all))
        {
            return false;
        }

        bool refused = !pool.TryReserve(1, out CapacityPool.Reservation more);
        more.Dispose();
        return refused && all.Release() && pool.Available == pool.Total;
    }

    /// <summary>Runs a blocking body on a dedicated thread, so a blocked reserve cannot starve the thread pool.</summary>
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
            Name = "blocking pool reserver",
        };
        thread.Start();
        return outcome.Task;
    }
}
