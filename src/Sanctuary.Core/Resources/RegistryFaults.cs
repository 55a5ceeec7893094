using System;

namespace Sanctuary.Resources;

/// <summary>
/// Deliberate defects that tests switch on to prove that their checks catch a broken registry.
/// Production code never sets them.
/// </summary>
[Flags]
internal enum RegistryFaults
{
    None = 0,

    /// <summary>A multi-resource acquire takes the resources in the order given, not sorted (opposite orders deadlock).</summary>
    UnsortedMultiAcquire = 1,

    /// <summary>Expiry checks that the lease is held and then frees it, without claiming it atomically (it can free a hold twice).</summary>
    ExpiryWithoutClaim = 2,

    /// <summary>A heartbeat checks that the lease is held before taking the scheduler's lock, so it can re-arm a released lease.</summary>
    RenewalChecksOutsideLock = 4,

    /// <summary>
    /// The textbook keyed-lock recycle race: joiners count themselves in under a table lock, while
    /// the last leaver counts itself out before taking that lock and then removes the entry without
    /// checking the count again, so a joiner in between is left on a removed entry.
    /// </summary>
    ReclaimWithoutClaim = 8,
}
