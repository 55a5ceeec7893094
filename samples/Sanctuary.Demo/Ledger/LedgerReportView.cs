using System.Collections.Generic;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>The tables of the ledger section: configuration, throughput and wait times.</summary>
/// <remarks>
/// Spectre.Console drops colors and uses the profile's width when the output is redirected, so
/// the same tables read well in a terminal, a pipe or a CI log.
/// </remarks>
internal static class LedgerReportView
{
    public static IReadOnlyList<IRenderable> Tables(LedgerReport report)
    {
        LedgerSettings settings = report.Settings;
        Table results = Format.MeasureTable("Ledger run");
        results.AddRow("Accounts / workers", $"{settings.Accounts:N0} / {settings.Workers:N0}");
        results.AddRow("Fairness", settings.Fairness.ToString());
        results.AddRow("Run time", Format.Seconds(report.RunTime));
        results.AddRow("Transfers committed", $"{report.Committed:N0}");
        results.AddRow("[bold]Transfers per second[/]", $"[bold]{report.TransfersPerSecond:N0}[/]");
        results.AddRow("Rejected (insufficient funds)", $"{report.Rejected:N0}");
        results.AddRow(
            Markup.Escape($"Timed out ({settings.TimedPercent}% use a {settings.TransferTimeout.TotalMilliseconds:N0} ms timeout)"),
            $"{report.TimedOut:N0}");
        results.AddRow("Lock acquires granted", $"{report.AllWaits.Count:N0}");
        results.AddRow("  of which had to wait", $"{report.ContendedWaits.Count:N0} ({Format.Percent(report.ContendedWaits.Count, report.AllWaits.Count)})");
        results.AddRow(
            $"Audits (all locks, every {LedgerSettings.AuditInterval.TotalSeconds:N0} s)",
            $"{report.Audits:N0}, longest {Format.Duration(report.LongestAudit)}");

        Table waits = new Table()
            .Title("Lock wait time")
            .AddColumn("Percentile")
            .AddColumn(new TableColumn("All acquires").RightAligned())
            .AddColumn(new TableColumn("Acquires that waited").RightAligned());
        foreach ((string label, double quantile) in Format.Percentiles)
        {
            waits.AddRow(label, Format.Quantile(report.AllWaits, quantile), Format.Quantile(report.ContendedWaits, quantile));
        }

        return [results, waits];
    }
}
