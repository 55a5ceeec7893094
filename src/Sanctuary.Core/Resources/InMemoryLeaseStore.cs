using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// An <see cref="ILeaseStore"/> in process memory, for sharing leases between several
/// registries of one process, and the reference implementation of the store contract.
/// </summary>
/// <remarks>
/// <para>
/// A registry created without a store keeps its lease state inside itself (the embedded store)
/// and does not need this class. Each method here is one step under the store's lock, which is
/// what a networked store does in one server-side script: it drops expired holders of the
/// resource, checks the lease id and owner, and changes the state.
/// </para>
/// <para>
/// Fencing tokens come from one counter for the whole store, so they strictly increase per
/// resource even after a resource's state was dropped because it had no holders. Resources
/// without holders are dropped at once, so millions of distinct ids do not accumulate.
/// </para>
/// </remarks>
public sealed class InMemoryLeaseStore : ILeaseStore
{
    private readonly object _sync = new();
    private readonly Dictionary<string, List<Stored>> _resources = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private long _fencing;

    /// <summary>Creates a store on the system clock.</summary>
    public InMemoryLeaseStore()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a store on the given clock.</summary>
    /// <param name="timeProvider">Clock that decides expiry; tests pass a fake one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="timeProvider"/> is <see langword="null"/>.</exception>
    public InMemoryLeaseStore(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
    }

    /// <summary>Number of resources that have holders now.</summary>
    public int ResourceCount
    {
        get
        {
            lock (_sync)
            {
                return _resources.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            List<Stored>? holders = Live(request.ResourceId, now);
            if (holders is not null && !Compatible(holders, request))
            {
                var refused = new List<LeaseHolder>(holders.Count);
                foreach (Stored holder in holders)
                {
                    refused.Add(holder.ToHolder(request.ResourceId, now));
                }

                return new ValueTask<LeaseStoreAcquireResult>(LeaseStoreAcquireResult.Refused(refused));
            }

            if (holders is null)
            {
                holders = new List<Stored>(1);
                _resources.Add(request.ResourceId, holders);
            }

            long fencing = ++_fencing;
            holders.Add(new Stored
            {
                LeaseId = request.LeaseId,
                Owner = request.Owner,
                Mode = request.Mode,
                Units = request.Units,
                Purpose = request.Purpose,
                FencingToken = fencing,
                AcquiredAt = now,
                ExpiresAt = request.TimeToLive == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : now + request.TimeToLive,
            });
            return new ValueTask<LeaseStoreAcquireResult>(LeaseStoreAcquireResult.Granted(fencing));
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            List<Stored>? holders = Live(extension.ResourceId, now);
            int index = IndexOf(holders, extension.LeaseId, extension.Owner);
            if (index < 0)
            {
                return new ValueTask<bool>(false);
            }

            holders![index].ExpiresAt = now + extension.TimeToLive;
            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            List<Stored>? holders = Live(release.ResourceId, now);
            int index = IndexOf(holders, release.LeaseId, release.Owner);
            if (index < 0)
            {
                return new ValueTask<bool>(false);
            }

            holders!.RemoveAt(index);
            if (holders.Count == 0)
            {
                _resources.Remove(release.ResourceId);
            }

            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            List<Stored>? holders = Live(resourceId, now);
            var result = new List<LeaseHolder>(holders?.Count ?? 0);
            if (holders is not null)
            {
                foreach (Stored holder in holders)
                {
                    result.Add(holder.ToHolder(resourceId, now));
                }
            }

            return new ValueTask<IReadOnlyList<LeaseHolder>>(result);
        }
    }

    // The live holders of a resource after dropping expired ones, or null if none. Under the lock.
    private List<Stored>? Live(string resourceId, DateTimeOffset now)
    {
        if (!_resources.TryGetValue(resourceId, out List<Stored>? holders))
        {
            return null;
        }

        holders.RemoveAll(holder => holder.ExpiresAt <= now);
        if (holders.Count == 0)
        {
            _resources.Remove(resourceId);
            return null;
        }

        return holders;
    }

    private static int IndexOf(List<Stored>? holders, LeaseId leaseId, string owner)
    {
        if (holders is null)
        {
            return -1;
        }

        for (int i = 0; i < holders.Count; i++)
        {
            if (holders[i].LeaseId == leaseId && string.Equals(holders[i].Owner, owner, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Compatible(List<Stored> holders, LeaseStoreRequest request)
    {
        if (request.Units > 0)
        {
            long reserved = 0;
            foreach (Stored holder in holders)
            {
                reserved += holder.Units;
            }

            return reserved + request.Units <= request.Capacity;
        }

        foreach (Stored holder in holders)
        {
            if (!Compatible(holder.Mode, request.Mode))
            {
                return false;
            }
        }

        return true;
    }

    // Readers share with readers and with one upgradeable reader. Writers share with no other lease.
    private static bool Compatible(LeaseMode held, LeaseMode requested) =>
        (held, requested) switch
        {
            (LeaseMode.Read, LeaseMode.Read) => true,
            (LeaseMode.Read, LeaseMode.UpgradeableRead) => true,
            (LeaseMode.UpgradeableRead, LeaseMode.Read) => true,
            _ => false,
        };

    private sealed class Stored
    {
        public LeaseId LeaseId;
        public string Owner = string.Empty;
        public LeaseMode Mode;
        public long Units;
        public string? Purpose;
        public long FencingToken;
        public DateTimeOffset AcquiredAt;
        public DateTimeOffset ExpiresAt;

        public LeaseHolder ToHolder(string resourceId, DateTimeOffset now) =>
            new(resourceId, LeaseId, Owner, Mode, AcquiredAt, ExpiresAt == DateTimeOffset.MaxValue ? null : ExpiresAt, FencingToken, Purpose, Units)
            {
                HeldFor = now - AcquiredAt,
            };
    }
}
