namespace Sanctuary.Threading;

/// <summary>
/// A waiter of a primitive that grants by priority: a <see cref="WaiterNode"/> with its priority
/// level, its place in the arrival order and, for a capacity pool, the units it requests.
/// </summary>
/// <remarks>
/// Only the holder of the owner's queue bit reads or writes these fields while the node is queued.
/// </remarks>
internal abstract class PriorityWaiterNode : WaiterNode
{
    /// <summary>Priority level the waiter queued at, a <see cref="LockPriority"/> value.</summary>
    internal int Level;

    /// <summary>
    /// Arrival number, unique within one <see cref="PriorityWaiterQueue"/> and increasing. A channel
    /// entry whose sequence differs from the node's belongs to an earlier life of this pooled node.
    /// </summary>
    internal long Sequence;

    /// <summary>Units requested from a capacity pool; unused by locks.</summary>
    internal long Amount;
}
