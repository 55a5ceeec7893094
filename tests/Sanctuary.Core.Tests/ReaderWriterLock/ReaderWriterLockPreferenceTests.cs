using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Writer and reader preference, and what happens when a waiting writer gives up.</summary>
public sealed class ReaderWriterLockPreferenceTests
{
    private readonly FakeTimeProvider _clock = new();

    private AsyncReaderWriterLock Create(ReaderWriterPreference preference) =>
        new(new AsyncReaderWriterLockOptions { Name = "prices", Preference = preference, TimeProvider = _clock });

    [Fact]
    public async Task AcquireReadAsync_WriterPreferenceAndAWriterWaits_NewReaderQueuesBehindTheWriter()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Writer);
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync();

        ValueTask<ReadLease> late = gate.AcquireReadAsync();
        ValueTask<UpgradeableReadLease> lateUpgradeable = gate.AcquireUpgradeableReadAsync();

        Assert.False(late.IsCompleted, "A reader that arrived after a waiting writer was admitted before it.");
        Assert.False(lateUpgradeable.IsCompleted, "An upgradeable reader that arrived after a waiting writer was admitted before it.");
        Assert.Equal(3, gate.WaitingCount);
        first.Dispose();
        Assert.True(writer.IsCompleted);
        Assert.False(late.IsCompleted);
        (await writer).Dispose();
        ReadLease lateLease = await late;
        UpgradeableReadLease lateUpgradeableLease = await lateUpgradeable;
        Assert.True(lateLease.IsHeld);
        Assert.True(lateUpgradeableLease.IsHeld);
        lateLease.Dispose();
        lateUpgradeableLease.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireReadAsync_ReaderPreferenceAndAWriterWaits_NewReadersEnterAtOnce()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Reader);
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync();

        Assert.True(gate.TryAcquireRead(out ReadLease second), "Reader preference refused a reader while a writer waited.");
        ValueTask<ReadLease> third = gate.AcquireReadAsync();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable), "Reader preference refused an upgradeable reader while a writer waited.");

        Assert.True(third.IsCompletedSuccessfully);
        Assert.Equal(3, gate.CurrentReadCount);
        first.Dispose();
        second.Dispose();
        (await third).Dispose();
        Assert.False(writer.IsCompleted, "The writer entered while the upgradeable reader held.");
        upgradeable.Dispose();
        (await writer).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_ReaderPreferenceWithWaitersBehindABlockedWriter_ReadersQueuedWhileWrittenAreAllAdmitted()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Reader);
        WriteLease holder = await gate.AcquireWriteAsync();
        ValueTask<ReadLease> r1 = gate.AcquireReadAsync();
        ValueTask<WriteLease> w = gate.AcquireWriteAsync();
        ValueTask<ReadLease> r2 = gate.AcquireReadAsync();

        holder.Dispose();

        Assert.True(r1.IsCompleted, "Reader preference kept a reader queued behind a blocked writer.");
        Assert.True(r2.IsCompleted, "Reader preference kept a reader queued behind a blocked writer.");
        Assert.False(w.IsCompleted);
        (await r1).Dispose();
        (await r2).Dispose();
        (await w).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(ReaderWriterPreference.Writer, false)]
    [InlineData(ReaderWriterPreference.Writer, true)]
    [InlineData(ReaderWriterPreference.Reader, false)]
    [InlineData(ReaderWriterPreference.Reader, true)]
    public async Task WaitingWriterGivesUp_LockHeldOnlyByReaders_ReadersQueuedBehindItAreAdmittedAtOnce(ReaderWriterPreference preference, bool byTimeout)
    {
        using AsyncReaderWriterLock gate = Create(preference);
        Assert.True(gate.TryAcquireRead(out ReadLease holder));
        using var cancellation = new CancellationTokenSource();
        ValueTask<WriteLease> writer = byTimeout
            ? gate.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(10))
            : gate.AcquireWriteAsync(cancellation.Token);
        ValueTask<ReadLease> reader = gate.AcquireReadAsync();
        ValueTask<UpgradeableReadLease> upgradeable = gate.AcquireUpgradeableReadAsync();
        ValueTask<WriteLease> laterWriter = gate.AcquireWriteAsync();

        if (byTimeout)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            Assert.False((await writer).IsHeld);
        }
        else
        {
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer);
        }

        Assert.True(reader.IsCompleted, "A reader queued behind the writer that gave up was not admitted while only readers held the lock.");
        Assert.True(upgradeable.IsCompleted, "An upgradeable reader queued behind the writer that gave up was not admitted.");
        Assert.False(laterWriter.IsCompleted);
        Assert.True(holder.IsHeld);
        Assert.Equal(2, gate.CurrentReadCount);
        Assert.Equal(1, gate.WaitingCount);
        (await reader).Dispose();
        (await upgradeable).Dispose();
        holder.Dispose();
        (await laterWriter).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task WaitingWriterGivesUp_AnotherWriterHolds_QueuedReadersKeepWaiting()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Writer);
        WriteLease holder = await gate.AcquireWriteAsync();
        using var cancellation = new CancellationTokenSource();
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync(cancellation.Token);
        ValueTask<ReadLease> reader = gate.AcquireReadAsync();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer);

        Assert.False(reader.IsCompleted, "A reader was admitted while a writer held the lock.");
        holder.Dispose();
        (await reader).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task WaitingWriterGivesUp_SecondWriterStillWaits_ReadersBehindBothKeepWaiting()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Writer);
        Assert.True(gate.TryAcquireRead(out ReadLease holder));
        using var cancellation = new CancellationTokenSource();
        ValueTask<WriteLease> first = gate.AcquireWriteAsync(cancellation.Token);
        ValueTask<WriteLease> second = gate.AcquireWriteAsync();
        ValueTask<ReadLease> reader = gate.AcquireReadAsync();

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);

        Assert.False(reader.IsCompleted, "A reader passed the writer that still waits.");
        Assert.False(gate.TryAcquireRead(out _), "A new reader passed the writer that still waits.");
        holder.Dispose();
        (await second).Dispose();
        (await reader).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }
}
