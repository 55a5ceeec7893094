using System;
using System.Threading.Tasks;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>The three lease structs: identity, equality, default values and releasing once.</summary>
public sealed class ReaderWriterLockLeaseTests
{
    [Fact]
    public void DefaultLeases_NameNoLockHoldNothingAndReleaseNothing()
    {
        ReadLease read = default;
        WriteLease write = default;
        UpgradeableReadLease upgradeable = default;

        Assert.Null(read.Lock);
        Assert.Null(write.Lock);
        Assert.Null(upgradeable.Lock);
        Assert.False(read.IsHeld);
        Assert.False(write.IsHeld);
        Assert.False(upgradeable.IsHeld);
        Assert.False(read.Release());
        Assert.False(write.Release());
        Assert.False(upgradeable.Release());
        read.Dispose();
        write.Dispose();
        upgradeable.Dispose();
    }

    [Fact]
    public void ReadLeaseEquality_SameGenerationOfOneLock_EqualOtherwiseDifferent()
    {
        using var gate = new AsyncReaderWriterLock();
        using var other = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireRead(out ReadLease a));
        Assert.True(gate.TryAcquireRead(out ReadLease b));
        Assert.True(other.TryAcquireRead(out ReadLease elsewhere));

        // Read leases of one write generation carry the same token, so they compare equal.
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != elsewhere);
        Assert.False(a.Equals(elsewhere));
        Assert.False(a.Equals("a lease"));
        Assert.False(a.Equals(null));
        Assert.True(a != default);
        Assert.True(default(ReadLease) == default);

        a.Dispose();
        b.Dispose();
        elsewhere.Dispose();
        Assert.True(gate.TryAcquireWrite(out WriteLease writer));
        writer.Dispose();
        Assert.True(gate.TryAcquireRead(out ReadLease later));
        Assert.True(later != a, "A read lease of a later write generation equals one of an earlier generation.");
        later.Dispose();
    }

    [Fact]
    public void WriteLeaseEquality_EachGrantIsDistinct()
    {
        using var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireWrite(out WriteLease first));
        WriteLease copy = first;
        first.Dispose();
        Assert.True(gate.TryAcquireWrite(out WriteLease second));

        Assert.True(first == copy);
        Assert.True(first.Equals((object)copy));
        Assert.Equal(first.GetHashCode(), copy.GetHashCode());
        Assert.True(first != second);
        Assert.False(first.Equals(second));
        Assert.False(first.Equals((object)"a lease"));
        Assert.True(default(WriteLease) == default);
        Assert.False(default(WriteLease) != default);
        second.Dispose();
    }

    [Fact]
    public void UpgradeableLeaseEquality_EachGrantIsDistinct()
    {
        using var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease first));
        UpgradeableReadLease copy = first;
        first.Dispose();
        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease second));

        Assert.True(first == copy);
        Assert.True(first.Equals((object)copy));
        Assert.Equal(first.GetHashCode(), copy.GetHashCode());
        Assert.True(first != second);
        Assert.False(first.Equals(second));
        Assert.False(first.Equals((object)42));
        Assert.True(default(UpgradeableReadLease) == default);
        Assert.False(default(UpgradeableReadLease) != default);
        second.Dispose();
    }

    [Fact]
    public void ReadLease_ReleasedOnceWhileOtherReadersHold_IsHeldFollowsItsGeneration()
    {
        using var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireRead(out ReadLease a));
        Assert.True(gate.TryAcquireRead(out ReadLease b));

        Assert.True(a.Release());

        // Documented: a read lease holds while readers of its generation hold.
        Assert.True(a.IsHeld);
        Assert.Equal(1, gate.CurrentReadCount);
        Assert.True(b.Release());
        Assert.False(a.IsHeld);
        Assert.False(b.IsHeld);
        Assert.False(a.Release(), "A read lease released a share when no reader held.");
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public async Task ReadLease_ReleasedAgainAfterAWriterEntered_ReleasesNothing()
    {
        using var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireRead(out ReadLease stale));
        ValueTask<WriteLease> writer = gate.AcquireWriteAsync();
        Assert.True(stale.Release());
        WriteLease write = await writer;
        ValueTask<ReadLease> laterReader = gate.AcquireReadAsync();
        write.Dispose();
        ReadLease later = await laterReader;

        Assert.False(stale.Release(), "A stale read lease released a reader of a later generation.");
        stale.Dispose();
        Assert.True(later.IsHeld);
        Assert.Equal(1, gate.CurrentReadCount);
        later.Dispose();
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void Leases_ReleaseReturnsTrueOnceThenFalse_DisposeAfterwardsDoesNothing()
    {
        using var gate = new AsyncReaderWriterLock();
        Assert.True(gate.TryAcquireWrite(out WriteLease write));
        Assert.True(write.Release());
        Assert.False(write.Release());
        write.Dispose();

        Assert.True(gate.TryAcquireUpgradeableRead(out UpgradeableReadLease upgradeable));
        upgradeable.Dispose();
        Assert.False(upgradeable.IsHeld);
        Assert.False(upgradeable.Release());

        Assert.True(gate.TryAcquireRead(out ReadLease read));
        read.Dispose();
        Assert.False(read.Release());
        ReaderWriterLockAssert.IsFree(gate);
    }
}
