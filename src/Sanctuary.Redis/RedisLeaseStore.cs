using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis;

/// <summary>
/// An <see cref="ILeaseStore"/> in Redis, so that registries in many processes and on many machines
/// share named resources: exclusive, reader-writer and capacity leases with time-to-live, owner
/// checks and fencing tokens.
/// </summary>
/// <remarks>
/// <para>
/// Pass the store to <see cref="ResourceRegistryOptions.Store"/>; the registry's API stays the same.
/// Acquire, extend and release are each one Lua script, so each is one atomic step and one round
/// trip, checked against the lease id and owner: a client whose lease expired can neither extend
/// nor release the next holder's lease. Expiry uses the server's clock.
/// </para>
/// <para>
/// Fencing tokens come from a per-resource counter that is never deleted, so they strictly increase
/// across client restarts, and across server restarts when the server persists its data (append-only
/// file or snapshots). A counter is kept for every resource id ever acquired: a few dozen bytes each.
/// </para>
/// <para>
/// Waiting: a release publishes on the resource's channel, and a waiting acquire tries again as soon
/// as it hears one, or after <see cref="RedisLeaseStoreOptions.PollInterval"/> when it hears
/// nothing, or when the earliest holder's time-to-live runs out. Writers, exclusive requests and
/// reservations that wait form one line per resource across all clients and are served in order;
/// readers wait while a writer is in line. See <see cref="RedisLeaseStoreOptions.WaiterTimeToLive"/>.
/// </para>
/// <para>
/// When the server cannot be reached, operations throw <see cref="RedisLeaseStoreException"/>, which
/// names the endpoint. A lease with a heartbeat is then lost (its <see cref="ResourceLease.LostToken"/>
/// fires) when its renewals have failed for longer than its time-to-live. Releases that could not be
/// sent, and acquires whose outcome is unknown, are removed in the background once the server
/// responds again, so nothing stays locked by a lease nobody holds.
/// </para>
/// </remarks>
public sealed partial class RedisLeaseStore : ILeaseStore, IDisposable, IAsyncDisposable
{
    // Mode letters of the holder records; see LeaseScripts.
    private static readonly RedisValue s_exclusive = "X";
    private static readonly RedisValue s_read = "R";
    private static readonly RedisValue s_write = "W";
    private static readonly RedisValue s_upgradeable = "U";

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly RedisLeaseStoreOptions _options;
    private readonly string _keyPrefix;
    private readonly string _endPoint;
    private readonly ILogger _logger;
    private readonly ReleaseNotifications _notifications;
    private readonly ITimer _maintenance;

    // Lease ids whose acquire was refused at least once, with the time of the last refusal: the
    // registry repeats a refused acquire with the same lease id, so a lease id found here marks a
    // caller that waits. See RedisLeaseStoreOptions.WaitForReleaseNotifications.
    private readonly ConcurrentDictionary<LeaseId, long> _retrying = new();
    private int _retryingCount;

    private int _disposed;

    /// <summary>
    /// Creates a store on a connection that the caller owns and disposes; the store never closes it.
    /// </summary>
    /// <param name="connection">The connection. <see cref="BacklogPolicy.FailFast"/> is recommended, so operations fail at once while the server is unreachable instead of waiting out their timeout.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <see langword="null"/>.</exception>
    public RedisLeaseStore(IConnectionMultiplexer connection, RedisLeaseStoreOptions? options = null)
        : this(connection ?? throw new ArgumentNullException(nameof(connection), "The Redis connection cannot be null. Create one with ConnectionMultiplexer.Connect, or call RedisLeaseStore.Connect with a connection string."), ownsConnection: false, options)
    {
    }

    private RedisLeaseStore(IConnectionMultiplexer connection, bool ownsConnection, RedisLeaseStoreOptions? options)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _options = options ?? RedisLeaseStoreOptions.Default;
        _keyPrefix = _options.KeyPrefix;
        _logger = _options.Logger ?? NullLogger.Instance;
        _database = connection.GetDatabase(_options.Database);
        _endPoint = RedisConnectionSettings.Describe(connection.GetEndPoints(configuredOnly: true));
        _notifications = new ReleaseNotifications(connection.GetSubscriber(), _logger);
        connection.ConnectionRestored += OnConnectionRestored;
        _maintenance = TimeProvider.System.CreateTimer(static state => ((RedisLeaseStore)state!).RunMaintenance(), this, MaintenancePeriod, MaintenancePeriod);
    }

    /// <summary>The connection the store uses.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>The store's settings.</summary>
    public RedisLeaseStoreOptions Options => _options;

    /// <summary>The Redis endpoints of the connection's configuration, as <c>host:port</c>, for messages and logs.</summary>
    public string EndPoint => _endPoint;

    /// <summary>
    /// Number of releases waiting for the server to respond again: releases that failed, and
    /// acquires whose outcome is unknown.
    /// </summary>
    public int PendingReleaseCount => _pending.Count;

    /// <summary>Whether <see cref="Dispose"/> or <see cref="DisposeAsync"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Connects to Redis and creates a store that owns the connection and closes it when disposed.
    /// The call returns even when the server is down; operations then fail until it responds.
    /// </summary>
    /// <param name="configuration">
    /// A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379,password=...</c>, or a
    /// URI, such as <c>redis://127.0.0.1:6379/0</c> (<c>rediss://</c> for TLS, <c>redis://user:password@host</c>
    /// for credentials, the path for the database number).
    /// </param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> is null, empty or invalid.</exception>
    public static RedisLeaseStore Connect(string configuration, RedisLeaseStoreOptions? options = null)
    {
        ConfigurationOptions settings = RedisConnectionSettings.Parse(configuration, nameof(configuration));
        ConnectionMultiplexer connection = ConnectionMultiplexer.Connect(settings);
        return new RedisLeaseStore(connection, ownsConnection: true, options);
    }

    /// <summary>
    /// Connects to Redis and creates a store that owns the connection; see <see cref="Connect"/>.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string or a <c>redis://</c> URI.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> is null, empty or invalid.</exception>
    public static async Task<RedisLeaseStore> ConnectAsync(string configuration, RedisLeaseStoreOptions? options = null)
    {
        ConfigurationOptions settings = RedisConnectionSettings.Parse(configuration, nameof(configuration));
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(settings).ConfigureAwait(false);
        return new RedisLeaseStore(connection, ownsConnection: true, options);
    }

    /// <summary>
    /// Stops the background work, drops subscriptions and, if the store created the connection,
    /// closes it. Releases still pending are abandoned; leases with a time-to-live end on their own.
    /// </summary>
    public void Dispose()
    {
        if (!BeginDispose())
        {
            return;
        }

        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>Disposes the store; see <see cref="Dispose"/>.</summary>
    /// <returns>A task that completes when the store's own connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!BeginDispose())
        {
            return;
        }

        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private bool BeginDispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return false;
        }

        _maintenance.Dispose();
        _connection.ConnectionRestored -= OnConnectionRestored;
        _notifications.Sweep(all: true);
        int abandoned = _pending.Count;
        if (abandoned > 0)
        {
            _logger.LogWarning(
                "The Redis lease store for {EndPoint} was disposed with {Count} release(s) still pending; those leases stay in Redis until their time-to-live runs out.",
                _endPoint,
                abandoned);
        }

        return true;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(RedisLeaseStore), $"This Redis lease store for {_endPoint} has been disposed. Create a new store, and a registry on it.");
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Subscription)
        {
            // Releases published while the subscription was down are lost: let every waiter ask again.
            _notifications.SignalAll();
        }

        if (!_pending.IsEmpty)
        {
            _ = DrainPendingAsync();
        }
    }

    // ---- Arguments and errors -------------------------------------------------------------

    private static RedisValue ModeLetter(LeaseMode mode) => mode switch
    {
        LeaseMode.Read => s_read,
        LeaseMode.Write => s_write,
        LeaseMode.UpgradeableRead => s_upgradeable,
        _ => s_exclusive,
    };

    // Milliseconds for the scripts, -1 for none. Rounded up, so the server never expires a lease
    // before the registry's own timer, which counts the unrounded time-to-live.
    private static long Milliseconds(TimeSpan timeToLive) =>
        timeToLive == Timeout.InfiniteTimeSpan ? -1 : Math.Max(1, (long)Math.Ceiling(timeToLive.TotalMilliseconds));

    // Requests that wait in line: everything but shared reads.
    private static bool JoinsLine(LeaseStoreRequest request) =>
        request.Units > 0 || request.Mode is LeaseMode.Exclusive or LeaseMode.Write;

    private static void ValidateResourceId(string resourceId, string paramName)
    {
        if (resourceId is null)
        {
            throw new ArgumentNullException(paramName, "The resource id cannot be null. Pass a non-empty string such as \"orders\".");
        }

        if (resourceId.Length == 0)
        {
            throw new ArgumentException("The resource id cannot be empty. Pass a non-empty string such as \"orders\".", paramName);
        }

        if (resourceId.Length > ResourceRegistry.MaxResourceIdLength)
        {
            throw new ArgumentException(
                $"The resource id is {resourceId.Length} characters long; at most {ResourceRegistry.MaxResourceIdLength} are accepted.",
                paramName);
        }
    }

    private static void ValidateLease(string resourceId, LeaseId leaseId, string owner, string paramName)
    {
        ValidateResourceId(resourceId, paramName + ".ResourceId");
        if (leaseId.IsEmpty)
        {
            throw new ArgumentException($"The lease id for resource '{resourceId}' is empty. Use the lease id the registry chose when it acquired the lease.", paramName + ".LeaseId");
        }

        if (string.IsNullOrEmpty(owner))
        {
            throw new ArgumentException($"The owner for resource '{resourceId}' is null or empty. Pass the owner the lease was acquired with.", paramName + ".Owner");
        }
    }

    private static void ValidateTimeToLive(TimeSpan timeToLive, string paramName)
    {
        if (timeToLive != Timeout.InfiniteTimeSpan && timeToLive <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, timeToLive, $"The time-to-live must be more than zero, or Timeout.InfiniteTimeSpan, but was {timeToLive}.");
        }
    }

    private static void ValidateRequest(LeaseStoreRequest request)
    {
        ValidateLease(request.ResourceId, request.LeaseId, request.Owner, nameof(request));
        if (!Enum.IsDefined(request.Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(request) + ".Mode", request.Mode, $"Mode {request.Mode} is not a defined LeaseMode.");
        }

        ValidateTimeToLive(request.TimeToLive, nameof(request) + ".TimeToLive");
        if (request.Units < 0 || request.Capacity < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(request) + ".Units", request.Units, $"Units ({request.Units}) and capacity ({request.Capacity}) cannot be negative.");
        }

        if (request.Units > request.Capacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(request) + ".Units",
                request.Units,
                $"Cannot reserve {request.Units} units of '{request.ResourceId}', which has a capacity of {request.Capacity}. Ask for 1 to {request.Capacity}, or 0 for a lock.");
        }
    }

    // Errors that mean "the server is not there now", as opposed to a rejected script.
    private static bool IsUnavailable(Exception error) => error switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal),
        _ => false,
    };

    private RedisLeaseStoreException Failure(string operation, string resourceId, Exception error, string consequence)
    {
        string message = IsUnavailable(error)
            ? $"Could not {operation} resource '{resourceId}' because Redis at {_endPoint} is unreachable or not ready ({error.Message}). " +
              $"Check that the server is running and reachable from this process. {consequence}"
            : $"Redis at {_endPoint} rejected the {operation} script for resource '{resourceId}': {error.Message}. " +
              "The server must be Redis 5 or later (or a compatible server) with Lua scripting enabled.";
        return new RedisLeaseStoreException(_endPoint, resourceId, operation, message, error);
    }

    private InvalidOperationException CapacityMismatch(LeaseStoreRequest request, long stored) =>
        new($"Capacity pool '{request.ResourceId}' is in use in Redis at {_endPoint} with a total of {stored.ToString(CultureInfo.InvariantCulture)} units, " +
            $"but this registry registered it with {request.Capacity.ToString(CultureInfo.InvariantCulture)}. Register the pool with the same total in every process that shares it.");
}
