using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// Where lease state lives: the seam between a <see cref="ResourceRegistry"/> and a store that
/// may be shared by many registries, in one process or across processes.
/// </summary>
/// <remarks>
/// <para>
/// Each method is one atomic step on one resource, checked against the caller's lease id and
/// owner, so that a networked store can implement it as a single server-side script. A client
/// whose lease has expired can therefore neither extend nor release the lease of the next holder.
/// </para>
/// <para>
/// The registry serializes its own callers on an in-process primitive first and calls the store
/// only while it holds that primitive, so a store receives at most one pending acquire per resource
/// and registry. It also runs its own timer for every lease it holds, set no later than the
/// store's expiry (the registry measures the time-to-live from the moment it sent the
/// request), so a holder learns of a loss no later than the store decides it.
/// </para>
/// <para>Contract of every implementation:</para>
/// <list type="bullet">
///   <item><description>A holder whose time-to-live ran out no longer counts, whether or not anyone released it.</description></item>
///   <item><description>Fencing tokens are positive and strictly increase per resource, across restarts of the store for durable stores.</description></item>
///   <item><description>Extend and release succeed only for the lease id that holds the resource now; anything else answers "not held" and changes nothing.</description></item>
///   <item><description>Modes combine as in <see cref="LeaseMode"/>; a request with units is a reservation out of <see cref="LeaseStoreRequest.Capacity"/> units.</description></item>
/// </list>
/// </remarks>
public interface ILeaseStore
{
    /// <summary>
    /// Grants the lease if the resource is free for <see cref="LeaseStoreRequest.Mode"/> (or has
    /// room for its units); otherwise changes nothing and reports the current holders.
    /// </summary>
    /// <param name="request">What to grant.</param>
    /// <param name="cancellationToken">Token that abandons the call; the store must then not grant.</param>
    /// <returns>The grant with its fencing token, or the holders that prevented it.</returns>
    ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the lease to expire <see cref="LeaseStoreExtension.TimeToLive"/> from the store's now,
    /// if the lease still holds the resource.
    /// </summary>
    /// <param name="extension">Which lease and the new time-to-live.</param>
    /// <param name="cancellationToken">Token that abandons the call.</param>
    /// <returns><see langword="true"/> if the lease was extended; <see langword="false"/> if it no longer holds the resource.</returns>
    ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken);

    /// <summary>Removes the lease if it still holds the resource.</summary>
    /// <param name="release">Which lease.</param>
    /// <param name="cancellationToken">Token that abandons the call.</param>
    /// <returns><see langword="true"/> if the lease was removed; <see langword="false"/> if it no longer held the resource.</returns>
    ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken);

    /// <summary>Lists the leases that hold the resource now.</summary>
    /// <param name="resourceId">Id of the resource or pool.</param>
    /// <param name="cancellationToken">Token that abandons the call.</param>
    /// <returns>The current holders; empty if none.</returns>
    ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken);
}

/// <summary>A request to grant a lease, as a store receives it.</summary>
/// <param name="ResourceId">Id of the resource or pool.</param>
/// <param name="LeaseId">Id of the new lease, chosen by the registry.</param>
/// <param name="Owner">Owner of the lease.</param>
/// <param name="Mode">How the lease holds the resource.</param>
/// <param name="TimeToLive">Time-to-live from the store's now, or <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
/// <param name="Units">Units to reserve, or 0 for a lock.</param>
/// <param name="Capacity">Total units of the pool, or 0 for a lock.</param>
/// <param name="Purpose">Purpose text, if any.</param>
public readonly record struct LeaseStoreRequest(
    string ResourceId,
    LeaseId LeaseId,
    string Owner,
    LeaseMode Mode,
    TimeSpan TimeToLive,
    long Units,
    long Capacity,
    string? Purpose);

/// <summary>The result of <see cref="ILeaseStore.TryAcquireAsync"/>.</summary>
public readonly record struct LeaseStoreAcquireResult
{
    private LeaseStoreAcquireResult(bool acquired, long fencingToken, IReadOnlyList<LeaseHolder>? holders)
    {
        Acquired = acquired;
        FencingToken = fencingToken;
        Holders = holders ?? Array.Empty<LeaseHolder>();
    }

    /// <summary>Whether the lease was granted.</summary>
    public bool Acquired { get; }

    /// <summary>Fencing token of the granted lease; 0 when refused.</summary>
    public long FencingToken { get; }

    /// <summary>Holders that prevented the grant; empty when granted.</summary>
    public IReadOnlyList<LeaseHolder> Holders { get; }

    /// <summary>A grant.</summary>
    /// <param name="fencingToken">Fencing token of the new lease; must be positive.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fencingToken"/> is zero or negative.</exception>
    public static LeaseStoreAcquireResult Granted(long fencingToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fencingToken);
        return new(true, fencingToken, null);
    }

    /// <summary>A refusal.</summary>
    /// <param name="holders">Holders that prevented the grant.</param>
    /// <returns>The result.</returns>
    public static LeaseStoreAcquireResult Refused(IReadOnlyList<LeaseHolder> holders) => new(false, 0, holders);
}

/// <summary>A request to extend a lease, as a store receives it.</summary>
/// <param name="ResourceId">Id of the resource or pool.</param>
/// <param name="LeaseId">Id of the lease.</param>
/// <param name="Owner">Owner of the lease.</param>
/// <param name="TimeToLive">New time-to-live from the store's now.</param>
public readonly record struct LeaseStoreExtension(string ResourceId, LeaseId LeaseId, string Owner, TimeSpan TimeToLive);

/// <summary>A request to release a lease, as a store receives it.</summary>
/// <param name="ResourceId">Id of the resource or pool.</param>
/// <param name="LeaseId">Id of the lease.</param>
/// <param name="Owner">Owner of the lease.</param>
public readonly record struct LeaseStoreRelease(string ResourceId, LeaseId LeaseId, string Owner);
