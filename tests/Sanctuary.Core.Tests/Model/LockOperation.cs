using System;
using System.Collections.Generic;
using System.Linq;

namespace Sanctuary.Tests.Model;

/// <summary>One step that the model-based property applies to both the lock and the model.</summary>
public enum OperationKind
{
    /// <summary>An async acquire with no timeout; <c>Variant</c> picks the overload.</summary>
    Acquire,

    /// <summary><c>AcquireAsync</c> with a timeout of <c>Argument</c> ms of the fake clock; throws on timeout.</summary>
    AcquireTimed,

    /// <summary><c>TryAcquireAsync</c> with a timeout of <c>Argument</c> ms of the fake clock; returns a free lease on timeout.</summary>
    TryAcquireTimed,

    /// <summary><c>TryAcquire(out lease)</c>.</summary>
    TryNow,

    /// <summary>Moves the fake clock forward by <c>Argument</c> ms.</summary>
    AdvanceTime,

    /// <summary>Cancels the token of waiter number <c>Argument</c> (modulo the waiters started so far).</summary>
    CancelWaiter,

    /// <summary>Releases lease number <c>Argument</c> (modulo the leases granted so far), stale ones included.</summary>
    ReleaseLease,

    /// <summary>Releases a default lease.</summary>
    ReleaseDefault,

    /// <summary>Acquires with a token that is already cancelled.</summary>
    AcquireCancelled,

    /// <summary>Disposes the lock.</summary>
    DisposeLock,
}

/// <summary>A step of a generated operation sequence.</summary>
public readonly record struct LockOperation(OperationKind Kind, int Argument, int Variant)
{
    public override string ToString() => Kind switch
    {
        OperationKind.Acquire => $"Acquire(form {Variant})",
        OperationKind.AcquireTimed => $"AcquireTimed({Argument} ms, {(Variant == 0 ? "TimeSpan" : "int")})",
        OperationKind.TryAcquireTimed => $"TryAcquireTimed({Argument} ms, {(Variant == 0 ? "TimeSpan" : "int")})",
        OperationKind.TryNow => "TryNow",
        OperationKind.AdvanceTime => $"Advance({Argument} ms)",
        OperationKind.CancelWaiter => $"CancelWaiter(#{Argument})",
        OperationKind.ReleaseLease => $"{(Variant == 0 ? "Release" : "Dispose")}Lease(#{Argument})",
        OperationKind.ReleaseDefault => "ReleaseDefault",
        OperationKind.AcquireCancelled => $"AcquireCancelled(form {Variant})",
        OperationKind.DisposeLock => "DisposeLock",
        _ => Kind.ToString(),
    };
}

/// <summary>A generated sequence of steps; printed in full when the property finds a counter-example.</summary>
public sealed class OperationSequence
{
    public OperationSequence(IEnumerable<LockOperation> operations)
    {
        Operations = operations.ToArray();
    }

    public IReadOnlyList<LockOperation> Operations { get; }

    public override string ToString() =>
        $"[{Operations.Count} steps] " + string.Join("; ", Operations.Select((op, i) => $"{i}:{op}"));
}
