namespace Sanctuary.Resources;

/// <summary>
/// What releasing a lease did.
/// </summary>
public enum LeaseReleaseResult
{
    /// <summary>The lease was held and is now released; the resource went to the next waiter or became free.</summary>
    Released = 0,

    /// <summary>
    /// The lease had already been lost (its time-to-live ran out, its heartbeat failed or the store
    /// refused a renewal), so nothing was freed: the resource may already belong to someone else,
    /// and that lease is left untouched. Work done after the loss was not protected.
    /// </summary>
    Expired = 1,

    /// <summary>The lease was released before, or is a default lease; nothing happened.</summary>
    AlreadyReleased = 2,
}

/// <summary>
/// Where a lease is in its life.
/// </summary>
public enum LeaseState
{
    /// <summary>The lease holds its resource.</summary>
    Held = 0,

    /// <summary>The lease was lost without being released; see <see cref="LeaseLossReason"/>.</summary>
    Lost = 1,

    /// <summary>The lease was released, or it is a default lease.</summary>
    Released = 2,
}

/// <summary>
/// Why a lease was lost.
/// </summary>
public enum LeaseLossReason
{
    /// <summary>The lease was not lost.</summary>
    None = 0,

    /// <summary>Its time-to-live ran out before a renewal or extension arrived.</summary>
    Expired = 1,

    /// <summary>Too many heartbeat renewals in a row failed or did not finish in time.</summary>
    HeartbeatMissed = 2,

    /// <summary>The store rejected a renewal or extension because this lease no longer holds the resource.</summary>
    StoreRejected = 3,

    /// <summary>The registry was disposed while the lease was held.</summary>
    RegistryDisposed = 4,
}
