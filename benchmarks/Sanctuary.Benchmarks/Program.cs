using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Metrology;

namespace Sanctuary.Benchmarks;

/// <summary>
/// Runs the benchmarks that a <c>--filter</c> selects, without the interactive prompt.
/// </summary>
/// <remarks>
/// Exit codes: 0 when every selected benchmark ran, 1 when a benchmark failed or the filter
/// matched nothing, 2 when no selection was given on the command line.
/// </remarks>
public static class Program
{
    // Arguments that select benchmarks or only print information, so the switcher never prompts.
    private static readonly string[] s_selectionArguments =
    [
        "--filter", "-f", "--allCategories", "--anyCategories", "--list", "--help", "-h", "--version", "--info",
    ];

    public static int Main(string[] args)
    {
        // Without a selection BenchmarkSwitcher waits for a key press, or exits 0 having run nothing.
        if (!args.Any(argument => s_selectionArguments.Contains(argument, StringComparer.OrdinalIgnoreCase)))
        {
            Console.Error.WriteLine(
                "No benchmark selected. Pass --filter with a glob over Namespace.Class.Method, for example "
                + "--filter 'Sanctuary.Benchmarks.AsyncLock*', or --list flat to see the names.");
            return 2;
        }

        // Median and Min next to Mean: on a shared machine the mean absorbs other processes' load,
        // while the minimum is the closest estimate of the code's own cost. The full JSON report
        // carries the raw statistics that benchmarks/summarize.py turns into ratio tables.
        IConfig config = DefaultConfig.Instance
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min)
            .AddExporter(JsonExporter.Full)
            .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared))
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value).WithSizeUnit(SizeUnit.B));

        Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToArray();

        bool informationOnly = args.Any(argument => argument is "--list" or "--help" or "-h" or "--version" or "--info");
        if (informationOnly)
        {
            return 0;
        }

        if (summaries.Length == 0 || summaries.All(summary => summary.Reports.Length == 0))
        {
            Console.Error.WriteLine("The filter matched no benchmark, so nothing ran. Use --list flat to see the names.");
            return 1;
        }

        List<string> failed = summaries
            .SelectMany(summary => summary.Reports)
            .Where(report => !report.Success)
            .Select(report => report.BenchmarkCase.DisplayInfo)
            .ToList();
        if (summaries.Any(summary => summary.HasCriticalValidationErrors))
        {
            Console.Error.WriteLine("BenchmarkDotNet validation failed. The errors are listed above the summary.");
            return 1;
        }

        if (failed.Count > 0)
        {
            Console.Error.WriteLine($"{failed.Count} benchmark(s) failed: {string.Join(", ", failed)}");
            return 1;
        }

        return 0;
    }
}
