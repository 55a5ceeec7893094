using Sanctuary.Generators.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>The generated source for the main shapes, compared with reviewed expected files.</summary>
public class BaselineTests
{
    [Fact]
    public void ConstantIds_AsyncTaskOfT()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Sanctuary;

            namespace Demo;

            public partial class Ledger
            {
                [Sanctuary("ledger", "audit", "balances")]
                public partial Task<int> PostAsync(int amount, CancellationToken cancellationToken);

                private Task<int> PostAsyncCore(int amount, CancellationToken cancellationToken) => Task.FromResult(amount);
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("ConstantIdsAsyncTaskOfT", run.SingleSource);
    }

    [Fact]
    public void ConstantIds_SyncVoidRegistryMember()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using Sanctuary;
            using Sanctuary.Resources;

            namespace Demo
            {
                public partial class Inventory
                {
                    [SanctuaryRegistry]
                    private readonly ResourceRegistry _registry = new();

                    [Sanctuary("stock", "orders")]
                    public partial void Reserve(string sku, ref int count);

                    private void ReserveCore(string sku, ref int count) => count++;
                }
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("ConstantIdsSyncVoidRegistryMember", run.SingleSource);
    }

    [Fact]
    public void MixedModes_SyncSharedTimeout()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using Sanctuary;

            namespace Pricing;

            public partial class Quotes
            {
                [Sanctuary("quotes", Read = new[] { "rates", "calendar" }, TimeoutMilliseconds = 500)]
                public partial decimal Publish(decimal amount);

                private decimal PublishCore(decimal amount) => amount;
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("MixedModesSyncSharedTimeout", run.SingleSource);
    }

    [Fact]
    public void Templates_SyncMixedModes()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using Sanctuary;

            namespace Bank;

            public partial class Statements
            {
                [Sanctuary("statement:{account}", Read = new[] { "account:{account}", "rates" })]
                public partial void Print(long account);

                private void PrintCore(long account) { }
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("TemplatesSyncMixedModes", run.SingleSource);
    }

    [Fact]
    public void Templates_ValueTask()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using System.Threading;
            using System.Threading.Tasks;
            using Sanctuary;

            namespace Bank;

            public partial class Transfers
            {
                [Sanctuary("account:{from}", "account:{to}", "journal", TimeoutMilliseconds = 2000)]
                public partial ValueTask MoveAsync(long from, long to, decimal amount, CancellationToken cancellationToken = default);

                private ValueTask MoveAsyncCore(long from, long to, decimal amount, CancellationToken cancellationToken) => default;
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("TemplatesValueTask", run.SingleSource);
    }

    [Fact]
    public void ReadMode_SharedTimeout()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using Sanctuary;

            namespace Reports;

            public static partial class Catalog
            {
                [Sanctuary("prices", "catalog", Mode = LeaseMode.Read, Priority = LockPriority.High, TimeoutMilliseconds = 500, TimeToLiveMilliseconds = 30000, HeartbeatMilliseconds = 10000)]
                public static partial string Describe(int id);

                private static string DescribeCore(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("ReadModeSharedTimeout", run.SingleSource);
    }

    [Fact]
    public void GenericNestedStruct_GlobalNamespace()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Sanctuary;

            public partial class Outer<TKey>
                where TKey : notnull
            {
                public partial struct Inner
                {
                    [Sanctuary("cache")]
                    internal partial ValueTask<TValue?> LoadAsync<TValue>(TKey key)
                        where TValue : class;

                    private ValueTask<TValue?> LoadAsyncCore<TValue>(TKey key)
                        where TValue : class => default;
                }
            }
            """);

        GeneratorHarness.AssertCompiles(run);
        Baseline.AssertMatches("GenericNestedStructGlobalNamespace", run.SingleSource);
    }
}
