using System;
using System.Diagnostics;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>Number and duration formats shared by every section of the report.</summary>
internal static class Format
{
    /// <summary>Labels and quantiles of the percentile rows of every wait-time table.</summary>
    public static readonly (string Label, double Quantile)[] Percentiles =
    [
        ("p50", 0.50),
        ("p90", 0.90),
        ("p99", 0.99),
        ("p99.9", 0.999),
        ("max", 1.0),
    ];

    public static string Percent(long part, long whole) => whole == 0 ? "0 %" : $"{100.0 * part / whole:N1} %";

    public static string Percent(double fraction) => $"{100.0 * fraction:N1} %";

    /// <summary>Formats the quantile of a histogram of <see cref="Stopwatch"/> ticks, or returns "-" when it is empty.</summary>
    public static string Quantile(WaitTimeHistogram histogram, double quantile) =>
        histogram.Count == 0 ? "-" : Ticks(histogram.QuantileTicks(quantile));

    public static string Ticks(long stopwatchTicks) => Nanoseconds(stopwatchTicks * (1_000_000_000.0 / Stopwatch.Frequency));

    public static string Duration(TimeSpan duration) => Nanoseconds(duration.Ticks * 100.0);

    public static string Nanoseconds(double nanoseconds) => nanoseconds switch
    {
        < 1_000 => $"{nanoseconds:N0} ns",
        < 1_000_000 => $"{nanoseconds / 1_000:N1} us",
        < 1_000_000_000 => $"{nanoseconds / 1_000_000:N2} ms",
        _ => $"{nanoseconds / 1_000_000_000:N2} s",
    };

    public static string Seconds(TimeSpan duration) => $"{duration.TotalSeconds:N1} s";

    public static string Milliseconds(TimeSpan duration) => $"{duration.TotalMilliseconds:N0} ms";

    public static string Rate(long count, TimeSpan runTime) =>
        runTime > TimeSpan.Zero ? $"{count / runTime.TotalSeconds:N0}/s" : "-";

    /// <summary>Creates a table with a "Measure" and a right-aligned "Value" column.</summary>
    public static Table MeasureTable(string title) =>
        new Table().Title(Markup.Escape(title)).AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());

    /// <summary>Adds a row whose cells are plain text, escaped for Spectre markup.</summary>
    public static Table AddPlainRow(this Table table, params string[] cells)
    {
        var escaped = new string[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            escaped[i] = Markup.Escape(cells[i]);
        }

        return table.AddRow(escaped);
    }
}
