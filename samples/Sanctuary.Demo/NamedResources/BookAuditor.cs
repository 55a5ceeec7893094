using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// Audits the books while the transfers run, through a <c>[Sanctuary]</c> method that holds
/// <c>books</c> for writing. Every transfer holds <c>books</c> for reading, so the write lease
/// waits for the transfers in flight to finish and keeps new ones out. While it is held, the sum
/// of all balances must be exactly the opening total.
/// </summary>
internal sealed partial class BookAuditor(ResourceRegistry registry, NamedBank bank)
{
    /// <summary>Pause between the end of one audit and the start of the next.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(150);

    /// <summary>How long an audit may wait for its write lease, in milliseconds.</summary>
    public const int WaitTimeoutMilliseconds = 1000;

    private long _audits;
    private long _wrongAudits;
    private long _timedOut;
    private string? _firstWrong;

    /// <summary>The registry the generated acquirer takes <c>books</c> from.</summary>
    [SanctuaryRegistry]
    public ResourceRegistry Registry { get; } = registry;

    /// <summary>Audits that held the write lease and summed the balances.</summary>
    public long Audits => Volatile.Read(ref _audits);

    /// <summary>Audits whose sum differed from <see cref="NamedBank.ExpectedTotal"/>.</summary>
    public long WrongAudits => Volatile.Read(ref _wrongAudits);

    /// <summary>Audits skipped because the write lease could not be had within the wait timeout.</summary>
    public long TimedOut => Volatile.Read(ref _timedOut);

    public async Task RunAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            try
            {
                await AuditAsync(abortToken);
            }
            catch (ResourceUnavailableException)
            {
                // Transfers kept the books past the wait timeout, so this audit counts as skipped, not wrong.
                Interlocked.Increment(ref _timedOut);
            }

            try
            {
                await Task.Delay(Interval, stopToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public InvariantCheck Check()
    {
        const string Name = "Live audits saw the total";
        long audits = Audits;
        if (audits == 0)
        {
            return InvariantCheck.Skip(Name, $"no audit ran ({TimedOut:N0} timed out waiting for {NamedBank.BooksId})");
        }

        return InvariantCheck.That(
            Name,
            WrongAudits == 0,
            $"{audits:N0} audits under a write lease on {NamedBank.BooksId}, each {bank.ExpectedTotal:N0}",
            $"{WrongAudits:N0} of {audits:N0} audits saw a wrong total, first: {_firstWrong}");
    }

    public IEnumerable<(string Measure, string Value)> Rows()
    {
        yield return ($"Live audits (write lease on {NamedBank.BooksId})", $"{Audits:N0}, every {Format.Milliseconds(Interval)}");
        yield return ("  wrong total / timed out", $"{WrongAudits:N0} / {TimedOut:N0}");
    }

    [Sanctuary(Write = [NamedBank.BooksId], TimeoutMilliseconds = WaitTimeoutMilliseconds)]
    private partial Task AuditAsync(CancellationToken cancellationToken);

    private async Task AuditAsyncCore(CancellationToken cancellationToken)
    {
        // The sum is taken in two halves with an await between them, so a transfer let in next to
        // the audit would likely move money across the halves and be counted twice or not at all.
        long total = 0;
        int half = NamedBank.AccountCount / 2;
        for (int i = 0; i < half; i++)
        {
            total += bank[i].Balance;
        }

        await Task.Yield();
        for (int i = half; i < NamedBank.AccountCount; i++)
        {
            total += bank[i].Balance;
        }

        Interlocked.Increment(ref _audits);
        if (total != bank.ExpectedTotal)
        {
            Interlocked.Increment(ref _wrongAudits);
            _firstWrong ??= $"{total:N0} instead of {bank.ExpectedTotal:N0}";
        }
    }
}
