using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Sanctuary.SystematicTests;

/// <summary>
/// Test bodies that Coyote runs many times under different schedules. Each body creates its
/// own lock, so every iteration starts from a fresh state, and states its invariants with
/// <see cref="Specification.Assert(bool, string, object[])"/>. The same body runs against the
/// real lock and against a deliberately broken one.
/// </summary>
internal static class AsyncLockScenarios
{
    /// <summary>How a contended-lock scenario's workers acquire.</summary>
    public enum Mode
    {
        /// <summary>Every worker awaits <see cref="AsyncLock.AcquireAsync(CancellationToken)"/>.</summary>
        Async,

        /// <summary>Every worker blocks in <see cref="AsyncLock.Acquire(CancellationToken)"/> on a <see cref="Task.Run(Action)"/> task.</summary>
        Sync,
    }

    /// <summary>How the cancellation of a queued waiter meets the holder's release.</summary>
    public enum CancelRace
    {
        /// <summary>One task cancels, another releases.</summary>
        SeparateTasks,

        /// <summary>The holder releases from a callback registered on the token before the waiter queues.</summary>
        ReleaseInCallbackRegisteredFirst,

        /// <summary>The holder releases from a callback registered on the token after the waiter queued.</summary>
        ReleaseInCallbackRegisteredLast,
    }

    public static AsyncLock Create(LockFairness fairness, LockFaults faults, TimeProvider? clock = null) =>
        new(
            new AsyncLockOptions
            {
                Name = $"systematic-{fairness}",
                Fairness = fairness,
                MaxPassOvers = 2,
                TimeProvider = clock ?? TimeProvider.System,
            },
            faults);

    /// <summary>
    /// Mutual exclusion: <paramref name="workers"/> tasks each enter the critical section
    /// <paramref name="rounds"/> times; the first worker tries the no-wait path before it waits.
    /// </summary>
    public static async Task ContendedAsync(LockFairness fairness, LockFaults faults, Mode mode, int workers, int rounds)
    {
        var gate = Create(fairness, faults);
        var section = new CriticalSection();
        var tasks = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            string holderName = $"worker {i}";
            bool tryFirst = i == 0;
            tasks[i] = mode == Mode.Async
                ? Task.Run(() => AsyncWorker(gate, section, holderName, rounds, tryFirst))
                : Task.Run(() => SyncWorker(gate, section, holderName, rounds));
        }

        await Task.WhenAll(tasks);
        int expected = workers * rounds;
        Specification.Assert(
            section.Entries == expected,
            "The critical section was entered {0} times; expected {1}.",
            section.Entries,
            expected);
        AssertQuietAndFree(gate, "contended lock");
    }

    /// <summary>
    /// No lost wake-up: a holder has the lock while <paramref name="waiters"/> tasks try to acquire
    /// it, and releases at an arbitrary point, so each waiter queues or not depending on the
    /// schedule. A late task acquires too. Every task must finish, so a waiter that is never woken
    /// shows up as a deadlock.
    /// </summary>
    public static async Task QueuedWaitersAreGrantedAsync(LockFairness fairness, LockFaults faults, int waiters)
    {
        var gate = Create(fairness, faults);
        var section = new CriticalSection();
        AsyncLock.Lease holder = await gate.AcquireAsync();
        Specification.Assert(holder.IsHeld, "The first acquire of a free lock returned IsHeld {0}; expected True.", holder.IsHeld);

        var tasks = new List<Task>();
        for (int i = 0; i < waiters; i++)
        {
            string holderName = $"waiter {i}";
            tasks.Add(Task.Run(async () => await section.HoldAsync(holderName, await gate.AcquireAsync())));
        }

        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            CriticalSection.ReleaseOnce("holder", holder);
        }));
        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            await section.HoldAsync("late acquirer", await gate.AcquireAsync());
        }));

        await Task.WhenAll(tasks.ToArray());
        int expected = waiters + 1;
        Specification.Assert(
            section.Entries == expected,
            "The critical section was entered {0} times; expected {1}: every waiter once.",
            section.Entries,
            expected);
        AssertQuietAndFree(gate, "queued waiters");
    }

    /// <summary>
    /// Every waiter is granted or gives up. While a holder has the lock, four waiters queue: one
    /// with a timeout that throws, one with a timeout that returns an unheld lease, one with a
    /// token that another task cancels, and one without a limit. Other tasks advance the clock,
    /// cancel the token and release the holder.
    /// </summary>
    public static async Task TimeoutsAndCancellationAsync(LockFairness fairness, LockFaults faults)
    {
        var clock = new ManualTimeProvider();
        var gate = Create(fairness, faults, clock);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        TimeSpan shortTimeout = TimeSpan.FromMilliseconds(10);
        TimeSpan longTimeout = TimeSpan.FromMilliseconds(20);

        AsyncLock.Lease holder = await gate.AcquireAsync();

        Task<string> throwing = Task.Run(async () =>
        {
            AsyncLock.Lease lease;
            try
            {
                lease = await gate.AcquireAsync(shortTimeout);
            }
            catch (LockTimeoutException timeout)
            {
                Specification.Assert(
                    timeout.Timeout == shortTimeout,
                    "The timeout exception reports a timeout of {0}; expected {1}.",
                    timeout.Timeout,
                    shortTimeout);
                Specification.Assert(
                    timeout.LockName == gate.Name,
                    "The timeout exception names lock '{0}'; expected '{1}'.",
                    timeout.LockName,
                    gate.Name);
                return "timed out";
            }

            await section.HoldAsync("waiter with a throwing timeout", lease);
            return "granted";
        });

        Task<string> trying = Task.Run(async () =>
        {
            AsyncLock.Lease lease = await gate.TryAcquireAsync(longTimeout);
            if (!lease.IsHeld)
            {
                return "timed out";
            }

            await section.HoldAsync("waiter with a try timeout", lease);
            return "granted";
        });

        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> cancelled = Task.Run(async () =>
        {
            ValueTask<AsyncLock.Lease> acquire = gate.AcquireAsync(cancellation.Token);
            AsyncLock.Lease lease;
            try
            {
                lease = await OutcomeAfter(acquire, cancelReturned.Task);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await section.HoldAsync("waiter with a token", lease);
            return "granted";
        });

        Task<string> patient = Task.Run(async () =>
        {
            await section.HoldAsync("waiter without a limit", await gate.AcquireAsync());
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
            CriticalSection.ReleaseOnce("holder", holder);
        });

        Task<string>[] waiters = { throwing, trying, cancelled, patient };
        await Task.WhenAll(new Task[] { throwing, trying, cancelled, patient, ticking, cancelling, releasing });

        int granted = waiters.Count(waiter => waiter.Result == "granted");
        Specification.Assert(
            patient.Result == "granted",
            "The waiter without a limit ended '{0}'; expected 'granted'.",
            patient.Result);
        Specification.Assert(
            section.Entries == granted,
            "The critical section was entered {0} times but {1} acquires reported a grant; expected equal counts.",
            section.Entries,
            granted);
        AssertQuietAndFree(gate, "timeouts and cancellation");
    }

    /// <summary>
    /// FIFO hand-off: while a holder has the lock, waiters queue one at a time (each acquire is
    /// counted in <see cref="AsyncLock.WaitingCount"/> before the next one starts), so the queue
    /// order is known. Each waiter then awaits its grant on its own task, and a late acquirer
    /// arrives on another task while the holder releases. Waiters must enter in queue order, and
    /// the late acquirer, which can only queue behind them, last.
    /// </summary>
    public static async Task GrantsInQueueOrderAsync(LockFaults faults, int waiters)
    {
        var gate = Create(LockFairness.Fifo, faults);
        var section = new CriticalSection();
        var order = new List<int>();
        AsyncLock.Lease holder = await gate.AcquireAsync();

        async Task EnterAndRecord(ValueTask<AsyncLock.Lease> acquire, int index)
        {
            AsyncLock.Lease lease = await acquire;

            // Only a holder touches the list, so it needs no synchronization of its own.
            order.Add(index);
            await section.HoldAsync($"waiter {index}", lease);
        }

        var tasks = new Task[waiters + 2];
        for (int i = 0; i < waiters; i++)
        {
            ValueTask<AsyncLock.Lease> acquire = gate.AcquireAsync();
            int queued = gate.WaitingCount;
            Specification.Assert(
                queued == i + 1 && !acquire.IsCompleted,
                "Waiter {0} queued behind a holder: WaitingCount is {1} and its acquire completed {2}; expected {3} and False.",
                i,
                queued,
                acquire.IsCompleted,
                i + 1);
            int index = i;
            tasks[i] = Task.Run(() => EnterAndRecord(acquire, index));
        }

        tasks[waiters] = Task.Run(() => EnterAndRecord(gate.AcquireAsync(), waiters));
        tasks[waiters + 1] = Task.Run(() => CriticalSection.ReleaseOnce("holder", holder));
        await Task.WhenAll(tasks);

        string observed = string.Join(", ", order);
        string expected = string.Join(", ", Enumerable.Range(0, waiters + 1));
        Specification.Assert(
            observed == expected,
            "FIFO order violated: waiters were granted in the order [{0}]; expected [{1}] (the last one arrived late).",
            observed,
            expected);
        AssertQuietAndFree(gate, "FIFO hand-off");
    }

    /// <summary>
    /// Cancellation races a grant. Behind a holder, a waiter queues with a token and a second
    /// waiter queues without one. The first waiter's token is cancelled while the holder releases.
    /// The first waiter ends either granted (and releases once) or cancelled with nothing held.
    /// The second waiter must be granted either way, and the lock ends free.
    /// </summary>
    public static async Task CancellationRacesGrantAsync(LockFairness fairness, LockFaults faults, CancelRace race)
    {
        var gate = Create(fairness, faults);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        AsyncLock.Lease holder = await gate.AcquireAsync();
        bool releasedInCallback = false;

        void ReleaseHolder()
        {
            bool released = holder.Release();
            Specification.Assert(released, "The holder's Release() returned {0}; expected True.", released);
            releasedInCallback = true;
        }

        CancellationTokenRegistration registration = default;
        if (race == CancelRace.ReleaseInCallbackRegisteredFirst)
        {
            registration = cancellation.Token.Register(ReleaseHolder);
        }

        // Both waiters queue here, in a known order, before anything else runs.
        ValueTask<AsyncLock.Lease> contenderAcquire = gate.AcquireAsync(cancellation.Token);
        ValueTask<AsyncLock.Lease> successorAcquire = gate.AcquireAsync();
        Specification.Assert(gate.WaitingCount == 2, "WaitingCount is {0} after two acquires behind a holder; expected 2.", gate.WaitingCount);

        var cancelReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> contender = Task.Run(async () =>
        {
            AsyncLock.Lease lease;
            try
            {
                lease = await OutcomeAfter(contenderAcquire, cancelReturned.Task);
            }
            catch (OperationCanceledException)
            {
                return "cancelled";
            }

            await section.HoldAsync("waiter with a token", lease);
            return "granted";
        });

        Task successor = Task.Run(async () => await section.HoldAsync("waiter behind it", await successorAcquire));

        if (race == CancelRace.ReleaseInCallbackRegisteredLast)
        {
            registration = cancellation.Token.Register(ReleaseHolder);
        }

        Task cancelling = Task.Run(() =>
        {
            cancellation.Cancel();
            cancelReturned.SetResult();
        });
        Task releasing = race == CancelRace.SeparateTasks
            ? Task.Run(() => CriticalSection.ReleaseOnce("holder", holder))
            : Task.CompletedTask;

        await Task.WhenAll(new Task[] { contender, successor, cancelling, releasing });
        await registration.DisposeAsync();

        Specification.Assert(
            race == CancelRace.SeparateTasks || releasedInCallback,
            "The release inside the cancellation callback ran: {0}; expected True.",
            releasedInCallback);
        int expectedEntries = contender.Result == "granted" ? 2 : 1;
        Specification.Assert(
            section.Entries == expectedEntries,
            "The waiter with a token ended '{0}' and the critical section was entered {1} times; expected {2}.",
            contender.Result,
            section.Entries,
            expectedEntries);
        AssertQuietAndFree(gate, "cancellation racing a grant");
    }

    /// <summary>
    /// Asserts the end state of every scenario: no waiter is queued and the lock is not held, one
    /// try-acquire succeeds and a second one fails, and after its release the lock is free again.
    /// </summary>
    public static void AssertQuietAndFree(AsyncLock gate, string scenario)
    {
        int waiting = gate.WaitingCount;
        Specification.Assert(waiting == 0, "{0}: {1} waiter(s) still queued at the end; expected 0.", scenario, waiting);
        bool isHeld = gate.IsHeld;
        Specification.Assert(!isHeld, "Lock lost: {0}: IsHeld is {1} after every holder released; expected False.", scenario, isHeld);

        bool first = gate.TryAcquire(out AsyncLock.Lease lease);
        Specification.Assert(first, "Lock lost: {0}: TryAcquire at the end returned {1}; expected True.", scenario, first);
        bool second = gate.TryAcquire(out AsyncLock.Lease other);
        Specification.Assert(!second, "{0}: a second TryAcquire while held returned {1}; expected False.", scenario, second);
        Specification.Assert(!other.IsHeld, "{0}: the failed TryAcquire returned a lease with IsHeld {1}; expected False.", scenario, other.IsHeld);
        bool released = lease.Release();
        Specification.Assert(released, "{0}: the final Release() returned {1}; expected True.", scenario, released);
        Specification.Assert(!gate.IsHeld, "{0}: IsHeld is {1} after the final release; expected False.", scenario, gate.IsHeld);
    }

    /// <summary>
    /// Awaits an acquire whose token another task cancels, but only once that task's
    /// <see cref="CancellationTokenSource.Cancel()"/> call has returned.
    /// </summary>
    /// <remarks>
    /// Reading the outcome disposes the waiter's cancellation registration, and
    /// <see cref="CancellationTokenRegistration.Dispose"/> blocks until a callback that is running
    /// right now returns. Coyote does not control that wait inside the runtime library. So when
    /// the engine pauses the cancelling task inside the lock's callback (for example where the
    /// callback posts the waiter's continuation) and runs the waiter, the waiter spins forever
    /// and the engine reports a potential deadlock or hang. Outside Coyote the wait lasts only
    /// until the callback returns. Waiting for <paramref name="cancelReturned"/> leaves out exactly
    /// that interleaving, and the race between grant and cancellation inside the lock is still
    /// explored.
    /// </remarks>
    private static async Task<AsyncLock.Lease> OutcomeAfter(ValueTask<AsyncLock.Lease> acquire, Task cancelReturned)
    {
        await cancelReturned;
        return await acquire;
    }

    private static async Task AsyncWorker(AsyncLock gate, CriticalSection section, string holderName, int rounds, bool tryFirst)
    {
        for (int round = 0; round < rounds; round++)
        {
            AsyncLock.Lease lease;
            if (!tryFirst || !gate.TryAcquire(out lease))
            {
                lease = await gate.AcquireAsync();
            }

            await section.HoldAsync(holderName, lease);
        }
    }

    private static void SyncWorker(AsyncLock gate, CriticalSection section, string holderName, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            AsyncLock.Scope scope = gate.Acquire();
            try
            {
                section.Hold(holderName, ref scope);
            }
            finally
            {
                scope.Dispose();
            }
        }
    }
}
