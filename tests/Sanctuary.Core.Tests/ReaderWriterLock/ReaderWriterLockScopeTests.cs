using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using ReadScope = Sanctuary.AsyncReaderWriterLock.ReadScope;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using UpgradeableReadScope = Sanctuary.AsyncReaderWriterLock.UpgradeableReadScope;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;
using WriteScope = Sanctuary.AsyncReaderWriterLock.WriteScope;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>The blocking acquires and their ref struct scopes.</summary>
public sealed class ReaderWriterLockScopeTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new();

    private AsyncReaderWriterLock Create(string name = "ledger") =>
        new(new AsyncReaderWriterLockOptions { Name = name, TimeProvider = _clock });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AcquireRead_FreeLock_HeldScopeReleasesOnce(int form)
    {
        using AsyncReaderWriterLock gate = Create();

        ReadScope scope = form switch
        {
            0 => gate.AcquireRead(),
            1 => gate.AcquireRead(TimeSpan.FromSeconds(1)),
            2 => gate.AcquireRead(1_000),
            3 => gate.TryAcquireRead(TimeSpan.FromSeconds(1)),
            _ => gate.TryAcquireRead(1_000),
        };

        Assert.True(scope.IsHeld);
        Assert.Equal(1, gate.CurrentReadCount);
        Assert.True(scope.Release());
        Assert.False(scope.IsHeld);
        Assert.False(scope.Release(), "A read scope released twice.");
        scope.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AcquireWrite_FreeLock_HeldScopeReleasesOnce(int form)
    {
        using AsyncReaderWriterLock gate = Create();

        WriteScope scope = form switch
        {
            0 => gate.AcquireWrite(),
            1 => gate.AcquireWrite(TimeSpan.FromSeconds(1)),
            2 => gate.AcquireWrite(1_000),
            3 => gate.TryAcquireWrite(TimeSpan.FromSeconds(1)),
            _ => gate.TryAcquireWrite(1_000),
        };

        Assert.True(scope.IsHeld);
        Assert.True(gate.IsWriteHeld);
        Assert.True(scope.Release());
        Assert.False(scope.IsHeld);
        Assert.False(scope.Release(), "A write scope released twice.");
        scope.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void AcquireUpgradeableRead_FreeLock_HeldScopeUpgradesAndReleasesOnce(int form)
    {
        using AsyncReaderWriterLock gate = Create();

        UpgradeableReadScope scope = form switch
        {
            0 => gate.AcquireUpgradeableRead(),
            1 => gate.AcquireUpgradeableRead(TimeSpan.FromSeconds(1)),
            _ => gate.TryAcquireUpgradeableRead(TimeSpan.FromSeconds(1)),
        };

        Assert.True(scope.IsHeld);
        Assert.True(gate.IsUpgradeableReadHeld);
        WriteScope upgraded = scope.Upgrade();
        Assert.True(upgraded.IsHeld);
        Assert.True(gate.IsWriteHeld);
        Assert.True(gate.IsUpgradeableReadHeld);
        Assert.True(upgraded.Release());
        Assert.False(gate.IsWriteHeld);
        Assert.True(scope.IsHeld, "Releasing the upgrade also released the upgradeable read.");
        WriteScope again = scope.TryUpgrade(TimeSpan.Zero);
        Assert.True(again.IsHeld, "A second upgrade after the first was released failed.");
        again.Dispose();
        Assert.True(scope.Release());
        Assert.False(scope.Release(), "An upgradeable scope released twice.");
        scope.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void TryAcquireScopes_BusyLockZeroTimeout_ReturnUnheldScopes()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        ReadScope read = gate.TryAcquireRead(TimeSpan.Zero);
        ReadScope readMs = gate.TryAcquireRead(0);
        WriteScope write = gate.TryAcquireWrite(TimeSpan.Zero);
        WriteScope writeMs = gate.TryAcquireWrite(0);
        UpgradeableReadScope upgradeable = gate.TryAcquireUpgradeableRead(TimeSpan.Zero);

        Assert.False(read.IsHeld);
        Assert.False(readMs.IsHeld);
        Assert.False(write.IsHeld);
        Assert.False(writeMs.IsHeld);
        Assert.False(upgradeable.IsHeld);
        Assert.False(read.Release());
        Assert.False(write.Release());
        Assert.False(upgradeable.Release());
        Assert.True(writer.IsHeld, "Releasing unheld scopes released the writer.");
        Assert.Equal(0, gate.WaitingCount);
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void AcquireScopes_BusyLockZeroTimeout_ThrowLockTimeoutExceptionNamingTheLock()
    {
        using AsyncReaderWriterLock gate = Create("ledger");
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        var errors = new[]
        {
            Assert.Throws<LockTimeoutException>(() => { using ReadScope scope = gate.AcquireRead(TimeSpan.Zero); }),
            Assert.Throws<LockTimeoutException>(() => { using ReadScope scope = gate.AcquireRead(0); }),
            Assert.Throws<LockTimeoutException>(() => { using WriteScope scope = gate.AcquireWrite(TimeSpan.Zero); }),
            Assert.Throws<LockTimeoutException>(() => { using WriteScope scope = gate.AcquireWrite(0); }),
            Assert.Throws<LockTimeoutException>(() => { using UpgradeableReadScope scope = gate.AcquireUpgradeableRead(TimeSpan.Zero); }),
        };

        foreach (LockTimeoutException error in errors)
        {
            Assert.Equal("ledger", error.LockName);
            Assert.Equal(TimeSpan.Zero, error.Timeout);
        }

        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireRead_WriterHolds_BlocksUntilTheWriterReleases()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        Task<bool> reader = Waiters.RunOnOwnThread(() =>
        {
            using ReadScope scope = gate.AcquireRead();
            return scope.IsHeld;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking reader never queued.");
        Assert.False(reader.IsCompleted);
        writer.Dispose();
        Assert.True(await Waiters.WithinAsync(reader, s_bound, "The blocking reader"));
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireWrite_ReadersHold_BlocksUntilTheLastReaderReleases()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease first));
        Assert.True(gate.TryAcquireRead(out ReadLease second));

        Task<bool> writer = Waiters.RunOnOwnThread(() =>
        {
            using WriteScope scope = gate.AcquireWrite(TimeSpan.FromMinutes(5));
            return scope.IsHeld && gate.CurrentReadCount == 0;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking writer never queued.");
        first.Dispose();
        await Task.Delay(20);
        Assert.False(writer.IsCompleted, "The blocking writer entered while a reader held.");
        second.Dispose();
        Assert.True(await Waiters.WithinAsync(writer, s_bound, "The blocking writer"));
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireUpgradeableRead_AnotherUpgradeableHolds_BlocksUntilItReleases()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease holder));

        Task<bool> second = Waiters.RunOnOwnThread(() =>
        {
            using UpgradeableReadScope scope = gate.AcquireUpgradeableRead(TimeSpan.FromMinutes(5));
            return scope.IsHeld;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking upgradeable reader never queued.");
        holder.Dispose();
        Assert.True(await Waiters.WithinAsync(second, s_bound, "The blocking upgradeable reader"));
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task Upgrade_PlainReaderHolds_BlocksUntilTheReaderLeaves()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        Task<bool> upgrader = Waiters.RunOnOwnThread(() =>
        {
            using UpgradeableReadScope scope = gate.AcquireUpgradeableRead();
            using WriteScope upgraded = scope.Upgrade();
            return upgraded.IsHeld && gate.CurrentReadCount == 0 && gate.IsWriteHeld;
        });

        Assert.True(Eventually.Holds(() => gate.IsUpgradeableReadHeld && gate.WaitingCount == 1), "The upgrade never queued.");
        reader.Dispose();
        Assert.True(await Waiters.WithinAsync(upgrader, s_bound, "The blocking upgrade"));
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryUpgrade_ReaderStaysPastTheTimeout_ReturnsUnheldScopeAndKeepsUpgradeableRead()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        Task<(bool Upgraded, bool StillUpgradeable)> upgrader = Waiters.RunOnOwnThread(() =>
        {
            using UpgradeableReadScope scope = gate.AcquireUpgradeableRead();
            WriteScope upgraded = scope.TryUpgrade(TimeSpan.FromMilliseconds(50));
            return (upgraded.IsHeld, scope.IsHeld);
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The upgrade never queued.");
        _clock.Advance(TimeSpan.FromMilliseconds(50));
        (bool upgradedResult, bool stillUpgradeable) = await Waiters.WithinAsync(upgrader, s_bound, "The timed upgrade");
        Assert.False(upgradedResult, "The upgrade succeeded while a plain reader held the lock.");
        Assert.True(stillUpgradeable, "A timed-out upgrade lost the upgradeable read.");
        Assert.True(reader.IsHeld);
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task TryAcquireWrite_TimeoutElapsesWhileBlocked_ReturnsUnheldScope()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease reader));

        Task<bool> writer = Waiters.RunOnOwnThread(() =>
        {
            WriteScope scope = gate.TryAcquireWrite(TimeSpan.FromMilliseconds(30));
            return scope.IsHeld;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking writer never queued.");
        _clock.Advance(TimeSpan.FromMilliseconds(29));
        await Task.Delay(20);
        Assert.False(writer.IsCompleted, "The blocking writer gave up before its timeout.");
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await Waiters.WithinAsync(writer, s_bound, "The timed blocking writer"));
        Assert.Equal(0, gate.WaitingCount);
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireRead_TimeoutElapsesWhileBlocked_ThrowsLockTimeoutException()
    {
        using AsyncReaderWriterLock gate = Create("ledger");
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));

        Task<bool> reader = Waiters.RunOnOwnThread(() =>
        {
            using ReadScope scope = gate.AcquireRead(40);
            return scope.IsHeld;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking reader never queued.");
        _clock.Advance(TimeSpan.FromMilliseconds(40));
        var error = await Assert.ThrowsAsync<LockTimeoutException>(() => Waiters.WithinAsync(reader, s_bound, "The timed blocking reader"));
        Assert.Equal("ledger", error.LockName);
        Assert.Equal(TimeSpan.FromMilliseconds(40), error.Timeout);
        writer.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task AcquireWrite_TokenCancelledWhileBlocked_ThrowsOperationCanceledAndLeavesLockAsItWas()
    {
        using AsyncReaderWriterLock gate = Create();
        Assert.True(gate.TryAcquireRead(out ReadLease reader));
        using var cancellation = new CancellationTokenSource();

        Task<bool> writer = Waiters.RunOnOwnThread(() =>
        {
            using WriteScope scope = gate.AcquireWrite(cancellation.Token);
            return scope.IsHeld;
        });

        Assert.True(Eventually.Holds(() => gate.WaitingCount == 1), "The blocking writer never queued.");
        cancellation.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Waiters.WithinAsync(writer, s_bound, "The cancelled blocking writer"));
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.Equal(0, gate.WaitingCount);
        Assert.Equal(1, gate.CurrentReadCount);
        reader.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void BlockingAcquires_TokenAlreadyCancelled_ThrowAtOnceEvenOnAFreeLock()
    {
        using AsyncReaderWriterLock gate = Create();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => { using ReadScope scope = gate.AcquireRead(cancellation.Token); });
        Assert.ThrowsAny<OperationCanceledException>(() => { using WriteScope scope = gate.AcquireWrite(TimeSpan.FromSeconds(1), cancellation.Token); });
        Assert.ThrowsAny<OperationCanceledException>(() => { using UpgradeableReadScope scope = gate.AcquireUpgradeableRead(cancellation.Token); });
        Assert.ThrowsAny<OperationCanceledException>(() => { using ReadScope scope = gate.TryAcquireRead(TimeSpan.Zero, cancellation.Token); });
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void DefaultScopes_HoldNothingAndReleaseNothing()
    {
        ReadScope read = default;
        WriteScope write = default;
        UpgradeableReadScope upgradeable = default;

        Assert.False(read.IsHeld);
        Assert.False(write.IsHeld);
        Assert.False(upgradeable.IsHeld);
        Assert.False(read.Release());
        Assert.False(write.Release());
        Assert.False(upgradeable.Release());
        read.Dispose();
        write.Dispose();
        upgradeable.Dispose();
        Assert.Throws<InvalidOperationException>(() => { using WriteScope scope = default(UpgradeableReadScope).Upgrade(); });
        Assert.Throws<InvalidOperationException>(() => { using WriteScope scope = default(UpgradeableReadScope).TryUpgrade(TimeSpan.Zero); });
    }

    [Fact]
    public void StaleScopes_AfterAnotherHolderEntered_ReleaseNothing()
    {
        using AsyncReaderWriterLock gate = Create();
        WriteScope firstWrite = gate.AcquireWrite();
        Assert.True(firstWrite.Release());
        ReadScope read = gate.AcquireRead();
        Assert.False(firstWrite.Release(), "A released write scope released the reader.");
        Assert.True(read.IsHeld);
        Assert.True(read.Release());

        UpgradeableReadScope firstUpgradeable = gate.AcquireUpgradeableRead();
        Assert.True(firstUpgradeable.Release());
        UpgradeableReadScope secondUpgradeable = gate.AcquireUpgradeableRead();
        Assert.False(firstUpgradeable.Release(), "A released upgradeable scope released the next upgradeable holder.");
        Assert.True(secondUpgradeable.IsHeld);
        bool staleUpgradeThrew = false;
        try
        {
            using WriteScope scope = firstUpgradeable.Upgrade();
        }
        catch (InvalidOperationException)
        {
            staleUpgradeThrew = true;
        }

        Assert.True(staleUpgradeThrew, "Upgrading a released upgradeable scope did not throw InvalidOperationException.");
        secondUpgradeable.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }
}
