using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;

namespace Sanctuary.Demo;

/// <summary>
/// One way to run a transfer of the named-resource bank while holding <c>account:{from}</c> and
/// <c>account:{to}</c> exclusively and <c>books</c> and <c>fx-rates</c> for reading, all or nothing.
/// </summary>
/// <remarks>
/// The workload spreads transfers over every path in <see cref="TransferPaths.Create"/> and runs
/// the same checks on all of them, including the path built on <c>[Sanctuary]</c> methods.
/// </remarks>
internal interface INamedTransferPath
{
    /// <summary>Short name for the report, such as <c>AcquireAllAsync</c>.</summary>
    string Name { get; }

    /// <summary>Runs one transfer under the four leases (three when it is a self-transfer).</summary>
    /// <returns>
    /// <see cref="TransferOutcome.Committed"/> or <see cref="TransferOutcome.Rejected"/> (insufficient
    /// funds) once the leases were held; <see cref="TransferOutcome.Unavailable"/> when they could not be had in time.
    /// </returns>
    Task<TransferOutcome> TransferAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken);
}

internal enum TransferOutcome
{
    Committed,
    Rejected,
    Unavailable,
}

/// <summary>Factory of the bank's transfer paths.</summary>
internal static class TransferPaths
{
    /// <summary>How long a transfer may wait for its whole set of resources.</summary>
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(2);

    // Workers are spread evenly over these paths.
    public static IReadOnlyList<INamedTransferPath> Create(ResourceRegistry registry, NamedBank bank) =>
    [
        new AcquireAllPath(registry, bank),
        new RunAsyncPath(registry, bank),
        new GeneratedTransferPath(registry, bank),
    ];

    /// <summary>
    /// Returns the requests of a transfer, deliberately in no particular order. The registry sorts
    /// them, so two transfers between the same accounts in opposite directions cannot deadlock. A
    /// transfer from an account to itself names it twice, and the registry merges the two.
    /// </summary>
    public static ResourceRequest[] Requests(int from, int to) =>
    [
        NamedBank.AccountId(to),
        new(NamedBank.RatesId, LeaseMode.Read),
        NamedBank.AccountId(from),
        new(NamedBank.BooksId, LeaseMode.Read),
    ];

    /// <summary><see cref="ResourceRegistry.AcquireAllAsync(IEnumerable{ResourceRequest}, MultiAcquireOptions?, CancellationToken)"/>, then the work, then dispose.</summary>
    private sealed class AcquireAllPath(ResourceRegistry registry, NamedBank bank) : INamedTransferPath
    {
        private static readonly MultiAcquireOptions s_options = new()
        {
            WaitTimeout = WaitTimeout,
            Lease = new LeaseOptions { Owner = "transfers", Purpose = "transfer" },
            Retry = new RetryPolicy { AttemptTimeout = TimeSpan.FromMilliseconds(250), MaxAttempts = 4 },
        };

        public string Name => "AcquireAllAsync";

        public async Task<TransferOutcome> TransferAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken)
        {
            ResourceLeaseSet set;
            try
            {
                set = await registry.AcquireAllAsync(Requests(from, to), s_options, cancellationToken);
            }
            catch (ResourceUnavailableException)
            {
                return TransferOutcome.Unavailable;
            }

            await using (set)
            {
                long fromToken = set[NamedBank.AccountId(from)].FencingToken;
                long toToken = set[NamedBank.AccountId(to)].FencingToken;
                bool moved = await bank.ApplyAsync(from, to, amount, fromToken, toToken, awaitInside);
                return moved ? TransferOutcome.Committed : TransferOutcome.Rejected;
            }
        }
    }

    /// <summary><see cref="ResourceRegistry.RunAsync{T}(IEnumerable{ResourceRequest}, Func{CancellationToken, Task{T}}, MultiAcquireOptions?, CancellationToken)"/>: the registry acquires, runs and releases.</summary>
    private sealed class RunAsyncPath(ResourceRegistry registry, NamedBank bank) : INamedTransferPath
    {
        private static readonly MultiAcquireOptions s_options = new()
        {
            WaitTimeout = WaitTimeout,
            Lease = new LeaseOptions { Owner = "transfers", Purpose = "transfer" },
        };

        public string Name => "RunAsync";

        public async Task<TransferOutcome> TransferAsync(int from, int to, long amount, bool awaitInside, CancellationToken cancellationToken)
        {
            try
            {
                LockedResult<bool> result = await registry.RunAsync(
                    Requests(from, to),
                    async token => await bank.ApplyAsync(from, to, amount, fromToken: 0, toToken: 0, awaitInside),
                    s_options,
                    cancellationToken);
                return result.Value ? TransferOutcome.Committed : TransferOutcome.Rejected;
            }
            catch (ResourceUnavailableException)
            {
                return TransferOutcome.Unavailable;
            }
        }
    }
}
