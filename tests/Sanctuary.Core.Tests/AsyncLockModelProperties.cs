using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sanctuary.Tests.Model;
using Xunit;

namespace Sanctuary.Tests;

/// <summary>Registers the operation-sequence generator with FsCheck.</summary>
public static class OperationSequenceArbitraries
{
    public static Arbitrary<OperationSequence> Sequences() => LockOperationArbitrary.Sequences();
}

/// <summary>
/// Random sequences of acquires (waiting, timed, try-now, pre-cancelled), clock advances,
/// cancellations, releases (stale and repeated ones included) and dispose, checked step by step
/// against a sequential model of a FIFO lock.
/// </summary>
public sealed class AsyncLockModelProperties
{
    [Property(MaxTest = 1000, Arbitrary = [typeof(OperationSequenceArbitraries)])]
    public void RandomOperations_FifoLock_MatchesSequentialModel(OperationSequence sequence)
    {
        LockModelRunner.Run(sequence);
    }

    [Fact]
    public void HandWrittenSequence_CoversEveryOperation_MatchesSequentialModel()
    {
        var sequence = new OperationSequence(
        [
            new(OperationKind.TryNow, 0, 0),
            new(OperationKind.Acquire, 0, 0),
            new(OperationKind.AcquireTimed, 2, 0),
            new(OperationKind.TryAcquireTimed, 3, 1),
            new(OperationKind.Acquire, 0, 3),
            new(OperationKind.AcquireTimed, 0, 1),
            new(OperationKind.CancelWaiter, 1, 0),
            new(OperationKind.AdvanceTime, 2, 0),
            new(OperationKind.AdvanceTime, 1, 0),
            new(OperationKind.ReleaseLease, 0, 0),
            new(OperationKind.ReleaseLease, 0, 1),
            new(OperationKind.ReleaseLease, 1, 0),
            new(OperationKind.ReleaseDefault, 0, 0),
            new(OperationKind.AcquireCancelled, 0, 1),
            new(OperationKind.Acquire, 0, 2),
            new(OperationKind.DisposeLock, 0, 0),
            new(OperationKind.ReleaseLease, 2, 0),
            new(OperationKind.TryNow, 0, 0),
            new(OperationKind.Acquire, 0, 4),
        ]);

        LockModelRunner.Run(sequence);
    }

    [Fact]
    public void Generator_Sequences_ExerciseQueueingAndEveryOperationKind()
    {
        var seen = new System.Collections.Generic.HashSet<OperationKind>();
        foreach (OperationSequence sequence in LockOperationArbitrary.Sequence.Sample(50, 200))
        {
            foreach (LockOperation step in sequence.Operations)
            {
                seen.Add(step.Kind);
            }
        }

        Assert.Equal(Enum.GetValues<OperationKind>().Length, seen.Count);
    }
}
