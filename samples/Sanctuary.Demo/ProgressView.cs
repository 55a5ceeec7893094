using System;
using System.Threading.Tasks;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>Shows a progress bar with the live transfer rate until the simulation stops.</summary>
internal static class ProgressView
{
    private static readonly TimeSpan s_refreshInterval = TimeSpan.FromMilliseconds(200);

    public static Task ShowAsync(IAnsiConsole console, LedgerSimulation simulation)
    {
        // Spectre.Console draws the bar in place on an interactive terminal. When the output is
        // redirected it falls back to printing plain lines as the task advances.
        return console.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                double seconds = simulation.Settings.Duration.TotalSeconds;
                ProgressTask task = context.AddTask("Starting", maxValue: seconds);
                while (!simulation.IsStopRequested)
                {
                    await Task.Delay(s_refreshInterval);
                    TimeSpan elapsed = simulation.Elapsed;
                    long committed = simulation.Committed;
                    double rate = elapsed > TimeSpan.Zero ? committed / elapsed.TotalSeconds : 0;
                    task.Description = $"{committed,12:N0} transfers {rate,10:N0}/s {simulation.TimedOut,8:N0} timed out";
                    task.Value = Math.Min(seconds, elapsed.TotalSeconds);
                }

                // A run stopped early (Ctrl+C) keeps its partial bar.
                task.Value = Math.Min(seconds, simulation.Elapsed.TotalSeconds);
                task.StopTask();
            });
    }
}
