using System;
using Microsoft.Extensions.Logging;

namespace Sanctuary.Redis;

/// <summary>
/// Settings of a <see cref="RedisLeaseStore"/>, fixed when the store is created.
/// </summary>
/// <remarks>
/// Each property checks its own range when it is set and throws an <see cref="ArgumentException"/>
/// that names the property. Stores that share resources must use the same <see cref="KeyPrefix"/>
/// and <see cref="Database"/>.
/// </remarks>
public sealed record RedisLeaseStoreOptions
{
    /// <summary>The longest <see cref="KeyPrefix"/> accepted, in characters.</summary>
    public const int MaxKeyPrefixLength = 256;

    private readonly string _keyPrefix = "sanctuary:";
    private readonly int _database = -1;
    private readonly TimeSpan _pollInterval = TimeSpan.FromMilliseconds(100);
    private readonly TimeSpan _waiterTimeToLive = TimeSpan.FromMilliseconds(500);
    private readonly int _maxReportedHolders = 32;

    /// <summary>Options with every default.</summary>
    public static RedisLeaseStoreOptions Default { get; } = new();

    /// <summary>
    /// Text that starts every key and channel name of the store, so several applications can
    /// share one Redis database. The default is <c>sanctuary:</c>. It may be empty, and may not
    /// contain <c>{</c> or <c>}</c>, because the store puts each resource id in a <c>{...}</c>
    /// hash tag.
    /// </summary>
    /// <exception cref="ArgumentException">The value is null, longer than <see cref="MaxKeyPrefixLength"/>, or contains a brace.</exception>
    public string KeyPrefix
    {
        get => _keyPrefix;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(KeyPrefix));
            if (value.Length > MaxKeyPrefixLength)
            {
                throw new ArgumentException($"KeyPrefix is {value.Length} characters long; at most {MaxKeyPrefixLength} are accepted.", nameof(KeyPrefix));
            }

            if (value.AsSpan().IndexOfAny('{', '}') >= 0)
            {
                throw new ArgumentException(
                    $"KeyPrefix '{value}' contains a brace. Braces are reserved for the hash tag that keeps a resource's keys in one cluster slot; use another separator, such as 'app:locks:'.",
                    nameof(KeyPrefix));
            }

            _keyPrefix = value;
        }
    }

    /// <summary>
    /// Number of the Redis database that contains the keys, or -1 (the default) for the connection's
    /// default database (0 unless the configuration names another).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than -1.</exception>
    public int Database
    {
        get => _database;
        init => _database = value >= -1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Database), value, $"Database must be -1 (the connection's default) or a database number of 0 or more, but was {value}.");
    }

    /// <summary>
    /// Maximum time a waiting acquire goes without trying again when no release notification
    /// arrives: the bound on the delay that a notification lost in a disconnect can cause. The
    /// default is 100 ms.
    /// </summary>
    /// <remarks>
    /// A waiter also tries again when the earliest holder's time-to-live runs out, so expiry needs
    /// no notification. See <see cref="WaitForReleaseNotifications"/> for where the wait happens.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 ms and 1 minute.</exception>
    public TimeSpan PollInterval
    {
        get => _pollInterval;
        init => _pollInterval = value >= TimeSpan.FromMilliseconds(1) && value <= TimeSpan.FromMinutes(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(PollInterval), value, $"PollInterval must be between 1 ms and 1 minute, but was {value}.");
    }

    /// <summary>
    /// Whether an acquire that the registry repeats after a refusal waits inside the store for a
    /// release notification (at most <see cref="PollInterval"/>) before it tries again. On by
    /// default.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <see cref="Sanctuary.Resources.ILeaseStore"/> has no call for waiting, so the registry pauses
    /// <see cref="Sanctuary.Resources.ResourceRegistryOptions.StoreRetryInterval"/> between
    /// attempts on its own. With this option on, the store adds a wait of its own to each repeated
    /// attempt, which ends the moment another client publishes a release. The first attempt of
    /// an acquire never waits, so a zero wait timeout stays a single round trip.
    /// </para>
    /// <para>
    /// The store does not know the caller's wait timeout, so a timed acquire can end up to
    /// <see cref="PollInterval"/> after its timeout. Turn this off when timeouts must be exact; the
    /// registry then retries every <c>StoreRetryInterval</c> and notifications are not used.
    /// </para>
    /// </remarks>
    public bool WaitForReleaseNotifications { get; init; } = true;

    /// <summary>
    /// How long a waiting acquire keeps its place in line after its last refused attempt. The
    /// default is 500 ms.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Writers, exclusive requests and reservations that wait form a line per resource, across
    /// every client: while the line is not empty only its first waiter is granted, so a client
    /// that releases and acquires again at once cannot starve the others, and a large reservation is
    /// not overtaken by small ones. Readers do not queue; they wait while any writer is in line,
    /// so a stream of readers cannot starve a writer.
    /// </para>
    /// <para>
    /// A waiter joins on its second attempt (the first attempt of an acquire never changes the
    /// line, so a zero wait timeout leaves nothing behind) and keeps its place by trying again, so
    /// this must outlast the pause between two attempts: <see cref="PollInterval"/> plus the
    /// registry's <c>StoreRetryInterval</c> plus two round trips (about 160 ms with the defaults).
    /// </para>
    /// <para>
    /// A waiter that gives up by cancellation leaves the line at once, and so does a writer or
    /// exclusive request that gives up by timeout as soon as its registry requests the resource
    /// again. Otherwise (a reservation that timed out, a process that stopped) the waiter keeps
    /// its place for at most this long after its last attempt, and the waiters behind it wait
    /// that much longer.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 10 ms and 1 minute.</exception>
    public TimeSpan WaiterTimeToLive
    {
        get => _waiterTimeToLive;
        init => _waiterTimeToLive = value >= TimeSpan.FromMilliseconds(10) && value <= TimeSpan.FromMinutes(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(WaiterTimeToLive), value, $"WaiterTimeToLive must be between 10 ms and 1 minute, but was {value}.");
    }

    /// <summary>
    /// Largest number of holders that a refused acquire reports (in
    /// <see cref="Sanctuary.Resources.ResourceUnavailableException.Holders"/>, for example); the ones that
    /// expire first are reported. The default is 32.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 1 and 10,000.</exception>
    public int MaxReportedHolders
    {
        get => _maxReportedHolders;
        init => _maxReportedHolders = value is >= 1 and <= 10_000
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxReportedHolders), value, $"MaxReportedHolders must be between 1 and 10,000, but was {value}.");
    }

    /// <summary>
    /// Logger for what the store handles in the background: releases retried after the server
    /// came back, subscriptions that failed. <see langword="null"/> (the default) logs nothing.
    /// </summary>
    public ILogger? Logger { get; init; }
}
