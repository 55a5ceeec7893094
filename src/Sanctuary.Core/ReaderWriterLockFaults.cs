using System;

namespace Sanctuary;

/// <summary>
/// Deliberate defects that tests switch on to prove that their invariant checks catch a broken
/// <see cref="AsyncReaderWriterLock"/>. Production code never sets them.
/// </summary>
[Flags]
internal enum ReaderWriterLockFaults
{
    None = 0,

    /// <summary>A new reader enters while a writer waits, although writer preference is on.</summary>
    AdmitReadersPastWaitingWriter = 1,

    /// <summary>A waiter that gives up (cancellation or timeout) leaves without admitting the waiters behind it (a lost wake-up).</summary>
    SkipDispatchOnWriterGiveUp = 2,

    /// <summary>A queued writer is granted while plain readers or the upgradeable reader still hold.</summary>
    GrantWriterWithReaders = 4,

    /// <summary>A queued upgrade is granted while plain readers still hold.</summary>
    UpgradeIgnoresReaders = 8,

    /// <summary>A queued upgrade waits for the queued writers, which wait for the upgradeable reader (a deadlock).</summary>
    UpgradeYieldsToWaitingWriters = 16,
}
