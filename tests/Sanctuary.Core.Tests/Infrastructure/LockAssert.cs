using Xunit;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>Assertions about the observable state of an <see cref="AsyncLock"/>.</summary>
internal static class LockAssert
{
    /// <summary>
    /// Asserts that the lock is exactly as free as a new one: nobody waits, one try-acquire succeeds, a
    /// second one fails while the first lease is held, and releasing that lease frees the lock again.
    /// </summary>
    public static void IsFree(AsyncLock gate)
    {
        Assert.True(
            Eventually.Holds(() => gate.WaitingCount == 0),
            $"Lock '{gate.Name}' still reports {gate.WaitingCount} waiter(s) when it should be idle.");
        Assert.True(gate.TryAcquire(out AsyncLock.Lease first), $"Lock '{gate.Name}' should be free, but a try-acquire failed.");
        Assert.False(gate.TryAcquire(out AsyncLock.Lease second), $"Lock '{gate.Name}' granted a second try-acquire while the first lease was held.");
        Assert.False(second.IsHeld);
        Assert.True(first.Release(), $"Releasing the probe lease of '{gate.Name}' returned false.");
        Assert.False(gate.IsHeld, $"Lock '{gate.Name}' still reports a holder after the probe lease was released.");
    }

    /// <summary>
    /// Non-throwing twin of <see cref="IsFree"/> for tests that expect a broken lock to fail the check.
    /// </summary>
    public static bool LooksFree(AsyncLock gate)
    {
        if (gate.WaitingCount != 0)
        {
            return false;
        }

        if (!gate.TryAcquire(out AsyncLock.Lease first))
        {
            return false;
        }

        bool secondRefused = !gate.TryAcquire(out AsyncLock.Lease second);
        second.Dispose();
        bool released = first.Release();
        return secondRefused && released && !gate.IsHeld;
    }
}
