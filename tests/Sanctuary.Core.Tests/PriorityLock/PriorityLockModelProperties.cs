using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>Registers the priority lock's script generator with FsCheck.</summary>
public static class PriorityScriptArbitraries
{
    public static Arbitrary<PriorityScript> Scripts() => PriorityScriptArbitrary.Scripts();
}

/// <summary>
/// Random scripts of acquires at every level (waiting, timed, try-now, pre-cancelled), clock advances
/// that time out and age waiters, cancellations, releases (stale and repeated ones included) and dispose,
/// checked step by step against a sequential model of the priority lock. Each seeded fault that a
/// sequential run can show must make the same property fail.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PriorityLockModelProperties
{
    private readonly ITestOutputHelper _output;

    public PriorityLockModelProperties(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string> SequentiallyVisibleFaults => new()
    {
        nameof(PriorityLockFaults.IgnorePriority),
        nameof(PriorityLockFaults.IgnoreAging),
        nameof(PriorityLockFaults.SkipWakeOnRelease),
        nameof(PriorityLockFaults.GrantWithoutExclusion),
        nameof(PriorityLockFaults.CancelledWaitersLinger),
    };

    [Property(MaxTest = 1000, Arbitrary = [typeof(PriorityScriptArbitraries)])]
    public bool RandomScripts_MatchSequentialModel(PriorityScript script) =>
        PriorityLockModelRunner.Run(script);

    [Fact]
    public void HandWrittenScript_CoversEveryStepKind_MatchesModel()
    {
        var script = new PriorityScript(aging: true,
        [
            new(PriorityStepKind.TryNow, 0, 0, 0),
            new(PriorityStepKind.Acquire, 0, 0, 0),
            new(PriorityStepKind.AcquireTimed, 3, 4, 0),
            new(PriorityStepKind.TryAcquireTimed, 2, 6, 0),
            new(PriorityStepKind.Acquire, 1, 0, 1),
            new(PriorityStepKind.Acquire, 3, 0, 2),
            new(PriorityStepKind.CancelWaiter, 4, 0, 0),
            new(PriorityStepKind.AdvanceTime, 0, 4, 0),
            new(PriorityStepKind.AdvanceTime, 0, 8, 0),
            new(PriorityStepKind.ReleaseLease, 0, 0, 0),
            new(PriorityStepKind.ReleaseLease, 0, 0, 1),
            new(PriorityStepKind.ReleaseLease, 0, 1, 0),
            new(PriorityStepKind.ReleaseDefault, 0, 0, 0),
            new(PriorityStepKind.AcquireCancelled, 2, 0, 0),
            new(PriorityStepKind.Acquire, 0, 0, 0),
            new(PriorityStepKind.AcquireTimed, 1, 0, 0),
            new(PriorityStepKind.DisposeLock, 0, 0, 0),
            new(PriorityStepKind.ReleaseLease, 0, 2, 0),
            new(PriorityStepKind.TryNow, 0, 0, 0),
            new(PriorityStepKind.Acquire, 3, 0, 0),
        ]);

        Assert.True(PriorityLockModelRunner.Run(script));
    }

    [Fact]
    public void Generator_Scripts_ExerciseEveryStepKindAndBothAgingModes()
    {
        var kinds = new HashSet<PriorityStepKind>();
        var agingModes = new HashSet<bool>();
        foreach (PriorityScript script in PriorityScriptArbitrary.Script.Sample(50, 200))
        {
            agingModes.Add(script.Aging);
            foreach (PriorityStep step in script.Steps)
            {
                kinds.Add(step.Kind);
            }
        }

        Assert.Equal(Enum.GetValues<PriorityStepKind>().Length, kinds.Count);
        Assert.Equal(2, agingModes.Count);
    }

    [Theory]
    [MemberData(nameof(SequentiallyVisibleFaults))]
    public void ModelProperty_BrokenLock_FindsCounterExample(string fault)
    {
        var faults = Enum.Parse<PriorityLockFaults>(fault);
        Arbitrary<PriorityScript> scripts = faults == PriorityLockFaults.IgnoreAging
            ? PriorityScriptArbitrary.AgingScriptsWithoutShrinking()
            : PriorityScriptArbitrary.ScriptsWithoutShrinking();
        Property property = Prop.ForAll(scripts, script => PriorityLockModelRunner.Run(script, faults));

        Exception? failure = Record.Exception(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(1000).WithQuietOnSuccess(true)));

        Assert.NotNull(failure);
        _output.WriteLine(failure.Message);
        Assert.Contains(nameof(PriorityModelMismatchException), failure.Message, StringComparison.Ordinal);
    }
}
