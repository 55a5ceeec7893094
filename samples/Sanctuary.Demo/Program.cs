using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>
/// Entry point: parses the options, runs the ledger workload on <see cref="AsyncLock"/> and
/// exits with 0 when every invariant check passed, 1 when one failed or the options were invalid.
/// </summary>
internal static class Program
{
    private const int ExitPassed = 0;
    private const int ExitFailed = 1;

    public static Task<int> Main(string[] args)
    {
        Option<int> accounts = new("--accounts", "-a")
        {
            Description = "Number of accounts, each guarded by its own AsyncLock (2 to 1,000,000).",
            DefaultValueFactory = _ => 1_000,
        };
        accounts.Validators.Add(result => RequireRange(result, result.GetValueOrDefault<int>(), 2, 1_000_000));

        Option<int> workers = new("--workers", "-w")
        {
            Description = "Number of concurrent transfer loops (1 to 4,096).",
            DefaultValueFactory = _ => 64,
        };
        workers.Validators.Add(result => RequireRange(result, result.GetValueOrDefault<int>(), 1, 4_096));

        Option<double> duration = new("--duration", "-d")
        {
            Description = "How long to run transfers, in seconds (0.1 to 3,600).",
            DefaultValueFactory = _ => 10,
        };
        duration.Validators.Add(result => RequireRange(result, result.GetValueOrDefault<double>(), 0.1, 3_600));

        Option<string> fairness = new("--fairness", "-f")
        {
            Description = "Lock fairness: fifo hands a released lock to the oldest waiter; throughput lets a running "
                + "acquirer take a free lock first, with a bound on how often a waiter is passed over.",
            DefaultValueFactory = _ => "fifo",
        };
        fairness.AcceptOnlyFromAmong("fifo", "throughput");

        Option<int> timeoutMilliseconds = new("--timeout-ms")
        {
            Description = "Time a timed transfer may spend taking both locks, in milliseconds (1 to 60,000).",
            DefaultValueFactory = _ => 2,
        };
        timeoutMilliseconds.Validators.Add(result => RequireRange(result, result.GetValueOrDefault<int>(), 1, 60_000));

        Option<int> timedPercent = new("--timed-percent")
        {
            Description = "Share of transfers, in percent, that use TryAcquireAsync with the timeout (0 to 100).",
            DefaultValueFactory = _ => 25,
        };
        timedPercent.Validators.Add(result => RequireRange(result, result.GetValueOrDefault<int>(), 0, 100));

        Option<int> seed = new("--seed")
        {
            Description = "Seed of the workers' random choices of accounts and amounts.",
            DefaultValueFactory = _ => 1,
        };

        RootCommand root = new(
            "Runs a ledger of accounts, each guarded by a Sanctuary.AsyncLock, under concurrent transfers, "
            + "then checks that no update was lost. Exits with 0 when every check passed, 1 otherwise.")
        {
            accounts,
            workers,
            duration,
            fairness,
            timeoutMilliseconds,
            timedPercent,
            seed,
        };

        root.SetAction((parseResult, cancellationToken) =>
        {
            var settings = new DemoSettings(
                Accounts: parseResult.GetValue(accounts),
                Workers: parseResult.GetValue(workers),
                Duration: TimeSpan.FromSeconds(parseResult.GetValue(duration)),
                Fairness: parseResult.GetValue(fairness) == "throughput" ? LockFairness.Throughput : LockFairness.Fifo,
                TransferTimeout: TimeSpan.FromMilliseconds(parseResult.GetValue(timeoutMilliseconds)),
                TimedPercent: parseResult.GetValue(timedPercent),
                Seed: parseResult.GetValue(seed));
            return RunAsync(settings, cancellationToken);
        });

        // Ctrl+C cancels the action's token, which stops the run early. The default two seconds
        // before System.CommandLine ends the process can be too short on a loaded machine to
        // drain 64 workers and print the report, and a hung run needs two grace periods.
        var invocation = new InvocationConfiguration
        {
            ProcessTerminationTimeout = (2 * DemoSettings.ShutdownGrace) + TimeSpan.FromSeconds(5),
        };
        return root.Parse(args).InvokeAsync(invocation);
    }

    private static async Task<int> RunAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        IAnsiConsole console = AnsiConsole.Console;
        console.MarkupLine(
            $"Ledger: [bold]{settings.Accounts:N0}[/] accounts, [bold]{settings.Workers:N0}[/] workers, "
            + $"[bold]{settings.Duration.TotalSeconds:N1} s[/], fairness [bold]{settings.Fairness}[/], "
            + $"seed {settings.Seed}, {Environment.ProcessorCount} cores.");
        console.MarkupLine("Press Ctrl+C to stop early; the report still follows.");

        using var simulation = new LedgerSimulation(settings);
        simulation.Start(cancellationToken);
        await ProgressView.ShowAsync(console, simulation);
        RunReport report = await simulation.CompleteAsync();

        ReportView.Render(console, report);
        return report.Passed ? ExitPassed : ExitFailed;
    }

    private static void RequireRange<T>(OptionResult result, T value, T min, T max)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            result.AddError($"Invalid value {value} for {result.Option.Name}: use a value from {min} to {max}.");
        }
    }
}
