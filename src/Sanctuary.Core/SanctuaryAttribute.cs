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
/// Apply the attribute more than once to hold resources in different modes, for example
/// <c>[Sanctuary("ledger")]</c> with <c>[Sanctuary("rates", Mode = LeaseMode.Read)]</c>. All the
/// attributes of a method make one acquisition, sorted and all or nothing. <see cref="Mode"/>
/// applies to the ids of its own attribute; <see cref="Priority"/>,
/// <see cref="TimeoutMilliseconds"/>, <see cref="TimeToLiveMilliseconds"/> and
/// <see cref="HeartbeatMilliseconds"/> apply to the whole method, so set each of them on one
/// attribute (or to the same value on every attribute that sets it).
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class SanctuaryAttribute : Attribute
{
    /// <summary>
    /// Initializes the attribute with the resources the method holds.
    /// </summary>
    /// <param name="resources">Resource ids or templates; duplicates are merged.</param>
    public SanctuaryAttribute(params string[] resources)
    {
        Resources = resources ?? Array.Empty<string>();
    }

    /// <summary>Resource ids or templates, as written.</summary>
    public string[] Resources { get; }

    /// <summary>How the resources of this attribute are held. The default is <see cref="LeaseMode.Exclusive"/>.</summary>
    public LeaseMode Mode { get; set; } = LeaseMode.Exclusive;

    /// <summary>Priority of the method's waits. The default is <see cref="LockPriority.Normal"/>.</summary>
    public LockPriority Priority { get; set; } = LockPriority.Normal;

    /// <summary>Longest wait for all resources together, in milliseconds; -1 (the default) waits without a limit.</summary>
    public int TimeoutMilliseconds { get; set; } = -1;

    /// <summary>Time-to-live of each of the method's leases in milliseconds; -1 (the default) means the leases never expire.</summary>
    public int TimeToLiveMilliseconds { get; set; } = -1;

    /// <summary>Heartbeat interval in milliseconds that renews the method's leases; -1 (the default) means no heartbeat.</summary>
    public int HeartbeatMilliseconds { get; set; } = -1;
}
