using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>The command line: options shared by every section, the ledger's own options, and their validation.</summary>
internal static class DemoCommand
{
    public static RootCommand Create(Func<RunOptions, CancellationToken, Task<int>> run)
    {
        string sectionKeys = string.Join(", ", SectionCatalog.Keys);
        Option<string[]> sections = new("--sections", "-s")
        {
            Description = $"Sections to run, separated by commas or spaces: {sectionKeys}, or all (the default).",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        sections.Validators.Add(result =>
        {
            foreach (string key in SplitKeys(result.GetValueOrDefault<string[]>()))
            {
                if (key != "all" && SectionCatalog.Find(key) is null)
                {
                    result.AddError($"Unknown section '{key}' for --sections: use {sectionKeys} or all.");
                }
            }
        });

        Option<double> duration = new("--duration", "-d")
        {
            Description = "How long each section's workload runs, in seconds (0.1 to 3,600).",
            DefaultValueFactory = _ => 5,
        };
        duration.Validators.Add(result => RequireRange<double>(result, 0.1, 3_600));

        Option<int> seed = new("--seed")
        {
            Description = "Seed of the workers' random choices.",
            DefaultValueFactory = _ => 1,
        };

        Option<string> store = new("--store")
        {
            Description = $"Where the named-resource section keeps lease state: {LeaseStoreOption.MemoryText}, "
                + $"or a Redis server as redis://host:port.",
            DefaultValueFactory = _ => LeaseStoreOption.MemoryText,
        };
        store.Validators.Add(result =>
        {
            if (!LeaseStoreOption.TryParse(result.GetValueOrDefault<string>() ?? string.Empty, out _, out string error))
            {
                result.AddError(error);
            }
        });

        Option<int> accounts = new("--accounts", "-a")
        {
            Description = "Ledger: number of accounts, each guarded by its own AsyncLock (2 to 1,000,000).",
            DefaultValueFactory = _ => 1_000,
        };
        accounts.Validators.Add(result => RequireRange<int>(result, 2, 1_000_000));

        Option<int> workers = new("--workers", "-w")
        {
            Description = "Ledger: number of concurrent transfer loops (1 to 4,096).",
            DefaultValueFactory = _ => 64,
        };
        workers.Validators.Add(result => RequireRange<int>(result, 1, 4_096));

        Option<string> fairness = new("--fairness", "-f")
        {
            Description = "Ledger: lock fairness. fifo hands a released lock to the oldest waiter; throughput lets a "
                + "running acquirer take a free lock first, with a bound on how often a waiter is passed over.",
            DefaultValueFactory = _ => "fifo",
        };
        fairness.AcceptOnlyFromAmong("fifo", "throughput");

        Option<int> timeoutMilliseconds = new("--timeout-ms")
        {
            Description = "Ledger: time a timed transfer may spend taking both locks, in milliseconds (1 to 60,000).",
            DefaultValueFactory = _ => 2,
        };
        timeoutMilliseconds.Validators.Add(result => RequireRange<int>(result, 1, 60_000));

        Option<int> timedPercent = new("--timed-percent")
        {
            Description = "Ledger: share of transfers, in percent, that use TryAcquireAsync with the timeout (0 to 100).",
            DefaultValueFactory = _ => 25,
        };
        timedPercent.Validators.Add(result => RequireRange<int>(result, 0, 100));

        RootCommand root = new(
            "Runs the workflows of Sanctuary.Core under load, one section each: exclusive locks, reader-writer "
            + "locks, priority locks with capacity pools, and named resources with leases. Each section ends with "
            + "invariant checks. Exits with 0 when every check passed, 1 when one failed or the options were invalid.")
        {
            sections,
            duration,
            seed,
            store,
            accounts,
            workers,
            fairness,
            timeoutMilliseconds,
            timedPercent,
        };

        root.SetAction((parseResult, cancellationToken) =>
        {
            TimeSpan sectionDuration = TimeSpan.FromSeconds(parseResult.GetValue(duration));
            int seedValue = parseResult.GetValue(seed);
            LeaseStoreOption.TryParse(parseResult.GetValue(store) ?? LeaseStoreOption.MemoryText, out LeaseStoreOption storeOption, out _);
            var ledger = new LedgerSettings(
                Accounts: parseResult.GetValue(accounts),
                Workers: parseResult.GetValue(workers),
                Duration: sectionDuration,
                Fairness: parseResult.GetValue(fairness) == "throughput" ? LockFairness.Throughput : LockFairness.Fifo,
                TransferTimeout: TimeSpan.FromMilliseconds(parseResult.GetValue(timeoutMilliseconds)),
                TimedPercent: parseResult.GetValue(timedPercent),
                Seed: seedValue);
            var options = new RunOptions(
                SectionCatalog.Select(SplitKeys(parseResult.GetValue(sections)).ToList()),
                sectionDuration,
                seedValue,
                storeOption,
                ledger);
            return run(options, cancellationToken);
        });

        return root;
    }

    // "--sections ledger,rw", "--sections ledger rw" and "--sections ledger --sections rw" mean the same.
    private static IEnumerable<string> SplitKeys(string[]? values) =>
        (values ?? [])
            .SelectMany(value => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(key => key.ToLowerInvariant());

    private static void RequireRange<T>(OptionResult result, T min, T max)
        where T : IComparable<T>
    {
        // A value that does not parse (such as "abc" for a number) already has its own parse
        // error, and reading it here would throw instead of reporting.
        T value;
        try
        {
            value = result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            result.AddError($"Invalid value {value} for {result.Option.Name}: use a value from {min} to {max}.");
        }
    }
}
