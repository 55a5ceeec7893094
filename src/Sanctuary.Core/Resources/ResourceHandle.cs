using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Resources;

/// <summary>
/// A resource resolved once and cached: acquires through it skip the lookup by id, and the
/// uncontended acquire and release allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Get one with <see cref="ResourceRegistry.GetHandle(string)"/> or <see cref="ResourceRegistry.GetHandle(string, LeaseMode, LockPriority)"/> and keep it, typically in a
/// <see langword="static"/> <see langword="readonly"/> field next to the code that uses a
/// constant id; generated code does exactly that.
/// </para>
/// <para>
/// A handle pins its resource for the life of the registry: the resource's entry is never
/// reclaimed while idle, because the handle points straight at it. That is what makes the
/// handle cheap, and it is why handles are for a fixed set of ids. For ids that come and go
/// (one per order, per customer), use the string overloads of the registry, whose idle entries
/// are reclaimed at once.
/// </para>
/// </remarks>
[DebuggerDisplay("handle of '{ResourceId,nq}'")]
public sealed class ResourceHandle
{
    private readonly ResourceRegistry _registry;
    private readonly ResourceEntry _entry;

    internal ResourceHandle(ResourceRegistry registry, ResourceEntry entry)
    {
        _registry = registry;
        _entry = entry;
        ResourceId = entry.Id;
    }

    /// <summary>Id of the resource.</summary>
    public string ResourceId { get; }

    /// <summary>The registry the handle belongs to.</summary>
    public ResourceRegistry Registry => _registry;

    internal ResourceEntry Entry => _entry;

    /// <summary>Acquires the resource; see <see cref="ResourceRegistry.AcquireAsync(string, LeaseOptions?, CancellationToken)"/>.</summary>
    /// <param name="options">Mode, priority, timeout, time-to-live, heartbeat, owner and purpose; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The lease; dispose it to release the resource.</returns>
    /// <exception cref="ArgumentException">The options break a rule that involves two of them.</exception>
    /// <exception cref="ResourceUnavailableException">The wait timeout elapsed; the exception names the holders.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the grant; nothing is held.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ValueTask<ResourceLease> AcquireAsync(LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = _registry.PrepareHandleAcquire(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceLease>(cancellationToken);
        }

        return _registry.AcquireOnEntry(_entry, options.Mode, options.WaitTimeout, options, units: 0, counted: false, cancellationToken);
    }

    /// <summary>
    /// Acquires the resource, blocking the calling thread at most the options'
    /// <see cref="LeaseOptions.WaitTimeout"/>; see <see cref="ResourceRegistry.Acquire(string, LeaseOptions?, CancellationToken)"/>.
    /// </summary>
    /// <param name="options">Mode, priority, timeout, time-to-live, heartbeat, owner and purpose; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Token that abandons the wait.</param>
    /// <returns>The lease; dispose it to release the resource.</returns>
    /// <remarks>
    /// The wait parks the calling thread in the resource's primitive: no task is created and no
    /// thread-pool thread is needed to end it. Uncontended, it neither looks the id up nor allocates.
    /// </remarks>
    /// <exception cref="ArgumentException">The options break a rule that involves two of them.</exception>
    /// <exception cref="ResourceUnavailableException">The wait timeout elapsed; the exception names the holders.</exception>
    /// <exception cref="OperationCanceledException">The token fired before the grant; nothing is held.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public ResourceLease Acquire(LeaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = _registry.PrepareHandleAcquire(options);
        cancellationToken.ThrowIfCancellationRequested();
        return _registry.AcquireOnEntryBlocking(_entry, options, counted: false, cancellationToken);
    }

    /// <summary>Acquires the resource only if that is possible without waiting.</summary>
    /// <param name="lease">The lease when acquired; otherwise a default lease.</param>
    /// <param name="options">Mode, time-to-live, heartbeat, owner and purpose; the wait timeout is ignored.</param>
    /// <returns><see langword="true"/> if the resource was acquired.</returns>
    /// <exception cref="ArgumentException">The options break a rule that involves two of them.</exception>
    /// <exception cref="InvalidOperationException">The registry has an external store, which cannot answer without waiting.</exception>
    /// <exception cref="ObjectDisposedException">The registry was disposed.</exception>
    public bool TryAcquire(out ResourceLease lease, LeaseOptions? options = null)
    {
        options = _registry.PrepareHandleAcquire(options);
        _registry.ThrowIfExternalStorePublic(ResourceId);
        return _registry.TryAcquireOnEntry(_entry, options, units: 0, counted: false, out lease);
    }
}
