using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis;

// Acquire: one script per attempt, and the wait for a release between the attempts of a waiter.
public sealed partial class RedisLeaseStore
{
    // Refused lease ids are remembered this long after their last attempt. A registry that retries
    // later than this is treated as a new caller, so its next attempt does not wait.
    private static readonly TimeSpan s_retryMemory = TimeSpan.FromSeconds(30);
    private const int MaxTrackedRetries = 100_000;

    /// <summary>
    /// Grants the lease in one script if the resource is free for the mode (or has room for the
    /// units), else reports its holders. See <see cref="ILeaseStore.TryAcquireAsync"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The time-to-live counts from before the request is sent, on a monotonic clock. A grant that
    /// arrives after its time-to-live has run out is removed again and reported as refused, so the
    /// caller never holds a lease that Redis has already given up.
    /// </para>
    /// <para>
    /// When the registry repeats an acquire that was refused (same lease id), a writer, exclusive
    /// request or reservation joins the resource's line (see <see cref="RedisLeaseStoreOptions.WaiterTimeToLive"/>).
    /// With <see cref="RedisLeaseStoreOptions.WaitForReleaseNotifications"/>, the call then waits
    /// for a release notification, the earliest holder's expiry or
    /// <see cref="RedisLeaseStoreOptions.PollInterval"/>, and tries a second time.
    /// </para>
    /// </remarks>
    /// <param name="request">What to grant.</param>
    /// <param name="cancellationToken">Token that abandons the call. A grant that races with it is removed again.</param>
    /// <returns>The grant with its fencing token, or the holders that prevented it.</returns>
    /// <exception cref="ArgumentException">The request has an empty id or owner, an undefined mode, or units out of range.</exception>
    /// <exception cref="InvalidOperationException">The request is for a capacity pool that other processes use with another total.</exception>
    /// <exception cref="RedisLeaseStoreException">Redis could not be reached or rejected the script.</exception>
    /// <exception cref="OperationCanceledException">The token fired; nothing is held.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    public async ValueTask<LeaseStoreAcquireResult> TryAcquireAsync(LeaseStoreRequest request, CancellationToken cancellationToken)
    {
        ValidateRequest(request);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        ResourceKeys keys = ResourceKeys.For(_keyPrefix, request.ResourceId);
        bool repeated = Volatile.Read(ref _retryingCount) != 0 && _retrying.ContainsKey(request.LeaseId);
        ReleaseNotifications.Watch? watch = null;
        try
        {
            // Step 1: a waiter subscribes before it tries, so a release right after the refusal is not missed.
            long seen = 0;
            if (repeated && _options.WaitForReleaseNotifications)
            {
                watch = await _notifications.EnterAsync(keys).ConfigureAwait(false);
                seen = watch.Generation;
            }

            // Step 2: try.
            AcquireAttempt attempt = await AttemptAsync(request, keys, repeated, cancellationToken).ConfigureAwait(false);
            if (attempt.Granted || watch is null)
            {
                return Conclude(request.LeaseId, attempt);
            }

            // Step 3: wait for a release, the earliest expiry or the poll interval, and try once more.
            // NOTE: the request does not carry the caller's deadline, so this wait can end up to
            // PollInterval after it; the registry then reports the timeout that late.
            await watch.WaitAsync(seen, WaitBound(attempt), cancellationToken).ConfigureAwait(false);
            attempt = await AttemptAsync(request, keys, repeated: true, cancellationToken).ConfigureAwait(false);
            return Conclude(request.LeaseId, attempt);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Forget(request.LeaseId);
            if (repeated && JoinsLine(request))
            {
                _ = WithdrawAsync(keys, request.LeaseId);
            }

            throw;
        }
        catch (Exception error) when (error is RedisLeaseStoreException or InvalidOperationException)
        {
            Forget(request.LeaseId);
            throw;
        }
        finally
        {
            if (watch is not null)
            {
                _notifications.Exit(watch);
            }
        }
    }

    private LeaseStoreAcquireResult Conclude(LeaseId leaseId, AcquireAttempt attempt)
    {
        if (attempt.Granted)
        {
            Forget(leaseId);
            return LeaseStoreAcquireResult.Granted(attempt.FencingToken);
        }

        Remember(leaseId);
        return LeaseStoreAcquireResult.Refused(attempt.Holders);
    }

    // One run of the acquire script, with the time-to-live check around it.
    private async ValueTask<AcquireAttempt> AttemptAsync(LeaseStoreRequest request, ResourceKeys keys, bool repeated, CancellationToken cancellationToken)
    {
        long timeToLive = Milliseconds(request.TimeToLive);
        long place = repeated && JoinsLine(request) ? Milliseconds(_options.WaiterTimeToLive) : 0;
        RedisKey[] scriptKeys = [keys.Exclusive, keys.Holders, keys.Expiries, keys.Waiters, keys.Line, keys.Fencing];
        RedisValue[] values =
        [
            request.LeaseId.ToString(),
            ModeLetter(request.Mode),
            timeToLive,
            request.Units,
            request.Capacity,
            HolderRecord.Format(request, TimeProvider.System.GetUtcNow()),
            place,
            _options.MaxReportedHolders,
        ];

        long startedAt = Stopwatch.GetTimestamp();
        RedisResult result;
        Task<RedisResult>? pending = null;
        try
        {
            pending = EvaluateAsync(LeaseScripts.Acquire, scriptKeys, values);
            result = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && pending is not null)
        {
            // The script may still run and grant: remove what it wrote once it replies.
            _ = RemoveIfGrantedAsync(pending, request, keys);
            throw;
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            if (IsUnavailable(error) && MaybeSent(error))
            {
                EnqueueRelease(request.ResourceId, request.LeaseId, request.Owner);
            }

            throw Failure("acquire", request.ResourceId, error, "Nothing was acquired. If the server granted the lease before the connection failed, the store removes it once the server responds again.");
        }

        // A grant is the fencing token alone; anything else is an array.
        if (result.Resp2Type != ResultType.Integer)
        {
            if ((long)result[0] == LeaseScripts.CapacityMismatch)
            {
                throw CapacityMismatch(request, (long)result[1]);
            }

            return ParseRefusedReply(request.ResourceId, result);
        }

        // The validity counts from before the request was sent. A grant that took longer than
        // the time-to-live is expired, or about to be, by the time the caller could use it.
        if (timeToLive >= 0 && Stopwatch.GetElapsedTime(startedAt) >= request.TimeToLive)
        {
            _logger.LogDebug(
                "Acquiring '{ResourceId}' took {Elapsed} ms, longer than its time-to-live of {TimeToLive} ms; the grant was removed again.",
                request.ResourceId,
                Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds,
                timeToLive);
            await RemoveAsync(request, keys).ConfigureAwait(false);
            return new AcquireAttempt(false, 0, Array.Empty<LeaseHolder>(), double.PositiveInfinity);
        }

        return new AcquireAttempt(true, (long)result, Array.Empty<LeaseHolder>(), double.PositiveInfinity);
    }

    private static AcquireAttempt ParseRefusedReply(string resourceId, RedisResult result)
    {
        int count = (result.Length - 1) / 3;
        if (count == 0)
        {
            return new AcquireAttempt(false, 0, Array.Empty<LeaseHolder>(), double.PositiveInfinity);
        }

        var holders = new List<LeaseHolder>(count);
        double soonest = double.PositiveInfinity;
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        for (int i = 1; i + 2 < result.Length; i += 3)
        {
            LeaseHolder? holder = HolderRecord.Parse(resourceId, result[i], result[i + 1], result[i + 2], now, out double left);
            if (holder is not null)
            {
                holders.Add(holder);
                soonest = Math.Min(soonest, left);
            }
        }

        return new AcquireAttempt(false, 0, holders, soonest);
    }

    // The longest a waiter waits before it tries again: the poll interval, shortened to just past
    // the earliest holder's expiry, because expiry publishes nothing.
    private TimeSpan WaitBound(AcquireAttempt attempt)
    {
        TimeSpan bound = _options.PollInterval;
        if (!double.IsPositiveInfinity(attempt.SoonestExpiry))
        {
            double untilExpiry = Math.Max(1, attempt.SoonestExpiry + 1);
            if (untilExpiry < bound.TotalMilliseconds)
            {
                bound = TimeSpan.FromMilliseconds(untilExpiry);
            }
        }

        return bound;
    }

    // Whether a failed command may have reached the server (so its effect is unknown).
    private static bool MaybeSent(Exception error) => error switch
    {
        RedisConnectionException connection => connection.CommandStatus is not (CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog),
        RedisTimeoutException timeout => timeout.Commandstatus is not (CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog),
        _ => true,
    };

    // Removes a lease this store granted but must not hand out; on failure, later.
    private async ValueTask RemoveAsync(LeaseStoreRequest request, ResourceKeys keys)
    {
        try
        {
            await ReleaseCoreAsync(keys, request.LeaseId, request.Owner).ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
        {
            EnqueueRelease(request.ResourceId, request.LeaseId, request.Owner);
        }
    }

    private async Task RemoveIfGrantedAsync(Task<RedisResult> pending, LeaseStoreRequest request, ResourceKeys keys)
    {
        try
        {
            RedisResult result = await pending.ConfigureAwait(false);
            if (result.Resp2Type == ResultType.Integer)
            {
                await RemoveAsync(request, keys).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            if (MaybeSent(error))
            {
                EnqueueRelease(request.ResourceId, request.LeaseId, request.Owner);
            }
        }
        catch (ObjectDisposedException)
        {
            // The store or its connection was closed meanwhile; a lease with a time-to-live ends on its own.
        }
    }

    private async Task WithdrawAsync(ResourceKeys keys, LeaseId leaseId)
    {
        try
        {
            await EvaluateAsync(LeaseScripts.Withdraw, [keys.Waiters, keys.Line], [leaseId.ToString(), keys.ChannelName]).ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The place lapses on its own after WaiterTimeToLive.
            _logger.LogDebug(error, "Taking waiter {LeaseId} out of the line failed; its place lapses on its own.", leaseId);
        }
    }

    private void Remember(LeaseId leaseId)
    {
        long now = Stopwatch.GetTimestamp();
        if (_retrying.TryGetValue(leaseId, out long previous))
        {
            // An update, never an insert: inserts go through the count below.
            _retrying.TryUpdate(leaseId, now, previous);
        }
        else if (Volatile.Read(ref _retryingCount) < MaxTrackedRetries && _retrying.TryAdd(leaseId, now))
        {
            Interlocked.Increment(ref _retryingCount);
        }
    }

    private void Forget(LeaseId leaseId)
    {
        if (Volatile.Read(ref _retryingCount) != 0 && _retrying.TryRemove(leaseId, out _))
        {
            Interlocked.Decrement(ref _retryingCount);
        }
    }

    private void SweepRetries()
    {
        if (Volatile.Read(ref _retryingCount) == 0)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        foreach (KeyValuePair<LeaseId, long> entry in _retrying)
        {
            if (Stopwatch.GetElapsedTime(entry.Value, now) >= s_retryMemory && _retrying.TryRemove(entry))
            {
                Interlocked.Decrement(ref _retryingCount);
            }
        }
    }

    /// <summary>The outcome of one run of the acquire script; <paramref name="SoonestExpiry"/> is the milliseconds left to the first holder that expires.</summary>
    private readonly record struct AcquireAttempt(bool Granted, long FencingToken, IReadOnlyList<LeaseHolder> Holders, double SoonestExpiry);
}
