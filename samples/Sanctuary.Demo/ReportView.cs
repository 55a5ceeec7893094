using System;
using System.Diagnostics;
using System.Linq;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>Prints the final report: configuration, throughput, wait times, invariant checks and the verdict.</summary>
/// <remarks>
/// Spectre.Console drops colors and uses the profile's width when the output is redirected, so
/// the same tables read well in a terminal, a pipe or a CI log.
/// </remarks>
internal static class ReportView
{
    public static void Render(IAnsiConsole console, RunReport report)
    {
        DemoSettings settings = report.Settings;
        console.WriteLine();

        var results = new Table().Title("Ledger run").AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        results.AddRow("Accounts / workers", $"{settings.Accounts:N0} / {settings.Workers:N0}");
        results.AddRow("Fairness", settings.Fairness.ToString());
        results.AddRow("Run time", $"{report.RunTime.TotalSeconds:N1} s");
        results.AddRow("Transfers committed", $"{report.Committed:N0}");
        results.AddRow("[bold]Transfers per second[/]", $"[bold]{report.TransfersPerSecond:N0}[/]");
        results.AddRow("Rejected (insufficient funds)", $"{report.Rejected:N0}");
        results.AddRow(
            Markup.Escape($"Timed out ({settings.TimedPercent}% use a {settings.TransferTimeout.TotalMilliseconds:N0} ms timeout)"),
            $"{report.TimedOut:N0}");
        results.AddRow("Lock acquires granted", $"{report.AllWaits.Count:N0}");
        results.AddRow("  of which had to wait", $"{report.ContendedWaits.Count:N0} ({Percent(report.ContendedWaits.Count, report.AllWaits.Count)})");
        results.AddRow($"Audits (all locks, every {DemoSettings.AuditInterval.TotalSeconds:N0} s)", $"{report.Audits:N0}, longest {FormatDuration(report.LongestAudit.Ticks * 100)}");
        console.Write(results);

        var waits = new Table()
            .Title("Lock wait time")
            .AddColumn("Percentile")
            .AddColumn(new TableColumn("All acquires").RightAligned())
            .AddColumn(new TableColumn("Acquires that waited").RightAligned());
        foreach ((string label, double quantile) in new[] { ("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0) })
        {
            waits.AddRow(label, FormatTicks(report.AllWaits, quantile), FormatTicks(report.ContendedWaits, quantile));
        }

        console.Write(waits);

        var checks = new Table().Title("Invariant checks").AddColumn("Check").AddColumn("Result").AddColumn("Detail");
        foreach (InvariantCheck check in report.Checks)
        {
            checks.AddRow(Markup.Escape(check.Name), StatusMarkup(check.Status), Markup.Escape(check.Detail));
        }

        console.Write(checks);
        console.WriteLine();

        int failed = report.Checks.Count(check => check.Status == CheckStatus.Failed);
        int passed = report.Checks.Count(check => check.Status == CheckStatus.Passed);
        int skipped = report.Checks.Count(check => check.Status == CheckStatus.Skipped);
        string skippedText = skipped > 0 ? $", {skipped} skipped" : string.Empty;
        if (report.Passed)
        {
            console.MarkupLine($"[bold green]PASS[/]: {passed} of {report.Checks.Count} invariant checks held{skippedText}.");
        }
        else
        {
            string names = string.Join("; ", report.Checks.Where(check => check.Status == CheckStatus.Failed).Select(check => check.Name));
            console.MarkupLine($"[bold red]FAIL[/]: {failed} of {report.Checks.Count} invariant checks failed: {Markup.Escape(names)}.");
        }
    }

    private static string StatusMarkup(CheckStatus status) => status switch
    {
        CheckStatus.Passed => "[green]PASS[/]",
        CheckStatus.Failed => "[bold red]FAIL[/]",
        _ => "[yellow]SKIPPED[/]",
    };

    private static string Percent(long part, long whole) => whole == 0 ? "0 %" : $"{100.0 * part / whole:N1} %";

    private static string FormatTicks(WaitTimeHistogram histogram, double quantile)
    {
        if (histogram.Count == 0)
        {
            return "-";
        }

        long ticks = histogram.QuantileTicks(quantile);
        return FormatDuration(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
    }

    private static string FormatDuration(double nanoseconds) => nanoseconds switch
    {
        < 1_000 => $"{nanoseconds:N0} ns",
        < 1_000_000 => $"{nanoseconds / 1_000:N1} us",
        < 1_000_000_000 => $"{nanoseconds / 1_000_000:N2} ms",
        _ => $"{nanoseconds / 1_000_000_000:N2} s",
    };
}
