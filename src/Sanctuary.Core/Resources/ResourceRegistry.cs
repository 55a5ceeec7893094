using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Diagnostics;

namespace Sanctuary.Resources;

/// <summary>
/// A registry of named resources: string ids mapped to primitives that are created on first use
/// and reclaimed when idle, held through leases with owner, time-to-live, heartbeat, fencing
/// token and a lost-lease signal.
/// </summary>
/// <remarks>
/// <para>
/// Ids are compared ordinally and must be 1 to <see cref="MaxResourceIdLength"/> characters long.
/// A resource exists while someone holds it, waits for it or has a <see cref="ResourceHandle"/>
/// to it; the moment the last of these leaves, its entry is removed, so any number of distinct
/// ids can pass through a registry without accumulating.
/// </para>
/// <para>
/// All time comes from <see cref="ResourceRegistryOptions.TimeProvider"/>. Leases with a
/// time-to-live or heartbeat share one timer per registry. Lease state lives in the registry
/// itself (the embedded in-memory store) unless <see cref="ResourceRegistryOptions.Store"/>
/// names another store.
/// </para>
/// <para>
/// A failed or cancelled acquire leaves every resource exactly as it was.
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed partial class ResourceRegistry : IDisposable
{
    /// <summary>The longest resource or pool id accepted, in characters.</summary>
    public const int MaxResourceIdLength = 512;

    private static ResourceRegistry? s_shared;

    private readonly ConcurrentDictionary<string, ResourceEntry> _entries = new(StringComparer.Ordinal);
    private readonly ResourceEntry?[] _entryPool = new ResourceEntry?[32];
    private readonly RegistryClock _clock;
    private readonly LeaseScheduler _scheduler;
    private readonly ILeaseStore? _store;
    private readonly ulong _origin;
    private readonly string _defaultOwner;
    private readonly bool _tagResource;
    private readonly TimeSpan _storeRetryInterval;
    private readonly TimeSpan _priorityAgingInterval;
    private readonly Func<string, ResourceKind>? _kindSelector;
    private readonly RegistryFaults _faults;

    // Source of fencing-token blocks: moves only in steps of ResourceEntry.FencingBlock, so
    // every block starts at a multiple of it. A token is also its lease's sequence number.
    private long _sequence;
    private long _renewals;
    private int _disposed;

    // Source that Dispose cancels so that backoff pauses end at once. The first pause creates it.
    private CancellationTokenSource? _disposal;

    /// <summary>Creates a registry with the embedded store and the system clock.</summary>
    public ResourceRegistry()
        : this(null, RegistryFaults.None)
    {
    }

    /// <summary>Creates a registry with the given options.</summary>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    public ResourceRegistry(ResourceRegistryOptions? options)
        : this(options, RegistryFaults.None)
    {
    }

    internal ResourceRegistry(ResourceRegistryOptions? options, RegistryFaults faults)
    {
        options ??= new ResourceRegistryOptions();
        _clock = new RegistryClock(options.TimeProvider);
        _scheduler = new LeaseScheduler(_clock, OnDue);
        _store = options.Store;
        _defaultOwner = options.DefaultOwner;
        _tagResource = options.TagMetricsWithResourceId;
        _storeRetryInterval = options.StoreRetryInterval;
        _priorityAgingInterval = options.PriorityAgingInterval;
        _kindSelector = options.KindSelector;
        _faults = faults;
        Span<byte> origin = stackalloc byte[8];
        RandomNumberGenerator.Fill(origin);
        _origin = BitConverter.ToUInt64(origin) | 1;
    }

    /// <summary>
    /// A process-wide registry with the default options, created on first use. Generated code
    /// uses it when no registry is given.
    /// </summary>
    public static ResourceRegistry Shared
    {
        get
        {
            ResourceRegistry? shared = Volatile.Read(ref s_shared);
            if (shared is not null)
            {
                return shared;
            }

            var created = new ResourceRegistry();
            return Interlocked.CompareExchange(ref s_shared, created, null) ?? created;
        }
    }

    /// <summary>The clock of this registry.</summary>
    public TimeProvider TimeProvider => _clock.Provider;

    /// <summary>
    /// Number of resources that exist now: held, waited for or pinned by a handle. Capacity pools
    /// are not counted. Idle resources are removed at once, so this is 0 when nothing is in use.
    /// </summary>
    public int ResourceCount => _entries.Count;

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal RegistryClock Clock => _clock;

    internal LeaseScheduler Scheduler => _scheduler;

    internal long Renewals => Interlocked.Read(ref _renewals);

    internal ulong Origin => _origin;

    /// <summary>Token that fires when the registry is disposed. Only backoff pauses wait on it.</summary>
    internal CancellationToken DisposalToken
    {
        get
        {
            CancellationTokenSource? source = Volatile.Read(ref _disposal);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _disposal, created, null) ?? created;
            }

            // Dispose sets its flag before it reads the field, and the exchange above publishes
            // the field before this reads the flag, so at least one of the two cancels the source.
            if (IsDisposed)
            {
                _ = source.CancelAsync();
            }

            return source.Token;
        }
    }

    private string DebuggerDisplay => $"{_entries.Count} resource(s), {_pools.Count} pool(s){(IsDisposed ? ", disposed" : string.Empty)}";

    /// <summary>
    /// Acquires a resource, waiting at most the options' <see cref="LeaseOptions.WaitTimeout"/>.
    /// </summary>
    /// <param name="resourceId">Id of the resource, compared ordinally.</param>
    /// <param name="options">Mode, priority, timeout, time-to-live, heartbeat, owner and purpose; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The lease; dispose it to release the resource.</returns>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long, or the options break a rule that involves two of them.</exception>
    /// <exception cref="ResourceUnavailableException">The wait timeout elapsed; the exception names the holders.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the grant; nothing is held.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ValueTask<ResourceLease> AcquireAsync(string resourceId, LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateId(resourceId, nameof(resourceId));
        options = CheckOptions(options);
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceLease>(cancellationToken);
        }

        ResourceEntry entry = Join(resourceId, options.Mode, options.Priority);
        return AcquireOnEntry(entry, options.Mode, options.WaitTimeout, options, units: 0, counted: true, cancellationToken);
    }

    /// <summary>
    /// Acquires a resource only if that is possible without waiting.
    /// </summary>
    /// <param name="resourceId">Id of the resource, compared ordinally.</param>
    /// <param name="lease">The lease when acquired; otherwise a default lease.</param>
    /// <param name="options">Mode, time-to-live, heartbeat, owner and purpose; the wait timeout is ignored.</param>
    /// <returns><see langword="true"/> if the resource was acquired.</returns>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long, or the options break a rule that involves two of them.</exception>
    /// <exception cref="InvalidOperationException">The registry has an external store, which cannot answer without waiting; use <see cref="AcquireAsync(string, LeaseOptions?, CancellationToken)"/> with a zero wait timeout.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public bool TryAcquire(string resourceId, out ResourceLease lease, LeaseOptions? options = null)
    {
        ValidateId(resourceId, nameof(resourceId));
        options = CheckOptions(options);
        ThrowIfDisposed();
        ThrowIfExternalStore(resourceId);
        ResourceEntry entry = Join(resourceId, options.Mode, options.Priority);
        return TryAcquireOnEntry(entry, options, units: 0, counted: true, out lease);
    }

    /// <summary>
    /// Returns the handle of a resource, creating it on the first call: a cached reference that
    /// acquires without looking the id up and, uncontended, without allocating.
    /// </summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <returns>The handle; every call with the same id returns the same handle.</returns>
    /// <remarks>
    /// A handle pins its resource for the life of the registry: the resource is never reclaimed
    /// while idle. Use handles for a fixed set of ids, such as the constant ids of generated
    /// code; use the string overloads for ids that come and go, whose entries are reclaimed.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="resourceId"/> is null, empty or too long.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ResourceHandle GetHandle(string resourceId)
    {
        ValidateId(resourceId, nameof(resourceId));
        ThrowIfDisposed();
        return PinHandle(Join(resourceId, LeaseMode.Exclusive, LockPriority.Normal));
    }

    // Returns the entry's handle, creating it; the reference that joining took becomes the pin.
    private ResourceHandle PinHandle(ResourceEntry entry)
    {
        ResourceHandle? existing = Volatile.Read(ref entry.Handle);
        if (existing is null)
        {
            var created = new ResourceHandle(this, entry);
            existing = Interlocked.CompareExchange(ref entry.Handle, created, null);
            if (existing is null)
            {
                // The reference taken by Join stays: it is the pin.
                return created;
            }
        }

        // Already pinned by the existing handle.
        Leave(entry);
        return existing;
    }

    /// <summary>
    /// Makes every later acquire throw <see cref="ObjectDisposedException"/>, fails every waiting
    /// acquire with it, and stops the lease timer. Held leases count as lost (their tokens fire);
    /// releasing them afterwards does nothing. Calling this more than once does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Gates first, so the holds that the losses below free are not handed to any waiter.
        _scheduler.Dispose();
        foreach (ResourceEntry entry in _entries.Values)
        {
            entry.Gate.Dispose();
            LoseAllHolders(entry);
        }

        foreach (ResourceEntry entry in _pools.Values)
        {
            entry.Gate.Dispose();
            LoseAllHolders(entry);
        }

        // Last, and with the callbacks on the thread pool: a set woken from its backoff pause
        // throws from there, so no caller's continuation runs inside Dispose.
        _ = Volatile.Read(ref _disposal)?.CancelAsync();
    }

    // ---- Acquire ----------------------------------------------------------------------------

    internal ValueTask<ResourceLease> AcquireOnEntry(ResourceEntry entry, LeaseMode mode, TimeSpan waitTimeout, LeaseOptions options, long units, bool counted, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            if (entry.Gate is ExclusiveGate exclusive)
            {
                if (exclusive.TryEnter(out AsyncLock.Lease held))
                {
                    return new ValueTask<ResourceLease>(GrantExclusive(entry, held, mode, options, counted));
                }
            }
            else if (TryEnterGeneric(entry, mode, units, counted, out ResourceGate.Hold hold))
            {
                return new ValueTask<ResourceLease>(Grant(entry, in hold, mode, options, units, counted, sequence: 0, fencingToken: 0, grantedAt: 0, startedAt: 0));
            }
        }

        return AcquireSlowAsync(entry, mode, waitTimeout, options, units, counted, cancellationToken);
    }

    internal bool TryAcquireOnEntry(ResourceEntry entry, LeaseOptions options, long units, bool counted, out ResourceLease lease)
    {
        if (entry.Gate is ExclusiveGate exclusive)
        {
            if (exclusive.TryEnter(out AsyncLock.Lease held))
            {
                lease = GrantExclusive(entry, held, options.Mode, options, counted);
                return true;
            }
        }
        else if (TryEnterGeneric(entry, options.Mode, units, counted, out ResourceGate.Hold hold))
        {
            lease = Grant(entry, in hold, options.Mode, options, units, counted, sequence: 0, fencingToken: 0, grantedAt: 0, startedAt: 0);
            return true;
        }

        LeaveIfCounted(entry, counted);
        lease = default;
        return false;
    }

    // Tries any gate without waiting; a gate that throws (disposed) leaves the entry first.
    private bool TryEnterGeneric(ResourceEntry entry, LeaseMode mode, long units, bool counted, out ResourceGate.Hold hold)
    {
        try
        {
            return entry.Gate.TryEnter(mode, units, out hold);
        }
        catch
        {
            LeaveIfCounted(entry, counted);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<ResourceLease> AcquireSlowAsync(ResourceEntry entry, LeaseMode mode, TimeSpan waitTimeout, LeaseOptions options, long units, bool counted, CancellationToken cancellationToken)
    {
        long startedAt = _clock.Now();
        long deadline = _clock.After(startedAt, waitTimeout);
        var waiter = new WaiterRecord(options.Owner ?? _defaultOwner, options.Purpose, mode, options.Priority, units, startedAt);
        Activity? activity = ResourceTelemetry.StartWait(entry.Id, mode, options.Priority, _tagResource);
        entry.AddWaiter(waiter);
        bool granted = false;
        try
        {
            // Step 1: the in-process primitive, which queues local contenders in order.
            ResourceGate.Hold hold;
            try
            {
                hold = await entry.Gate.EnterAsync(mode, options.Priority, units, waitTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (LockTimeoutException)
            {
                throw CreateUnavailable(entry, waitTimeout, null);
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

            // A grant that raced with Dispose is handed back: a disposed registry leases nothing.
            if (IsDisposed)
            {
                entry.Gate.Exit(in hold);
                ThrowIfDisposed();
            }

            // Step 2: an external store decides across processes; ask until it grants or time is up.
            long sequence = 0;
            long fencingToken = 0;
            long grantedAt = 0;
            if (_store is not null)
            {
                try
                {
                    (sequence, fencingToken, grantedAt) = await AcquireInStoreAsync(entry, mode, waitTimeout, deadline, options, units, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    entry.Gate.Exit(in hold);
                    throw;
                }
            }

            ResourceLease lease = Grant(entry, in hold, mode, options, units, counted, sequence, fencingToken, grantedAt, startedAt);
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

    private async ValueTask<(long Sequence, long FencingToken, long GrantedAt)> AcquireInStoreAsync(
        ResourceEntry entry, LeaseMode mode, TimeSpan waitTimeout, long deadline, LeaseOptions options, long units, CancellationToken cancellationToken)
    {
        long sequence = NextToken(entry, alone: false);
        var request = new LeaseStoreRequest(
            entry.Id,
            new LeaseId(_origin, (ulong)sequence),
            options.Owner ?? _defaultOwner,
            mode,
            options.EffectiveTimeToLive,
            units,
            entry.Gate is CapacityGate pool ? pool.Total : 0,
            options.Purpose);
        while (true)
        {
            // The time-to-live counts from before the request is sent, so the local timer fires
            // no later than the store's.
            long sentAt = _clock.Now();
            LeaseStoreAcquireResult result = await _store!.TryAcquireAsync(request, cancellationToken).ConfigureAwait(false);
            if (result.Acquired)
            {
                return (sequence, result.FencingToken, sentAt);
            }

            long remaining = deadline == long.MaxValue ? long.MaxValue : deadline - _clock.Now();
            if (remaining <= 0)
            {
                throw new ResourceUnavailableException(entry.Id, waitTimeout, result.Holders);
            }

            TimeSpan pause = remaining == long.MaxValue ? _storeRetryInterval : Min(_storeRetryInterval, _clock.ToSpan(remaining));
            await Task.Delay(pause, _clock.Provider, cancellationToken).ConfigureAwait(false);
        }
    }

    // Turns a hold into a lease: fills a record, publishes it and starts its timers.
    private ResourceLease Grant(ResourceEntry entry, in ResourceGate.Hold hold, LeaseMode mode, LeaseOptions options, long units, bool counted, long sequence, long fencingToken, long grantedAt, long startedAt)
    {
        bool alone = entry.Gate.HoldsAlone(mode);
        LeaseRecord record = entry.RentRecord(alone);
        entry.Gate.Store(in hold, ref record.Hold);
        return Publish(entry, record, alone, mode, options, units, counted, sequence, fencingToken, grantedAt, startedAt);
    }

    // The uncontended exclusive path: only the lock's 16-byte lease moves, not a whole hold.
    private ResourceLease GrantExclusive(ResourceEntry entry, AsyncLock.Lease held, LeaseMode mode, LeaseOptions options, bool counted)
    {
        LeaseRecord record = entry.RentRecord(holdsAlone: true);
        record.Hold.Exclusive = held;
        return Publish(entry, record, alone: true, mode, options, units: 0, counted, sequence: 0, fencingToken: 0, grantedAt: 0, startedAt: 0);
    }

    // Fills a rented record whose hold is stored, publishes it and starts its timers.
    private ResourceLease Publish(ResourceEntry entry, LeaseRecord record, bool alone, LeaseMode mode, LeaseOptions options, long units, bool counted, long sequence, long fencingToken, long grantedAt, long startedAt)
    {
        if (sequence == 0)
        {
            sequence = NextToken(entry, alone);
            fencingToken = sequence;
        }

        long now = _clock.Now();
        string owner = options.Owner ?? _defaultOwner;

        // A reused record usually served the same resource and owner; reading is cheaper than the
        // write barrier that storing a reference costs.
        if (!ReferenceEquals(record.Entry, entry))
        {
            record.Entry = entry;
        }

        if (!ReferenceEquals(record.ResourceId, entry.Id))
        {
            record.ResourceId = entry.Id;
        }

        if (!ReferenceEquals(record.Owner, owner))
        {
            record.Owner = owner;
        }

        if (!ReferenceEquals(record.Purpose, options.Purpose))
        {
            record.Purpose = options.Purpose;
        }

        record.LeaseId = new LeaseId(_origin, (ulong)sequence);
        record.Mode = mode;
        record.Priority = options.Priority;
        record.Units = units;
        record.FencingToken = fencingToken;
        record.AcquiredAt = now;
        record.TimeToLive = options.EffectiveTimeToLive;
        record.HeartbeatInterval = options.HeartbeatInterval;
        record.MaxMissedHeartbeats = options.MaxMissedHeartbeats;
        record.HoldsAlone = alone;
        record.Counted = counted;
        record.UsesStore = _store is not null;
        if (alone)
        {
            // In steady state the same record serves every sole holder; skip the write barrier.
            if (!ReferenceEquals(entry.SoleHolder, record))
            {
                entry.SoleHolder = record;
            }
        }
        else
        {
            entry.AddShared(record);
        }

        Volatile.Write(ref record.Ticket, LeaseRecord.MakeTicket(sequence, LeaseRecord.Held));
        if (options.Expires)
        {
            StartTimers(record, sequence, grantedAt == 0 ? now : grantedAt);
        }

        if (ResourceTelemetry.AnyAcquireInstrument)
        {
            ResourceTelemetry.RecordAcquired(entry.Id, mode, _tagResource, startedAt == 0 ? TimeSpan.Zero : _clock.ToSpan(now - startedAt));
        }

        return new ResourceLease(this, record, sequence, fencingToken);
    }

    private void StartTimers(LeaseRecord record, long sequence, long from)
    {
        lock (_scheduler.Sync)
        {
            record.ExpiresAt = _clock.After(from, record.TimeToLive);
            _scheduler.SetLocked(record, sequence, LeaseScheduler.ExpiryItem, record.ExpiresAt);
            if (record.HeartbeatInterval != Timeout.InfiniteTimeSpan)
            {
                _scheduler.SetLocked(record, sequence, LeaseScheduler.BeatItem, _clock.After(from, record.HeartbeatInterval));
            }
        }
    }

    // ---- Release and loss -------------------------------------------------------------------

    /// <summary>Releases the life <paramref name="sequence"/> of a record; see <see cref="ResourceLease.Release"/>.</summary>
    internal LeaseReleaseResult Release(LeaseRecord record, long sequence, out ValueTask storeRelease)
    {
        storeRelease = default;
        long ticket = Volatile.Read(ref record.Ticket);
        while (LeaseRecord.SequenceOf(ticket) == sequence)
        {
            long state = LeaseRecord.StateOf(ticket);
            long next = state switch
            {
                LeaseRecord.Held => LeaseRecord.Released,
                LeaseRecord.Lost => LeaseRecord.Acknowledged,
                LeaseRecord.Expiring => LeaseRecord.ExpiringAcknowledged,
                _ => 0,
            };
            if (next == 0)
            {
                break;
            }

            long seen = Interlocked.CompareExchange(ref record.Ticket, LeaseRecord.MakeTicket(sequence, next), ticket);
            if (seen != ticket)
            {
                ticket = seen;
                continue;
            }

            ResourceEntry entry = record.Entry;
            if (state == LeaseRecord.Held)
            {
                storeRelease = FreeHold(record, LeaseLossReason.None);
                entry.ReturnRecord(record);
                return LeaseReleaseResult.Released;
            }

            // A lost lease freed its hold already. The path that is still finishing the loss
            // (Expiring) recycles the record itself when it is done.
            if (state == LeaseRecord.Lost)
            {
                entry.ReturnRecord(record);
            }

            return LeaseReleaseResult.Expired;
        }

        return LeaseReleaseResult.AlreadyReleased;
    }

    /// <summary>Claims a held lease as lost and frees it. Returns false if it was not held any more.</summary>
    internal bool Lose(LeaseRecord record, long sequence, LeaseLossReason reason)
    {
        if (!record.TryMove(sequence, LeaseRecord.Held, LeaseRecord.Expiring))
        {
            return false;
        }

        FinishLoss(record, sequence, reason);
        return true;
    }

    // The timer found the expiry item due. The item may be stale: a heartbeat or an extension
    // handled in the same timer tick may have moved the expiry since, so the claim checks the
    // expiry again under the lock that every move of it takes.
    private void Expire(LeaseRecord record, long sequence)
    {
        if ((_faults & RegistryFaults.ExpiryWithoutClaim) != 0)
        {
            // Broken on purpose: check in one critical section and act in another, under a lock
            // that release does not take, so the holder may release in between.
            lock (_scheduler.Sync)
            {
                if (!record.IsHeld(sequence) || record.ExpiresAt > _clock.Now())
                {
                    return;
                }
            }

            lock (_scheduler.Sync)
            {
                Volatile.Write(ref record.Ticket, LeaseRecord.MakeTicket(sequence, LeaseRecord.Expiring));
            }

            FinishLoss(record, sequence, LeaseLossReason.Expired);
            return;
        }

        lock (_scheduler.Sync)
        {
            if (record.ExpiresAt > _clock.Now() || !record.TryMove(sequence, LeaseRecord.Held, LeaseRecord.Expiring))
            {
                return;
            }
        }

        FinishLoss(record, sequence, LeaseLossReason.Expired);
    }

    // Frees a lease that this thread has just moved from Held to Expiring, fires its token and
    // hands the record on.
    private void FinishLoss(LeaseRecord record, long sequence, LeaseLossReason reason)
    {
        record.LossReason = reason;
        _ = FreeHold(record, reason);

        // The token fires after the hold is free, so work that reacts to it finds the resource
        // already with the next holder rather than racing it. The state is Expiring until the
        // token has fired, so a concurrent first read of LostToken either finds the source here or
        // observes the loss and cancels its own.
        CancellationTokenSource? lost = Volatile.Read(ref record.LostSource);
        if (lost is not null)
        {
            try
            {
                lost.Cancel();
            }
            catch (AggregateException)
            {
                // A callback registered on the lost token threw. The loss remains, and the timer
                // thread must go on with the other leases.
            }
        }

        if (!record.TryMove(sequence, LeaseRecord.Expiring, LeaseRecord.Lost))
        {
            // The holder released the lost lease meanwhile and left the record to this path.
            record.Entry?.ReturnRecord(record);
        }
    }

    // Frees what a lease holds. Callers reach it only after their compare-and-swap moved the
    // state away from Held, so it runs once per life.
    private ValueTask FreeHold(LeaseRecord record, LeaseLossReason reason)
    {
        ResourceEntry entry = record.Entry;

        // Step 1: timers. A renewal that re-checks the state under this lock will not re-arm.
        if (record.TimeToLive != Timeout.InfiniteTimeSpan)
        {
            lock (_scheduler.Sync)
            {
                _scheduler.RemoveLocked(record);
            }
        }

        // Step 2: holder lists, before the gate lets the next holder in. The sole holder stays
        // referenced: readers of it check the record's state word, which is no longer Held.
        if (!record.HoldsAlone)
        {
            entry.RemoveShared(record);
        }

        // Step 3: the store, then the gate.
        ValueTask storeRelease = default;
        if (record.UsesStore)
        {
            storeRelease = ReleaseInStoreAsync(new LeaseStoreRelease(record.ResourceId, record.LeaseId, record.Owner));
        }

        if (entry.Gate is ExclusiveGate)
        {
            record.Hold.Exclusive.Dispose();
        }
        else
        {
            entry.Gate.Exit(in record.Hold);
        }

        if (ResourceTelemetry.AnyReleaseInstrument)
        {
            var counter = reason switch
            {
                LeaseLossReason.None => ResourceTelemetry.Released,
                LeaseLossReason.Expired => ResourceTelemetry.Expired,
                _ => ResourceTelemetry.Lost,
            };
            ResourceTelemetry.RecordEnded(counter, record.ResourceId, record.Mode, _tagResource, _clock.Since(record.AcquiredAt));
        }

        // Step 4: the entry may be reclaimed now.
        LeaveIfCounted(entry, record.Counted);
        return storeRelease;
    }

    private async ValueTask ReleaseInStoreAsync(LeaseStoreRelease release)
    {
        try
        {
            await _store!.ReleaseAsync(release, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The local hold is already free. A store that missed the release drops the lease when
            // its time-to-live runs out; a lease without one stays until the store is cleaned up.
            Debug.WriteLine($"Sanctuary: releasing lease {release.LeaseId} on '{release.ResourceId}' in the store failed: {error.Message}");
        }
    }

    private void LoseAllHolders(ResourceEntry entry)
    {
        if (entry.SoleHolder is { } sole)
        {
            Lose(sole, LeaseRecord.SequenceOf(Volatile.Read(ref sole.Ticket)), LeaseLossReason.RegistryDisposed);
        }

        foreach (LeaseRecord shared in Volatile.Read(ref entry.SharedHolders))
        {
            Lose(shared, LeaseRecord.SequenceOf(Volatile.Read(ref shared.Ticket)), LeaseLossReason.RegistryDisposed);
        }
    }

    // ---- Timers: expiry and heartbeat -------------------------------------------------------

    private void OnDue(LeaseRecord record, long sequence, int kind)
    {
        if (kind == LeaseScheduler.ExpiryItem)
        {
            Expire(record, sequence);
            return;
        }

        Beat(record, sequence);
    }

    private void Beat(LeaseRecord record, long sequence)
    {
        bool checkOutside = (_faults & RegistryFaults.RenewalChecksOutsideLock) != 0;
        if (checkOutside && !record.IsHeld(sequence))
        {
            return;
        }

        bool lose = false;
        bool send = false;
        LeaseStoreExtension extension = default;
        lock (_scheduler.Sync)
        {
            // Checked under the lock that release takes to remove the timers: either release
            // has removed them and this check fails, or this re-arms first and release removes them.
            if (!checkOutside && !record.IsHeld(sequence))
            {
                return;
            }

            long now = _clock.Now();
            _scheduler.SetLocked(record, sequence, LeaseScheduler.BeatItem, _clock.After(now, record.HeartbeatInterval), evenIfReleased: checkOutside);
            if (!record.UsesStore)
            {
                // The embedded store renews on the spot.
                record.ExpiresAt = _clock.After(now, record.TimeToLive);
                _scheduler.SetLocked(record, sequence, LeaseScheduler.ExpiryItem, record.ExpiresAt, evenIfReleased: checkOutside);
                Interlocked.Increment(ref _renewals);
            }
            else if (record.RenewalInFlight)
            {
                // The previous renewal has not returned within a whole interval: a missed beat.
                record.MissedBeats++;
                lose = record.MissedBeats >= record.MaxMissedHeartbeats;
            }
            else
            {
                record.RenewalInFlight = true;
                send = true;
                extension = new LeaseStoreExtension(record.ResourceId, record.LeaseId, record.Owner, record.TimeToLive);
            }
        }

        if (lose)
        {
            Lose(record, sequence, LeaseLossReason.HeartbeatMissed);
        }
        else if (send)
        {
            _ = RenewInStoreAsync(record, sequence, extension);
        }
    }

    private async Task RenewInStoreAsync(LeaseRecord record, long sequence, LeaseStoreExtension extension)
    {
        long sentAt = _clock.Now();
        bool? extended;
        try
        {
            extended = await _store!.ExtendAsync(extension, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // An unreachable store is a missed beat; the lease survives until the limit.
            extended = null;
        }

        LeaseLossReason loss = LeaseLossReason.None;
        lock (_scheduler.Sync)
        {
            // Released while the renewal was in flight: renewal has stopped for good.
            if (!record.IsHeld(sequence))
            {
                return;
            }

            record.RenewalInFlight = false;
            if (extended == true)
            {
                record.MissedBeats = 0;
                record.ExpiresAt = _clock.After(sentAt, record.TimeToLive);
                _scheduler.SetLocked(record, sequence, LeaseScheduler.ExpiryItem, record.ExpiresAt);
                Interlocked.Increment(ref _renewals);
            }
            else if (extended == false)
            {
                loss = LeaseLossReason.StoreRejected;
            }
            else if (++record.MissedBeats >= record.MaxMissedHeartbeats)
            {
                loss = LeaseLossReason.HeartbeatMissed;
            }
        }

        if (loss != LeaseLossReason.None)
        {
            Lose(record, sequence, loss);
        }
    }

    /// <summary>Extends the life <paramref name="sequence"/> of a record; see <see cref="ResourceLease.ExtendAsync"/>.</summary>
    internal ValueTask<DateTimeOffset?> ExtendAsync(LeaseRecord record, long sequence, TimeSpan by, CancellationToken cancellationToken)
    {
        if (by <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, $"The extension must be more than zero, but was {by}.");
        }

        if (!record.UsesStore)
        {
            lock (_scheduler.Sync)
            {
                ThrowIfNotHeld(record, sequence, "extend");
                if (record.ExpiresAt == long.MaxValue)
                {
                    return new ValueTask<DateTimeOffset?>((DateTimeOffset?)null);
                }

                record.ExpiresAt += _clock.ToTicks(by);
                _scheduler.SetLocked(record, sequence, LeaseScheduler.ExpiryItem, record.ExpiresAt);
                return new ValueTask<DateTimeOffset?>(_clock.ToUtc(record.ExpiresAt));
            }
        }

        return ExtendInStoreAsync(record, sequence, by, cancellationToken);
    }

    private async ValueTask<DateTimeOffset?> ExtendInStoreAsync(LeaseRecord record, long sequence, TimeSpan by, CancellationToken cancellationToken)
    {
        LeaseStoreExtension extension;
        long sentAt = _clock.Now();
        lock (_scheduler.Sync)
        {
            ThrowIfNotHeld(record, sequence, "extend");
            if (record.ExpiresAt == long.MaxValue)
            {
                return null;
            }

            TimeSpan remaining = _clock.ToSpan(Math.Max(0, record.ExpiresAt - sentAt));
            extension = new LeaseStoreExtension(record.ResourceId, record.LeaseId, record.Owner, remaining + by);
        }

        bool extended = await _store!.ExtendAsync(extension, cancellationToken).ConfigureAwait(false);
        if (!extended)
        {
            string resourceId = extension.ResourceId;
            Lose(record, sequence, LeaseLossReason.StoreRejected);
            throw new LeaseLostException(resourceId, extension.LeaseId, LeaseLossReason.StoreRejected, "extend");
        }

        lock (_scheduler.Sync)
        {
            ThrowIfNotHeld(record, sequence, "extend");
            record.ExpiresAt = _clock.After(sentAt, extension.TimeToLive);
            _scheduler.SetLocked(record, sequence, LeaseScheduler.ExpiryItem, record.ExpiresAt);
            return _clock.ToUtc(record.ExpiresAt);
        }
    }

    private static void ThrowIfNotHeld(LeaseRecord record, long sequence, string operation)
    {
        long ticket = Volatile.Read(ref record.Ticket);
        if (ticket == LeaseRecord.MakeTicket(sequence, LeaseRecord.Held))
        {
            return;
        }

        if (LeaseRecord.SequenceOf(ticket) == sequence && LeaseRecord.StateOf(ticket) is LeaseRecord.Expiring or LeaseRecord.Lost)
        {
            throw new LeaseLostException(record.ResourceId, record.LeaseId, record.LossReason, operation);
        }

        throw new InvalidOperationException($"Cannot {operation} a lease that was already released. Acquire the resource again to hold it.");
    }

    // ---- Entries ----------------------------------------------------------------------------

    // Issues the next token of the entry's block, reserving a new block when this one is used up.
    private long NextToken(ResourceEntry entry, bool alone)
    {
        const long Mask = ResourceEntry.FencingBlock - 1;
        if (alone)
        {
            // A sole holder holds the gate, so no other grant of this entry runs now.
            long next = entry.Fencing + 1;
            if ((next & Mask) == 0)
            {
                next = NewFencingBlock() + 1;
            }

            entry.Fencing = next;
            return next;
        }

        while (true)
        {
            long last = Volatile.Read(ref entry.Fencing);
            long next = last + 1;
            if ((next & Mask) == 0)
            {
                next = NewFencingBlock() + 1;
            }

            if (Interlocked.CompareExchange(ref entry.Fencing, next, last) == last)
            {
                return next;
            }
        }
    }

    // Reserves a block above every block reserved before; returns its base (a multiple of the block size).
    private long NewFencingBlock() => Interlocked.Add(ref _sequence, ResourceEntry.FencingBlock);

    /// <summary>Finds or creates the live entry for an id and joins it.</summary>
    private ResourceEntry Join(string id, LeaseMode mode, LockPriority priority)
    {
        if ((_faults & RegistryFaults.ReclaimWithoutClaim) != 0)
        {
            return JoinUnderTableLock(id, mode, priority);
        }

        SpinWait spinner = default;
        while (true)
        {
            if (_entries.TryGetValue(id, out ResourceEntry? entry))
            {
                if (entry.TryAddRef())
                {
                    // A pooled entry can come back under another id; a live entry whose id
                    // matches is the one the table maps the id to.
                    if (string.Equals(entry.Id, id, StringComparison.Ordinal))
                    {
                        return entry;
                    }

                    Leave(entry);
                    continue;
                }

                // Being removed, or inserted and not yet made live: both end within a few steps.
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            ResourceEntry created = RentEntry(id, _kindSelector?.Invoke(id) ?? KindFor(mode, priority));
            if (_entries.TryAdd(id, created))
            {
                Volatile.Write(ref created.Refs, 1);
                return created;
            }

            // No acquirer could join it, because it was dead the whole time.
            ReturnEntry(created);
        }
    }

    // Broken on purpose (see RegistryFaults.ReclaimWithoutClaim): counts in under the table lock,
    // even on an entry whose count has already reached zero.
    private ResourceEntry JoinUnderTableLock(string id, LeaseMode mode, LockPriority priority)
    {
        lock (_entryPool)
        {
            if (_entries.TryGetValue(id, out ResourceEntry? entry))
            {
                Interlocked.Increment(ref entry.Refs);
                return entry;
            }

            ResourceEntry created = RentEntry(id, _kindSelector?.Invoke(id) ?? KindFor(mode, priority));
            created.Refs = 1;
            _entries[id] = created;
            return created;
        }
    }

    private void Leave(ResourceEntry entry)
    {
        if ((_faults & RegistryFaults.ReclaimWithoutClaim) != 0)
        {
            // Broken on purpose: the count drops outside the table lock and is not checked again
            // inside it, so a joiner in between is left on a removed entry.
            if (Interlocked.Decrement(ref entry.Refs) == 0)
            {
                lock (_entryPool)
                {
                    Volatile.Write(ref entry.Refs, ResourceEntry.Dead);
                    _entries.TryRemove(new System.Collections.Generic.KeyValuePair<string, ResourceEntry>(entry.Id, entry));
                }

                ReturnEntry(entry);
            }

            return;
        }

        if (entry.ReleaseRef())
        {
            _entries.TryRemove(new System.Collections.Generic.KeyValuePair<string, ResourceEntry>(entry.Id, entry));
            ReturnEntry(entry);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LeaveIfCounted(ResourceEntry entry, bool counted)
    {
        if (counted)
        {
            Leave(entry);
        }
    }

    private static ResourceKind KindFor(LeaseMode mode, LockPriority priority)
    {
        if (mode != LeaseMode.Exclusive)
        {
            return ResourceKind.ReaderWriter;
        }

        return priority == LockPriority.Normal ? ResourceKind.Exclusive : ResourceKind.Priority;
    }

    private ResourceEntry RentEntry(string id, ResourceKind kind)
    {
        if (kind == ResourceKind.Capacity)
        {
            throw new InvalidOperationException($"The kind selector picked Capacity for resource '{id}'; capacity pools are registered with RegisterPool, not picked. Return Exclusive, ReaderWriter or Priority.");
        }

        for (int i = 0; i < _entryPool.Length; i++)
        {
            ResourceEntry? pooled = Volatile.Read(ref _entryPool[i]);
            if (pooled is not null && pooled.Gate.Kind == kind && Interlocked.CompareExchange(ref _entryPool[i], null, pooled) == pooled)
            {
                pooled.Prepare(id);
                pooled.Fencing = NewFencingBlock();
                return pooled;
            }
        }

        var entry = new ResourceEntry { Gate = CreateGate(kind) };
        entry.Prepare(id);
        entry.Fencing = NewFencingBlock();
        return entry;
    }

    private void ReturnEntry(ResourceEntry entry)
    {
        // Only a quiet gate may serve another id; one with a straggler is left to the collector.
        if (entry.Gate.IsHeld || entry.Gate.WaitingCount != 0 || entry.Handle is not null)
        {
            return;
        }

        entry.Prepare(string.Empty);
        for (int i = 0; i < _entryPool.Length; i++)
        {
            if (Volatile.Read(ref _entryPool[i]) is null && Interlocked.CompareExchange(ref _entryPool[i], entry, null) is null)
            {
                return;
            }
        }
    }

    // The seam's only switch: one gate class per primitive.
    private ResourceGate CreateGate(ResourceKind kind) => kind switch
    {
        ResourceKind.ReaderWriter => new ReaderWriterGate(_clock.Provider),
        ResourceKind.Priority => new PriorityGate(_clock.Provider, _priorityAgingInterval),
        _ => new ExclusiveGate(_clock.Provider),
    };

    // ---- Validation -------------------------------------------------------------------------

    internal static void ValidateId(string resourceId, string paramName)
    {
        if (resourceId is null)
        {
            throw new ArgumentNullException(paramName, "The resource id cannot be null. Pass a non-empty string such as \"orders\" or \"account:42\".");
        }

        if (resourceId.Length == 0)
        {
            throw new ArgumentException("The resource id cannot be empty. Pass a non-empty string such as \"orders\" or \"account:42\".", paramName);
        }

        if (resourceId.Length > MaxResourceIdLength)
        {
            throw new ArgumentException(
                $"The resource id starting '{resourceId[..32]}…' is {resourceId.Length} characters long; at most {MaxResourceIdLength} are accepted. Use a shorter key, for example a hash of the long one.",
                paramName);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LeaseOptions CheckOptions(LeaseOptions? options)
    {
        if (options is null)
        {
            return LeaseOptions.Default;
        }

        options.Validate(nameof(options));
        return options;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw CreateDisposed();
        }
    }

    private static ObjectDisposedException CreateDisposed() =>
        new(nameof(ResourceRegistry), "This resource registry has been disposed; it accepts no acquires. Create a new registry.");

    // Whether the primitive's exceptions lack the resource id. A lock primitive serves many ids
    // over its life (entries are pooled), so its name is not an id. A capacity pool's primitive
    // is named after the pool id, so its own messages stay.
    private static bool PrimitiveLacksResourceId(ResourceEntry entry) => entry.Gate.Kind != ResourceKind.Capacity;

    private void ThrowIfExternalStore(string resourceId)
    {
        if (_store is not null)
        {
            throw new InvalidOperationException(
                $"TryAcquire('{resourceId}') cannot answer without waiting because this registry keeps its leases in an external store. Call AcquireAsync with a WaitTimeout of TimeSpan.Zero instead.");
        }
    }

    private ResourceUnavailableException CreateUnavailable(ResourceEntry entry, TimeSpan timeout, System.Collections.Generic.IReadOnlyList<string>? acquiredFirst) =>
        new(entry.Id, timeout, ReadHolders(entry, _clock.Now()), acquiredFirst);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
