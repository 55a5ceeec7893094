using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>Runs the selected sections one after another and prints each one's report, then the summary.</summary>
internal static class DemoRunner
{
    private const int ExitPassed = 0;
    private const int ExitFailed = 1;

    public static async Task<int> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        // Opened before any section runs, so that a store that cannot be used fails at once.
        if (!LeaseStoreProvider.TryOpen(options.Store, out LeaseStoreProvider? store, out string error))
        {
            await Console.Error.WriteLineAsync($"error: {error}");
            return ExitFailed;
        }

        await using LeaseStoreProvider openStore = store!;
        IAnsiConsole console = AnsiConsole.Console;
        string keys = string.Join(", ", options.Sections.Select(section => section.Key));
        console.MarkupLine(
            $"Sanctuary demo: [bold]{Markup.Escape(keys)}[/]; "
            + $"[bold]{options.Duration.TotalSeconds:N1} s[/] each, seed {options.Seed}, {Environment.ProcessorCount} cores.");
        console.MarkupLine("Press Ctrl+C to stop early; the report still follows.");

        var context = new SectionContext
        {
            Console = console,
            Options = options,
            Store = openStore,
            Cancellation = cancellationToken,
        };

        long start = Stopwatch.GetTimestamp();
        var results = new List<SectionResult>();
        for (int i = 0; i < options.Sections.Count; i++)
        {
            IDemoSection section = options.Sections[i];
            if (cancellationToken.IsCancellationRequested)
            {
                results.Add(new SectionResult(section, null, TimeSpan.Zero));
                continue;
            }

            console.WriteLine();
            console.Write(new Rule($"[bold]{i + 1}/{options.Sections.Count}  {Markup.Escape(section.Title)}[/]").LeftJustified());
            console.MarkupLine(Markup.Escape(section.Summary));

            long sectionStart = Stopwatch.GetTimestamp();
            SectionReport report;
            try
            {
                report = await section.RunAsync(context);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                report = SectionReport.Crashed(exception);
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(sectionStart);
            RenderSection(console, report);
            results.Add(new SectionResult(section, report, elapsed));
        }

        bool passed = RenderSummary(console, results, Stopwatch.GetElapsedTime(start));
        return passed ? ExitPassed : ExitFailed;
    }

    private static void RenderSection(IAnsiConsole console, SectionReport report)
    {
        foreach (IRenderable table in report.Tables)
        {
            console.Write(table);
        }

        var checks = new Table().Title("Invariant checks").AddColumn("Check").AddColumn("Result").AddColumn("Detail");
        foreach (InvariantCheck check in report.Checks)
        {
            checks.AddRow(Markup.Escape(check.Name), StatusMarkup(check.Status), Markup.Escape(check.Detail));
        }

        console.Write(checks);
    }

    private static bool RenderSummary(IAnsiConsole console, IReadOnlyList<SectionResult> results, TimeSpan elapsed)
    {
        console.WriteLine();
        var summary = new Table()
            .Title("Summary")
            .AddColumn("Section")
            .AddColumn(new TableColumn("Time").RightAligned())
            .AddColumn(new TableColumn("Checks").RightAligned())
            .AddColumn("Result");
        foreach (SectionResult result in results)
        {
            if (result.Report is not { } report)
            {
                summary.AddRow(Markup.Escape(result.Section.Key), "-", "-", "[yellow]SKIPPED[/] (stopped)");
                continue;
            }

            int passedChecks = report.Checks.Count(check => check.Status == CheckStatus.Passed);
            summary.AddRow(
                Markup.Escape(result.Section.Key),
                Format.Seconds(result.Elapsed),
                $"{passedChecks} of {report.Checks.Count}",
                report.Passed ? "[green]PASS[/]" : "[bold red]FAIL[/]");
        }

        console.Write(summary);
        console.WriteLine();

        List<InvariantCheck> all = results.Where(result => result.Report is not null).SelectMany(result => result.Report!.Checks).ToList();
        int failed = all.Count(check => check.Status == CheckStatus.Failed);
        int passed = all.Count(check => check.Status == CheckStatus.Passed);
        int skipped = all.Count(check => check.Status == CheckStatus.Skipped);
        int ran = results.Count(result => result.Report is not null);
        int notRun = results.Count - ran;
        string skippedText = skipped > 0 ? $", {skipped} skipped" : string.Empty;
        string stoppedText = notRun > 0 ? $"; stopped early, {notRun} not run" : string.Empty;
        string sections = $"{ran} {(ran == 1 ? "section" : "sections")}, {elapsed.TotalSeconds:N1} s{stoppedText}";
        if (failed == 0)
        {
            console.MarkupLine($"[bold green]PASS[/]: {passed} of {all.Count} invariant checks held{skippedText} ({sections}).");
            return true;
        }

        string names = string.Join("; ", results
            .Where(result => result.Report is not null)
            .SelectMany(result => result.Report!.Checks
                .Where(check => check.Status == CheckStatus.Failed)
                .Select(check => $"{result.Section.Key}: {check.Name}")));
        console.MarkupLine($"[bold red]FAIL[/]: {failed} of {all.Count} invariant checks failed ({sections}): {Markup.Escape(names)}.");
        return false;
    }

    private static string StatusMarkup(CheckStatus status) => status switch
    {
        CheckStatus.Passed => "[green]PASS[/]",
        CheckStatus.Failed => "[bold red]FAIL[/]",
        _ => "[yellow]SKIPPED[/]",
    };

    private sealed record SectionResult(IDemoSection Section, SectionReport? Report, TimeSpan Elapsed);
}
