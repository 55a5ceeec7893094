using System.Collections.Generic;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;

namespace Sanctuary.Tests.Model;

/// <summary>Generators of operation sequences for the model-based property.</summary>
public static class LockOperationArbitrary
{
    public static Gen<LockOperation> Operation { get; } = Gen.Frequency(
        (6, Gen.Choose(0, 4).Select(form => new LockOperation(OperationKind.Acquire, 0, form))),
        (3, Gen.Choose(0, 4).Zip(Gen.Choose(0, 1), (ms, form) => new LockOperation(OperationKind.AcquireTimed, ms, form))),
        (3, Gen.Choose(0, 4).Zip(Gen.Choose(0, 1), (ms, form) => new LockOperation(OperationKind.TryAcquireTimed, ms, form))),
        (3, Gen.Constant(new LockOperation(OperationKind.TryNow, 0, 0))),
        (3, Gen.Choose(1, 3).Select(ms => new LockOperation(OperationKind.AdvanceTime, ms, 0))),
        (3, Gen.Choose(0, 63).Select(index => new LockOperation(OperationKind.CancelWaiter, index, 0))),
        (7, Gen.Choose(0, 63).Zip(Gen.Choose(0, 1), (index, form) => new LockOperation(OperationKind.ReleaseLease, index, form))),
        (1, Gen.Constant(new LockOperation(OperationKind.ReleaseDefault, 0, 0))),
        (1, Gen.Choose(0, 2).Select(form => new LockOperation(OperationKind.AcquireCancelled, 0, form))));

    /// <summary>Sequences of up to about 100 steps with a rare dispose somewhere in the middle.</summary>
    public static Gen<OperationSequence> Sequence { get; } =
        Gen.Frequency(
                (60, Operation),
                (1, Gen.Constant(new LockOperation(OperationKind.DisposeLock, 0, 0))))
            .ListOf()
            .Select(ops => new OperationSequence(ops));

    /// <summary>Shrinks by dropping halves, then single steps.</summary>
    public static IEnumerable<OperationSequence> Shrink(OperationSequence sequence)
    {
        IReadOnlyList<LockOperation> ops = sequence.Operations;
        int count = ops.Count;
        if (count == 0)
        {
            yield break;
        }

        if (count > 1)
        {
            yield return new OperationSequence(ops.Take(count / 2));
            yield return new OperationSequence(ops.Skip(count / 2));
        }

        for (int i = count - 1; i >= 0; i--)
        {
            yield return new OperationSequence(ops.Where((_, index) => index != i));
        }
    }

    public static Arbitrary<OperationSequence> Sequences() => Arb.From(Sequence, Shrink);

    /// <summary>The same sequences without shrinking, for runs that only need to know a failure exists.</summary>
    public static Arbitrary<OperationSequence> SequencesWithoutShrinking() => Sequence.ToArbitrary();
}
