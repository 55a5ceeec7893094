using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Registers the reader-writer sequence generator with FsCheck.</summary>
public static class ReaderWriterSequenceArbitraries
{
    public static Arbitrary<ReaderWriterSequence> Sequences() => ReaderWriterOperationArbitrary.Sequences();
}

/// <summary>
/// Random sequences of read, write and upgradeable acquires in every async form (waiting, timed,
/// try-timed, try-now, cancelled beforehand), upgrades, downgrades, clock advances, cancellations,
/// releases (stale and repeated ones included) and dispose, under both preferences, checked step by
/// step against a sequential model of the reader-writer lock.
/// </summary>
public sealed class ReaderWriterModelProperties
{
    [Property(MaxTest = 1000, Arbitrary = [typeof(ReaderWriterSequenceArbitraries)])]
    public void RandomOperations_ReaderWriterLock_MatchesSequentialModel(ReaderWriterSequence sequence)
    {
        ReaderWriterModelRunner.Run(sequence);
    }

    [Theory]
    [InlineData(ReaderWriterPreference.Writer)]
    [InlineData(ReaderWriterPreference.Reader)]
    public void HandWrittenSequence_CoversEveryStepKind_MatchesSequentialModel(ReaderWriterPreference preference)
    {
        static ReaderWriterOperation Op(ReaderWriterStep kind, int form = 0, int ms = 0, int index = 0) => new(kind, form, ms, index);

        var sequence = new ReaderWriterSequence(preference,
        [
            Op(ReaderWriterStep.AcquireRead, (int)AcquireForm.TryNow),
            Op(ReaderWriterStep.AcquireUpgradeable, (int)AcquireForm.Wait),
            Op(ReaderWriterStep.AcquireWrite, (int)AcquireForm.TimedTimeSpan, ms: 2),
            Op(ReaderWriterStep.AcquireRead, (int)AcquireForm.Wait),
            Op(ReaderWriterStep.AcquireUpgradeable, (int)AcquireForm.TryTimedMilliseconds, ms: 3),
            Op(ReaderWriterStep.Upgrade, (int)UpgradeForm.Timed, ms: 4, index: 0),
            Op(ReaderWriterStep.AdvanceTime, ms: 2),
            Op(ReaderWriterStep.ReleaseLease, 0, index: 0),
            Op(ReaderWriterStep.ReleaseLease, 1, index: 2),
            Op(ReaderWriterStep.AdvanceTime, ms: 3),
            Op(ReaderWriterStep.ReleaseLease, 0, index: 4),
            Op(ReaderWriterStep.ReleaseLease, 0, index: 1),
            Op(ReaderWriterStep.AcquireWrite, (int)AcquireForm.Wait),
            Op(ReaderWriterStep.AcquireRead, (int)AcquireForm.TryTimedTimeSpan, ms: 1),
            Op(ReaderWriterStep.AcquireRead, (int)AcquireForm.Wait),
            Op(ReaderWriterStep.CancelWaiter, index: 7),
            Op(ReaderWriterStep.Downgrade, 0, index: 0),
            Op(ReaderWriterStep.ReleaseLease, 0, index: 0),
            Op(ReaderWriterStep.ReleaseDefault),
            Op(ReaderWriterStep.AcquireWrite, (int)AcquireForm.Cancelled),
            Op(ReaderWriterStep.AcquireWrite, (int)AcquireForm.WaitInfinite),
            Op(ReaderWriterStep.DisposeLock),
            Op(ReaderWriterStep.ReleaseLease, 0, index: 3),
            Op(ReaderWriterStep.AcquireRead, (int)AcquireForm.TryNow),
            Op(ReaderWriterStep.AcquireWrite, (int)AcquireForm.Wait),
        ]);

        ReaderWriterModelRunner.Run(sequence);
    }

    [Fact]
    public void Generator_Sequences_ExerciseEveryStepKindAndBothPreferences()
    {
        var kinds = new HashSet<ReaderWriterStep>();
        var preferences = new HashSet<ReaderWriterPreference>();
        foreach (ReaderWriterSequence sequence in ReaderWriterOperationArbitrary.Sequence.Sample(50, 200))
        {
            preferences.Add(sequence.Preference);
            foreach (ReaderWriterOperation step in sequence.Operations)
            {
                kinds.Add(step.Kind);
            }
        }

        Assert.Equal(Enum.GetValues<ReaderWriterStep>().Length, kinds.Count);
        Assert.Equal(2, preferences.Count);
    }
}
