using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// Transfers through <c>[Sanctuary]</c> methods, so this class contains no locking code of its
/// own. The source generator writes the acquisition of both accounts (sorted at run time, a
/// self-transfer taking its account once) and, nested inside it, the read lease on the rate table.
/// </summary>
/// <remarks>
/// The rate table is taken inside the accounts, not beside them, because every other path takes
/// <c>account:*</c> before <c>fx-rates</c> (ordinal order); taking them the other way round here
/// could deadlock against a rate writer that waits between the two.
/// </remarks>
internal sealed partial class GeneratedTransferPath(ResourceRegistry registry, NamedBank bank) : INamedTransferPath
{
    /// <summary>The registry the generated acquirers take the resources from.</summary>
    [SanctuaryRegistry]
    public ResourceRegistry Registry { get; } = registry;

    public string Name => "[Sanctuary]";

    public async Task<TransferOutcome> TransferAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken)
    {
        try
        {
            bool moved = await MoveAsync(from, to, amount, awaitInside, cancellationToken);
            return moved ? TransferOutcome.Committed : TransferOutcome.Rejected;
        }
        catch (ResourceUnavailableException)
        {
            return TransferOutcome.Unavailable;
        }
    }

    [Sanctuary("account:{from}", "account:{to}", TimeoutMilliseconds = 2000)]
    private partial Task<bool> MoveAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken);

    private Task<bool> MoveAsyncCore(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken) =>
        ApplyUnderRatesAsync(from, to, amount, awaitInside, cancellationToken);

    [Sanctuary(NamedBank.RatesId, Mode = LeaseMode.Read, TimeoutMilliseconds = 2000)]
    private partial Task<bool> ApplyUnderRatesAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken);

    private async Task<bool> ApplyUnderRatesAsyncCore(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken) =>
        await bank.ApplyAsync(from, to, amount, fromToken: 0, toToken: 0, awaitInside);
}
