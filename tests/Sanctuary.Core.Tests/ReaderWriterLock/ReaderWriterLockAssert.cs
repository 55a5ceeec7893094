using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Assertions about the observable state of an <see cref="AsyncReaderWriterLock"/>.</summary>
internal static class ReaderWriterLockAssert
{
    /// <summary>
    /// Asserts that the lock is exactly as free as a new one: no waiter and no holder, a try-write
    /// succeeds, then a second try-write and a try-read fail, and after the release a try-read and a
    /// try-upgradeable succeed together.
    /// </summary>
    public static void IsFree(AsyncReaderWriterLock gate)
    {
        Assert.True(
            Eventually.Holds(() => gate.WaitingCount == 0),
            $"Lock '{gate.Name}' still reports {gate.WaitingCount} waiter(s) when it should be idle.");
        Assert.True(LooksFree(gate, out string reason), $"Lock '{gate.Name}' is not free: {reason}");
    }

    /// <summary>Non-throwing twin of <see cref="IsFree"/> for checks that a broken lock must fail.</summary>
    public static bool LooksFree(AsyncReaderWriterLock gate) => LooksFree(gate, out _);

    private static bool LooksFree(AsyncReaderWriterLock gate, out string reason)
    {
        if (gate.WaitingCount != 0 || gate.CurrentReadCount != 0 || gate.IsWriteHeld || gate.IsUpgradeableReadHeld)
        {
            reason = $"waiting={gate.WaitingCount}, readers={gate.CurrentReadCount}, writer={gate.IsWriteHeld}, upgradeable={gate.IsUpgradeableReadHeld}";
            return false;
        }

        if (!gate.TryAcquireWrite(out AsyncReaderWriterLock.WriteLease write))
        {
            reason = "a try-write failed";
            return false;
        }

        bool secondWrite = gate.TryAcquireWrite(out AsyncReaderWriterLock.WriteLease other);
        bool read = gate.TryAcquireRead(out AsyncReaderWriterLock.ReadLease reader);
        other.Dispose();
        reader.Dispose();
        bool released = write.Release();
        if (secondWrite || read || !released || gate.IsWriteHeld)
        {
            reason = $"second try-write={secondWrite}, try-read while written={read}, release={released}, writer after release={gate.IsWriteHeld}";
            return false;
        }

        bool readAgain = gate.TryAcquireRead(out reader);
        bool upgradeable = gate.TryAcquireUpgradeableRead(out AsyncReaderWriterLock.UpgradeableReadLease upgradeableLease);
        bool readReleased = reader.Release();
        bool upgradeableReleased = upgradeableLease.Release();
        reason = $"try-read={readAgain}, try-upgradeable={upgradeable}, releases={readReleased}/{upgradeableReleased}, readers after={gate.CurrentReadCount}, upgradeable after={gate.IsUpgradeableReadHeld}";
        return readAgain && upgradeable && readReleased && upgradeableReleased && gate.CurrentReadCount == 0 && !gate.IsUpgradeableReadHeld;
    }
}
