using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Sanctuary.Threading;

namespace Sanctuary.SystematicTests;

/// <summary>
/// Test bodies that Coyote runs many times under different schedules. Each body creates its
/// own lock, so every iteration starts from a fresh state, and states its invariants with
/// <see cref="Specification.Assert(bool, string, object[])"/>. The same body runs against the
/// real lock and against a deliberately broken one.
/// </summary>
/// <remarks>
/// Sync waiters block in <see cref="AsyncLock.Acquire(CancellationToken)"/> and its siblings on
/// their own <see cref="Task.Run(Action)"/> task. The lock parks them on a monitor, which Coyote
/// controls, so a blocked sync waiter is a paused controlled operation like an awaiting async one.
/// </remarks>
internal static class AsyncLockScenarios
{
    /// <summary>How the waiters of a scenario acquire.</summary>
    public enum Mode
    {
        /// <summary>Every waiter awaits an async acquire.</summary>
        Async,

        /// <summary>Every waiter blocks in a sync acquire on its own task.</summary>
        Sync,

        /// <summary>Waiters alternate, starting with async: even positions await, odd positions block.</summary>
        Mixed,
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

    /// <summary>Whether the waiter at <paramref name="position"/> blocks (sync) rather than awaits.</summary>
    public static bool IsSync(Mode mode, int position) =>
        mode == Mode.Sync || (mode == Mode.Mixed && position % 2 == 1);

    /// <summary>
    /// Mutual exclusion: <paramref name="workers"/> tasks each enter the critical section
    /// <paramref name="rounds"/> times. The first async worker tries the no-wait path before it waits.
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
            tasks[i] = IsSync(mode, i)
                ? Task.Run(() => SyncWorker(gate, section, holderName, rounds))
                : Task.Run(() => AsyncWorker(gate, section, holderName, rounds, tryFirst));
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
    public static async Task QueuedWaitersAreGrantedAsync(LockFairness fairness, LockFaults faults, Mode mode, int waiters)
    {
        var gate = Create(fairness, faults);
        var section = new CriticalSection();
        AsyncLock.Lease holder = await gate.AcquireAsync();
        Specification.Assert(holder.IsHeld, "The first acquire of a free lock returned IsHeld {0}; expected True.", holder.IsHeld);

        var tasks = new List<Task>();
        for (int i = 0; i < waiters; i++)
        {
            tasks.Add(HoldOnNewTask(gate, section, $"waiter {i}", IsSync(mode, i)));
        }

        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            CriticalSection.ReleaseOnce("holder", holder);
        }));
        bool lateIsSync = IsSync(mode, waiters);
        tasks.Add(Task.Run(async () =>
        {
            await Task.Yield();
            if (lateIsSync)
            {
                HoldScope(gate, section, "late acquirer");
            }
            else
            {
                await section.HoldAsync("late acquirer", await gate.AcquireAsync());
            }
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
    /// A blocked waiter's deadline passes while the holder releases, and its timer has not fired.
    /// Another task runs the lock's timer path directly, as a blocked thread on the system clock
    /// does when its own deadline passes. The waiter with a timeout is granted or times out, and
    /// the waiter without a limit behind it is always granted.
    /// </summary>
    public static async Task SelfTimeoutRaceAsync(LockFairness fairness, LockFaults faults)
    {
        var clock = new ManualTimeProvider();
        var gate = Create(fairness, faults, clock);
        var section = new CriticalSection();
        var limits = new WaitLimits(gate, CancellationToken.None, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20));

        AsyncLock.Lease holder = await gate.AcquireAsync();
        Task<string> trying = Task.Run(() => WaitWithTryTimeout(limits, section));
        Task<string> patient = Task.Run(() => WaitWithoutLimit(gate, section));

        Task expiring = Task.Run(async () =>
        {
            await Task.Yield();
            clock.Skip(limits.Long);
            ((IWaiterOwner)gate).ExpireWaiters();
        });

        Task releasing = Task.Run(async () =>
        {
            await Task.Yield();
            CriticalSection.ReleaseOnce("holder", holder);
        });

        await Task.WhenAll(new Task[] { trying, patient, expiring, releasing });
        Specification.Assert(patient.Result == "granted", "The waiter without a limit ended '{0}'; expected 'granted'.", patient.Result);
        Specification.Assert(trying.Result is "granted" or "timed out", "The waiter with a timeout ended '{0}'; expected 'granted' or 'timed out'.", trying.Result);
        Specification.Assert(!gate.IsHeld, "The lock is still held after every waiter finished; expected it free.");
    }

    /// <summary>
    /// Every waiter is granted or gives up. While a holder has the lock, four waiters queue: one
    /// with a timeout that throws, one with a timeout that returns an unheld lease or scope, one
    /// with a token that another task cancels, and one without a limit. Other tasks advance the
    /// clock, cancel the token and release the holder. The waiter with the token reads its
    /// outcome as soon as it is completed, which may be while the cancelling task is still inside
    /// the lock's cancellation callback.
    /// </summary>
    public static async Task TimeoutsAndCancellationAsync(LockFairness fairness, LockFaults faults, Mode mode)
    {
        var clock = new ManualTimeProvider();
        var gate = Create(fairness, faults, clock);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        var limits = new WaitLimits(gate, cancellation.Token, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20));

        AsyncLock.Lease holder = await gate.AcquireAsync();

        Task<string> throwing = IsSync(mode, 0)
            ? Task.Run(() => WaitWithThrowingTimeout(limits, section))
            : Task.Run(() => WaitWithThrowingTimeoutAsync(limits, section));
        Task<string> trying = IsSync(mode, 1)
            ? Task.Run(() => WaitWithTryTimeout(limits, section))
            : Task.Run(() => WaitWithTryTimeoutAsync(limits, section));
        Task<string> cancelled = IsSync(mode, 2)
            ? Task.Run(() => WaitWithToken(limits, section, "waiter with a token"))
            : Task.Run(() => WaitWithTokenAsync(limits, section, gate.AcquireAsync(limits.Token), "waiter with a token"));
        Task<string> patient = IsSync(mode, 3)
            ? Task.Run(() => WaitWithoutLimit(gate, section))
            : Task.Run(() => WaitWithoutLimitAsync(gate, section));

        Task ticking = Task.Run(async () =>
        {
            await Task.Yield();
            clock.Advance(limits.Short);
            await Task.Yield();
            clock.Advance(limits.Long - limits.Short);
        });

        Task cancelling = Task.Run(async () =>
        {
            await Task.Yield();
            cancellation.Cancel();
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
    /// order is known. Each waiter then waits for its grant on its own task, and a late acquirer
    /// arrives on another task while the holder releases. Waiters must enter in queue order, and
    /// the late acquirer, which can only queue behind them, last. With <see cref="Mode.Mixed"/>,
    /// sync and async waiters alternate in the queue and the late acquirer is of the next kind.
    /// </summary>
    public static async Task GrantsInQueueOrderAsync(LockFaults faults, Mode mode, int waiters)
    {
        var gate = Create(LockFairness.Fifo, faults);
        var section = new CriticalSection();
        var order = new List<int>();
        AsyncLock.Lease holder = await gate.AcquireAsync();

        async Task EnterAndRecordAsync(ValueTask<AsyncLock.Lease> acquire, int index)
        {
            AsyncLock.Lease lease = await acquire;

            // Only a holder touches the list, so it needs no synchronization of its own.
            order.Add(index);
            await section.HoldAsync($"waiter {index}", lease);
        }

        void EnterAndRecord(int index)
        {
            AsyncLock.Scope scope = gate.Acquire();
            try
            {
                order.Add(index);
                section.Hold($"waiter {index}", ref scope);
            }
            finally
            {
                scope.Dispose();
            }
        }

        var tasks = new Task[waiters + 2];
        for (int i = 0; i < waiters; i++)
        {
            int index = i;
            bool completed = false;
            if (IsSync(mode, i))
            {
                tasks[i] = Task.Run(() => EnterAndRecord(index));
                WaitUntilQueued(gate, i + 1);
            }
            else
            {
                ValueTask<AsyncLock.Lease> acquire = gate.AcquireAsync();
                completed = acquire.IsCompleted;
                tasks[i] = Task.Run(() => EnterAndRecordAsync(acquire, index));
            }

            int queued = gate.WaitingCount;
            Specification.Assert(
                queued == i + 1,
                "Waiter {0} queued behind a holder: WaitingCount is {1}; expected {2}.",
                i,
                queued,
                i + 1);
            Specification.Assert(
                !completed,
                "Waiter {0} queued behind a holder: its acquire completed {1}; expected False.",
                i,
                completed);
        }

        tasks[waiters] = IsSync(mode, waiters)
            ? Task.Run(() => EnterAndRecord(waiters))
            : Task.Run(() => EnterAndRecordAsync(gate.AcquireAsync(), waiters));
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
    /// It reads that outcome as soon as it is completed, even while the cancelling task is still
    /// inside the lock's callback. When cancelled, it acquires again at once without a token, so
    /// a pooled node is rented while that callback may still run. The second waiter must be
    /// granted either way, and the lock ends free.
    /// </summary>
    public static async Task CancellationRacesGrantAsync(LockFairness fairness, LockFaults faults, Mode mode, CancelRace race)
    {
        var gate = Create(fairness, faults);
        var section = new CriticalSection();
        using var cancellation = new CancellationTokenSource();
        var limits = new WaitLimits(gate, cancellation.Token, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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

        // Both waiters queue here, in a known order, before the cancelling and releasing tasks
        // start. An async acquire has queued when it returns. A sync one blocks on its own task,
        // so this task waits until the queue counts it.
        Task<string> contender;
        if (IsSync(mode, 0))
        {
            contender = Task.Run(() =>
            {
                string outcome = WaitWithToken(limits, section, "waiter with a token");
                return RetryAfterCancellation(gate, section, outcome);
            });
            WaitUntilQueued(gate, 1);
        }
        else
        {
            ValueTask<AsyncLock.Lease> contenderAcquire = gate.AcquireAsync(cancellation.Token);
            contender = Task.Run(async () =>
            {
                string outcome = await WaitWithTokenAsync(limits, section, contenderAcquire, "waiter with a token");
                return await RetryAfterCancellationAsync(gate, section, outcome);
            });
        }

        Task successor;
        if (IsSync(mode, 1))
        {
            successor = HoldOnNewTask(gate, section, "waiter behind it", sync: true);
            WaitUntilQueued(gate, 2);
        }
        else
        {
            ValueTask<AsyncLock.Lease> successorAcquire = gate.AcquireAsync();
            successor = Task.Run(async () => await section.HoldAsync("waiter behind it", await successorAcquire));
        }

        Specification.Assert(gate.WaitingCount == 2, "WaitingCount is {0} after two acquires behind a holder; expected 2.", gate.WaitingCount);

        if (race == CancelRace.ReleaseInCallbackRegisteredLast)
        {
            registration = cancellation.Token.Register(ReleaseHolder);
        }

        Task cancelling = Task.Run(() => cancellation.Cancel());
        Task releasing = race == CancelRace.SeparateTasks
            ? Task.Run(() => CriticalSection.ReleaseOnce("holder", holder))
            : Task.CompletedTask;

        await Task.WhenAll(new Task[] { contender, successor, cancelling, releasing });

        // Every callback has returned, because the cancelling task has finished.
        await registration.DisposeAsync();

        Specification.Assert(
            race == CancelRace.SeparateTasks || releasedInCallback,
            "The release inside the cancellation callback ran: {0}; expected True.",
            releasedInCallback);
        Specification.Assert(
            section.Entries == 2,
            "The waiter with a token ended '{0}' and the critical section was entered {1} times; expected 2: once by each waiter, after a retry if cancelled.",
            contender.Result,
            section.Entries);
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
    /// Waits until <paramref name="count"/> waiters are queued, so that the next waiter queues
    /// behind a sync waiter that is blocked on another task.
    /// </summary>
    /// <remarks>
    /// Each turn is a yielding scheduling point, which may lower the poller's priority under some
    /// exploration strategies, so the blocked waiter's task gets to run. Polling with
    /// <c>await Task.Yield()</c> made every turn a new continuation, and the tests that poll ran
    /// about ten times slower.
    /// </remarks>
    private static void WaitUntilQueued(AsyncLock gate, int count)
    {
        while (gate.WaitingCount < count)
        {
            SchedulingPoint.Yield();
        }
    }

    // Acquires on a new task, sync or async, and runs the critical section once.
    private static Task HoldOnNewTask(AsyncLock gate, CriticalSection section, string holderName, bool sync) =>
        sync
            ? Task.Run(() => HoldScope(gate, section, holderName))
            : Task.Run(async () => await section.HoldAsync(holderName, await gate.AcquireAsync()));

    private static void HoldScope(AsyncLock gate, CriticalSection section, string holderName)
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
            HoldScope(gate, section, holderName);
        }
    }

    // The waiters of the timeout and cancellation scenarios. Each returns "granted" after one pass
    // through the critical section, or how it gave up.

    private static async Task<string> WaitWithThrowingTimeoutAsync(WaitLimits limits, CriticalSection section)
    {
        AsyncLock.Lease lease;
        try
        {
            lease = await limits.Gate.AcquireAsync(limits.Short);
        }
        catch (LockTimeoutException timeout)
        {
            limits.AssertTimeoutException(timeout);
            return "timed out";
        }

        await section.HoldAsync("waiter with a throwing timeout", lease);
        return "granted";
    }

    private static string WaitWithThrowingTimeout(WaitLimits limits, CriticalSection section)
    {
        AsyncLock.Scope scope;
        try
        {
            scope = limits.Gate.Acquire(limits.Short);
        }
        catch (LockTimeoutException timeout)
        {
            limits.AssertTimeoutException(timeout);
            return "timed out";
        }

        section.Hold("waiter with a throwing timeout", ref scope);
        return "granted";
    }

    private static async Task<string> WaitWithTryTimeoutAsync(WaitLimits limits, CriticalSection section)
    {
        AsyncLock.Lease lease = await limits.Gate.TryAcquireAsync(limits.Long);
        if (!lease.IsHeld)
        {
            return "timed out";
        }

        await section.HoldAsync("waiter with a try timeout", lease);
        return "granted";
    }

    private static string WaitWithTryTimeout(WaitLimits limits, CriticalSection section)
    {
        AsyncLock.Scope scope = limits.Gate.TryAcquire(limits.Long);
        if (!scope.IsHeld)
        {
            return "timed out";
        }

        section.Hold("waiter with a try timeout", ref scope);
        return "granted";
    }

    private static async Task<string> WaitWithTokenAsync(WaitLimits limits, CriticalSection section, ValueTask<AsyncLock.Lease> acquire, string holderName)
    {
        AsyncLock.Lease lease;
        try
        {
            lease = await acquire;
        }
        catch (OperationCanceledException cancelled)
        {
            limits.AssertCancellationException(cancelled);
            return "cancelled";
        }

        await section.HoldAsync(holderName, lease);
        return "granted";
    }

    private static string WaitWithToken(WaitLimits limits, CriticalSection section, string holderName)
    {
        AsyncLock.Scope scope;
        try
        {
            scope = limits.Gate.Acquire(limits.Token);
        }
        catch (OperationCanceledException cancelled)
        {
            limits.AssertCancellationException(cancelled);
            return "cancelled";
        }

        section.Hold(holderName, ref scope);
        return "granted";
    }

    // Acquires again without a token after a cancellation and enters the critical section once.
    // Returns the first outcome.
    private static async Task<string> RetryAfterCancellationAsync(AsyncLock gate, CriticalSection section, string outcome)
    {
        if (outcome == "cancelled")
        {
            await section.HoldAsync("waiter with a token, retrying", await gate.AcquireAsync());
        }

        return outcome;
    }

    private static string RetryAfterCancellation(AsyncLock gate, CriticalSection section, string outcome)
    {
        if (outcome == "cancelled")
        {
            HoldScope(gate, section, "waiter with a token, retrying");
        }

        return outcome;
    }

    private static async Task<string> WaitWithoutLimitAsync(AsyncLock gate, CriticalSection section)
    {
        await section.HoldAsync("waiter without a limit", await gate.AcquireAsync());
        return "granted";
    }

    private static string WaitWithoutLimit(AsyncLock gate, CriticalSection section)
    {
        HoldScope(gate, section, "waiter without a limit");
        return "granted";
    }

    /// <summary>The lock, token and timeouts that the waiters of one scenario share.</summary>
    private sealed class WaitLimits
    {
        public WaitLimits(AsyncLock gate, CancellationToken token, TimeSpan shortTimeout, TimeSpan longTimeout)
        {
            Gate = gate;
            Token = token;
            Short = shortTimeout;
            Long = longTimeout;
        }

        public AsyncLock Gate { get; }

        public CancellationToken Token { get; }

        /// <summary>Timeout of the waiter whose timeout throws.</summary>
        public TimeSpan Short { get; }

        /// <summary>Timeout of the waiter whose timeout returns an unheld lease or scope.</summary>
        public TimeSpan Long { get; }

        public void AssertTimeoutException(LockTimeoutException timeout)
        {
            Specification.Assert(
                timeout.Timeout == Short,
                "The timeout exception reports a timeout of {0}; expected {1}.",
                timeout.Timeout,
                Short);
            Specification.Assert(
                timeout.LockName == Gate.Name,
                "The timeout exception names lock '{0}'; expected '{1}'.",
                timeout.LockName,
                Gate.Name);
        }

        public void AssertCancellationException(OperationCanceledException cancelled)
        {
            Specification.Assert(
                cancelled.CancellationToken == Token,
                "The cancellation exception carries a token other than the waiter's (its CanBeCanceled is {0}); expected the waiter's token.",
                cancelled.CancellationToken.CanBeCanceled);
        }
    }
}
