using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// Transfers through a <c>[Sanctuary]</c> method, so this class contains no locking code of its
/// own. The source generator writes one all-or-nothing acquisition of both accounts
/// (exclusively) and of <c>books</c> and <c>fx-rates</c> (for reading).
/// </summary>
/// <remarks>
/// The attribute makes one acquisition of the ids it lists, whatever their mode. The generator
/// formats the account ids and sorts them with the constant ids at run time, so this path takes
/// the resources in the same ordinal order as every other path. A self-transfer takes its account
/// once, and the timeout covers all the resources together.
/// </remarks>
internal sealed partial class GeneratedTransferPath(ResourceRegistry registry, NamedBank bank) : INamedTransferPath
{
    /// <summary>The registry the generated acquirer takes the resources from.</summary>
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

    [Sanctuary("account:{from}", "account:{to}", Read = [NamedBank.RatesId, NamedBank.BooksId], TimeoutMilliseconds = 2000)]
    private partial Task<bool> MoveAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken);

    private async Task<bool> MoveAsyncCore(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken) =>
        await bank.ApplyAsync(from, to, amount, fromToken: 0, toToken: 0, awaitInside);
}
