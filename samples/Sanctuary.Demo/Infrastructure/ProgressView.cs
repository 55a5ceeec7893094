using System;
using System.Threading.Tasks;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>A timed run that the progress bar can follow.</summary>
internal interface IProgressSource
{
    /// <summary>How long the run keeps starting new work.</summary>
    TimeSpan Duration { get; }

    /// <summary>Time since the start of the run.</summary>
    TimeSpan Elapsed { get; }

    /// <summary>Whether the run is stopping, because its duration ran out or Ctrl+C was pressed.</summary>
    bool IsStopRequested { get; }

    /// <summary>One line of live counters, such as the rate of transfers.</summary>
    string Status { get; }
}

/// <summary>Shows a progress bar with the run's live counters until the run stops.</summary>
internal static class ProgressView
{
    private static readonly TimeSpan s_refreshInterval = TimeSpan.FromMilliseconds(200);

    public static Task ShowAsync(IAnsiConsole console, IProgressSource source)
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
                double seconds = source.Duration.TotalSeconds;
                ProgressTask task = context.AddTask("Starting", maxValue: seconds);
                while (!source.IsStopRequested)
                {
                    await Task.Delay(s_refreshInterval);
                    task.Description = Markup.Escape(source.Status);
                    task.Value = Math.Min(seconds, source.Elapsed.TotalSeconds);
                }

                // A run stopped early (Ctrl+C) keeps its partial bar.
                task.Description = Markup.Escape(source.Status);
                task.Value = Math.Min(seconds, source.Elapsed.TotalSeconds);
                task.StopTask();
            });
    }
}
