using System;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Dispose with holders and waiters of every kind.</summary>
public sealed class ReaderWriterLockDisposeTests
{
    [Fact]
    public async Task Dispose_WaitersOfEveryKind_AllFailWithObjectDisposedExceptionNamingTheLock()
    {
        var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "archive" });
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync();
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync();
        ValueTask<ReadLease> lateReader = gate.AcquireReadAsync();
        ValueTask<UpgradeableReadLease> lateUpgradeable = gate.TryAcquireUpgradeableReadAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(4, gate.WaitingCount);

        gate.Dispose();

        Assert.True(gate.IsDisposed);
        Assert.Equal(0, gate.WaitingCount);
        foreach (Func<Task> outcome in new Func<Task>[] { async () => await upgrade, async () => await writer, async () => await lateReader, async () => await lateUpgradeable })
        {
            var error = await Assert.ThrowsAsync<ObjectDisposedException>(outcome);
            Assert.Contains("archive", error.Message, StringComparison.Ordinal);
        }

        Assert.True(reader.Release(), "A reader's release after Dispose did not clear its hold.");
        Assert.True(upgradeable.Release(), "The upgradeable reader's release after Dispose did not clear its hold.");
        Assert.Equal(0, gate.CurrentReadCount);
        Assert.False(gate.IsUpgradeableReadHeld);
    }

    [Fact]
    public async Task Dispose_ThenEveryAcquireForm_ThrowsObjectDisposedException()
    {
        var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        gate.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ReaderWriterOutcomes.Start(() => gate.AcquireReadAsync()));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ReaderWriterOutcomes.Start(() => gate.AcquireWriteAsync(TimeSpan.FromSeconds(1))));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ReaderWriterOutcomes.Start(() => gate.TryAcquireUpgradeableReadAsync(TimeSpan.Zero)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await ReaderWriterOutcomes.Start(() => upgradeable.UpgradeAsync()));
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquireRead(out _));
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquireWrite(out _));
        Assert.Throws<ObjectDisposedException>(() => gate.TryAcquireUpgradeableRead(out _));
        Assert.Throws<ObjectDisposedException>(() => { using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead(); });
        Assert.Throws<ObjectDisposedException>(() => { using AsyncReaderWriterLock.WriteScope scope = gate.TryAcquireWrite(TimeSpan.Zero); });
        Assert.Throws<ObjectDisposedException>(() => { using AsyncReaderWriterLock.UpgradeableReadScope scope = gate.AcquireUpgradeableRead(); });
        upgradeable.Dispose();
    }

    [Fact]
    public async Task Dispose_WriterHolds_LaterReleaseClearsTheHoldAndRunsNoWaiter()
    {
        var gate = new AsyncReaderWriterLock();
        WriteLease writer = await gate.AcquireWriteAsync();
        ValueTask<ReadLease> reader = gate.AcquireReadAsync();

        gate.Dispose();
        gate.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reader);
        Assert.True(gate.IsWriteHeld);
        Assert.True(writer.Release());
        Assert.False(gate.IsWriteHeld);
        Assert.False(writer.Release());
        Assert.Equal(0, gate.WaitingCount);
    }

    [Fact]
    public async Task Dispose_BlockingWaiter_ThrowsObjectDisposedExceptionOnItsThread()
    {
        var gate = new AsyncReaderWriterLock();
        WriteLease writer = await gate.AcquireWriteAsync();
        Task<bool> blocked = Waiters.RunOnOwnThread(() =>
        {
            using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead();
            return scope.IsHeld;
        });
        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking reader never queued.");

        gate.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Waiters.WithinAsync(blocked, TimeSpan.FromSeconds(10), "The blocking reader"));
        writer.Dispose();
    }
}
