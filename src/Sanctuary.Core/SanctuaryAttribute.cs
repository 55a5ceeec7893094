using System;

namespace Sanctuary;

/// <summary>
/// Declares the named resources a method holds while its body runs. The Sanctuary source
/// generator emits the acquisition: every resource is taken in ordinal order, all or nothing,
/// and released in reverse order on every exit path.
/// </summary>
/// <remarks>
/// <para>
/// A resource id is a constant such as <c>"ledger"</c>, or a template that names parameters of
/// the method, such as <c>"account:{from}"</c>; templates are formatted and sorted at run time.
/// </para>
/// <para>
/// The ids given to the constructor are held in <see cref="Mode"/>. To hold some resources in
/// another mode, list them in <see cref="Read"/> or <see cref="Write"/>, for example
/// <c>[Sanctuary("ledger", Read = new[] { "rates" })]</c>. All the ids of the attribute make one
/// acquisition, sorted and all or nothing; the other properties apply to every one of them.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class SanctuaryAttribute : Attribute
{
    /// <summary>
    /// Initializes the attribute with the resources the method holds.
    /// </summary>
    /// <param name="resources">Resource ids or templates held in <see cref="Mode"/>; duplicates are merged. May be empty when <see cref="Read"/> or <see cref="Write"/> names the resources.</param>
    public SanctuaryAttribute(params string[] resources)
    {
        Resources = resources ?? Array.Empty<string>();
    }

    /// <summary>Resource ids or templates, as written.</summary>
    public string[] Resources { get; }

    /// <summary>How the resources given to the constructor are held. The default is <see cref="LeaseMode.Exclusive"/>.</summary>
    public LeaseMode Mode { get; set; } = LeaseMode.Exclusive;

    /// <summary>
    /// Resource ids or templates held for reading (<see cref="LeaseMode.Read"/>), taken in the
    /// same sorted acquisition as the others. The default, <see langword="null"/>, lists no id.
    /// </summary>
    public string[]? Read { get; set; }

    /// <summary>
    /// Resource ids or templates held for writing (<see cref="LeaseMode.Write"/>), taken in the
    /// same sorted acquisition as the others. The default, <see langword="null"/>, lists no id.
    /// </summary>
    public string[]? Write { get; set; }

    /// <summary>Priority of the waits. The default is <see cref="LockPriority.Normal"/>.</summary>
    public LockPriority Priority { get; set; } = LockPriority.Normal;

    /// <summary>Longest wait for all resources together, in milliseconds; -1 (the default) waits without a limit.</summary>
    public int TimeoutMilliseconds { get; set; } = -1;

    /// <summary>Time-to-live of each lease in milliseconds; -1 (the default) means the leases never expire.</summary>
    public int TimeToLiveMilliseconds { get; set; } = -1;

    /// <summary>Heartbeat interval in milliseconds that renews the leases; -1 (the default) means no heartbeat.</summary>
    public int HeartbeatMilliseconds { get; set; } = -1;
}
