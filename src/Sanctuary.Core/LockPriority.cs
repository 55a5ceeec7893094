namespace Sanctuary;

/// <summary>
/// Urgency of a waiter. Waiters of a higher level are granted before those of a lower level;
/// within a level, in arrival order.
/// </summary>
public enum LockPriority
{
    /// <summary>Background work that may wait behind everything else.</summary>
    Low = 0,

    /// <summary>Ordinary work; the default.</summary>
    Normal = 1,

    /// <summary>Work that should pass ordinary waiters.</summary>
    High = 2,

    /// <summary>Work that passes every other waiter.</summary>
    Critical = 3,
}
