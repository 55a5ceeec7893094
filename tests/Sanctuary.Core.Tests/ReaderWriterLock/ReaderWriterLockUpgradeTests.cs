using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Upgrades of the upgradeable read lease and downgrades of the write lease.</summary>
public sealed class ReaderWriterLockUpgradeTests
{
    private readonly FakeTimeProvider _clock = new();

    private AsyncReaderWriterLock Create(ReaderWriterPreference preference = ReaderWriterPreference.Writer, string name = "stock") =>
        new(new AsyncReaderWriterLockOptions { Name = name, Preference = preference, TimeProvider = _clock });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task UpgradeAsync_NoPlainReaders_CompletesAtOnceAndReleaseReturnsToUpgradeableRead(int form)
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));

        ValueTask<WriteLease> pending = form switch
        {
            0 => upgradeable.UpgradeAsync(),
            1 => upgradeable.UpgradeAsync(TimeSpan.FromSeconds(1)),
            _ => upgradeable.TryUpgradeAsync(TimeSpan.FromSeconds(1)),
        };

        Assert.True(pending.IsCompletedSuccessfully, "An upgrade waited although no plain reader held the lock.");
        WriteLease write = await pending;
        Assert.True(write.IsHeld);
        Assert.True(gate.IsWriteHeld);
        Assert.True(gate.IsUpgradeableReadHeld);
        Assert.Same(gate, write.Lock);
        Assert.False(gate.TryAcquireRead(out _), "A reader entered next to an upgraded writer.");
        Assert.True(write.Release());
        Assert.False(write.IsHeld);
        Assert.False(gate.IsWriteHeld);
        Assert.True(upgradeable.IsHeld, "Releasing the upgrade released the upgradeable read too.");
        Assert.True(gate.TryAcquireRead(out ReadLease reader), "A reader was refused after the upgrade was released.");
        reader.Dispose();
        Assert.True(upgradeable.Release());
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_PlainReadersHold_WaitsForTheLastOneAndStopsNewReaders()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease second));

        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync();

        Assert.False(upgrade.IsCompleted);
        Assert.Equal(1, gate.WaitingCount);
        Assert.False(gate.TryAcquireRead(out _), "A new reader entered while an upgrade waited under writer preference.");
        first.Dispose();
        Assert.False(upgrade.IsCompleted);
        second.Dispose();
        WriteLease write = await upgrade;
        Assert.True(write.IsHeld);
        Assert.True(gate.IsWriteHeld);
        write.Dispose();
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_WriterQueuedBeforeTheUpgrade_UpgradeGoesFirst()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync();
        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync();
        Assert.Equal(2, gate.WaitingCount);

        reader.Dispose();

        Assert.True(upgrade.IsCompleted, "The upgrade did not go ahead of the writer that queued first.");
        Assert.False(writer.IsCompleted);
        (await upgrade).Dispose();
        Assert.False(writer.IsCompleted, "The writer entered while the upgradeable reader still held.");
        upgradeable.Dispose();
        WriteLease write = await writer;
        Assert.True(write.IsHeld);
        write.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_UpgradeAlreadyHeldOrWaiting_ThrowsInvalidOperationException()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        WriteLease held = await upgradeable.UpgradeAsync();

        var whileHeld = Assert.Throws<InvalidOperationException>(() => upgradeable.UpgradeAsync());
        Assert.Contains("stock", whileHeld.Message, StringComparison.Ordinal);
        held.Dispose();

        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> waiting = upgradeable.UpgradeAsync();
        Assert.Throws<InvalidOperationException>(() => upgradeable.UpgradeAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(1, gate.WaitingCount);
        reader.Dispose();
        (await waiting).Dispose();
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryUpgradeAsync_ZeroTimeoutWhileAnUpgradeIsHeldOrWaiting_ThrowsInvalidOperationException()
    {
        // The documented contract of UpgradeAsync and TryUpgradeAsync: an upgrade that is already
        // held or waiting makes a second upgrade throw, whatever its timeout.
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        WriteLease held = await upgradeable.UpgradeAsync();

        Exception? whileHeld = await Record.ExceptionAsync(async () => await upgradeable.TryUpgradeAsync(TimeSpan.Zero));
        Assert.True(whileHeld is InvalidOperationException, $"A zero-timeout upgrade while the upgrade is held ended with {whileHeld?.GetType().Name ?? "a lease that is not held"}; expected InvalidOperationException.");
        held.Dispose();

        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> waiting = upgradeable.UpgradeAsync();
        Exception? whileWaiting = await Record.ExceptionAsync(async () => await upgradeable.UpgradeAsync(TimeSpan.Zero));
        Assert.True(whileWaiting is InvalidOperationException, $"A zero-timeout upgrade while another upgrade waits ended with {whileWaiting?.GetType().Name ?? "a lease"}; expected InvalidOperationException.");
        reader.Dispose();
        (await waiting).Dispose();
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_TimeoutElapses_ThrowsLockTimeoutExceptionAndKeepsUpgradeableRead()
    {
        using AsyncReaderWriterLock gate = Create(name: "stock");
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        ValueTask<WriteLease> throwing = upgradeable.UpgradeAsync(TimeSpan.FromMilliseconds(100));
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var error = await Assert.ThrowsAsync<LockTimeoutException>(async () => await throwing);
        Assert.Equal("stock", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(100), error.Timeout);

        ValueTask<WriteLease> trying = upgradeable.TryUpgradeAsync(TimeSpan.FromMilliseconds(100));
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        WriteLease notHeld = await trying;
        Assert.False(notHeld.IsHeld);
        Assert.Null(notHeld.Lock);

        Assert.True(upgradeable.IsHeld);
        Assert.True(reader.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        Assert.True(gate.TryAcquireRead(out ReadLease another), "Readers stayed blocked after the upgrade gave up.");
        another.Dispose();
        reader.Dispose();
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_TokenCancelledWhileWaiting_ThrowsAndAdmitsQueuedReaders()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        using var cancellation = new CancellationTokenSource();
        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync(cancellation.Token);
        ValueTask<ReadLease> queuedReader = gate.AcquireReadAsync();
        Assert.False(queuedReader.IsCompleted);

        cancellation.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await upgrade);
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.True(queuedReader.IsCompleted, "The reader queued behind the cancelled upgrade was not admitted.");
        (await queuedReader).Dispose();
        reader.Dispose();
        Assert.True(upgradeable.IsHeld);
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_TokenAlreadyCancelled_ThrowsAtOnceWithoutUpgrading()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await upgradeable.UpgradeAsync(cancellation.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await upgradeable.TryUpgradeAsync(TimeSpan.FromSeconds(1), cancellation.Token));

        Assert.False(gate.IsWriteHeld);
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_UpgradeableReleasedWhileItsUpgradeWaits_UpgradeFailsWithInvalidOperationException()
    {
        using AsyncReaderWriterLock gate = Create(name: "stock");
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync();

        Assert.True(upgradeable.Release());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await upgrade);
        Assert.Contains("stock", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, gate.WaitingCount);
        Assert.False(gate.IsUpgradeableReadHeld);
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Release_UpgradeableReleasedWhileUpgraded_ReleasesBothHoldsAndTheStaleWriteLease()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        WriteLease write = await upgradeable.UpgradeAsync();
        ValueTask<WriteLease> nextWriter = gate.AcquireWriteAsync();

        Assert.True(upgradeable.Release());

        Assert.False(write.IsHeld);
        WriteLease next = await nextWriter;
        Assert.True(next.IsHeld);
        Assert.False(write.Release(), "The stale upgraded write lease released the next writer.");
        Assert.True(next.IsHeld);
        next.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_StaleOrDefaultUpgradeableLease_ThrowsInvalidOperationException()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease first));
        first.Dispose();
        UpgradeableReadLease second = await gate.AcquireUpgradeableReadAsync();

        Assert.Throws<InvalidOperationException>(() => first.UpgradeAsync());
        Assert.Throws<InvalidOperationException>(() => first.TryUpgradeAsync(TimeSpan.Zero));
        Assert.Throws<InvalidOperationException>(() => default(UpgradeableReadLease).UpgradeAsync());
        Assert.Throws<InvalidOperationException>(() => default(UpgradeableReadLease).UpgradeAsync(TimeSpan.Zero));
        Assert.Throws<InvalidOperationException>(() => default(UpgradeableReadLease).TryUpgradeAsync(TimeSpan.Zero));
        Assert.False(gate.IsWriteHeld);
        second.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task DowngradeToRead_WriterWithQueuedReadersAndWriter_AdmitsTheReadersAheadOfTheWriterOnly()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease write = await gate.AcquireWriteAsync();
        ValueTask<ReadLease> r1 = gate.AcquireReadAsync();
        ValueTask<UpgradeableReadLease> u1 = gate.AcquireUpgradeableReadAsync();
        ValueTask<WriteLease> w2 = gate.AcquireWriteAsync();
        ValueTask<ReadLease> r2 = gate.AcquireReadAsync();

        ReadLease downgraded = write.DowngradeToRead();

        Assert.True(downgraded.IsHeld);
        Assert.Same(gate, downgraded.Lock);
        Assert.False(write.IsHeld);
        Assert.False(write.Release(), "The write lease still released something after its downgrade.");
        Assert.True(r1.IsCompleted, "The readers ahead of the writer were not admitted by the downgrade.");
        Assert.True(u1.IsCompleted, "The readers ahead of the writer were not admitted by the downgrade.");
        Assert.False(w2.IsCompleted);
        Assert.False(r2.IsCompleted, "A reader behind the waiting writer was admitted under writer preference.");
        Assert.Equal(2, gate.CurrentReadCount);
        Assert.True(gate.IsUpgradeableReadHeld);
        (await r1).Dispose();
        (await u1).Dispose();
        Assert.True(downgraded.Release());
        (await w2).Dispose();
        (await r2).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task DowngradeToUpgradeableRead_Writer_KeepsAnUpgradeableHoldThatCanUpgradeAgain()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteLease write = await gate.AcquireWriteAsync();
        ValueTask<ReadLease> reader = gate.AcquireReadAsync();
        ValueTask<UpgradeableReadLease> otherUpgradeable = gate.AcquireUpgradeableReadAsync();

        UpgradeableReadLease upgradeable = write.DowngradeToUpgradeableRead();

        Assert.True(upgradeable.IsHeld);
        Assert.True(gate.IsUpgradeableReadHeld);
        Assert.False(gate.IsWriteHeld);
        Assert.False(write.IsHeld);
        Assert.True(reader.IsCompleted, "A queued reader was not admitted by the downgrade.");
        Assert.False(otherUpgradeable.IsCompleted, "A second upgradeable reader was admitted by the downgrade.");
        (await reader).Dispose();
        WriteLease again = await upgradeable.UpgradeAsync();
        Assert.True(again.IsHeld);
        again.Dispose();
        upgradeable.Dispose();
        (await otherUpgradeable).Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Downgrade_UpgradedStaleOrDefaultWriteLease_ThrowsInvalidOperationException()
    {
        using AsyncReaderWriterLock gate = Create(name: "stock");
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        WriteLease upgraded = await upgradeable.UpgradeAsync();

        var fromUpgrade = Assert.Throws<InvalidOperationException>(() => upgraded.DowngradeToRead());
        Assert.Contains("stock", fromUpgrade.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => upgraded.DowngradeToUpgradeableRead());
        Assert.True(upgraded.IsHeld, "A refused downgrade changed the upgraded hold.");
        upgraded.Dispose();
        upgradeable.Dispose();

        WriteLease write = await gate.AcquireWriteAsync();
        write.Dispose();
        Assert.Throws<InvalidOperationException>(() => write.DowngradeToRead());
        Assert.Throws<InvalidOperationException>(() => write.DowngradeToUpgradeableRead());
        Assert.Throws<InvalidOperationException>(() => default(WriteLease).DowngradeToRead());
        Assert.Throws<InvalidOperationException>(() => default(WriteLease).DowngradeToUpgradeableRead());
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task UpgradeAsync_ReaderPreference_NewReadersStillEnterWhileTheUpgradeWaits()
    {
        using AsyncReaderWriterLock gate = Create(ReaderWriterPreference.Reader);
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        ValueTask<WriteLease> upgrade = upgradeable.UpgradeAsync();

        Assert.True(gate.TryAcquireRead(out ReadLease late), "Reader preference refused a reader while an upgrade waited.");
        first.Dispose();
        Assert.False(upgrade.IsCompleted);
        late.Dispose();
        (await upgrade).Dispose();
        upgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }
}
