using System;
using System.Threading;
using System.Globalization;

namespace Sanctuary.Resources;

/// <summary>
/// Settings of a <see cref="ResourceRegistry"/>, fixed when the registry is created.
/// </summary>
public sealed class ResourceRegistryOptions
{
    private TimeProvider _timeProvider = TimeProvider.System;
    private string _defaultOwner = DefaultOwnerName();
    private TimeSpan _storeRetryInterval = TimeSpan.FromMilliseconds(50);
    private TimeSpan _priorityAgingInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Clock for wait timeouts, time-to-live, heartbeats and timestamps. The default is
    /// <see cref="TimeProvider.System"/>; tests pass a fake clock to drive expiry deterministically.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider cannot be null. Use TimeProvider.System for the real clock.");
    }

    /// <summary>
    /// Where lease state lives. <see langword="null"/> (the default) keeps it inside the registry:
    /// the embedded in-memory store, which needs no setup and adds nothing to the acquire path.
    /// Pass an <see cref="ILeaseStore"/> to share leases with other registries, in this process
    /// (<see cref="InMemoryLeaseStore"/>) or across processes.
    /// </summary>
    public ILeaseStore? Store { get; init; }

    /// <summary>
    /// Owner recorded for leases whose <see cref="LeaseOptions.Owner"/> is <see langword="null"/>.
    /// The default is the machine name and process id, such as <c>web-3/4711</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is null, empty or longer than <see cref="LeaseOptions.MaxTextLength"/>.</exception>
    public string DefaultOwner
    {
        get => _defaultOwner;
        init => _defaultOwner = !string.IsNullOrEmpty(value) && value.Length <= LeaseOptions.MaxTextLength
            ? value
            : throw new ArgumentException($"DefaultOwner must be 1 to {LeaseOptions.MaxTextLength} characters long.", nameof(DefaultOwner));
    }

    /// <summary>
    /// Whether the metrics of the <c>Sanctuary</c> meter carry the resource id as a tag. Off by
    /// default, because resource ids can be unbounded (one per customer, per order) and every
    /// distinct tag value costs memory in the metrics pipeline.
    /// </summary>
    public bool TagMetricsWithResourceId { get; init; }

    /// <summary>
    /// How often an acquire that an external <see cref="Store"/> refused because another
    /// process holds the resource asks again. The default is 50 ms. Ignored by the embedded store.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan StoreRetryInterval
    {
        get => _storeRetryInterval;
        init => _storeRetryInterval = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StoreRetryInterval), value, $"StoreRetryInterval must be more than zero, but was {value}.");
    }

    /// <summary>
    /// Wait after which a waiter on a priority resource or a capacity pool moves up one priority
    /// level, so low-priority work is delayed but never starved. The default is 1 second;
    /// <see cref="Timeout.InfiniteTimeSpan"/> makes the levels strict (a steady stream of
    /// higher-priority work can then starve lower levels).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative and not infinite.</exception>
    public TimeSpan PriorityAgingInterval
    {
        get => _priorityAgingInterval;
        init => _priorityAgingInterval = value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(PriorityAgingInterval), value, $"PriorityAgingInterval must be more than zero or Timeout.InfiniteTimeSpan, but was {value}.");
    }

    /// <summary>
    /// Picks the kind of primitive behind a resource when its entry is created. <see langword="null"/>
    /// (the default) picks from the first request; see <see cref="ResourceKind"/>.
    /// </summary>
    public Func<string, ResourceKind>? KindSelector { get; init; }

    private static string DefaultOwnerName()
    {
        string machine;
        try
        {
            machine = Environment.MachineName;
        }
        catch (InvalidOperationException)
        {
            machine = "localhost";
        }

        return machine + "/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The primitive behind a named resource.
/// </summary>
/// <remarks>
/// The kind is fixed for the life of a resource's entry, that is while anyone holds, waits for
/// or has a handle to the resource. Without a <see cref="ResourceRegistryOptions.KindSelector"/>,
/// the first request decides: <see cref="LeaseMode.Read"/>, <see cref="LeaseMode.Write"/> and
/// <see cref="LeaseMode.UpgradeableRead"/> pick <see cref="ReaderWriter"/>; a priority other than
/// <see cref="LockPriority.Normal"/> picks <see cref="Priority"/>; anything else picks
/// <see cref="Exclusive"/>. A later request that the kind cannot serve as asked is served more
/// strictly, never less: a read on an exclusive resource holds it exclusively, and a priority
/// on a resource that has no priority queue waits in arrival order.
/// </remarks>
public enum ResourceKind
{
    /// <summary>An exclusive lock (<see cref="AsyncLock"/>): one holder, waiters in arrival order.</summary>
    Exclusive = 0,

    /// <summary>A reader-writer lock: many readers or one writer, one upgradeable reader.</summary>
    ReaderWriter = 1,

    /// <summary>An exclusive lock whose waiters are granted by priority, then in arrival order.</summary>
    Priority = 2,

    /// <summary>A capacity pool: holds are amounts of units out of a fixed total. Pools are registered, never picked.</summary>
    Capacity = 3,
}
