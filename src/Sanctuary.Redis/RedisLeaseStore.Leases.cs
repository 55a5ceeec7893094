using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis;

// Extend, release and reads.
public sealed partial class RedisLeaseStore
{
    /// <summary>
    /// Sets the lease to expire <see cref="LeaseStoreExtension.TimeToLive"/> from the server's now,
    /// in one script, if this lease id and owner still hold the resource.
    /// </summary>
    /// <param name="extension">Which lease and the new time-to-live.</param>
    /// <param name="cancellationToken">Token that abandons the wait for the reply.</param>
    /// <returns><see langword="true"/> if the lease was extended; <see langword="false"/> if it no longer holds the resource.</returns>
    /// <exception cref="ArgumentException">The extension has an empty id or owner, or a time-to-live that is zero or negative.</exception>
    /// <exception cref="RedisLeaseStoreException">Redis could not be reached or rejected the script.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the reply arrived.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async ValueTask<bool> ExtendAsync(LeaseStoreExtension extension, CancellationToken cancellationToken)
    {
        ValidateLease(extension.ResourceId, extension.LeaseId, extension.Owner, nameof(extension));
        ValidateTimeToLive(extension.TimeToLive, nameof(extension) + ".TimeToLive");
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        ResourceKeys keys = ResourceKeys.For(_keyPrefix, extension.ResourceId);
        Task<RedisResult>? pending = null;
        try
        {
            pending = EvaluateAsync(
                LeaseScripts.Extend,
                [keys.Exclusive, keys.Holders, keys.Expiries],
                [extension.LeaseId.ToString(), extension.Owner, Milliseconds(extension.TimeToLive)]);
            RedisResult result = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            return (long)result == 1;
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            throw Failure("extend", extension.ResourceId, error, "The lease was not extended; it is lost when its time-to-live runs out without a renewal.");
        }
    }

    /// <summary>
    /// Removes the lease in one script, if this lease id and owner still hold the resource, and
    /// publishes the release so that waiters in every process ask again at once.
    /// </summary>
    /// <param name="release">Which lease.</param>
    /// <param name="cancellationToken">Token that abandons the wait for the reply; the release itself still goes ahead.</param>
    /// <returns><see langword="true"/> if the lease was removed; <see langword="false"/> if it no longer held the resource.</returns>
    /// <exception cref="ArgumentException">The release has an empty id or owner.</exception>
    /// <exception cref="RedisLeaseStoreException">Redis could not be reached or rejected the script. The store retries an unreachable release in the background.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the reply arrived.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async ValueTask<bool> ReleaseAsync(LeaseStoreRelease release, CancellationToken cancellationToken)
    {
        ValidateLease(release.ResourceId, release.LeaseId, release.Owner, nameof(release));
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        ResourceKeys keys = ResourceKeys.For(_keyPrefix, release.ResourceId);
        Task<bool> pending = ReleaseCoreAsync(keys, release.LeaseId, release.Owner);
        try
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = RetryIfUnreachableAsync(pending, release);
            throw;
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            if (IsUnavailable(error))
            {
                EnqueueRelease(release.ResourceId, release.LeaseId, release.Owner);
            }

            throw Failure("release", release.ResourceId, error, "The store retries the release in the background once the server responds again; until then the lease stays in Redis, at most until its time-to-live runs out.");
        }
    }

    /// <summary>Lists the leases that hold the resource now, by the server's clock.</summary>
    /// <param name="resourceId">Id of the resource or pool.</param>
    /// <param name="cancellationToken">Token that abandons the wait for the reply.</param>
    /// <returns>The current holders, the earliest to expire first; empty if none.</returns>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long.</exception>
    /// <exception cref="RedisLeaseStoreException">Redis could not be reached or rejected the script.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the reply arrived.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async ValueTask<IReadOnlyList<LeaseHolder>> GetHoldersAsync(string resourceId, CancellationToken cancellationToken)
    {
        ValidateResourceId(resourceId, nameof(resourceId));
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        ResourceKeys keys = ResourceKeys.For(_keyPrefix, resourceId);
        RedisResult result;
        try
        {
            result = await EvaluateAsync(LeaseScripts.Holders, [keys.Exclusive, keys.Holders, keys.Expiries], [-1]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            throw Failure("list the holders of", resourceId, error, string.Empty);
        }

        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        var holders = new List<LeaseHolder>(result.Length / 3);
        for (int i = 0; i + 2 < result.Length; i += 3)
        {
            LeaseHolder? holder = HolderRecord.Parse(resourceId, result[i], result[i + 1], result[i + 2], now, out _);
            if (holder is not null)
            {
                holders.Add(holder);
            }
        }

        return holders;
    }

    /// <summary>
    /// Returns the fencing token most recently granted for a resource, or 0 if it was never
    /// acquired through this key prefix and database. Every later lease gets a larger token, so a
    /// protected system can start from this value.
    /// </summary>
    /// <param name="resourceId">Id of the resource or pool.</param>
    /// <param name="cancellationToken">Token that abandons the wait for the reply.</param>
    /// <returns>The last fencing token, or 0.</returns>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long.</exception>
    /// <exception cref="RedisLeaseStoreException">Redis could not be reached.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the reply arrived.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async ValueTask<long> GetLastFencingTokenAsync(string resourceId, CancellationToken cancellationToken = default)
    {
        ValidateResourceId(resourceId, nameof(resourceId));
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        ResourceKeys keys = ResourceKeys.For(_keyPrefix, resourceId);
        try
        {
            RedisValue value = await _database.StringGetAsync(keys.Fencing).WaitAsync(cancellationToken).ConfigureAwait(false);
            return value.IsNull ? 0 : (long)value;
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            throw Failure("read the fencing counter of", resourceId, error, string.Empty);
        }
    }

    // Runs a script by its digest. A server that lacks it (restarted, or its script cache flushed)
    // replies NOSCRIPT; then the text is sent once, which caches it again.
    private async Task<RedisResult> EvaluateAsync(ServerScript script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await _database.ScriptEvaluateAsync(script.Hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException error) when (error.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await _database.ScriptEvaluateAsync(script.Text, keys, values).ConfigureAwait(false);
        }
    }

    // One run of the release script.
    private async Task<bool> ReleaseCoreAsync(ResourceKeys keys, LeaseId leaseId, string owner)
    {
        RedisResult result = await EvaluateAsync(
            LeaseScripts.Release,
            [keys.Exclusive, keys.Holders, keys.Expiries],
            [leaseId.ToString(), owner, keys.ChannelName]).ConfigureAwait(false);
        return (long)result == 1;
    }

    private async Task RetryIfUnreachableAsync(Task<bool> pending, LeaseStoreRelease release)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            if (IsUnavailable(error))
            {
                EnqueueRelease(release.ResourceId, release.LeaseId, release.Owner);
            }
        }
        catch (ObjectDisposedException)
        {
            // The connection was closed meanwhile; a lease with a time-to-live ends on its own.
        }
    }
}
