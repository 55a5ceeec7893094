using System.Threading.Tasks;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>
/// Workflow 1, exclusive locks: transfers between accounts, each guarded by its own
/// <see cref="AsyncLock"/>, taken in canonical order, with timed acquires and periodic audits.
/// </summary>
internal sealed class LedgerSection : IDemoSection
{
    public string Key => "ledger";

    public string Title => "Ledger: one AsyncLock per account";

    public string Summary =>
        "Workers move money between accounts, each guarded by an AsyncLock taken in canonical order; "
        + "the ledger must reconcile with an independent journal.";

    public async Task<SectionReport> RunAsync(SectionContext context)
    {
        LedgerSettings settings = context.Options.Ledger;
        context.Console.MarkupLine(
            $"[bold]{settings.Accounts:N0}[/] accounts, [bold]{settings.Workers:N0}[/] workers, "
            + $"[bold]{settings.Duration.TotalSeconds:N1} s[/], fairness [bold]{settings.Fairness}[/].");

        using var simulation = new LedgerSimulation(settings);
        simulation.Start(context.Cancellation);
        await ProgressView.ShowAsync(context.Console, simulation);
        LedgerReport report = await simulation.CompleteAsync();
        return new SectionReport { Tables = LedgerReportView.Tables(report), Checks = report.Checks };
    }
}
