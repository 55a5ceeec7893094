using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

// Blocking multi-resource acquire: AcquireAllAsync's contract, with each resource waited for on
// the calling thread through the primitive's own blocking acquire.
public sealed partial class ResourceRegistry
{
    // The maximum timeout of one WaitHandle.WaitOne call, which rejects a TimeSpan over
    // int.MaxValue milliseconds, so a longer pause waits in several steps.
    private static readonly TimeSpan s_maxSingleWait = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>
    /// Acquires several resources, all or nothing, blocking the calling thread: in ordinal order
    /// of their ids (so two callers that name the same resources in any order cannot deadlock),
    /// duplicates merged (the strongest mode wins), within one shared wait timeout. This is the
    /// blocking form of
    /// <see cref="AcquireAllAsync(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>.
    /// </summary>
    /// <param name="resources">The resources and their modes; at least one.</param>
    /// <param name="options">Shared timeout, lease options and retry; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The leases, in ordinal order of the ids; dispose the set to release them in reverse order.</returns>
    /// <remarks>
    /// <para>
    /// The calling thread blocks until every resource is held. Each resource is taken through the
    /// same blocking path as <see cref="Acquire(string, LeaseOptions?, CancellationToken)"/>: the
    /// thread parks in the resource's primitive, so no task is created and no thread-pool thread
    /// is needed to end the wait. Snapshots list the thread as a waiter of the resource it waits
    /// for, and the same metrics and traces are recorded. Code that awaits while it holds the
    /// leases should use <see cref="AcquireAllAsync(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>
    /// instead, so that no thread stays blocked while the set is waited for.
    /// </para>
    /// <para>
    /// With a <see cref="MultiAcquireOptions.Retry"/> policy, the pause between attempts also
    /// blocks the thread. With <see cref="TimeProvider.System"/> it waits on a wait handle that
    /// the token and the registry's disposal both set. With another
    /// <see cref="ResourceRegistryOptions.TimeProvider"/>, such as a fake clock in tests, that
    /// clock must end the pause, so the thread waits for a delay task on it. Either way the
    /// token or the registry's disposal ends the pause at once.
    /// </para>
    /// <para>
    /// With an external <see cref="ResourceRegistryOptions.Store"/>, the thread also blocks on the
    /// store's asynchronous calls, as <see cref="Acquire(string, LeaseOptions?, CancellationToken)"/> does.
    /// </para>
    /// <para>
    /// A token that is already cancelled throws before any resource is taken. On a timeout, a
    /// lost lease, a cancellation, the registry's disposal or any other exception, every resource
    /// already taken is released in reverse order before the exception is thrown.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="resources"/> is null, or an id in it is null (the parameter name gives its position).</exception>
    /// <exception cref="ArgumentException">
    /// The set is empty, an id is empty or too long, a mode is not a defined <see cref="LeaseMode"/>
    /// (an <see cref="ArgumentOutOfRangeException"/>; the parameter name gives the position), or
    /// the lease options break a rule that involves two of them.
    /// </exception>
    /// <exception cref="ResourceUnavailableException">
    /// A resource could not be had in time. It names that resource and its holders; everything
    /// taken before it was released in reverse order.
    /// </exception>
    /// <exception cref="LeaseLostException">
    /// A lease of the set was lost before the last resource was taken, typically because its
    /// time-to-live ran out during the wait, and the retry policy allowed no further attempt.
    /// Every lease of the set was released in reverse order. Give the leases a time-to-live
    /// longer than the wait, or a heartbeat.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token fired before or during the wait; everything taken was released.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed, before the call or during the wait; everything taken was released.</exception>
    public ResourceLeaseSet AcquireAll(IEnumerable<ResourceRequest> resources, MultiAcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceRequest[] ordered = Normalize(resources, nameof(resources));
        options = PrepareMultiAcquire(options);
        cancellationToken.ThrowIfCancellationRequested();
        return AcquireAllCore(ordered, options, cancellationToken);
    }

    /// <summary>
    /// Acquires several resources exclusively, all or nothing, blocking the calling thread; see
    /// <see cref="AcquireAll(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>.
    /// This is the blocking form of
    /// <see cref="AcquireAllAsync(IEnumerable{string}, MultiAcquireOptions?, CancellationToken)"/>;
    /// code that awaits while it holds the leases should use that one.
    /// </summary>
    /// <param name="resourceIds">Ids of the resources; at least one.</param>
    /// <param name="options">Shared timeout, lease options and retry; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The leases, in ordinal order of the ids; dispose the set to release them in reverse order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="resourceIds"/> is null, or an id in it is null (the parameter name gives its position).</exception>
    /// <exception cref="ArgumentException">
    /// The set is empty, an id is empty or too long (the parameter name gives its position), or
    /// the lease options break a rule that involves two of them.
    /// </exception>
    /// <exception cref="ResourceUnavailableException">
    /// A resource could not be had in time. It names that resource and its holders; everything
    /// taken before it was released in reverse order.
    /// </exception>
    /// <exception cref="LeaseLostException">A lease of the set was lost before the last resource was taken, and every lease was released.</exception>
    /// <exception cref="OperationCanceledException">The token fired before or during the wait; everything taken was released.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed, before the call or during the wait; everything taken was released.</exception>
    public ResourceLeaseSet AcquireAll(IEnumerable<string> resourceIds, MultiAcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceRequest[] ordered = NormalizeOwned(ToExclusiveRequests(resourceIds, nameof(resourceIds)), nameof(resourceIds));
        options = PrepareMultiAcquire(options);
        cancellationToken.ThrowIfCancellationRequested();
        return AcquireAllCore(ordered, options, cancellationToken);
    }

    private ResourceLeaseSet AcquireAllCore(ResourceRequest[] ordered, MultiAcquireOptions options, CancellationToken cancellationToken)
    {
        RetryPolicy? retry = options.Retry;
        LeaseOptions leaseOptions = options.Lease;
        long deadline = _clock.After(_clock.Now(), options.WaitTimeout);

        // One array serves every attempt: a failed attempt releases what it took before the next
        // one overwrites it, and only a complete attempt hands the array to the set.
        var leases = new ResourceLease[ordered.Length];
        int attempt = 0;
        while (true)
        {
            attempt++;
            long attemptDeadline = AttemptDeadline(deadline, retry);
            int taken = 0;
            try
            {
                for (; taken < ordered.Length; taken++)
                {
                    ResourceRequest request = ordered[taken];
                    TimeSpan remaining = TimeLeft(attemptDeadline);
                    ThrowIfDisposed();
                    ResourceEntry entry = Join(request.ResourceId, request.Mode, leaseOptions.Priority);
                    leases[taken] = AcquireOnEntryBlocking(entry, request.Mode, remaining, leaseOptions, counted: true, cancellationToken);
                }
            }
            catch (ResourceUnavailableException unavailable)
            {
                ReleaseReverse(leases, taken);
                if (!MayRetry(retry, attempt, deadline))
                {
                    throw CreateSetUnavailable(unavailable, ordered, taken, options);
                }

                PauseBlocking(RetryPause(retry, attempt, deadline), cancellationToken);
                continue;
            }
            catch
            {
                ReleaseReverse(leases, taken);
                throw;
            }

            if (KeepCompletedSet(leases, retry, attempt, deadline))
            {
                return new ResourceLeaseSet(leases);
            }

            PauseBlocking(RetryPause(retry, attempt, deadline), cancellationToken);
        }
    }

    // Blocks the calling thread for a backoff pause. The registry's disposal ends it early with
    // ObjectDisposedException, and the caller's token with OperationCanceledException.
    private void PauseBlocking(TimeSpan pause, CancellationToken cancellationToken)
    {
        if (pause <= TimeSpan.Zero)
        {
            return;
        }

        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, DisposalToken);
        try
        {
            if (!ReferenceEquals(_clock.Provider, TimeProvider.System))
            {
                // Only the registry's own clock can end the pause, so wait for a delay on it.
                Task.Delay(pause, _clock.Provider, linked.Token).GetAwaiter().GetResult();
                return;
            }

            while (pause > TimeSpan.Zero)
            {
                TimeSpan step = pause < s_maxSingleWait ? pause : s_maxSingleWait;
                linked.Token.WaitHandle.WaitOne(step);
                linked.Token.ThrowIfCancellationRequested();
                pause -= step;
            }
        }
        catch (OperationCanceledException)
        {
            ThrowPauseEnded(cancellationToken);
            throw;
        }
    }
}
