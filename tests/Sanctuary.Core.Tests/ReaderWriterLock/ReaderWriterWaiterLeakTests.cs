using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Waiters that give up, and tokens that outlive many acquires, leave nothing behind.</summary>
[Collection(SerialCollection.Name)]
public sealed class ReaderWriterWaiterLeakTests
{
    private const long MaxHeapGrowth = 1024 * 1024;
    private const int BatchSize = 1_000;
    private readonly ITestOutputHelper _output;

    public ReaderWriterWaiterLeakTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private static long HeapAfterFullCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// One batch of give-ups against a lock that a writer holds: reads, writes and upgradeable reads,
    /// each with a zero timeout, a 1 ms timeout or an already-cancelled token. Returns how many ended
    /// any other way than giving up.
    /// </summary>
    private static int RunGiveUpBatch(AsyncReaderWriterLock gate, ValueTask<ReadLease>[] reads, ValueTask<WriteLease>[] writes, ValueTask<UpgradeableReadLease>[] upgradeables, CancellationToken cancelled, Action letTimeoutsFire)
    {
        for (int i = 0; i < reads.Length; i++)
        {
            int form = i % 3;
            TimeSpan timeout = form == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(1);
            CancellationToken token = form == 2 ? cancelled : default;
            reads[i] = ReaderWriterOutcomes.Start(() => gate.TryAcquireReadAsync(timeout, token));
            writes[i] = ReaderWriterOutcomes.Start(() => gate.TryAcquireWriteAsync(timeout, token));
            upgradeables[i] = ReaderWriterOutcomes.Start(() => gate.TryAcquireUpgradeableReadAsync(timeout, token));
        }

        letTimeoutsFire();
        int wrong = 0;
        for (int i = 0; i < reads.Length; i++)
        {
            bool cancelledForm = i % 3 == 2;
            wrong += GaveUp(reads[i], cancelledForm, lease => lease.IsHeld) ? 0 : 1;
            wrong += GaveUp(writes[i], cancelledForm, lease => lease.IsHeld) ? 0 : 1;
            wrong += GaveUp(upgradeables[i], cancelledForm, lease => lease.IsHeld) ? 0 : 1;
        }

        return wrong;
    }

    private static bool GaveUp<T>(ValueTask<T> attempt, bool cancelledForm, Func<T, bool> isHeld)
    {
        if (!attempt.IsCompleted && !Eventually.Holds(() => attempt.IsCompleted, TimeSpan.FromSeconds(5)))
        {
            return false;
        }

        (T lease, Exception? error) = ReaderWriterOutcomes.Consume(attempt);
        return cancelledForm ? error is OperationCanceledException : error is null && !isHeld(lease);
    }

    [Fact]
    public void MillionGiveUps_WriterHoldsFakeClock_QueueEmptiesAndHeapStaysFlat()
    {
        var clock = new FakeTimeProvider();
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquireWrite(out WriteLease holder));
        using var cancelledSource = new CancellationTokenSource();
        cancelledSource.Cancel();
        var reads = new ValueTask<ReadLease>[BatchSize / 3];
        var writes = new ValueTask<WriteLease>[BatchSize / 3];
        var upgradeables = new ValueTask<UpgradeableReadLease>[BatchSize / 3];
        void Fire() => clock.Advance(TimeSpan.FromMilliseconds(1));
        for (int warmUp = 0; warmUp < 5; warmUp++)
        {
            RunGiveUpBatch(gate, reads, writes, upgradeables, cancelledSource.Token, Fire);
        }

        long before = HeapAfterFullCollection();
        int wrong = 0;
        int batches = 1_000_000 / (3 * reads.Length) + 1;
        for (int round = 0; round < batches; round++)
        {
            wrong += RunGiveUpBatch(gate, reads, writes, upgradeables, cancelledSource.Token, Fire);
        }

        Array.Clear(reads);
        Array.Clear(writes);
        Array.Clear(upgradeables);
        long growth = HeapAfterFullCollection() - before;

        _output.WriteLine($"heap growth after {batches * 3 * reads.Length:N0} give-ups: {growth:N0} bytes");
        Assert.Equal(0, wrong);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over a million abandoned acquires.");
        Assert.True(holder.IsHeld);
        holder.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void HundredThousandWriterGiveUps_ReaderHoldsFakeClock_QueuedReadersAdmittedAndHeapStaysFlat()
    {
        var clock = new FakeTimeProvider();
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { TimeProvider = clock });
        Assert.True(gate.TryAcquireRead(out ReadLease holder));
        using var longLived = new CancellationTokenSource();

        int Rounds(int count)
        {
            int wrong = 0;
            for (int i = 0; i < count; i++)
            {
                using var cancellation = new CancellationTokenSource();
                ValueTask<WriteLease> writer = i % 2 == 0
                    ? gate.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(1))
                    : gate.AcquireWriteAsync(cancellation.Token);
                ValueTask<ReadLease> reader = gate.AcquireReadAsync(longLived.Token);
                if (reader.IsCompleted)
                {
                    wrong++;
                }

                if (i % 2 == 0)
                {
                    clock.Advance(TimeSpan.FromMilliseconds(1));
                }
                else
                {
                    cancellation.Cancel();
                }

                wrong += GaveUp(writer, cancelledForm: i % 2 == 1, lease => lease.IsHeld) ? 0 : 1;
                if (!reader.IsCompleted)
                {
                    wrong++;
                    continue;
                }

                (ReadLease lease, Exception? error) = ReaderWriterOutcomes.Consume(reader);
                if (error is not null || !lease.Release())
                {
                    wrong++;
                }
            }

            return wrong;
        }

        Rounds(1_000);
        long before = HeapAfterFullCollection();
        int failures = Rounds(100_000);
        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);

        _output.WriteLine($"heap growth after 100,000 writer give-ups: {growth:N0} bytes");
        Assert.Equal(0, failures);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes over 100,000 writer give-ups.");
        holder.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void MillionUncontendedAcquires_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var gate = new AsyncReaderWriterLock();
        using var longLived = new CancellationTokenSource();
        void Acquires(int count)
        {
            for (int i = 0; i < count; i++)
            {
                switch (i % 3)
                {
                    case 0:
                        (ReadLease read, Exception? readError) = ReaderWriterOutcomes.Consume(gate.AcquireReadAsync(longLived.Token));
                        Assert.Null(readError);
                        read.Dispose();
                        break;
                    case 1:
                        (WriteLease write, Exception? writeError) = ReaderWriterOutcomes.Consume(gate.AcquireWriteAsync(longLived.Token));
                        Assert.Null(writeError);
                        write.Dispose();
                        break;
                    default:
                        (UpgradeableReadLease upgradeable, Exception? upgradeableError) = ReaderWriterOutcomes.Consume(gate.AcquireUpgradeableReadAsync(longLived.Token));
                        Assert.Null(upgradeableError);
                        upgradeable.Dispose();
                        break;
                }
            }
        }

        Acquires(3_000);
        long before = HeapAfterFullCollection();
        Acquires(1_000_000);
        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);

        _output.WriteLine($"heap growth after 1,000,000 uncontended acquires with one token: {growth:N0} bytes");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes while the long-lived token stayed alive.");
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void HundredThousandGrantedWaits_SameLongLivedToken_NoRegistrationPileUp()
    {
        using var gate = new AsyncReaderWriterLock();
        using var longLived = new CancellationTokenSource();
        void Rounds(int count)
        {
            Assert.True(gate.TryAcquireWrite(out WriteLease holder));
            for (int i = 0; i < count; i++)
            {
                ValueTask<ReadLease> reader = gate.AcquireReadAsync(longLived.Token);
                ValueTask<WriteLease> writer = gate.AcquireWriteAsync(longLived.Token);
                holder.Dispose();
                Assert.True(reader.IsCompleted, "A queued reader was not granted after the writer released.");
                (ReadLease read, Exception? readError) = ReaderWriterOutcomes.Consume(reader);
                Assert.Null(readError);
                read.Dispose();
                Assert.True(writer.IsCompleted, "A queued writer was not granted after the reader released.");
                (holder, Exception? writeError) = ReaderWriterOutcomes.Consume(writer);
                Assert.Null(writeError);
            }

            holder.Dispose();
        }

        Rounds(1_000);
        long before = HeapAfterFullCollection();
        Rounds(100_000);
        long growth = HeapAfterFullCollection() - before;
        GC.KeepAlive(longLived);

        _output.WriteLine($"heap growth after 100,000 granted waits with one token: {growth:N0} bytes");
        Assert.True(growth < MaxHeapGrowth, $"The heap grew by {growth:N0} bytes: granted waiters left registrations on the long-lived token.");
        ReaderWriterLockAssert.IsFree(gate);
    }
}
