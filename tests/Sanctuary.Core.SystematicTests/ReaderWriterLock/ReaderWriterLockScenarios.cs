using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.SystematicTests.ReaderWriterLock;

/// <summary>
/// Test bodies that Coyote runs many times under different schedules against an
/// <see cref="AsyncReaderWriterLock"/>. Each creates its own lock, states its invariants with
/// <see cref="Specification.Assert(bool, string, object[])"/>, and runs unchanged against a correct
/// lock and against one with a deliberate fault.
/// </summary>
internal static class ReaderWriterLockScenarios
{
    public const string PreferenceViolated = "Writer preference violated";
    public const string LockLost = "Lock lost";

    /// <summary>How a scenario's workers acquire.</summary>
    public enum Mode
    {
        /// <summary>Every worker awaits the async acquires.</summary>
        Async,

        /// <summary>Readers and writers block in the sync acquires on <see cref="Task.Run(Action)"/> tasks.</summary>
        Sync,
    }

    /// <summary>How the waiting writer gives up.</summary>
    public enum GiveUp
    {
        /// <summary>Its token is cancelled.</summary>
        Cancellation,

        /// <summary>Its timeout elapses on a manual clock.</summary>
        Timeout,
    }

    public static AsyncReaderWriterLock Create(ReaderWriterLockFaults faults, TimeProvider? clock = null, ReaderWriterPreference preference = ReaderWriterPreference.Writer) =>
        new(
            new AsyncReaderWriterLockOptions
            {
                Name = $"systematic-rw-{faults}",
                Preference = preference,
                TimeProvider = clock ?? TimeProvider.System,
            },
            faults);

    /// <summary>
    /// Never a writer with anyone else: two readers, a writer and an upgradeable reader that upgrades
    /// run at once, each twice, while a first writer holds the lock and releases at an arbitrary
    /// point. Every task must finish, so a lost wake-up shows up as a deadlock.
    /// </summary>
    public static async Task ExclusionAsync(ReaderWriterLockFaults faults, Mode mode)
    {
        var gate = Create(faults);
        var section = new ReaderWriterSection();
        const int Rounds = 2;
        WriteLease first = await gate.AcquireWriteAsync();
        section.EnterWrite("first writer");

        var tasks = new List<Task>
        {
            mode == Mode.Async ? Task.Run(() => ReaderAsync(gate, section, "reader 1", Rounds)) : Task.Run(() => SyncReader(gate, section, "reader 1", Rounds)),
            Task.Run(() => ReaderAsync(gate, section, "reader 2", Rounds)),
            mode == Mode.Async ? Task.Run(() => WriterAsync(gate, section, "writer", Rounds)) : Task.Run(() => SyncWriter(gate, section, "writer", Rounds)),
            Task.Run(() => UpgraderAsync(gate, section, "upgrader", Rounds)),
            Task.Run(async () =>
            {
                await Task.Yield();
                section.ExitWrite();
                ReleaseOnce("first writer", first.Release, () => first.Release(), first.IsHeld);
            }),
        };

        await Task.WhenAll(tasks.ToArray());
        int expectedWrites = 1 + (2 * Rounds);
        Specification.Assert(
            section.WriteEntries == expectedWrites,
            "The write section was entered {0} times; expected {1}.",
            section.WriteEntries,
            expectedWrites);
        AssertQuietAndFree(gate, "exclusion");
    }

    /// <summary>
    /// Writer preference: a reader holds; a writer queues; only then a late reader and a late
    /// upgradeable reader ask. The first reader releases at an arbitrary point. The writer must
    /// enter before both late arrivals.
    /// </summary>
    public static async Task WriterPreferenceAsync(ReaderWriterLockFaults faults)
    {
        var gate = Create(faults);
        var section = new ReaderWriterSection();
        int order = 0;
        ReadLease first = await gate.AcquireReadAsync();
        section.EnterRead("first reader");

        // The writer queues here, before any late arrival exists.
        ValueTask<WriteLease> writerAcquire = gate.AcquireWriteAsync();
        Specification.Assert(gate.WaitingCount == 1, "WaitingCount is {0} after a writer asked behind a reader; expected 1.", gate.WaitingCount);

        Task<int> writer = Task.Run(async () =>
        {
            WriteLease lease = await writerAcquire;
            int ticket = Interlocked.Increment(ref order);
            section.EnterWrite("writer");
            await ReaderWriterSection.StayAsync();
            section.ExitWrite();
            ReleaseOnce("writer", lease.Release, () => lease.Release(), lease.IsHeld);
            return ticket;
        });

        Task<int> lateReader = Task.Run(async () =>
        {
            ReadLease lease = await gate.AcquireReadAsync();
            int ticket = Interlocked.Increment(ref order);
            section.EnterRead("late reader");
            await ReaderWriterSection.StayAsync();
            section.ExitRead();
            Specification.Assert(lease.Release(), LockLost + ": the late reader's release returned false; expected true.");
            return ticket;
        });

        Task<int> lateUpgradeable = Task.Run(async () =>
        {
            UpgradeableReadLease lease = await gate.AcquireUpgradeableReadAsync();
            int ticket = Interlocked.Increment(ref order);
            section.EnterUpgradeable("late upgradeable reader");
            await ReaderWriterSection.StayAsync();
            section.ExitUpgradeable();
            ReleaseOnce("late upgradeable reader", lease.Release, () => lease.Release(), lease.IsHeld);
            return ticket;
        });

        Task release = Task.Run(() =>
        {
            section.ExitRead();
            Specification.Assert(first.Release(), LockLost + ": the first reader's release returned false; expected true.");
        });

        await Task.WhenAll(new Task[] { writer, lateReader, lateUpgradeable, release });
        Specification.Assert(
            writer.Result < lateReader.Result && writer.Result < lateUpgradeable.Result,
            PreferenceViolated + ": the writer that queued first entered as number {0}, the late reader as {1} and the late upgradeable reader as {2}; expected the writer first.",
            writer.Result,
            lateReader.Result,
            lateUpgradeable.Result);
        AssertQuietAndFree(gate, "writer preference");
    }

    /// <summary>
    /// No lost wake-up when a writer gives up: a reader holds; a writer queues with a token or a
    /// timeout; a reader and a second writer queue behind it. The first writer gives up at an
    /// arbitrary point; the holding reader releases only after the queued reader was admitted, which
    /// must happen while the lock is held only by readers. Every task must finish.
    /// </summary>
    public static async Task WriterGivesUpAsync(ReaderWriterLockFaults faults, GiveUp giveUp)
    {
        var clock = new ManualTimeProvider();
        var gate = Create(faults, clock);
        var section = new ReaderWriterSection();
        using var cancellation = new CancellationTokenSource();
        TimeSpan timeout = TimeSpan.FromMilliseconds(10);
        var admitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gaveUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ReadLease holder = await gate.AcquireReadAsync();
        section.EnterRead("holding reader");

        // The three waiters queue here, in a known order, before anything else runs.
        ValueTask<WriteLease> quitterAcquire = giveUp == GiveUp.Cancellation
            ? gate.AcquireWriteAsync(cancellation.Token)
            : gate.TryAcquireWriteAsync(timeout);
        ValueTask<ReadLease> readerAcquire = gate.AcquireReadAsync();
        ValueTask<WriteLease> secondWriterAcquire = gate.AcquireWriteAsync();
        Specification.Assert(gate.WaitingCount == 3, "WaitingCount is {0} after three requests behind a reader and a writer; expected 3.", gate.WaitingCount);

        Task<string> quitter = Task.Run(async () =>
        {
            // The outcome is read once the give-up has returned; reading it while the callback
            // still runs is explored by the exclusive lock's cancel-race scenarios, which share
            // the waiter machinery.
            await gaveUp.Task;
            WriteLease lease;
            try
            {
                lease = await quitterAcquire;
            }
            catch (OperationCanceledException)
            {
                return "gave up";
            }

            if (!lease.IsHeld)
            {
                return "gave up";
            }

            ReleaseOnce("writer that gives up", lease.Release, () => lease.Release(), lease.IsHeld);
            return "granted";
        });

        Task reader = Task.Run(async () =>
        {
            ReadLease lease = await readerAcquire;
            section.EnterRead("queued reader");
            admitted.SetResult();
            await ReaderWriterSection.StayAsync();
            section.ExitRead();
            Specification.Assert(lease.Release(), LockLost + ": the queued reader's release returned false; expected true.");
        });

        Task secondWriter = Task.Run(async () =>
        {
            WriteLease lease = await secondWriterAcquire;
            section.EnterWrite("second writer");
            await ReaderWriterSection.StayAsync();
            section.ExitWrite();
            ReleaseOnce("second writer", lease.Release, () => lease.Release(), lease.IsHeld);
        });

        Task givingUp = Task.Run(() =>
        {
            if (giveUp == GiveUp.Cancellation)
            {
                cancellation.Cancel();
            }
            else
            {
                clock.Advance(timeout);
            }

            gaveUp.SetResult();
        });

        Task holding = Task.Run(async () =>
        {
            // The holder stays until the queued reader is in: if the writer's give-up does not
            // admit it, no other step will, and Coyote reports the deadlock.
            await admitted.Task;
            section.ExitRead();
            Specification.Assert(holder.Release(), LockLost + ": the holding reader's release returned false; expected true.");
        });

        await Task.WhenAll(new Task[] { quitter, reader, secondWriter, givingUp, holding });
        Specification.Assert(quitter.Result == "gave up", "The writer that gives up ended '{0}'; expected 'gave up'.", quitter.Result);
        AssertQuietAndFree(gate, "writer gives up");
    }

    /// <summary>
    /// Upgrades never deadlock: three upgradeable readers that each upgrade, two plain readers and two
    /// writers run at once. Every task must finish, and the section checks exclusion throughout.
    /// </summary>
    public static async Task UpgradesAsync(ReaderWriterLockFaults faults, ReaderWriterPreference preference)
    {
        var gate = Create(faults, preference: preference);
        var section = new ReaderWriterSection();
        var tasks = new List<Task>();
        for (int i = 0; i < 3; i++)
        {
            string who = $"upgrader {i}";
            tasks.Add(Task.Run(() => UpgraderAsync(gate, section, who, rounds: 1)));
        }

        for (int i = 0; i < 2; i++)
        {
            string reader = $"reader {i}";
            string writer = $"writer {i}";
            tasks.Add(Task.Run(() => ReaderAsync(gate, section, reader, rounds: 1)));
            tasks.Add(Task.Run(() => WriterAsync(gate, section, writer, rounds: 1)));
        }

        await Task.WhenAll(tasks.ToArray());
        Specification.Assert(section.WriteEntries == 5, "The write section was entered {0} times; expected 5.", section.WriteEntries);
        AssertQuietAndFree(gate, "upgrades");
    }

    /// <summary>
    /// The end state of every scenario: no waiter and no holder remain; a try-write succeeds and then a
    /// try-read fails; after its release a try-read and a try-upgradeable succeed together.
    /// </summary>
    public static void AssertQuietAndFree(AsyncReaderWriterLock gate, string scenario)
    {
        Specification.Assert(gate.WaitingCount == 0, "{0}: {1} waiter(s) still queued at the end; expected 0.", scenario, gate.WaitingCount);
        Specification.Assert(
            gate.CurrentReadCount == 0 && !gate.IsWriteHeld && !gate.IsUpgradeableReadHeld,
            "Lock lost: {0}: at the end readers={1}, writer={2}, upgradeable={3}; expected 0, False, False.",
            scenario,
            gate.CurrentReadCount,
            gate.IsWriteHeld,
            gate.IsUpgradeableReadHeld);

        bool write = gate.TryAcquireWrite(out WriteLease writer);
        Specification.Assert(write, "Lock lost: {0}: TryAcquireWrite at the end returned {1}; expected True.", scenario, write);
        bool read = gate.TryAcquireRead(out ReadLease refused);
        Specification.Assert(!read, "{0}: TryAcquireRead while written returned {1}; expected False.", scenario, read);
        refused.Dispose();
        Specification.Assert(writer.Release(), "{0}: the final write release returned false; expected true.", scenario);

        bool readAgain = gate.TryAcquireRead(out ReadLease reader);
        bool upgradeable = gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeableLease);
        Specification.Assert(readAgain && upgradeable, "{0}: a try-read and a try-upgradeable at the end returned {1} and {2}; expected True and True.", scenario, readAgain, upgradeable);
        reader.Dispose();
        upgradeableLease.Dispose();
    }

    // A writer that was just granted must find no plain reader, and a plain writer no upgradeable
    // reader either, in the lock's own state.
    private static void AssertNoReaderWhileWriting(AsyncReaderWriterLock gate, string who, bool upgraded)
    {
        int readers = gate.CurrentReadCount;
        bool upgradeable = gate.IsUpgradeableReadHeld;
        Specification.Assert(
            readers == 0 && upgradeable == upgraded,
            ReaderWriterSection.ExclusionViolated + ": {0} holds the write lease while the lock reports {1} reader(s) and IsUpgradeableReadHeld {2}; expected 0 and {3}.",
            who,
            readers,
            upgradeable,
            upgraded);
    }

    // A reader inside its section must never see the lock report a writer.
    private static void AssertNoWriterWhileReading(AsyncReaderWriterLock gate, string who)
    {
        bool writer = gate.IsWriteHeld;
        Specification.Assert(!writer, ReaderWriterSection.ExclusionViolated + ": {0} holds a read lease while the lock reports IsWriteHeld {1}; expected False.", who, writer);
    }

    private static void ReleaseOnce(string who, Func<bool> release, Func<bool> again, bool heldBefore)
    {
        Specification.Assert(heldBefore, LockLost + ": {0}: its lease reported IsHeld False before the release; expected True.", who);
        bool released = release();
        Specification.Assert(released, LockLost + ": {0}: the first Release() of its lease returned {1}; expected True.", who, released);
        SchedulingPoint.Interleave();
        bool twice = again();
        Specification.Assert(!twice, "{0}: a second Release() of the same lease returned {1}; expected False.", who, twice);
    }

    private static async Task ReaderAsync(AsyncReaderWriterLock gate, ReaderWriterSection section, string who, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            ReadLease lease = await gate.AcquireReadAsync();
            section.EnterRead(who);
            await ReaderWriterSection.StayAsync();
            AssertNoWriterWhileReading(gate, who);
            section.ExitRead();
            Specification.Assert(lease.Release(), LockLost + ": {0}: its read release returned false; expected true.", who);
        }
    }

    private static async Task WriterAsync(AsyncReaderWriterLock gate, ReaderWriterSection section, string who, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            WriteLease lease = await gate.AcquireWriteAsync();
            AssertNoReaderWhileWriting(gate, who, upgraded: false);
            section.EnterWrite(who);
            await ReaderWriterSection.StayAsync();
            section.ExitWrite();
            ReleaseOnce(who, lease.Release, () => lease.Release(), lease.IsHeld);
        }
    }

    private static async Task UpgraderAsync(AsyncReaderWriterLock gate, ReaderWriterSection section, string who, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            UpgradeableReadLease upgradeable = await gate.AcquireUpgradeableReadAsync();
            section.EnterUpgradeable(who);
            await ReaderWriterSection.StayAsync();
            AssertNoWriterWhileReading(gate, who);
            section.ExitUpgradeable();

            WriteLease write = await upgradeable.UpgradeAsync();
            AssertNoReaderWhileWriting(gate, who + " (upgraded)", upgraded: true);
            section.EnterWrite(who + " (upgraded)");
            await ReaderWriterSection.StayAsync();
            section.ExitWrite();
            ReleaseOnce(who + " (upgraded)", write.Release, () => write.Release(), write.IsHeld);
            Specification.Assert(upgradeable.IsHeld, "{0}: releasing the upgrade released the upgradeable read too.", who);
            ReleaseOnce(who, upgradeable.Release, () => upgradeable.Release(), upgradeable.IsHeld);
        }
    }

    private static void SyncReader(AsyncReaderWriterLock gate, ReaderWriterSection section, string who, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead();
            section.EnterRead(who);
            SchedulingPoint.Interleave();
            SchedulingPoint.Interleave();
            AssertNoWriterWhileReading(gate, who);
            section.ExitRead();
            Specification.Assert(scope.Release(), LockLost + ": {0}: its read scope release returned false; expected true.", who);
        }
    }

    private static void SyncWriter(AsyncReaderWriterLock gate, ReaderWriterSection section, string who, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            AsyncReaderWriterLock.WriteScope scope = gate.AcquireWrite();
            section.EnterWrite(who);
            SchedulingPoint.Interleave();
            SchedulingPoint.Interleave();
            section.ExitWrite();
            bool released = scope.Release();
            Specification.Assert(released, "{0}: its write scope release returned {1}; expected True.", who, released);
            SchedulingPoint.Interleave();
            bool twice = scope.Release();
            Specification.Assert(!twice, "{0}: a second release of its write scope returned {1}; expected False.", who, twice);
        }
    }
}
