using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Sanctuary.SystematicTests.PriorityLocks;

/// <summary>
/// Test bodies that Coyote runs many times under different schedules, each against a fresh
/// <see cref="PriorityLock"/>, stating invariants with <see cref="Specification.Assert(bool, string, object[])"/>.
/// The same body runs against a correct lock and against one with a deliberate fault.
/// </summary>
internal static class PriorityLockScenarios
{
    private static readonly TimeSpan s_agingInterval = TimeSpan.FromMilliseconds(10);

    public static PriorityLock Create(PriorityLockFaults faults, TimeProvider? clock = null, bool aging = false) =>
        new(
            new PriorityLockOptions
            {
                Name = "systematic-priority",
                TimeProvider = clock ?? TimeProvider.System,
                AgingInterval = aging ? s_agingInterval : Timeout.InfiniteTimeSpan,
            },
            faults);

    /// <summary>
    /// Mutual exclusion: workers of different levels each enter the critical section
    /// <paramref name="rounds"/> times; the first worker tries the no-wait path first. With
    /// <paramref name="blocking"/>, the workers use the blocking acquire on thread-pool tasks.
    /// </summary>
    public static async Task ContendedAsync(PriorityLockFaults faults, int workers, int rounds, bool blocking = false)
    {
        PriorityLock gate = Create(faults);
        var section = new CriticalSection();
        var tasks = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            string who = $"worker {i}";
            var level = (LockPriority)(i % 4);
            bool tryFirst = i == 0;
            tasks[i] = blocking
                ? Task.Run(() => SyncWorker(gate, section, who, level, rounds))
                : Task.Run(() => AsyncWorker(gate, section, who, level, rounds, tryFirst));
        }

        await Task.WhenAll(tasks);

        int expected = workers * rounds;
        Specification.Assert(section.Entries == expected, "The critical section was entered {0} times; expected {1}.", section.Entries, expected);
        AssertQuietAndFree(gate, "contended priority lock");
    }

    /// <summary>
    /// Priority order: while a holder has the lock, waiters of mixed levels queue in a known order; one
    /// of them is cancelled by another task while the holder releases. The waiters that are granted
    /// must be granted by level, and in arrival order within a level.
    /// </summary>
    public static async Task GrantsByPriorityAsync(PriorityLockFaults faults)
    {
        LockPriority[] levels = [LockPriority.Low, LockPriority.Critical, LockPriority.Normal, LockPriority.High, LockPriority.Normal];
        const int CancelledIndex = 3;
        PriorityLock gate = Create(faults);
        var section = new CriticalSection();
        var granted = new List<int>();
        using var cancellation = new CancellationTokenSource();
        PriorityLock.Lease holder = await gate.AcquireAsync();

        // The waiters queue here, in a known order, before anything else runs.
        var acquires = new ValueTask<PriorityLock.Lease>[levels.Length];
        for (int i = 0; i < levels.Length; i++)
        {
            acquires[i] = gate.AcquireAsync(levels[i], i == CancelledIndex ? cancellation.Token : CancellationToken.None);
        }

        Specification.Assert(gate.WaitingCount == levels.Length, "WaitingCount is {0} after {1} acquires behind a holder; expected {1}.", gate.WaitingCount, levels.Length);

        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new List<Task>();
        for (int i = 0; i < levels.Length; i++)
        {
            int index = i;
            tasks.Add(Task.Run(async () =>
            {
                PriorityLock.Lease lease;
                try
                {
                    lease = index == CancelledIndex ? await OutcomeAfter(acquires[index], cancelReturned.Task) : await acquires[index];
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                // Only a holder touches the list, so it needs no synchronization of its own.
                granted.Add(index);
                await HoldAsync(section, $"waiter {index} ({levels[index]})", lease);
            }));
        }

        tasks.Add(Task.Run(() =>
        {
            cancellation.Cancel();
            cancelReturned.SetResult();
        }));
        tasks.Add(Task.Run(() => ReleaseOnce("holder", holder)));
        await Task.WhenAll(tasks.ToArray());

        int[] expected = granted.OrderByDescending(index => levels[index]).ThenBy(index => index).ToArray();
        string observed = string.Join(", ", granted);
        Specification.Assert(
            granted.SequenceEqual(expected),
            "Priority order violated: waiters were granted in the order [{0}]; expected [{1}] (highest level first, arrival order within a level).",
            observed,
            string.Join(", ", expected));
        Specification.Assert(
            granted.Count >= levels.Length - 1,
            "Only {0} of the {1} waiters that were not cancelled were granted.",
            granted.Count,
            levels.Length - 1);
        AssertQuietAndFree(gate, "priority order");
    }

    /// <summary>
    /// No starvation with aging: a Low waiter queues behind a holder; a ticking task moves the clock by
    /// four aging intervals while Critical waiters arrive at arbitrary moments and the holder releases at
    /// an arbitrary moment. Once the Low waiter has waited three intervals it ranks as Critical, so every
    /// Critical waiter that started its acquire after that moment must be granted after it.
    /// </summary>
    public static async Task AgingBoundsStarvationAsync(PriorityLockFaults faults)
    {
        var clock = new ManualTimeProvider();
        PriorityLock gate = Create(faults, clock, aging: true);
        var section = new CriticalSection();
        var granted = new List<string>();
        var startedAt = new Dictionary<string, long>();
        PriorityLock.Lease holder = await gate.AcquireAsync();

        ValueTask<PriorityLock.Lease> lowAcquire = gate.AcquireAsync(LockPriority.Low);
        Task low = Task.Run(async () =>
        {
            PriorityLock.Lease lease = await lowAcquire;
            granted.Add("low");
            await HoldAsync(section, "low waiter", lease);
        });

        // The Low waiter queued no later than now, so it ranks as Critical from promotedBy on.
        long promotedBy = clock.GetTimestamp() + (3 * s_agingInterval.Ticks);

        var tasks = new List<Task> { low };
        tasks.Add(Task.Run(async () =>
        {
            for (int tick = 0; tick < 4; tick++)
            {
                clock.Advance(s_agingInterval);
                await Task.Yield();
            }
        }));

        for (int i = 0; i < 3; i++)
        {
            string name = $"critical {i}";
            tasks.Add(Task.Run(async () =>
            {
                await Task.Yield();
                lock (startedAt)
                {
                    startedAt[name] = clock.GetTimestamp();
                }

                PriorityLock.Lease lease = await gate.AcquireAsync(LockPriority.Critical);
                granted.Add(name);
                await HoldAsync(section, name, lease);
            }));
        }

        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            ReleaseOnce("holder", holder);
        }));
        await Task.WhenAll(tasks.ToArray());

        int lowPosition = granted.IndexOf("low");
        foreach ((string name, long started) in startedAt)
        {
            if (started > promotedBy)
            {
                int position = granted.IndexOf(name);
                Specification.Assert(
                    lowPosition < position,
                    "Starvation: the Low waiter, promoted to Critical by tick {0}, was granted at position {1}, after {2} (position {3}), which started at tick {4}. Grant order: [{5}].",
                    promotedBy,
                    lowPosition,
                    name,
                    position,
                    started,
                    string.Join(", ", granted));
            }
        }

        AssertQuietAndFree(gate, "aging");
    }

    /// <summary>
    /// Every waiter is granted or gives up: waiters of mixed levels queue with a throwing timeout, a
    /// returning timeout, a token that another task cancels and no limit; one task advances the clock,
    /// one cancels, one releases the holder.
    /// </summary>
    public static async Task TimeoutsAndCancellationAsync(PriorityLockFaults faults)
    {
        var clock = new ManualTimeProvider();
        PriorityLock gate = Create(faults, clock);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        TimeSpan shortTimeout = TimeSpan.FromMilliseconds(10);
        TimeSpan longTimeout = TimeSpan.FromMilliseconds(20);
        PriorityLock.Lease holder = await gate.AcquireAsync();
        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<string> throwing = Task.Run(async () =>
        {
            PriorityLock.Lease lease;
            try
            {
                lease = await gate.AcquireAsync(LockPriority.Critical, shortTimeout);
            }
            catch (LockTimeoutException)
            {
                return "timed out";
            }

            await HoldAsync(section, "critical waiter with a throwing timeout", lease);
            return "granted";
        });

        Task<string> trying = Task.Run(async () =>
        {
            PriorityLock.Lease lease = await gate.TryAcquireAsync(LockPriority.Low, longTimeout);
            if (!lease.IsHeld)
            {
                return "timed out";
            }

            await HoldAsync(section, "low waiter with a try timeout", lease);
            return "granted";
        });

        Task<string> cancelled = Task.Run(async () =>
        {
            PriorityLock.Lease lease;
            try
            {
                lease = await OutcomeAfter(gate.AcquireAsync(LockPriority.High, cancellation.Token), cancelReturned.Task);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await HoldAsync(section, "high waiter with a token", lease);
            return "granted";
        });

        Task<string> patient = Task.Run(async () =>
        {
            await HoldAsync(section, "normal waiter without a limit", await gate.AcquireAsync(LockPriority.Normal));
            return "granted";
        });

        Task ticking = Task.Run(async () =>
        {
            await Task.Yield();
            clock.Advance(shortTimeout);
            await Task.Yield();
            clock.Advance(longTimeout - shortTimeout);
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
            ReleaseOnce("holder", holder);
        });

        Task<string>[] waiters = [throwing, trying, cancelled, patient];
        await Task.WhenAll(new Task[] { throwing, trying, cancelled, patient, ticking, cancelling, releasing });

        int grantedCount = waiters.Count(w => w.Result == "granted");
        Specification.Assert(patient.Result == "granted", "The waiter without a limit ended '{0}'; expected 'granted'.", patient.Result);
        Specification.Assert(
            section.Entries == grantedCount,
            "The critical section was entered {0} times but {1} acquires reported a grant; expected equal counts.",
            section.Entries,
            grantedCount);
        AssertQuietAndFree(gate, "timeouts and cancellation");
    }

    /// <summary>
    /// No lost wake-up: waiters of every level queue behind a holder that releases at an arbitrary
    /// point, and a late acquirer joins. Every task must finish, so a waiter that is never woken shows
    /// up as a deadlock.
    /// </summary>
    public static async Task QueuedWaitersAreGrantedAsync(PriorityLockFaults faults)
    {
        PriorityLock gate = Create(faults);
        var section = new CriticalSection();
        PriorityLock.Lease holder = await gate.AcquireAsync();
        var tasks = new List<Task>();
        for (int i = 0; i < 3; i++)
        {
            string who = $"waiter {i}";
            var level = (LockPriority)(3 - i);
            tasks.Add(Task.Run(async () => await HoldAsync(section, who, await gate.AcquireAsync(level))));
        }

        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            ReleaseOnce("holder", holder);
        }));
        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            await HoldAsync(section, "late acquirer", await gate.AcquireAsync(LockPriority.Low));
        }));

        await Task.WhenAll(tasks.ToArray());
        Specification.Assert(section.Entries == 4, "The critical section was entered {0} times; expected 4: every waiter once.", section.Entries);
        AssertQuietAndFree(gate, "queued waiters");
    }

    /// <summary>
    /// Cancellation races a grant: a High waiter with a token queues ahead of a Low waiter; the token is
    /// cancelled while the holder releases. The High waiter ends granted or cancelled with nothing held,
    /// and the Low waiter is granted either way.
    /// </summary>
    public static async Task CancellationRacesGrantAsync(PriorityLockFaults faults)
    {
        PriorityLock gate = Create(faults);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        PriorityLock.Lease holder = await gate.AcquireAsync();
        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Both waiters queue here, in a known order, before anything else runs.
        ValueTask<PriorityLock.Lease> contenderAcquire = gate.AcquireAsync(LockPriority.High, cancellation.Token);
        ValueTask<PriorityLock.Lease> successorAcquire = gate.AcquireAsync(LockPriority.Low);
        Specification.Assert(gate.WaitingCount == 2, "WaitingCount is {0} after two acquires behind a holder; expected 2.", gate.WaitingCount);

        Task<string> contender = Task.Run(async () =>
        {
            PriorityLock.Lease lease;
            try
            {
                lease = await OutcomeAfter(contenderAcquire, cancelReturned.Task);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await HoldAsync(section, "high waiter with a token", lease);
            return "granted";
        });

        Task successor = Task.Run(async () => await HoldAsync(section, "low waiter behind it", await successorAcquire));

        Task cancelling = Task.Run(() =>
        {
            cancellation.Cancel();
            cancelReturned.SetResult();
        });
        Task releasing = Task.Run(() => ReleaseOnce("holder", holder));
        await Task.WhenAll(new Task[] { contender, successor, cancelling, releasing });

        int expectedEntries = contender.Result == "granted" ? 2 : 1;
        Specification.Assert(
            section.Entries == expectedEntries,
            "The waiter with a token ended '{0}' and the critical section was entered {1} times; expected {2}.",
            contender.Result,
            section.Entries,
            expectedEntries);
        AssertQuietAndFree(gate, "cancellation racing a grant");
    }

    /// <summary>The end state of every scenario: no waiter is queued, no one holds the lock, and exactly one try-acquire succeeds.</summary>
    public static void AssertQuietAndFree(PriorityLock gate, string scenario)
    {
        int waiting = gate.WaitingCount;
        Specification.Assert(waiting == 0, "{0}: {1} waiter(s) still queued at the end; expected 0.", scenario, waiting);
        bool held = gate.IsHeld;
        Specification.Assert(!held, "Lock lost: {0}: IsHeld is {1} after every holder released; expected False.", scenario, held);

        bool first = gate.TryAcquire(out PriorityLock.Lease lease);
        Specification.Assert(first, "Lock lost: {0}: TryAcquire at the end returned {1}; expected True.", scenario, first);
        bool second = gate.TryAcquire(out PriorityLock.Lease other);
        Specification.Assert(!second, "{0}: a second TryAcquire while held returned {1}; expected False.", scenario, second);
        Specification.Assert(!other.IsHeld, "{0}: the failed TryAcquire returned a lease with IsHeld {1}; expected False.", scenario, other.IsHeld);
        bool released = lease.Release();
        Specification.Assert(released && !gate.IsHeld, "{0}: final Release() returned {1} and IsHeld is {2}; expected True and False.", scenario, released, gate.IsHeld);
    }

    /// <summary>
    /// Enters the critical section for an async holder, lets every other task run, exits, then releases
    /// the lease and checks that a second release of the same lease does nothing.
    /// </summary>
    public static async Task HoldAsync(CriticalSection section, string who, PriorityLock.Lease lease)
    {
        Specification.Assert(lease.IsHeld, "{0} was granted a lease whose IsHeld is {1}; expected True.", who, lease.IsHeld);
        section.Enter(who);
        SchedulingPoint.Interleave();
        await Task.Yield();
        SchedulingPoint.Interleave();
        section.Exit(who);
        ReleaseOnce(who, lease);
    }

    /// <summary>Releases a lease, then releases it again after a scheduling point: the stale release must do nothing.</summary>
    public static void ReleaseOnce(string who, PriorityLock.Lease lease)
    {
        bool released = lease.Release();
        Specification.Assert(released, "{0}: the first Release() of its lease returned {1}; expected True.", who, released);
        SchedulingPoint.Interleave();
        bool again = lease.Release();
        Specification.Assert(!again, "{0}: a second Release() of the same lease returned {1}; expected False.", who, again);
    }

    /// <summary>
    /// Reads the outcome of an acquire whose token another task cancels, but only once that task's
    /// <see cref="CancellationTokenSource.Cancel()"/> call has returned.
    /// </summary>
    /// <remarks>
    /// Reading the outcome disposes the waiter's cancellation registration, which blocks inside the
    /// runtime library until a callback that is running right now returns; Coyote does not control
    /// that wait. If the engine paused the cancelling task inside the lock's callback (where the
    /// callback posts the waiter's continuation) and ran the waiter, the waiter would spin forever
    /// and the engine would report a potential hang that cannot happen outside Coyote. Waiting for
    /// the cancel to return leaves out only that interleaving; the race between grant and
    /// cancellation inside the lock is still explored.
    /// </remarks>
    private static async Task<PriorityLock.Lease> OutcomeAfter(ValueTask<PriorityLock.Lease> acquire, Task cancelReturned)
    {
        await cancelReturned;
        return await acquire;
    }

    private static async Task AsyncWorker(PriorityLock gate, CriticalSection section, string who, LockPriority level, int rounds, bool tryFirst)
    {
        for (int round = 0; round < rounds; round++)
        {
            PriorityLock.Lease lease;
            if (!tryFirst || !gate.TryAcquire(out lease))
            {
                lease = await gate.AcquireAsync(level);
            }

            await HoldAsync(section, who, lease);
        }
    }

    private static void SyncWorker(PriorityLock gate, CriticalSection section, string who, LockPriority level, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            PriorityLock.Scope scope = gate.Acquire(level);
            try
            {
                Specification.Assert(scope.IsHeld, "{0} was granted a scope whose IsHeld is {1}; expected True.", who, scope.IsHeld);
                section.Enter(who);
                SchedulingPoint.Interleave();
                section.Exit(who);
                bool released = scope.Release();
                Specification.Assert(released, "{0}: the first Release() of its scope returned {1}; expected True.", who, released);
            }
            finally
            {
                scope.Dispose();
            }
        }
    }
}
