using System.Diagnostics;
using System.Threading;

namespace Sanctuary.Threading;

/// <summary>
/// Enters and leaves the short section in which a primitive edits its waiter queue, guarded by
/// one bit of the primitive's state word.
/// </summary>
/// <remarks>
/// While the bit is set, only the thread that set it changes the state word: every other
/// compare-and-swap on the word expects a value without the bit and fails. So leaving the
/// section publishes the new state with one exchange. The holder edits a few references and at
/// most arms the timeout timer, so contenders spin only briefly.
/// </remarks>
internal static class QueueSection
{
    /// <summary>Sets <paramref name="bit"/> in <paramref name="state"/> and returns the state it was set on, without the bit.</summary>
    internal static long Enter(ref long state, long bit)
    {
        SpinWait spinner = default;
        while (true)
        {
            long current = Volatile.Read(ref state);
            if ((current & bit) == 0 &&
                Interlocked.CompareExchange(ref state, current | bit, current) == current)
            {
                return current;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Publishes <paramref name="next"/> as the new state, with <paramref name="bit"/> cleared.</summary>
    internal static void Exit(ref long state, long next, long bit)
    {
        Debug.Assert((Volatile.Read(ref state) & bit) != 0, "The queue bit must be held.");
        Interlocked.Exchange(ref state, next & ~bit);
    }
}
