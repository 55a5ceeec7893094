using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Timeouts, cancellation and argument checks of the async acquires, on a fake clock.</summary>
public sealed class ReaderWriterLockTimeoutTests
{
    private readonly FakeTimeProvider _clock = new();

    private AsyncReaderWriterLock Create(string name = "orders") =>
        new(new AsyncReaderWriterLockOptions { Name = name, TimeProvider = _clock });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AcquireWriteAsync_TimeoutElapses_ThrowsLockTimeoutExceptionNamingLockAndTimeout(bool intForm)
    {
        using AsyncReaderWriterLock gate = Create("orders");
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        ValueTask<WriteLease> pending = intForm ? gate.AcquireWriteAsync(250) : gate.AcquireWriteAsync(TimeSpan.FromMilliseconds(250));
        _clock.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(pending.IsCompleted, "The acquire gave up before its timeout.");
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.Equal("orders", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), error.Timeout);
        Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        Assert.True(Durations.IsMentionedIn(error.Message, TimeSpan.FromMilliseconds(250)), $"The message does not name the timeout: {error.Message}");
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(reader.IsHeld);
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireReadAsync_TimeoutElapses_ExceptionSaysHowLongTheWriterHeldTheLock()
    {
        // The design's timeout contract: the message names the lock, the timeout and how long the
        // current holder has held the lock.
        using AsyncReaderWriterLock gate = Create("ledger");
        WriteLease writer = await gate.AcquireWriteAsync();
        _clock.Advance(TimeSpan.FromSeconds(1));

        ValueTask<ReadLease> pending = gate.AcquireReadAsync(TimeSpan.FromSeconds(2));
        _clock.Advance(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await pending);
        Assert.True(error.HeldFor is not null, $"The timeout exception does not say how long the writer held the lock: {error.Message}");
        Assert.InRange(error.HeldFor.Value, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
        Assert.True(Durations.IsMentionedIn(error.Message, error.HeldFor.Value), $"The message does not say how long the holder held the lock: {error.Message}");
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquireAsync_TimeoutElapses_ReturnsUnheldDefaultLeasesInEveryMode()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease writer = await gate.AcquireWriteAsync();

        ValueTask<ReadLease> read = gate.TryAcquireReadAsync(TimeSpan.FromMilliseconds(5));
        ValueTask<WriteLease> write = gate.TryAcquireWriteAsync(5);
        ValueTask<UpgradeableReadLease> upgradeable = gate.TryAcquireUpgradeableReadAsync(5);
        Assert.Equal(3, gate.WaitingCount);
        _clock.Advance(TimeSpan.FromMilliseconds(5));

        ReadLease readLease = await read;
        WriteLease writeLease = await write;
        UpgradeableReadLease upgradeableLease = await upgradeable;
        Assert.False(readLease.IsHeld);
        Assert.False(writeLease.IsHeld);
        Assert.False(upgradeableLease.IsHeld);
        Assert.Equal(default, readLease);
        Assert.Equal(default, writeLease);
        Assert.Equal(default, upgradeableLease);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(writer.IsHeld);
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireAsync_ZeroTimeoutOnABusyLock_FailsAtOnceWithoutQueueing()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease writer = await gate.AcquireWriteAsync();

        ValueTask<ReadLease> read = gate.AcquireReadAsync(TimeSpan.Zero);
        ValueTask<UpgradeableReadLease> upgradeable = gate.AcquireUpgradeableReadAsync(0);
        ValueTask<WriteLease> tryWrite = gate.TryAcquireWriteAsync(TimeSpan.Zero);

        Assert.True(read.IsCompleted, "A zero timeout waited.");
        Assert.True(upgradeable.IsCompleted, "A zero timeout waited.");
        Assert.True(tryWrite.IsCompleted, "A zero timeout waited.");
        Assert.Equal(0, gate.WaitingCount);
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await read);
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await upgradeable);
        Assert.False((await tryWrite).IsHeld);
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireAsync_TokenCancelledWhileWaiting_ThrowsOperationCanceledWithThatTokenAndLockIsUnchanged()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease writer = await gate.AcquireWriteAsync();
        using var cancellation = new CancellationTokenSource();
        ValueTask<ReadLease> read = gate.AcquireReadAsync(cancellation.Token);
        ValueTask<WriteLease> write = gate.AcquireWriteAsync(TimeSpan.FromSeconds(5), cancellation.Token);
        ValueTask<UpgradeableReadLease> upgradeable = gate.TryAcquireUpgradeableReadAsync(TimeSpan.FromSeconds(5), cancellation.Token);

        cancellation.Cancel();

        foreach (Func<Task> outcome in new Func<Task>[] { async () => await read, async () => await write, async () => await upgradeable })
        {
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(outcome);
            Assert.Equal(cancellation.Token, error.CancellationToken);
        }

        Assert.Equal(0, gate.WaitingCount);
        Assert.True(writer.IsHeld);
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireAsync_TokenAlreadyCancelled_CancelledAtOnceEvenOnAFreeLock()
    {
        using AsyncReaderWriterLock gate = Create();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        ValueTask<ReadLease> read = gate.AcquireReadAsync(cancellation.Token);
        ValueTask<WriteLease> write = gate.TryAcquireWriteAsync(TimeSpan.FromSeconds(1), cancellation.Token);
        ValueTask<UpgradeableReadLease> upgradeable = gate.AcquireUpgradeableReadAsync(1_000, cancellation.Token);

        Assert.True(read.IsCanceled, "An acquire with a cancelled token did not end cancelled at once.");
        Assert.True(write.IsCanceled, "An acquire with a cancelled token did not end cancelled at once.");
        Assert.True(upgradeable.IsCanceled, "An acquire with a cancelled token did not end cancelled at once.");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await write);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await upgradeable);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void Acquire_NegativeTimeouts_ThrowArgumentOutOfRangeExceptionNamingTheLock()
    {
        using AsyncReaderWriterLock gate = Create("orders");
        TimeSpan negative = TimeSpan.FromMilliseconds(-2);

        var errors = new ArgumentOutOfRangeException[]
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireReadAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireReadAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireReadAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireReadAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireWriteAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireWriteAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireWriteAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireWriteAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireUpgradeableReadAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.AcquireUpgradeableReadAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireUpgradeableReadAsync(negative)),
            Assert.Throws<ArgumentOutOfRangeException>(() => gate.TryAcquireUpgradeableReadAsync(-2)),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead(negative); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead(-2); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.ReadScope scope = gate.TryAcquireRead(negative); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.ReadScope scope = gate.TryAcquireRead(-2); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.WriteScope scope = gate.AcquireWrite(negative); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.WriteScope scope = gate.AcquireWrite(-2); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.WriteScope scope = gate.TryAcquireWrite(negative); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.WriteScope scope = gate.TryAcquireWrite(-2); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.UpgradeableReadScope scope = gate.AcquireUpgradeableRead(negative); }),
            Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncReaderWriterLock.UpgradeableReadScope scope = gate.TryAcquireUpgradeableRead(negative); }),
        };

        foreach (ArgumentOutOfRangeException error in errors)
        {
            Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        }

        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.Throws<ArgumentOutOfRangeException>(() => upgradeable.UpgradeAsync(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => upgradeable.TryUpgradeAsync(negative));
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireAsync_InfiniteTimeouts_AreAcceptedAndWaitWithoutALimit()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease writer = await gate.AcquireWriteAsync();

        ValueTask<ReadLease> read = gate.AcquireReadAsync(Timeout.Infinite);
        ValueTask<ReadLease> tryRead = gate.TryAcquireReadAsync(Timeout.InfiniteTimeSpan);
        _clock.Advance(TimeSpan.FromDays(400));

        Assert.False(read.IsCompleted, "An infinite wait ended on its own.");
        Assert.False(tryRead.IsCompleted, "An infinite wait ended on its own.");
        writer.Dispose();
        (await read).Dispose();
        (await tryRead).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }
}
