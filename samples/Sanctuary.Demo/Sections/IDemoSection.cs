using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>
/// One workflow of the demo: it runs, then returns the tables and the invariant checks of its
/// part of the report. The runner prints a header before <see cref="RunAsync"/> and the report after.
/// </summary>
/// <remarks>To add a workflow, implement this interface and list the section in <see cref="SectionCatalog"/>.</remarks>
internal interface IDemoSection
{
    /// <summary>Name on the command line, such as <c>ledger</c>; lower case, no spaces.</summary>
    string Key { get; }

    /// <summary>Heading of the section in the report.</summary>
    string Title { get; }

    /// <summary>One sentence on what the section does, shown under the heading and in <c>--help</c>.</summary>
    string Summary { get; }

    /// <summary>
    /// Runs the workflow. It may print a progress bar while it runs, but prints no report: it
    /// returns the tables and checks instead. Ctrl+C fires <see cref="SectionContext.Cancellation"/>;
    /// the section then stops early and still returns its report.
    /// </summary>
    Task<SectionReport> RunAsync(SectionContext context);
}

/// <summary>What every section receives: the console, the options and the Ctrl+C token.</summary>
internal sealed class SectionContext
{
    public required IAnsiConsole Console { get; init; }

    public required RunOptions Options { get; init; }

    /// <summary>Where the named-resource sections keep lease state (<c>--store</c>).</summary>
    public required LeaseStoreProvider Store { get; init; }

    /// <summary>Fires on Ctrl+C.</summary>
    public required CancellationToken Cancellation { get; init; }

    /// <summary>How long each timed workload runs (<c>--duration</c>).</summary>
    public TimeSpan Duration => Options.Duration;

    /// <summary>Seed of every random choice (<c>--seed</c>).</summary>
    public int Seed => Options.Seed;
}

/// <summary>The part of the report that one section contributes.</summary>
internal sealed class SectionReport
{
    /// <summary>Tables (or other renderables) printed in order, before the checks.</summary>
    public required IReadOnlyList<IRenderable> Tables { get; init; }

    public required IReadOnlyList<InvariantCheck> Checks { get; init; }

    public bool Passed => Checks.All(check => check.Status != CheckStatus.Failed);

    /// <summary>The report of a section that threw instead of returning one.</summary>
    public static SectionReport Crashed(Exception exception) => new()
    {
        Tables = [],
        Checks = [InvariantCheck.Fail("Section ran to the end", $"{exception.GetType().Name}: {exception.Message}")],
    };
}
