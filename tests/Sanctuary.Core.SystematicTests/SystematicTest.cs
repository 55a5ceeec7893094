using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.SystematicTests;

/// <summary>How much of a test body's concurrency Coyote controls.</summary>
internal enum Control
{
    /// <summary>
    /// Everything: any concurrency Coyote does not control is reported as a bug, and there is no
    /// silent fallback to fuzzing, so a passing run explored the interleavings systematically and
    /// a failing run has a trace that replays.
    /// </summary>
    Full,

    /// <summary>
    /// Everything except the invocations named in <see cref="SystematicTest.ToleratedUncontrolled"/>:
    /// Coyote lets them run as they are and explores the rest systematically. If such an
    /// invocation starts work on a real thread, the interleavings of that work are left to chance
    /// (see <see cref="SystematicTest.ReplayMayMiss"/>). Any other uncontrolled invocation fails the test.
    /// </summary>
    Partial,

    /// <summary>
    /// Nothing is serialized: Coyote runs the body on real threads and injects delays at the
    /// calls it intercepts. It finds bugs by chance only, and a bug trace does not replay.
    /// </summary>
    Fuzzing,
}

/// <summary>
/// Runs one test body under the Coyote testing engine and checks the outcome.
/// </summary>
internal sealed class SystematicTest
{
    /// <summary>Seed of the scheduler's random choices; fixed so that CI runs are repeatable.</summary>
    /// <remarks>Set SANCTUARY_COYOTE_SEED to explore other schedules locally.</remarks>
    private static readonly uint s_seed = ReadUInt("SANCTUARY_COYOTE_SEED", 20_250_101u);

    // How long the engine waits without progress before it reports a potential deadlock or hang.
    // The default of one second is tight on a loaded two-core machine. Deadlocks among controlled
    // tasks are reported at once, whatever this value.
    private const uint DeadlockTimeoutMilliseconds = 5_000;

    private readonly ITestOutputHelper _output;

    public SystematicTest(ITestOutputHelper output)
    {
        _output = output;
    }

    /// <summary>Factor applied to every iteration count; set SANCTUARY_COYOTE_ITERATION_FACTOR to explore deeper locally.</summary>
    private static readonly uint s_iterationFactor = ReadUInt("SANCTUARY_COYOTE_ITERATION_FACTOR", 1u);

    private readonly uint _iterations = 100;

    /// <summary>Iterations (schedules) to explore, before the factor from the environment.</summary>
    public uint Iterations
    {
        get => _iterations * s_iterationFactor;
        init => _iterations = value;
    }

    /// <summary>
    /// Scheduling steps per iteration before the engine stops exploring it. The default
    /// exploration is fair, and fair iterations get ten times this bound.
    /// </summary>
    public uint MaxSteps { get; init; } = 2_000;

    /// <summary>When true, hitting the step bound is a bug (liveness: an endless spin must not hide).</summary>
    public bool FailOnMaxSteps { get; init; }

    /// <summary>How much of the body's concurrency Coyote controls.</summary>
    public Control Control { get; init; } = Control.Full;

    /// <summary>
    /// Fully qualified names of invocations that Coyote may report as uncontrolled without failing
    /// the test (with <see cref="Control.Partial"/> or <see cref="Control.Fuzzing"/>).
    /// </summary>
    public IReadOnlyCollection<string> ToleratedUncontrolled { get; init; } = Array.Empty<string>();

    /// <summary>
    /// When true, a replay of a bug trace that misses the bug is logged, not failed. Set it when a
    /// tolerated invocation runs work on a real thread, because a replay follows the recorded
    /// schedule only as far as that work lets it.
    /// </summary>
    public bool ReplayMayMiss { get; init; }

    /// <summary>Runs <paramref name="test"/> and asserts that Coyote finds no bug in any iteration.</summary>
    public void AssertNoBug(Func<Task> test)
    {
        using TestingEngine engine = Run(CreateConfiguration(), test, out TimeSpan elapsed);
        TestReport report = engine.TestReport;
        _output.WriteLine(Summary(report, elapsed));
        Assert.True(engine.IsTestRewritten(), "The test assembly was not rewritten by Coyote; the post-build rewrite step did not run.");
        Assert.True(
            report.NumOfFoundBugs == 0,
            $"Coyote found a bug: observed {report.NumOfFoundBugs} bug(s), expected 0.{Environment.NewLine}{Describe(engine)}");
        AssertOnlyToleratedUncontrolled(report);
        long explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        Assert.True(explored == Iterations, $"Coyote explored {explored} iteration(s); expected {Iterations}.");
    }

    /// <summary>
    /// Runs <paramref name="test"/>, which targets a deliberately broken lock, and asserts that
    /// Coyote reports a bug whose text contains one of <paramref name="expectedFragments"/>. Unless
    /// the run is <see cref="Control.Fuzzing"/>, also asserts that the report has a reproducible
    /// trace and, unless <see cref="ReplayMayMiss"/> is set, that replaying it reports the same bug.
    /// </summary>
    public void AssertBugFound(Func<Task> test, params string[] expectedFragments)
    {
        string expected = string.Join("' or '", expectedFragments);
        string trace;
        string firstBug;
        using (TestingEngine engine = Run(CreateConfiguration(), test, out TimeSpan elapsed))
        {
            TestReport report = engine.TestReport;
            _output.WriteLine(Summary(report, elapsed));
            Assert.True(engine.IsTestRewritten(), "The test assembly was not rewritten by Coyote; the post-build rewrite step did not run.");
            Assert.True(
                report.NumOfFoundBugs > 0,
                $"Coyote found no bug in {Iterations} iterations against a deliberately broken lock; expected a bug containing '{expected}'.");
            firstBug = report.BugReports.First();
            _output.WriteLine($"Bug found: {firstBug}");
            Assert.True(
                expectedFragments.Any(fragment => firstBug.Contains(fragment, StringComparison.Ordinal)),
                $"Observed bug '{firstBug}'; expected one containing '{expected}'.");
            AssertOnlyToleratedUncontrolled(report);
            if (Control == Control.Fuzzing)
            {
                return;
            }

            trace = engine.ReproducibleTrace;
            Assert.False(string.IsNullOrWhiteSpace(trace), "The bug report has no reproducible trace.");
            _output.WriteLine(TraceExcerpt(engine.ReadableTrace));
        }

        using (TestingEngine engine = Run(CreateConfiguration().WithReproducibleTrace(trace), test, out TimeSpan elapsed))
        {
            TestReport report = engine.TestReport;
            string replayed = report.BugReports.FirstOrDefault() ?? "(none)";
            bool reproduced = report.NumOfFoundBugs == 1 && replayed == firstBug;
            _output.WriteLine($"Replay reported {report.NumOfFoundBugs} bug(s) in {elapsed.TotalSeconds:0.0} s, {(reproduced ? "the original one" : "not the original one")}: {replayed}");
            Assert.True(
                reproduced || ReplayMayMiss,
                $"Replaying the trace reported {report.NumOfFoundBugs} bug(s), first '{replayed}'; expected exactly the original bug '{firstBug}'.");
        }
    }

    private Configuration CreateConfiguration()
    {
        Configuration configuration = Configuration.Create()
            .WithTestingIterations(Iterations)
            .WithMaxSchedulingSteps(MaxSteps)
            .WithRandomGeneratorSeed(s_seed)
            .WithTelemetryEnabled(false)
            .WithPartiallyControlledConcurrencyAllowed(Control != Control.Full)
            .WithSystematicFuzzingEnabled(Control == Control.Fuzzing)
            .WithSystematicFuzzingFallbackEnabled(false)
            .WithPotentialDeadlocksReportedAsBugs(true)
            .WithDeadlockTimeout(DeadlockTimeoutMilliseconds);
        if (FailOnMaxSteps)
        {
            configuration = configuration.WithFailureOnMaxStepsBoundEnabled(true);
        }

        // SANCTUARY_COYOTE_VERBOSITY=debug (or exhaustive) makes the engine log every scheduling
        // decision to the console, for investigating a report.
        return Environment.GetEnvironmentVariable("SANCTUARY_COYOTE_VERBOSITY") switch
        {
            "debug" => configuration.WithVerbosityEnabled(VerbosityLevel.Debug).WithConsoleLoggingEnabled(true),
            "exhaustive" => configuration.WithVerbosityEnabled(VerbosityLevel.Exhaustive).WithConsoleLoggingEnabled(true),
            _ => configuration,
        };
    }

    private void AssertOnlyToleratedUncontrolled(TestReport report)
    {
        string[] unexpected = report.UncontrolledInvocations.Where(name => !ToleratedUncontrolled.Contains(name)).ToArray();
        Assert.True(
            unexpected.Length == 0,
            $"Observed uncontrolled invocations [{string.Join(", ", unexpected)}]; expected none beyond [{string.Join(", ", ToleratedUncontrolled)}].");
    }

    private static TestingEngine Run(Configuration configuration, Func<Task> test, out TimeSpan elapsed)
    {
        var engine = TestingEngine.Create(configuration, test);
        long started = Stopwatch.GetTimestamp();
        engine.Run();
        elapsed = Stopwatch.GetElapsedTime(started);
        return engine;
    }

    private string Summary(TestReport report, TimeSpan elapsed)
    {
        long explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        string steps = report.NumOfExploredFairPaths > 0
            ? $"{report.MinExploredFairSteps}-{report.MaxExploredFairSteps}"
            : $"{report.MinExploredUnfairSteps}-{report.MaxExploredUnfairSteps}";
        string uncontrolled = report.UncontrolledInvocations.Count == 0
            ? "none"
            : string.Join(", ", report.UncontrolledInvocations);
        return $"{Control} control, seed {s_seed}: {explored} of {Iterations} iteration(s) explored in {elapsed.TotalSeconds:0.0} s, " +
            $"{report.NumOfFoundBugs} bug(s), steps per iteration {steps}, uncontrolled invocations: {uncontrolled}";
    }

    private static string Describe(TestingEngine engine)
    {
        var text = new StringBuilder();
        foreach (string bug in engine.TestReport.BugReports)
        {
            text.AppendLine(bug);
        }

        text.AppendLine(TraceExcerpt(engine.ReadableTrace));
        return text.ToString();
    }

    private static string TraceExcerpt(string? readableTrace)
    {
        if (string.IsNullOrEmpty(readableTrace))
        {
            return "(no readable trace)";
        }

        string[] lines = readableTrace.Split('\n');
        const int Tail = 40;
        return lines.Length <= Tail
            ? "Trace:\n" + readableTrace
            : $"Trace (last {Tail} of {lines.Length} lines):\n" + string.Join('\n', lines[^Tail..]);
    }

    private static uint ReadUInt(string variable, uint fallback) =>
        uint.TryParse(Environment.GetEnvironmentVariable(variable), out uint value) && value > 0 ? value : fallback;
}
