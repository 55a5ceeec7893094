using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC1007_SanctuaryTypeNotPartialAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC1007_MakePartialCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1007_SanctuaryTypeNotPartialAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1007_SanctuaryTypeNotPartialTests
{
    [Fact]
    public Task PartialType_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        partial class Ledger
        {
            [Sanctuary("ledger")]
            public Task PostAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task CodeFix_MakesOuterAndInnerTypesPartial() => Fix.VerifyAsync(
        """
        public class Outer
        {
            public class Ledger
            {
                [{|SNC1007:Sanctuary("ledger")|}]
                public Task PostAsync() => Task.CompletedTask;
            }
        }
        """,
        """
        public partial class Outer
        {
            public partial class Ledger
            {
                [Sanctuary("ledger")]
                public Task PostAsync() => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public Task CodeFix_TypeWithoutModifiers() => Fix.VerifyAsync(
        """
        class Ledger
        {
            [{|SNC1007:Sanctuary("ledger")|}]
            public Task PostAsync() => Task.CompletedTask;
        }
        """,
        """
        partial class Ledger
        {
            [Sanctuary("ledger")]
            public Task PostAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task ReadAndWriteLists_ReportedAtAttribute() => Verify.VerifyAsync("""
        class Ledger
        {
            [{|SNC1007:Sanctuary("ledger", Read = new[] { "rates", "audit" })|}]
            public Task PostAsync() => Task.CompletedTask;

            // No positional ids: the resources are named only by Write.
            [{|SNC1007:Sanctuary(Write = new[] { "rates" })|}]
            public Task UpdateRatesAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task DuplicateAttribute_ReportedOnceAtFirst() => Verify.VerifyAsync("""
        class Ledger
        {
            // Applying [Sanctuary] twice is a compiler error. The analyzer reads the first and does not fail.
            [{|SNC1007:Sanctuary("ledger")|}]
            [{|CS0579:Sanctuary|}("rates", Mode = LeaseMode.Read)]
            public Task PostAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task CodeFix_ReadAndWriteLists() => Fix.VerifyAsync(
        """
        class Ledger
        {
            [{|SNC1007:Sanctuary("ledger", Read = new[] { "rates" }, Write = new[] { "books" })|}]
            public Task PostAsync() => Task.CompletedTask;
        }
        """,
        """
        partial class Ledger
        {
            [Sanctuary("ledger", Read = new[] { "rates" }, Write = new[] { "books" })]
            public Task PostAsync() => Task.CompletedTask;
        }
        """);
}
