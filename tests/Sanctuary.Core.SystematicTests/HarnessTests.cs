using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.SystematicTests;

/// <summary>
/// Tests of the set-up itself. Both assemblies must carry Coyote's rewriting signature. On a pair
/// of plain semaphores, Coyote must find the opposite-order deadlock and pass the ordered version.
/// Without rewriting, the engine reports every iteration as a deadlock, so the pair cannot both
/// pass. A thread parked in <see cref="Monitor.Wait(object)"/>, as the lock's sync waiters are,
/// must be a controlled operation: a lost pulse is a deadlock with a trace that replays. An endless
/// spin, which never shows as a deadlock, must fail at the step bound.
/// </summary>
public sealed class HarnessTests
{
    private readonly ITestOutputHelper _output;

    public HarnessTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData(typeof(AsyncLock))]
    [InlineData(typeof(HarnessTests))]
    public void Assembly_AfterBuild_IsRewritten(System.Type sample)
    {
        Assembly assembly = sample.Assembly;
        bool rewritten = assembly.GetCustomAttributesData()
            .Any(attribute => attribute.AttributeType.FullName == "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute");
        Assert.True(rewritten, $"{assembly.Location} has no Coyote rewriting signature; expected the post-build step to have rewritten it.");
    }

    [Fact]
    public void TwoSemaphores_OppositeOrder_DeadlockReported() =>
        new SystematicTest(_output) { Iterations = 200 }.AssertBugFound(() => TwoSemaphores(oppositeOrder: true), "Deadlock detected");

    [Fact]
    public void TwoSemaphores_SameOrder_NoBug() =>
        new SystematicTest(_output) { Iterations = 200 }.AssertNoBug(() => TwoSemaphores(oppositeOrder: false));

    [Fact]
    public void MonitorWait_PulseLost_DeadlockReported() =>
        new SystematicTest(_output) { Iterations = 200 }.AssertBugFound(() => MonitorHandshake(guarded: false), "Deadlock detected");

    [Fact]
    public void MonitorWait_GuardedByFlag_NoBug() =>
        new SystematicTest(_output) { Iterations = 200 }.AssertNoBug(() => MonitorHandshake(guarded: true));

    [Fact]
    public void EndlessSpin_StepBound_Reported() =>
        new SystematicTest(_output) { Iterations = 5, MaxSteps = 100, FailOnMaxSteps = true }.AssertBugFound(SpinUntilSignalled, "bound");

    private static async Task TwoSemaphores(bool oppositeOrder)
    {
        using var first = new SemaphoreSlim(1, 1);
        using var second = new SemaphoreSlim(1, 1);

        async Task TakeBoth(SemaphoreSlim a, SemaphoreSlim b)
        {
            await a.WaitAsync();
            SchedulingPoint.Interleave();
            await b.WaitAsync();
            b.Release();
            a.Release();
        }

        Task firstTask = Task.Run(() => TakeBoth(first, second));
        Task secondTask = oppositeOrder ? Task.Run(() => TakeBoth(second, first)) : Task.Run(() => TakeBoth(first, second));
        await Task.WhenAll(new[] { firstTask, secondTask });
    }

    // One task parks on a monitor until another pulses it. Unguarded, the waiter parks even when
    // the pulse came first, and then no task wakes it, so every controlled task is blocked.
    private static async Task MonitorHandshake(bool guarded)
    {
        var gate = new object();
        bool signalled = false;
        Task waiter = Task.Run(() =>
        {
            lock (gate)
            {
                if (!guarded)
                {
                    Monitor.Wait(gate);
                    return;
                }

                while (!signalled)
                {
                    Monitor.Wait(gate);
                }
            }
        });
        Task signaller = Task.Run(() =>
        {
            lock (gate)
            {
                signalled = true;
                Monitor.Pulse(gate);
            }
        });
        await Task.WhenAll(new[] { waiter, signaller });
    }

    // Waits for a signal that no task sends, yielding on every turn. Every task stays enabled, so
    // this is not a deadlock, only an iteration that never ends.
    private static async Task SpinUntilSignalled()
    {
        var signalled = new StrongBox<bool>(false);
        Task spinner = Task.Run(async () =>
        {
            while (!Volatile.Read(ref signalled.Value))
            {
                await Task.Yield();
            }
        });
        await spinner;
    }
}
