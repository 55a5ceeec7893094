using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

// Multi-resource acquire and the run-with-locks helper.
public sealed partial class ResourceRegistry
{
    private static readonly Comparison<ResourceRequest> s_byId = static (a, b) => string.CompareOrdinal(a.ResourceId, b.ResourceId);

    /// <summary>
    /// Acquires several resources, all or nothing: in ordinal order of their ids (so two callers
    /// that name the same resources in any order cannot deadlock), duplicates merged (the
    /// strongest mode wins), within one shared wait timeout.
    /// </summary>
    /// <param name="resources">The resources and their modes; at least one.</param>
    /// <param name="options">Shared timeout, lease options and retry; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The leases, in ordinal order of the ids.</returns>
    /// <exception cref="ArgumentException">The set is empty, or an id is null, empty or too long (the parameter name gives its position).</exception>
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
    /// <exception cref="OperationCanceledException">The token fired, before anything was taken or during the wait; everything taken was released.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ValueTask<ResourceLeaseSet> AcquireAllAsync(IEnumerable<ResourceRequest> resources, MultiAcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceRequest[] ordered = Normalize(resources, nameof(resources));
        options = PrepareMultiAcquire(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceLeaseSet>(cancellationToken);
        }

        return AcquireAllCoreAsync(ordered, options, cancellationToken);
    }

    /// <summary>
    /// Acquires several resources exclusively, all or nothing; see
    /// <see cref="AcquireAllAsync(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>.
    /// </summary>
    /// <param name="resourceIds">Ids of the resources; at least one.</param>
    /// <param name="options">Shared timeout, lease options and retry; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The leases, in ordinal order of the ids.</returns>
    /// <exception cref="ArgumentException">The set is empty, or an id is null, empty or too long.</exception>
    /// <exception cref="ResourceUnavailableException">A resource could not be had in time; everything taken was released.</exception>
    /// <exception cref="LeaseLostException">A lease of the set was lost before the last resource was taken, and every lease was released.</exception>
    /// <exception cref="OperationCanceledException">The token fired, before anything was taken or during the wait; everything taken was released.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ValueTask<ResourceLeaseSet> AcquireAllAsync(IEnumerable<string> resourceIds, MultiAcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceRequest[] ordered = NormalizeOwned(ToExclusiveRequests(resourceIds, nameof(resourceIds)), nameof(resourceIds));
        options = PrepareMultiAcquire(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceLeaseSet>(cancellationToken);
        }

        return AcquireAllCoreAsync(ordered, options, cancellationToken);
    }

    /// <summary>
    /// Acquires a resource, runs <paramref name="work"/> while holding it, and releases it on
    /// every path.
    /// </summary>
    /// <typeparam name="T">Type of the work's result.</typeparam>
    /// <param name="resourceId">Id of the resource.</param>
    /// <param name="work">
    /// The work. Its token fires when <paramref name="cancellationToken"/> fires or the lease is
    /// lost; honour it, because work that goes on after a loss is no longer protected.
    /// </param>
    /// <param name="options">Lease options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait and the work.</param>
    /// <returns>The work's result and the lease's details.</returns>
    /// <exception cref="LeaseLostException">The lease was lost while the work ran; the work's result, if any, is discarded.</exception>
    /// <exception cref="ResourceUnavailableException">The resource could not be had in time; the work did not run.</exception>
    public async Task<LockedResult<T>> RunAsync<T>(string resourceId, Func<CancellationToken, Task<T>> work, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ResourceLease lease = await AcquireAsync(resourceId, options, cancellationToken).ConfigureAwait(false);
        return await RunHeldAsync(new[] { lease }, work, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Acquires several resources all or nothing, runs <paramref name="work"/> while holding them,
    /// and releases them in reverse order on every path.
    /// </summary>
    /// <typeparam name="T">Type of the work's result.</typeparam>
    /// <param name="resources">The resources and their modes.</param>
    /// <param name="work">The work; its token fires when <paramref name="cancellationToken"/> fires or any lease is lost.</param>
    /// <param name="options">Shared timeout, lease options and retry; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait and the work.</param>
    /// <returns>The work's result and the leases' details.</returns>
    /// <exception cref="LeaseLostException">
    /// A lease was lost while the work ran, and the work's result, if any, is discarded. Or a
    /// lease was lost before the last resource was taken (see
    /// <see cref="AcquireAllAsync(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>),
    /// and the work did not run.
    /// </exception>
    /// <exception cref="ResourceUnavailableException">A resource could not be had in time; the work did not run.</exception>
    /// <exception cref="OperationCanceledException">The token fired. With a token cancelled before the call, nothing is taken and the work does not run.</exception>
    public async Task<LockedResult<T>> RunAsync<T>(IEnumerable<ResourceRequest> resources, Func<CancellationToken, Task<T>> work, MultiAcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ResourceLeaseSet set = await AcquireAllAsync(resources, options, cancellationToken).ConfigureAwait(false);
        var leases = new ResourceLease[set.Count];
        for (int i = 0; i < leases.Length; i++)
        {
            leases[i] = set[i];
        }

        return await RunHeldAsync(leases, work, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Acquires a resource, runs <paramref name="work"/> while holding it, and releases it on every path.
    /// </summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <param name="work">The work; its token fires when <paramref name="cancellationToken"/> fires or the lease is lost.</param>
    /// <param name="options">Lease options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait and the work.</param>
    /// <returns>The lease's details.</returns>
    /// <exception cref="LeaseLostException">The lease was lost while the work ran.</exception>
    /// <exception cref="ResourceUnavailableException">The resource could not be had in time; the work did not run.</exception>
    public async Task<LockedResult<bool>> RunAsync(string resourceId, Func<CancellationToken, Task> work, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return await RunAsync(
            resourceId,
            async token =>
            {
                await work(token).ConfigureAwait(false);
                return true;
            },
            options,
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<ResourceLeaseSet> AcquireAllCoreAsync(ResourceRequest[] ordered, MultiAcquireOptions options, CancellationToken cancellationToken)
    {
        RetryPolicy? retry = options.Retry;
        long deadline = _clock.After(_clock.Now(), options.WaitTimeout);
        int attempt = 0;
        while (true)
        {
            attempt++;
            long attemptDeadline = AttemptDeadline(deadline, retry);
            var leases = new ResourceLease[ordered.Length];
            int taken = 0;
            try
            {
                for (; taken < ordered.Length; taken++)
                {
                    ResourceRequest request = ordered[taken];
                    TimeSpan remaining = TimeLeft(attemptDeadline);
                    ThrowIfDisposed();
                    ResourceEntry entry = Join(request.ResourceId, request.Mode, options.Lease.Priority);
                    leases[taken] = await AcquireOnEntry(entry, request.Mode, remaining, options.Lease, units: 0, counted: true, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ResourceUnavailableException unavailable)
            {
                ReleaseReverse(leases, taken);
                if (!MayRetry(retry, attempt, deadline))
                {
                    throw CreateSetUnavailable(unavailable, ordered, taken, options);
                }

                await PauseAsync(RetryPause(retry, attempt, deadline), cancellationToken).ConfigureAwait(false);
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

            await PauseAsync(RetryPause(retry, attempt, deadline), cancellationToken).ConfigureAwait(false);
        }
    }

    // Returns true when a set whose resources are all taken still holds every lease. Otherwise
    // the set was released: returns false for another attempt, or throws when none is left.
    private bool KeepCompletedSet(ResourceLease[] leases, [NotNullWhen(false)] RetryPolicy? retry, int attempt, long deadline)
    {
        LeaseLostException? lost = ReleaseIfAnyLost(leases);
        if (lost is null)
        {
            return true;
        }

        // A lease lost to disposal ends the set like any acquire on a disposed registry.
        ThrowIfDisposed();
        if (!MayRetry(retry, attempt, deadline))
        {
            throw lost;
        }

        return false;
    }

    // Checks a set whose resources are all taken. A lease whose time-to-live ran out while a later
    // resource was waited for may already belong to someone else. Then every lease is released in
    // reverse order and the exception for the first lost one is returned, which the caller either
    // retries or throws. Returns null when every lease is held.
    private LeaseLostException? ReleaseIfAnyLost(ResourceLease[] leases)
    {
        int first = FirstLost(leases);
        if (first < 0)
        {
            return null;
        }

        // Built before the release, which hands the lost lease's record on for reuse.
        ResourceLease lost = leases[first];
        var error = new LeaseLostException(lost.ResourceId!, lost.LeaseId, lost.LossReason, "complete the all-or-nothing acquire with");
        ReleaseReverse(leases, leases.Length);
        return error;
    }

    // Waits out a backoff pause on the registry's clock. The registry's disposal ends it early
    // with ObjectDisposedException, and the caller's token with OperationCanceledException.
    private async ValueTask PauseAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        if (pause <= TimeSpan.Zero)
        {
            return;
        }

        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, DisposalToken);
        try
        {
            await Task.Delay(pause, _clock.Provider, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ThrowPauseEnded(cancellationToken);
            throw;
        }
    }

    // Throws what ends a backoff pause early: the caller's cancellation, or else the registry's disposal.
    private void ThrowPauseEnded(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
    }

    // Applies the default options, checks the lease options' rules that involve two properties
    // and rejects a disposed registry. Every overload of AcquireAll and AcquireAllAsync runs it
    // after normalizing its resources, so argument errors come before ObjectDisposedException.
    private MultiAcquireOptions PrepareMultiAcquire(MultiAcquireOptions? options)
    {
        options ??= MultiAcquireOptions.Default;
        options.Lease.Validate(nameof(options) + "." + nameof(MultiAcquireOptions.Lease));
        ThrowIfDisposed();
        return options;
    }

    // The end of one attempt: the set's deadline, or sooner when a retry policy limits each attempt.
    private long AttemptDeadline(long deadline, RetryPolicy? retry) =>
        retry is null ? deadline : Math.Min(deadline, _clock.After(_clock.Now(), retry.AttemptTimeout));

    // The wait timeout for the next resource of an attempt: the time left until its deadline.
    private TimeSpan TimeLeft(long deadline) =>
        deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : _clock.ToSpan(Math.Max(0, deadline - _clock.Now()));

    private bool MayRetry([NotNullWhen(true)] RetryPolicy? retry, int attempt, long deadline) =>
        retry is not null && attempt < retry.MaxAttempts && _clock.Now() < deadline;

    // The backoff before the next attempt, cut short so that it ends by the set's deadline.
    private TimeSpan RetryPause(RetryPolicy retry, int attempt, long deadline)
    {
        TimeSpan pause = retry.DelayAfter(attempt, Random.Shared);
        long left = deadline == long.MaxValue ? long.MaxValue : deadline - _clock.Now();
        if (left != long.MaxValue && _clock.ToTicks(pause) > left)
        {
            pause = _clock.ToSpan(Math.Max(0, left));
        }

        return pause;
    }

    // The exception that ends a failed set: the resource that could not be had, its holders, the
    // set's whole wait timeout and the resources that were taken before it and released again.
    private static ResourceUnavailableException CreateSetUnavailable(ResourceUnavailableException unavailable, ResourceRequest[] ordered, int taken, MultiAcquireOptions options)
    {
        var acquiredFirst = new string[taken];
        for (int i = 0; i < taken; i++)
        {
            acquiredFirst[i] = ordered[i].ResourceId;
        }

        return new ResourceUnavailableException(unavailable.ResourceId, options.WaitTimeout, unavailable.Holders, acquiredFirst);
    }

    private static void ReleaseReverse(ResourceLease[] leases, int taken)
    {
        for (int i = taken - 1; i >= 0; i--)
        {
            leases[i].Release();
        }
    }

    // Turns ids into exclusive requests, in a new array that NormalizeOwned may sort in place.
    private static ResourceRequest[] ToExclusiveRequests(IEnumerable<string> resourceIds, string paramName)
    {
        ArgumentNullException.ThrowIfNull(resourceIds, paramName);
        if (resourceIds is IReadOnlyList<string> list)
        {
            var requests = new ResourceRequest[list.Count];
            for (int i = 0; i < requests.Length; i++)
            {
                requests[i] = new ResourceRequest(list[i]);
            }

            return requests;
        }

        var collected = new List<ResourceRequest>();
        foreach (string id in resourceIds)
        {
            collected.Add(new ResourceRequest(id));
        }

        return collected.ToArray();
    }

    // Copies the caller's requests (they are sorted in place), then normalizes them.
    private ResourceRequest[] Normalize(IEnumerable<ResourceRequest> resources, string paramName)
    {
        ArgumentNullException.ThrowIfNull(resources, paramName);
        ResourceRequest[] requests = resources is ResourceRequest[] array ? (ResourceRequest[])array.Clone() : new List<ResourceRequest>(resources).ToArray();
        return NormalizeOwned(requests, paramName);
    }

    // Validates, sorts ordinally and merges duplicates (strongest mode wins), in place.
    private ResourceRequest[] NormalizeOwned(ResourceRequest[] requests, string paramName)
    {
        if (requests.Length == 0)
        {
            throw new ArgumentException("The set of resources is empty. Name at least one resource.", paramName);
        }

        for (int i = 0; i < requests.Length; i++)
        {
            // The parameter name is built only for an id that fails, so valid sets allocate nothing here.
            string? id = requests[i].ResourceId;
            if (id is null || id.Length == 0 || id.Length > MaxResourceIdLength)
            {
                ValidateId(id!, $"{paramName}[{i}]");
            }

            if ((uint)requests[i].Mode > (uint)LeaseMode.UpgradeableRead)
            {
                throw new ArgumentOutOfRangeException($"{paramName}[{i}]", requests[i].Mode, $"The mode {requests[i].Mode} of '{requests[i].ResourceId}' is not a defined LeaseMode. Use Exclusive, Read, Write or UpgradeableRead.");
            }
        }

        if ((_faults & RegistryFaults.UnsortedMultiAcquire) == 0)
        {
            if (requests.Length > 16)
            {
                Array.Sort(requests, s_byId);
            }
            else
            {
                // Sets are small; an insertion sort without a comparison delegate is cheapest.
                for (int i = 1; i < requests.Length; i++)
                {
                    ResourceRequest moving = requests[i];
                    int j = i - 1;
                    while (j >= 0 && string.CompareOrdinal(requests[j].ResourceId, moving.ResourceId) > 0)
                    {
                        requests[j + 1] = requests[j];
                        j--;
                    }

                    requests[j + 1] = moving;
                }
            }
        }

        // Merge equal ids, which are adjacent once sorted (and searched for when not).
        bool sorted = (_faults & RegistryFaults.UnsortedMultiAcquire) == 0;
        int count = 0;
        for (int i = 0; i < requests.Length; i++)
        {
            int existing = -1;
            for (int j = count - 1; j >= 0; j--)
            {
                if (string.Equals(requests[j].ResourceId, requests[i].ResourceId, StringComparison.Ordinal))
                {
                    existing = j;
                    break;
                }

                if (sorted)
                {
                    // Equal ids are adjacent once sorted; only the last kept one can match.
                    break;
                }
            }

            if (existing >= 0)
            {
                requests[existing] = new ResourceRequest(requests[existing].ResourceId, ResourceRequest.Merge(requests[existing].Mode, requests[i].Mode));
            }
            else
            {
                requests[count++] = requests[i];
            }
        }

        return count == requests.Length ? requests : requests[..count];
    }

    private async Task<LockedResult<T>> RunHeldAsync<T>(ResourceLease[] leases, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            // Step 1: capture the leases' details before the work can outlive them.
            var holders = new LeaseHolder[leases.Length];
            var tokens = new CancellationToken[leases.Length + 1];
            for (int i = 0; i < leases.Length; i++)
            {
                holders[i] = leases[i].ToHolder();
                tokens[i] = leases[i].LostToken;
            }

            tokens[^1] = cancellationToken;
            long started = _clock.Now();

            // Step 2: run the work under a token that fires on the caller's cancellation or any loss.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(tokens);
            T value;
            try
            {
                value = await work(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && FirstLost(leases) >= 0)
            {
                throw LostDuringWork(leases);
            }

            // Step 3: work that ended after a loss was not protected to the end.
            if (FirstLost(leases) >= 0)
            {
                throw LostDuringWork(leases);
            }

            return new LockedResult<T>(value, holders, _clock.Since(started));
        }
        finally
        {
            for (int i = leases.Length - 1; i >= 0; i--)
            {
                await leases[i].ReleaseAsync().ConfigureAwait(false);
            }
        }
    }

    private static int FirstLost(ResourceLease[] leases)
    {
        for (int i = 0; i < leases.Length; i++)
        {
            if (leases[i].State == LeaseState.Lost)
            {
                return i;
            }
        }

        return -1;
    }

    private static LeaseLostException LostDuringWork(ResourceLease[] leases)
    {
        ResourceLease lost = leases[FirstLost(leases)];
        return new LeaseLostException(lost.ResourceId!, lost.LeaseId, lost.LossReason, "finish the work under");
    }
}
