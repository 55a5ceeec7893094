using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.CapacityPools;

/// <summary>Registers the capacity pool's script generator with FsCheck.</summary>
public static class PoolScriptArbitraries
{
    public static Arbitrary<PoolScript> Scripts() => PoolScriptArbitrary.Scripts();
}

/// <summary>
/// Random scripts of reserves of random amounts at every level (waiting, timed, try-now, pre-cancelled,
/// out of range), clock advances, cancellations, releases (stale and repeated ones included), resizes
/// and dispose, checked step by step against a sequential model of the pool. Every seeded fault must make
/// the same property fail.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CapacityPoolModelProperties
{
    private readonly ITestOutputHelper _output;

    public CapacityPoolModelProperties(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string> SequentiallyVisibleFaults => new()
    {
        nameof(CapacityPoolFaults.GrantBeyondAvailable),
        nameof(CapacityPoolFaults.SkipGrantAfterGiveUp),
        nameof(CapacityPoolFaults.SkipGrantOnRelease),
        nameof(CapacityPoolFaults.ReleaseWithoutStampCheck),
        nameof(CapacityPoolFaults.BargePastBlockedHead),
        nameof(CapacityPoolFaults.IgnorePriority),
    };

    [Property(MaxTest = 1000, Arbitrary = [typeof(PoolScriptArbitraries)])]
    public bool RandomScripts_MatchSequentialModel(PoolScript script) =>
        CapacityPoolModelRunner.Run(script);

    [Fact]
    public void HandWrittenScript_CoversEveryStepKind_MatchesModel()
    {
        var script = new PoolScript(total: 6,
        [
            new(PoolStepKind.TryNow, 0, 4, 0, 0),
            new(PoolStepKind.Reserve, 1, 5, 0, 0),
            new(PoolStepKind.Reserve, 1, 1, 0, 1),
            new(PoolStepKind.ReserveTimed, 3, 2, 3, 0),
            new(PoolStepKind.TryReserveTimed, 0, 1, 5, 0),
            new(PoolStepKind.Reserve, 2, 6, 0, 2),
            new(PoolStepKind.CancelWaiter, 4, 0, 0, 0),
            new(PoolStepKind.AdvanceTime, 0, 0, 5, 0),
            new(PoolStepKind.ReleaseReservation, 0, 0, 0, 0),
            new(PoolStepKind.ReleaseReservation, 0, 0, 0, 1),
            new(PoolStepKind.Resize, 0, 3, 0, 0),
            new(PoolStepKind.Resize, 0, 9, 0, 0),
            new(PoolStepKind.ReleaseDefault, 0, 0, 0, 0),
            new(PoolStepKind.ReserveCancelled, 2, 1, 0, 0),
            new(PoolStepKind.Reserve, 0, 0, 0, 0),
            new(PoolStepKind.TryNow, 0, 100, 0, 0),
            new(PoolStepKind.ReleaseReservation, 0, 0, 1, 0),
            new(PoolStepKind.DisposePool, 0, 0, 0, 0),
            new(PoolStepKind.ReleaseReservation, 0, 0, 2, 0),
            new(PoolStepKind.Resize, 0, 4, 0, 0),
            new(PoolStepKind.Reserve, 3, 1, 0, 0),
        ]);

        Assert.True(CapacityPoolModelRunner.Run(script));
    }

    [Fact]
    public void Generator_Scripts_ExerciseEveryStepKind()
    {
        var kinds = new HashSet<PoolStepKind>();
        foreach (PoolScript script in PoolScriptArbitrary.Script.Sample(50, 200))
        {
            foreach (PoolStep step in script.Steps)
            {
                kinds.Add(step.Kind);
            }
        }

        Assert.Equal(Enum.GetValues<PoolStepKind>().Length, kinds.Count);
    }

    [Theory]
    [MemberData(nameof(SequentiallyVisibleFaults))]
    public void ModelProperty_BrokenPool_FindsCounterExample(string fault)
    {
        var faults = Enum.Parse<CapacityPoolFaults>(fault);
        Property property = Prop.ForAll(PoolScriptArbitrary.ScriptsWithoutShrinking(), script => CapacityPoolModelRunner.Run(script, faults));

        Exception? failure = Record.Exception(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(1000).WithQuietOnSuccess(true)));

        Assert.NotNull(failure);
        _output.WriteLine(failure.Message);
        Assert.Contains(nameof(PoolModelMismatchException), failure.Message, StringComparison.Ordinal);
    }
}
