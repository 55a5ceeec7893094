using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Sanctuary.SystematicTests.CapacityPools;

/// <summary>
/// Test bodies that Coyote runs many times under different schedules, each against a fresh
/// <see cref="CapacityPool"/>, stating invariants with <see cref="Specification.Assert(bool, string, object[])"/>.
/// The same body runs against a correct pool and against one with a deliberate fault.
/// </summary>
internal static class CapacityPoolScenarios
{
    public static CapacityPool Create(long total, CapacityPoolFaults faults, TimeProvider? clock = null) =>
        new(total, new CapacityPoolOptions { Name = "systematic-pool", TimeProvider = clock ?? TimeProvider.System }, faults);

    /// <summary>
    /// Never over-committed: workers that ask for different amounts at different levels each hold their
    /// units <paramref name="rounds"/> times; the first one tries the no-wait path first. The units held
    /// at once never exceed the total, and every release of a reservation works once.
    /// </summary>
    public static async Task NeverOverCommittedAsync(CapacityPoolFaults faults, int rounds, bool blocking = false)
    {
        const long Total = 4;
        long[] amounts = [3, 2, 2];
        CapacityPool pool = Create(Total, faults);
        var units = new UnitsInUse(Total);
        var tasks = new Task[amounts.Length];
        for (int i = 0; i < amounts.Length; i++)
        {
            string who = $"worker {i} ({amounts[i]} units)";
            long amount = amounts[i];
            var level = (LockPriority)(i % 4);
            bool tryFirst = i == 0;
            tasks[i] = blocking
                ? Task.Run(() => SyncWorker(pool, units, who, amount, level, rounds))
                : Task.Run(() => AsyncWorker(pool, units, who, amount, level, rounds, tryFirst));
        }

        await Task.WhenAll(tasks);

        int expected = amounts.Length * rounds;
        Specification.Assert(units.Grants == expected, "{0} reservations were granted; expected {1}.", units.Grants, expected);
        AssertIdle(pool, Total, "contended pool");
    }

    /// <summary>
    /// When the first request gives up, the requests behind it that now fit are granted at once: a
    /// holder keeps 3 of 4 units until the 1-unit request behind a 4-unit request is granted, and the
    /// 4-unit request gives up through its token (or its timeout) in another task. A request that is
    /// not woken when the head leaves never gets its unit, and the holder never releases: a deadlock.
    /// </summary>
    public static async Task HeadGiveUpWakesFittingAsync(CapacityPoolFaults faults, bool byTimeout)
    {
        var clock = new ManualTimeProvider();
        CapacityPool pool = Create(4, faults, clock);
        var units = new UnitsInUse(4);
        using var cancellation = new CancellationTokenSource();
        CapacityPool.Reservation holder = await pool.ReserveAsync(3);
        units.Enter("holder", 3);

        // Both requests queue here, head first, before anything else runs.
        ValueTask<CapacityPool.Reservation> headAcquire = byTimeout
            ? pool.ReserveAsync(4, TimeSpan.FromMilliseconds(10))
            : pool.ReserveAsync(4, cancellation.Token);
        ValueTask<CapacityPool.Reservation> behindAcquire = pool.ReserveAsync(1);
        Specification.Assert(pool.WaitingCount == 2, "WaitingCount is {0} after two requests that do not fit; expected 2.", pool.WaitingCount);

        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var behindGranted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> head = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation;
            try
            {
                reservation = byTimeout ? await headAcquire : await OutcomeAfter(headAcquire, cancelReturned.Task);
            }
            catch (CapacityPoolTimeoutException)
            {
                return "timed out";
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await HoldAsync(units, "4-unit request", reservation);
            return "granted";
        });

        Task behind = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation = await behindAcquire;
            behindGranted.SetResult();
            await HoldAsync(units, "1-unit request behind it", reservation);
        });

        Task givingUp = Task.Run(() =>
        {
            if (byTimeout)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
            }
            else
            {
                cancellation.Cancel();
            }

            cancelReturned.SetResult();
        });

        Task releasing = Task.Run(async () =>
        {
            await behindGranted.Task;
            units.Exit("holder", 3);
            ReleaseOnce("holder", holder);
        });

        await Task.WhenAll(new Task[] { head, behind, givingUp, releasing });
        Specification.Assert(head.Result != "granted", "The 4-unit request ended '{0}' although it gave up while 3 units were held.", head.Result);
        AssertIdle(pool, 4, "head gives up");
    }

    /// <summary>
    /// Head-of-line blocking: while a 4-unit request waits behind a holder of 3 units, small requests
    /// that start later (a try-now and a waiting one) must not take the free unit ahead of it.
    /// </summary>
    public static async Task NoBargingPastBlockedHeadAsync(CapacityPoolFaults faults)
    {
        CapacityPool pool = Create(4, faults);
        var units = new UnitsInUse(4);
        var granted = new List<string>();
        CapacityPool.Reservation holder = await pool.ReserveAsync(3);
        units.Enter("holder", 3);
        ValueTask<CapacityPool.Reservation> largeAcquire = pool.ReserveAsync(4);

        Task large = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation = await largeAcquire;
            lock (granted)
            {
                granted.Add("large");
            }

            await HoldAsync(units, "4-unit request", reservation);
        });

        Task trying = Task.Run(async () =>
        {
            await Task.Yield();
            if (pool.TryReserve(1, out CapacityPool.Reservation reservation))
            {
                lock (granted)
                {
                    granted.Add("small try-now");
                }

                await HoldAsync(units, "1-unit try-now", reservation);
            }
        });

        Task waiting = Task.Run(async () =>
        {
            await Task.Yield();
            CapacityPool.Reservation reservation = await pool.ReserveAsync(1, LockPriority.Normal);
            lock (granted)
            {
                granted.Add("small waiter");
            }

            await HoldAsync(units, "1-unit waiter", reservation);
        });

        Task releasing = Task.Run(async () =>
        {
            await Task.Yield();
            units.Exit("holder", 3);
            ReleaseOnce("holder", holder);
        });

        await Task.WhenAll(new Task[] { large, trying, waiting, releasing });
        string order = string.Join(", ", granted);
        Specification.Assert(
            granted.Count > 0 && granted[0] == "large",
            "Head-of-line blocking violated: grants went to [{0}]; expected the 4-unit request, queued first, to be granted first.",
            order);
        AssertIdle(pool, 4, "head-of-line blocking");
    }

    /// <summary>
    /// Resizing under contention: workers ask for 1 to 3 units of a 4-unit pool while another task
    /// shrinks it to 2 and grows it back to 4. Every request ends (granted, or rejected because it no
    /// longer fits the whole pool), the units held never exceed 4, and the pool ends idle.
    /// </summary>
    public static async Task ResizeUnderContentionAsync(CapacityPoolFaults faults)
    {
        CapacityPool pool = Create(4, faults);
        var units = new UnitsInUse(4);
        long[] amounts = [3, 1, 2];
        var tasks = new List<Task>();
        for (int i = 0; i < amounts.Length; i++)
        {
            long amount = amounts[i];
            string who = $"worker {i} ({amount} units)";
            var level = (LockPriority)(3 - i);
            tasks.Add(Task.Run(async () =>
            {
                CapacityPool.Reservation reservation;
                try
                {
                    reservation = await pool.ReserveAsync(amount, level);
                }
                catch (ArgumentOutOfRangeException)
                {
                    // The pool was smaller than the request when it asked or while it waited.
                    return;
                }

                await HoldAsync(units, who, reservation);
            }));
        }

        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            pool.Resize(2);
            SchedulingPoint.Interleave();
            pool.Resize(4);
        }));

        await Task.WhenAll(tasks.ToArray());
        Specification.Assert(pool.Total == 4, "Total is {0} after the resizes; expected 4.", pool.Total);
        AssertIdle(pool, 4, "resize under contention");
    }

    /// <summary>
    /// Every request ends: requests queue behind a holder with a throwing timeout, a returning timeout,
    /// a token that another task cancels and no limit; one task advances the clock, one cancels, one
    /// releases the holder.
    /// </summary>
    public static async Task TimeoutsAndCancellationAsync(CapacityPoolFaults faults)
    {
        var clock = new ManualTimeProvider();
        CapacityPool pool = Create(3, faults, clock);
        var units = new UnitsInUse(3);
        using var cancellation = new CancellationTokenSource();
        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CapacityPool.Reservation holder = await pool.ReserveAsync(3);
        units.Enter("holder", 3);

        Task<string> throwing = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation;
            try
            {
                reservation = await pool.ReserveAsync(2, LockPriority.Critical, TimeSpan.FromMilliseconds(10));
            }
            catch (CapacityPoolTimeoutException)
            {
                return "timed out";
            }

            await HoldAsync(units, "2-unit request with a throwing timeout", reservation);
            return "granted";
        });

        Task<string> trying = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation = await pool.TryReserveAsync(3, LockPriority.Low, TimeSpan.FromMilliseconds(20));
            if (!reservation.IsHeld)
            {
                return "timed out";
            }

            await HoldAsync(units, "3-unit request with a try timeout", reservation);
            return "granted";
        });

        Task<string> cancelled = Task.Run(async () =>
        {
            CapacityPool.Reservation reservation;
            try
            {
                reservation = await OutcomeAfter(pool.ReserveAsync(1, LockPriority.High, cancellation.Token), cancelReturned.Task);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await HoldAsync(units, "1-unit request with a token", reservation);
            return "granted";
        });

        Task<string> patient = Task.Run(async () =>
        {
            await HoldAsync(units, "3-unit request without a limit", await pool.ReserveAsync(3));
            return "granted";
        });

        Task ticking = Task.Run(async () =>
        {
            await Task.Yield();
            clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Yield();
            clock.Advance(TimeSpan.FromMilliseconds(10));
        });

        Task cancelling = Task.Run(async () =>
        {
            await Task.Yield();
            cancellation.Cancel();
            cancelReturned.SetResult();
        });

        Task releasing = Task.Run(async () =>
        {
            await Task.Yield();
            units.Exit("holder", 3);
            ReleaseOnce("holder", holder);
        });

        Task<string>[] requests = [throwing, trying, cancelled, patient];
        await Task.WhenAll(new Task[] { throwing, trying, cancelled, patient, ticking, cancelling, releasing });

        int grantedCount = requests.Count(r => r.Result == "granted");
        Specification.Assert(patient.Result == "granted", "The request without a limit ended '{0}'; expected 'granted'.", patient.Result);
        Specification.Assert(units.Grants == grantedCount + 1, "{0} holds were entered but {1} requests reported a grant (plus the holder); expected equal counts.", units.Grants, grantedCount);
        AssertIdle(pool, 3, "timeouts and cancellation");
    }

    /// <summary>The end state of every scenario: no request waits, no units are reserved, and exactly the whole total can be reserved.</summary>
    public static void AssertIdle(CapacityPool pool, long total, string scenario)
    {
        int waiting = pool.WaitingCount;
        Specification.Assert(waiting == 0, "{0}: {1} request(s) still queued at the end; expected 0.", scenario, waiting);
        long available = pool.Available;
        Specification.Assert(available == total, "Units lost: {0}: {1} of {2} units available after every holder released; expected {2}.", scenario, available, total);

        bool all = pool.TryReserve(total, out CapacityPool.Reservation reservation);
        Specification.Assert(all, "Units lost: {0}: TryReserve({1}) at the end returned {2}; expected True.", scenario, total, all);
        bool more = pool.TryReserve(1, out CapacityPool.Reservation extra);
        Specification.Assert(!more, "Over-commit: {0}: a TryReserve(1) beyond the total returned {1}; expected False.", scenario, more);
        extra.Dispose();
        bool released = reservation.Release();
        Specification.Assert(released && pool.Available == total, "{0}: final Release() returned {1} and {2} units are available; expected True and {3}.", scenario, released, pool.Available, total);
    }

    /// <summary>Holds a reservation across scheduling points, then releases it and checks that a second release does nothing.</summary>
    public static async Task HoldAsync(UnitsInUse units, string who, CapacityPool.Reservation reservation)
    {
        Specification.Assert(reservation.IsHeld, "{0} was granted a reservation whose IsHeld is {1}; expected True.", who, reservation.IsHeld);
        units.Enter(who, reservation.Amount);
        SchedulingPoint.Interleave();
        await Task.Yield();
        SchedulingPoint.Interleave();
        units.Exit(who, reservation.Amount);
        ReleaseOnce(who, reservation);
    }

    /// <summary>Releases a reservation, then releases it again after a scheduling point: the stale release must return nothing.</summary>
    public static void ReleaseOnce(string who, CapacityPool.Reservation reservation)
    {
        bool released = reservation.Release();
        Specification.Assert(released, "{0}: the first Release() of its reservation returned {1}; expected True.", who, released);
        SchedulingPoint.Interleave();
        bool again = reservation.Release();
        Specification.Assert(!again, "{0}: a second Release() of the same reservation returned {1}; expected False.", who, again);
    }

    /// <summary>
    /// Reads the outcome of a request whose token another task cancels, only once that task's
    /// <see cref="CancellationTokenSource.Cancel()"/> call has returned.
    /// </summary>
    /// <remarks>
    /// Reading the outcome disposes the request's cancellation registration, which blocks inside the
    /// runtime library until a callback that is running right now returns; Coyote does not control
    /// that wait. If the engine paused the cancelling task inside the pool's callback and ran the
    /// request, the request would spin forever and the engine would report a potential hang that
    /// cannot happen outside Coyote. Waiting for the cancel to return leaves out only that
    /// interleaving; the race between grant and cancellation inside the pool is still explored.
    /// </remarks>
    private static async Task<CapacityPool.Reservation> OutcomeAfter(ValueTask<CapacityPool.Reservation> acquire, Task cancelReturned)
    {
        await cancelReturned;
        return await acquire;
    }

    private static async Task AsyncWorker(CapacityPool pool, UnitsInUse units, string who, long amount, LockPriority level, int rounds, bool tryFirst)
    {
        for (int round = 0; round < rounds; round++)
        {
            CapacityPool.Reservation reservation;
            if (!tryFirst || !pool.TryReserve(amount, out reservation))
            {
                reservation = await pool.ReserveAsync(amount, level);
            }

            await HoldAsync(units, who, reservation);
        }
    }

    private static void SyncWorker(CapacityPool pool, UnitsInUse units, string who, long amount, LockPriority level, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            CapacityPool.Scope scope = pool.Reserve(amount, level);
            try
            {
                Specification.Assert(scope.IsHeld, "{0} was granted a scope whose IsHeld is {1}; expected True.", who, scope.IsHeld);
                units.Enter(who, amount);
                SchedulingPoint.Interleave();
                units.Exit(who, amount);
                bool released = scope.Release();
                Specification.Assert(released, "{0}: the first Release() of its scope returned {1}; expected True.", who, released);
            }
            finally
            {
                scope.Dispose();
            }
        }
    }

    /// <summary>Units that granted holders use; asserts on entry that they never exceed the total.</summary>
    internal sealed class UnitsInUse(long total)
    {
        private long _inUse;
        private int _grants;

        public int Grants => Volatile.Read(ref _grants);

        public void Enter(string who, long amount)
        {
            long inUse = Interlocked.Add(ref _inUse, amount);
            Interlocked.Increment(ref _grants);
            Specification.Assert(
                inUse <= total,
                "Over-commit: {0} entered with {1} units and observed {2} units in use; expected at most the total of {3}.",
                who,
                amount,
                inUse,
                total);
        }

        public void Exit(string who, long amount)
        {
            long inUse = Interlocked.Add(ref _inUse, -amount);
            Specification.Assert(inUse >= 0, "{0} left with {1} units and observed {2} units in use; expected at least 0.", who, amount, inUse);
        }
    }
}
