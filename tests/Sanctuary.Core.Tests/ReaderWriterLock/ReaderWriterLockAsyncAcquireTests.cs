using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Every async and try-now acquire overload of the three modes, on a free and on a busy lock.</summary>
public sealed class ReaderWriterLockAsyncAcquireTests
{
    private readonly FakeTimeProvider _clock = new();

    public static TheoryData<int> AsyncForms => new() { 0, 1, 2, 3, 4, 5, 6 };

    private AsyncReaderWriterLock Create(ReaderWriterPreference preference = ReaderWriterPreference.Writer) =>
        new(new AsyncReaderWriterLockOptions { Name = "catalog", Preference = preference, TimeProvider = _clock });

    // The overloads, all with a 5 ms limit where they take one, so a waiting request never ends by itself.
    private static ValueTask<ReadLease> Read(AsyncReaderWriterLock gate, int form, CancellationToken token = default) => form switch
    {
        0 => gate.AcquireReadAsync(token),
        1 => gate.AcquireReadAsync(TimeSpan.FromMilliseconds(5), token),
        2 => gate.AcquireReadAsync(5, token),
        3 => gate.TryAcquireReadAsync(TimeSpan.FromMilliseconds(5), token),
        4 => gate.TryAcquireReadAsync(5, token),
        5 => gate.AcquireReadAsync(Timeout.InfiniteTimeSpan, token),
        _ => gate.TryAcquireReadAsync(Timeout.Infinite, token),
    };

    private static ValueTask<WriteLease> Write(AsyncReaderWriterLock gate, int form, CancellationToken token = default) => form switch
    {
        0 => gate.AcquireWriteAsync(token),
        1 => gate.AcquireWriteAsync(TimeSpan.FromMilliseconds(5), token),
        2 => gate.AcquireWriteAsync(5, token),
        3 => gate.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(5), token),
        4 => gate.TryAcquireWriteAsync(5, token),
        5 => gate.AcquireWriteAsync(Timeout.Infinite, token),
        _ => gate.TryAcquireWriteAsync(Timeout.InfiniteTimeSpan, token),
    };

    private static ValueTask<UpgradeableReadLease> Upgradeable(AsyncReaderWriterLock gate, int form, CancellationToken token = default) => form switch
    {
        0 => gate.AcquireUpgradeableReadAsync(token),
        1 => gate.AcquireUpgradeableReadAsync(TimeSpan.FromMilliseconds(5), token),
        2 => gate.AcquireUpgradeableReadAsync(5, token),
        3 => gate.TryAcquireUpgradeableReadAsync(TimeSpan.FromMilliseconds(5), token),
        4 => gate.TryAcquireUpgradeableReadAsync(5, token),
        5 => gate.AcquireUpgradeableReadAsync(Timeout.InfiniteTimeSpan, token),
        _ => gate.TryAcquireUpgradeableReadAsync(Timeout.Infinite, token),
    };

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireReadAsync_FreeLock_CompletesAtOnceAndSharesWithOtherReaders(int form)
    {
        using AsyncReaderWriterLock gate = Create();

        ValueTask<ReadLease> first = Read(gate, form);
        ValueTask<ReadLease> second = Read(gate, form);

        Assert.True(first.IsCompletedSuccessfully, "A read on a lock held only by readers waited.");
        Assert.True(second.IsCompletedSuccessfully, "A read on a lock held only by readers waited.");
        ReadLease a = await first;
        ReadLease b = await second;
        Assert.True(a.IsHeld);
        Assert.True(b.IsHeld);
        Assert.Same(gate, a.Lock);
        Assert.Equal(2, gate.CurrentReadCount);
        Assert.True(a.Release());
        Assert.Equal(1, gate.CurrentReadCount);
        Assert.True(b.Release());
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireReadAsync_WriterHolds_WaitsUntilTheWriterReleases(int form)
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        ValueTask<ReadLease> pending = Read(gate, form);

        Assert.False(pending.IsCompleted, "A read was granted while a writer held the lock.");
        Assert.Equal(1, gate.WaitingCount);
        Assert.True(writer.Release());
        ReadLease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.Equal(1, gate.CurrentReadCount);
        Assert.Equal(0, gate.WaitingCount);
        lease.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireWriteAsync_FreeLock_CompletesAtOnceAndExcludesEveryone(int form)
    {
        using AsyncReaderWriterLock gate = Create();

        ValueTask<WriteLease> pending = Write(gate, form);

        Assert.True(pending.IsCompletedSuccessfully, "A write on a free lock waited.");
        WriteLease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.Same(gate, lease.Lock);
        Assert.True(gate.IsWriteHeld);
        Assert.False(gate.TryAcquireRead(out _));
        Assert.False(gate.TryAcquireWrite(out _));
        Assert.False(gate.TryAcquireUpgradeableRead(out _));
        Assert.True(lease.Release());
        Assert.False(gate.IsWriteHeld);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireWriteAsync_ReaderHolds_WaitsUntilTheLastReaderReleases(int form)
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        Assert.True(gate.TryAcquireRead(out ReadLease second));

        ValueTask<WriteLease> pending = Write(gate, form);

        Assert.False(pending.IsCompleted, "A write was granted while readers held the lock.");
        Assert.True(first.Release());
        Assert.False(pending.IsCompleted, "A write was granted while a reader still held the lock.");
        Assert.True(second.Release());
        WriteLease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.True(gate.IsWriteHeld);
        lease.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireUpgradeableReadAsync_FreeLock_CompletesAtOnceAlongsidePlainReaders(int form)
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        ValueTask<UpgradeableReadLease> pending = Upgradeable(gate, form);

        Assert.True(pending.IsCompletedSuccessfully, "An upgradeable read waited although only a plain reader held the lock.");
        UpgradeableReadLease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.True(gate.IsUpgradeableReadHeld);
        Assert.Same(gate, lease.Lock);
        Assert.Equal(1, gate.CurrentReadCount);
        Assert.True(gate.TryAcquireRead(out ReadLease another), "A plain reader was refused next to the upgradeable reader.");
        Assert.False(gate.TryAcquireUpgradeableRead(out _), "A second upgradeable reader was admitted.");
        Assert.False(gate.TryAcquireWrite(out _));
        another.Dispose();
        reader.Dispose();
        Assert.True(lease.Release());
        Assert.False(gate.IsUpgradeableReadHeld);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(AsyncForms))]
    public async Task AcquireUpgradeableReadAsync_AnotherUpgradeableHolds_WaitsForItsRelease(int form)
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease holder));

        ValueTask<UpgradeableReadLease> pending = Upgradeable(gate, form);

        Assert.False(pending.IsCompleted, "Two upgradeable readers held the lock at once.");
        Assert.Equal(1, gate.WaitingCount);
        Assert.True(holder.Release());
        UpgradeableReadLease lease = await pending;
        Assert.True(lease.IsHeld);
        Assert.False(holder.IsHeld);
        lease.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquireRead_WriterHoldsOrWaits_ReturnsFalseAndDefaultLease()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        Assert.False(gate.TryAcquireRead(out ReadLease refused));
        Assert.Equal(default, refused);
        Assert.Null(refused.Lock);
        writer.Dispose();

        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> waitingWriter = gate.AcquireWriteAsync();
        Assert.False(gate.TryAcquireRead(out _), "A try-read passed a waiting writer under writer preference.");
        reader.Dispose();
        Assert.True(waitingWriter.IsCompletedSuccessfully);
        (await waitingWriter).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquireWrite_AnybodyHoldsOrWaits_ReturnsFalse()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.False(gate.TryAcquireWrite(out WriteLease refused), "A try-write entered next to an upgradeable reader.");
        Assert.Null(refused.Lock);

        ValueTask<UpgradeableReadLease> queued = gate.AcquireUpgradeableReadAsync();
        upgradeable.Dispose();
        Assert.True(queued.IsCompletedSuccessfully);
        UpgradeableReadLease next = await queued;
        Assert.False(gate.TryAcquireWrite(out _));
        next.Dispose();

        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        Assert.False(gate.TryAcquireWrite(out _), "A try-write entered next to a plain reader.");
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquireUpgradeableRead_WriterHoldsOrWaits_ReturnsFalse()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));
        Assert.False(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease refused));
        Assert.Null(refused.Lock);
        writer.Dispose();

        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> waitingWriter = gate.AcquireWriteAsync();
        Assert.False(gate.TryAcquireUpgradeableRead(out _), "A try-upgradeable passed a waiting writer under writer preference.");
        reader.Dispose();
        (await waitingWriter).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireWriteAsync_SeveralWritersQueue_GrantedInArrivalOrder()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease holder));
        var pending = new ValueTask<WriteLease>[4];
        for (int i = 0; i < pending.Length; i++)
        {
            pending[i] = gate.AcquireWriteAsync();
            Assert.Equal(i + 1, gate.WaitingCount);
        }

        holder.Dispose();
        for (int i = 0; i < pending.Length; i++)
        {
            Assert.True(pending[i].IsCompleted, $"Writer {i} was not granted after the writer before it released.");
            for (int later = i + 1; later < pending.Length; later++)
            {
                Assert.False(pending[later].IsCompleted, $"Writer {later} was granted while writer {i} held the lock.");
            }

            WriteLease lease = await pending[i];
            lease.Dispose();
        }

        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_WriterReleasesWithReadersAndWriterQueued_ReadersBeforeTheWriterEnterTogether()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease holder));
        ValueTask<ReadLease> r1 = gate.AcquireReadAsync();
        ValueTask<ReadLease> r2 = gate.AcquireReadAsync();
        ValueTask<WriteLease> w = gate.AcquireWriteAsync();
        ValueTask<ReadLease> r3 = gate.AcquireReadAsync();

        holder.Dispose();

        Assert.True(r1.IsCompleted, "The readers at the front were not admitted together.");
        Assert.True(r2.IsCompleted, "The readers at the front were not admitted together.");
        Assert.False(w.IsCompleted);
        Assert.False(r3.IsCompleted, "A reader queued behind a writer passed it under writer preference.");
        Assert.Equal(2, gate.CurrentReadCount);
        (await r1).Dispose();
        (await r2).Dispose();
        Assert.True(w.IsCompleted);
        Assert.False(r3.IsCompleted);
        (await w).Dispose();
        (await r3).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }
}
