// These tests need the Sanctuary generator. The project defines SANCTUARY_GENERATOR next to the
// generator's reference; without it this file is empty.
#if SANCTUARY_GENERATOR
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Sanctuary.Resources;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.SystematicTests.Generated;

/// <summary>
/// Methods whose [Sanctuary] attributes name the same resources in opposite orders, run under
/// Coyote. The generated code sorts the ids, so no schedule deadlocks; the twins take the same
/// resources in the written order (constant ids) or through a registry whose multi-acquire does
/// not sort (template ids), and Coyote must find their deadlock.
/// </summary>
public sealed class GeneratedAcquirerSystematicTests
{
    private const string Deadlock = "Deadlock detected";

    private readonly ITestOutputHelper _output;

    public GeneratedAcquirerSystematicTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void ConstantIds_OppositeOrderAttributes_NeverDeadlock() =>
        Liveness().AssertNoBug(() => Teller.OppositeOrdersAsync(RegistryFaults.None, generated: true));

    [Fact]
    public void WrittenOrder_DeadlockIsFound() =>
        Liveness().AssertBugFound(() => Teller.OppositeOrdersAsync(RegistryFaults.None, generated: false), Deadlock);

    [Fact]
    public void TemplateIds_OppositeTransfers_NeverDeadlock() =>
        Liveness().AssertNoBug(() => Teller.OppositeTransfersAsync(RegistryFaults.None));

    [Fact]
    public void TemplateIds_UnsortedRegistry_DeadlockIsFound() =>
        Liveness().AssertBugFound(() => Teller.OppositeTransfersAsync(RegistryFaults.UnsortedMultiAcquire), Deadlock);

    // One method writes x and reads y, the other writes y and reads x. The sort covers every
    // mode, so readers never meet a writer and nothing deadlocks.
    [Fact]
    public void OppositeRoles_NeverDeadlock() =>
        Liveness().AssertNoBug(() => Clerk.OppositeRolesAsync(generated: true));

    [Fact]
    public void OppositeRolesInWrittenOrder_DeadlockIsFound() =>
        Liveness().AssertBugFound(() => Clerk.OppositeRolesAsync(generated: false), Deadlock);

    private SystematicTest Liveness() => new(_output) { Iterations = 200, FailOnMaxSteps = true, MaxSteps = 5_000 };
}

/// <summary>Annotated methods with opposite orders, and the scenarios that run them.</summary>
internal sealed partial class Teller
{
    [SanctuaryRegistry]
    private readonly ResourceRegistry _registry;
    private readonly Exclusion _x = new("x");
    private readonly Exclusion _y = new("y");

    private Teller(ResourceRegistry registry)
    {
        _registry = registry;
    }

    /// <summary>Two tasks call methods naming x and y in opposite orders, twice each.</summary>
    public static async Task OppositeOrdersAsync(RegistryFaults faults, bool generated)
    {
        using ResourceRegistry registry = Create(faults);
        var teller = new Teller(registry);
        Task a = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await (generated ? teller.XThenYAsync("A") : teller.InWrittenOrderAsync("A", "x", "y"));
            }
        });
        Task b = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await (generated ? teller.YThenXAsync("B") : teller.InWrittenOrderAsync("B", "y", "x"));
            }
        });
        await Task.WhenAll(new[] { a, b });
        AssertQuiet(registry, teller);
    }

    /// <summary>Two tasks transfer between the same two accounts in opposite directions, twice each.</summary>
    public static async Task OppositeTransfersAsync(RegistryFaults faults)
    {
        using ResourceRegistry registry = Create(faults);
        var teller = new Teller(registry);
        Task a = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await teller.TransferAsync("A", 1, 2);
            }
        });
        Task b = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await teller.TransferAsync("B", 2, 1);
            }
        });
        await Task.WhenAll(new[] { a, b });
        AssertQuiet(registry, teller);
    }

    [Sanctuary("x", "y")]
    private partial Task XThenYAsync(string who);

    [Sanctuary("y", "x")]
    private partial Task YThenXAsync(string who);

    [Sanctuary("account:{first}", "account:{second}")]
    private partial Task TransferAsync(string who, int first, int second);

    private Task XThenYAsyncCore(string who) => HoldBothAsync(who);

    private Task YThenXAsyncCore(string who) => HoldBothAsync(who);

    private Task TransferAsyncCore(string who, int first, int second) => HoldBothAsync(who);

    // What the attributes would do without the generator's sort: take the ids as written.
    private async Task InWrittenOrderAsync(string who, string first, string second)
    {
        ResourceLease firstLease = await _registry.AcquireAsync(first);
        try
        {
            ResourceLease secondLease = await _registry.AcquireAsync(second);
            try
            {
                await HoldBothAsync(who);
            }
            finally
            {
                secondLease.Dispose();
            }
        }
        finally
        {
            firstLease.Dispose();
        }
    }

    private async Task HoldBothAsync(string who)
    {
        _x.Enter(who);
        _y.Enter(who);
        SchedulingPoint.Interleave();
        await Task.Yield();
        _y.Exit(who);
        _x.Exit(who);
    }

    private static ResourceRegistry Create(RegistryFaults faults) =>
        new(new ResourceRegistryOptions { TimeProvider = new ManualTimeProvider(), DefaultOwner = "systematic" }, faults);

    private static void AssertQuiet(ResourceRegistry registry, Teller teller)
    {
        Specification.Assert(teller._x.Entries == 4, "Expected 4 entries into the section, observed {0}.", teller._x.Entries);
        foreach (string id in new[] { "x", "y", "account:1", "account:2" })
        {
            bool free = registry.TryAcquire(id, out ResourceLease lease);
            lease.Dispose();
            Specification.Assert(free, "'{0}' is still held after every task finished; expected it free.", id);
        }
    }

    private sealed class Exclusion
    {
        private readonly string _resource;
        private int _inside;
        private int _entries;

        public Exclusion(string resource)
        {
            _resource = resource;
        }

        public int Entries => Volatile.Read(ref _entries);

        public void Enter(string who)
        {
            int inside = Interlocked.Increment(ref _inside);
            Interlocked.Increment(ref _entries);
            Specification.Assert(inside == 1, "Mutual exclusion violated: {0} entered '{1}' and observed {2} holders; expected 1.", who, _resource, inside);
        }

        public void Exit(string who)
        {
            int inside = Interlocked.Decrement(ref _inside);
            Specification.Assert(inside == 0, "Mutual exclusion violated: {0} left '{1}' and observed {2} holders still inside; expected 0.", who, _resource, inside);
        }
    }
}
#endif
