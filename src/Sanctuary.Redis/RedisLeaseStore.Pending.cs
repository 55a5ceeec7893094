using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis;

// Releases that must reach the server once it responds again, and the periodic housekeeping.
public sealed partial class RedisLeaseStore
{
    private const int MaxPendingReleases = 10_000;
    private static readonly TimeSpan MaintenancePeriod = TimeSpan.FromSeconds(1);

    // Leases to remove, keyed by resource and lease id, with their owner. Entries come from releases
    // that could not be sent and from acquires whose reply was lost. Each is tried until the server
    // replies, whatever the reply, because removing a lease that is gone changes nothing.
    private readonly ConcurrentDictionary<(string ResourceId, LeaseId LeaseId), string> _pending = new();
    private int _draining;
    private int _maintaining;

    private void EnqueueRelease(string resourceId, LeaseId leaseId, string owner)
    {
        if (_pending.Count >= MaxPendingReleases)
        {
            _logger.LogError(
                "{Count} releases are already pending for Redis at {EndPoint}; lease {LeaseId} on '{ResourceId}' is not queued and stays in Redis until its time-to-live runs out.",
                MaxPendingReleases,
                _endPoint,
                leaseId,
                resourceId);
            return;
        }

        if (_pending.TryAdd((resourceId, leaseId), owner))
        {
            _logger.LogWarning(
                "Lease {LeaseId} on '{ResourceId}' could not be removed from Redis at {EndPoint}; the store retries once the server responds again.",
                leaseId,
                resourceId,
                _endPoint);
        }
    }

    private void RunMaintenance()
    {
        // Timer callbacks can overlap when one runs long; the second one has nothing to add.
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _maintaining, 1) != 0)
        {
            return;
        }

        try
        {
            _notifications.Sweep(all: false);
            SweepRetries();
            if (!_pending.IsEmpty && _connection.IsConnected)
            {
                _ = DrainPendingAsync();
            }
        }
        finally
        {
            Volatile.Write(ref _maintaining, 0);
        }
    }

    /// <summary>
    /// Sends every pending release once, stopping at the first that finds the server still
    /// unreachable. Runs once a second while releases are pending, and when a connection is restored.
    /// </summary>
    internal async Task DrainPendingAsync()
    {
        if (Interlocked.Exchange(ref _draining, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (KeyValuePair<(string ResourceId, LeaseId LeaseId), string> item in _pending)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    return;
                }

                try
                {
                    bool removed = await ReleaseCoreAsync(ResourceKeys.For(_keyPrefix, item.Key.ResourceId), item.Key.LeaseId, item.Value).ConfigureAwait(false);
                    _pending.TryRemove(item);
                    if (removed)
                    {
                        _logger.LogInformation(
                            "Removed lease {LeaseId} on '{ResourceId}' from Redis at {EndPoint} after the server responded again.",
                            item.Key.LeaseId,
                            item.Key.ResourceId,
                            _endPoint);
                    }
                }
                catch (Exception error) when ((error is RedisException or TimeoutException) && IsUnavailable(error))
                {
                    // Still unreachable: the next tick or reconnection tries again.
                    return;
                }
                catch (RedisException error)
                {
                    _pending.TryRemove(item);
                    _logger.LogError(error, "Removing lease {LeaseId} on '{ResourceId}' from Redis at {EndPoint} failed; the release is dropped.", item.Key.LeaseId, item.Key.ResourceId, _endPoint);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The connection was closed by its owner.
        }
        finally
        {
            Volatile.Write(ref _draining, 0);
        }
    }
}
