using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using Sanctuary.Diagnostics;

namespace Sanctuary.Resources;

// Blocking acquires: the same grants as the async path, waited for on the calling thread through
// each primitive's own blocking acquire.
public sealed partial class ResourceRegistry
{
    /// <summary>
    /// Acquires a resource, blocking the calling thread at most the options'
    /// <see cref="LeaseOptions.WaitTimeout"/>.
    /// </summary>
    /// <param name="resourceId">Id of the resource, compared ordinally.</param>
    /// <param name="options">Mode, priority, timeout, time-to-live, heartbeat, owner and purpose; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The lease; dispose it to release the resource.</returns>
    /// <remarks>
    /// <para>
    /// The wait parks the calling thread in the resource's primitive (its blocking acquire), so
    /// no task is created and no thread-pool thread is needed to end the wait. The lease is the
    /// same as one from <see cref="AcquireAsync(string, LeaseOptions?, CancellationToken)"/>:
    /// same fencing token, time-to-live, heartbeat, owner, purpose, snapshots and metrics.
    /// Only code that does not await while holding the lease should use it.
    /// </para>
    /// <para>
    /// With an external <see cref="ResourceRegistryOptions.Store"/>, the local wait still blocks
    /// in the primitive, but the store has only asynchronous calls: the thread then blocks on
    /// the store's answer, as it would on any other network call.
    /// </para>
    /// <para>A failed or cancelled acquire leaves every resource exactly as it was.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long, or the options break a rule that involves two of them.</exception>
    /// <exception cref="ResourceUnavailableException">The wait timeout elapsed; the exception names the holders.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the grant; nothing is held.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ResourceLease Acquire(string resourceId, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateId(resourceId, nameof(resourceId));
        options = CheckOptions(options);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        ResourceEntry entry = Join(resourceId, options.Mode, options.Priority);
        return AcquireOnEntryBlocking(entry, options, counted: true, cancellationToken);
    }

    /// <summary>
    /// Returns the handle of a resource, creating the resource on the first call with the primitive
    /// that <paramref name="mode"/> and <paramref name="priority"/> call for: a reader-writer lock
    /// for <see cref="LeaseMode.Read"/>, <see cref="LeaseMode.Write"/> and
    /// <see cref="LeaseMode.UpgradeableRead"/>, a priority lock for an exclusive resource at a
    /// priority other than <see cref="LockPriority.Normal"/>, otherwise an exclusive lock.
    /// </summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <param name="mode">The mode the handle will mostly be acquired in.</param>
    /// <param name="priority">The priority the handle will mostly be acquired at.</param>
    /// <returns>The handle; every call with the same id returns the same handle, whatever the mode and priority.</returns>
    /// <remarks>
    /// The kind of a resource is chosen once, when the resource is created: if it already exists
    /// (held, waited for, or pinned by a handle), or if <see cref="ResourceRegistryOptions.KindSelector"/>
    /// is set, <paramref name="mode"/> and <paramref name="priority"/> do not change it, exactly as
    /// with the options of an acquire by id. Like <see cref="GetHandle(string)"/>, the handle pins
    /// its resource for the life of the registry.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> or <paramref name="priority"/> is not a defined value.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ResourceHandle GetHandle(string resourceId, LeaseMode mode, LockPriority priority = LockPriority.Normal)
    {
        ValidateId(resourceId, nameof(resourceId));
        if (mode is < LeaseMode.Exclusive or > LeaseMode.UpgradeableRead)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "The mode must be Exclusive, Read, Write or UpgradeableRead.");
        }

        if (priority is < LockPriority.Low or > LockPriority.Critical)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "The priority must be Low, Normal, High or Critical.");
        }

        ThrowIfDisposed();
        return PinHandle(Join(resourceId, mode, priority));
    }

    /// <summary>The blocking acquire of a handle; see <see cref="ResourceHandle.Acquire"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceLease AcquireOnEntryBlocking(ResourceEntry entry, LeaseOptions options, bool counted, CancellationToken cancellationToken) =>
        AcquireOnEntryBlocking(entry, options.Mode, options.WaitTimeout, options, counted, cancellationToken);

    /// <summary>
    /// The blocking acquire with <paramref name="mode"/> and <paramref name="waitTimeout"/> in
    /// place of the options' own, so that a multi-resource acquire can pass each request's mode
    /// and the time left without copying the options.
    /// </summary>
    internal ResourceLease AcquireOnEntryBlocking(ResourceEntry entry, LeaseMode mode, TimeSpan waitTimeout, LeaseOptions options, bool counted, CancellationToken cancellationToken)
    {
        if (_store is not null)
        {
            // The store has only asynchronous calls; the async path waits for it (see the remarks
            // of Acquire). Completed at once, it costs no task.
            var pending = AcquireOnEntry(entry, mode, waitTimeout, options, units: 0, counted, cancellationToken);
            return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        }

        if (entry.Gate is ExclusiveGate exclusive)
        {
            if (exclusive.TryEnter(out AsyncLock.Lease held))
            {
                return GrantExclusive(entry, held, mode, options, counted);
            }
        }
        else if (TryEnterGeneric(entry, mode, units: 0, counted, out ResourceGate.Hold hold))
        {
            return Grant(entry, in hold, mode, options, units: 0, counted, sequence: 0, fencingToken: 0, grantedAt: 0, startedAt: 0);
        }

        return AcquireSlowBlocking(entry, mode, waitTimeout, options, counted, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceLease AcquireSlowBlocking(ResourceEntry entry, LeaseMode mode, TimeSpan waitTimeout, LeaseOptions options, bool counted, CancellationToken cancellationToken)
    {
        long startedAt = _clock.Now();
        var waiter = new WaiterRecord(options.Owner ?? _defaultOwner, options.Purpose, mode, options.Priority, units: 0, startedAt);
        Activity? activity = ResourceTelemetry.StartWait(entry.Id, mode, options.Priority, _tagResource);
        entry.AddWaiter(waiter);
        bool granted = false;
        try
        {
            bool entered;
            ResourceGate.Hold hold;
            try
            {
                entered = entry.Gate.Enter(mode, options.Priority, units: 0, waitTimeout, cancellationToken, out hold);
            }
            catch (OperationCanceledException cancelled) when (PrimitiveLacksResourceId(entry))
            {
                throw new ResourceWaitCanceledException(entry.Id, cancelled);
            }
            catch (ObjectDisposedException) when (IsDisposed)
            {
                // The registry disposed the gate, whose own message would name only the primitive.
                throw CreateDisposed();
            }

            if (!entered)
            {
                throw CreateUnavailable(entry, waitTimeout, null);
            }

            // A grant that raced with Dispose is handed back: a disposed registry leases nothing.
            if (IsDisposed)
            {
                entry.Gate.Exit(in hold);
                ThrowIfDisposed();
            }

            ResourceLease lease = Grant(entry, in hold, mode, options, units: 0, counted, sequence: 0, fencingToken: 0, grantedAt: 0, startedAt);
            granted = true;
            ResourceTelemetry.EndWait(activity, "acquired");
            return lease;
        }
        catch (ResourceUnavailableException timeout)
        {
            ResourceTelemetry.RecordFailed(ResourceTelemetry.TimedOut, entry.Id, mode, _tagResource);
            ResourceTelemetry.EndWait(activity, "timed_out", timeout);
            throw;
        }
        catch (OperationCanceledException cancelled)
        {
            ResourceTelemetry.RecordFailed(ResourceTelemetry.Cancelled, entry.Id, mode, _tagResource);
            ResourceTelemetry.EndWait(activity, "cancelled", cancelled);
            throw;
        }
        catch (Exception error)
        {
            ResourceTelemetry.EndWait(activity, "failed", error);
            throw;
        }
        finally
        {
            entry.RemoveWaiter(waiter);
            if (!granted)
            {
                LeaveIfCounted(entry, counted);
            }
        }
    }
}
