using System;
using Sanctuary.Generators.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>
/// The attribute written in every legal form generates the same code as the plain form, and the
/// illegal forms get a diagnostic. The harness checks on each run that the generator never throws.
/// </summary>
public class AttributeFormTests
{
    private const string Prelude = """
        using System;
        using Sanctuary;

        namespace Forms;

        [AttributeUsage(AttributeTargets.All)]
        public sealed class NoteAttribute : Attribute
        {
            public NoteAttribute(string first, string second)
            {
            }
        }

        public partial class Ledger
        {
            ATTRIBUTES
            public partial void Post(int amount);

            private void PostCore(int amount) { }
        }
        """;

    private static readonly string s_plain = Generate("""[Sanctuary("ledger", "audit")]""");

    [Theory]
    [InlineData("""[Note("ledger", "audit")] [Sanctuary("ledger", "audit")]""")]
    [InlineData("""[Sanctuary("ledger", "audit")] [Note("audit", "ledger")]""")]
    [InlineData("""[Note("x", "y"), Sanctuary("ledger", "audit")]""")]
    [InlineData("""[Sanctuary("audit", "ledger")]""")]
    [InlineData("""[Sanctuary(resources: new[] { "ledger", "audit" })]""")]
    [InlineData("""[Sanctuary(new string[] { "audit", "ledger" })]""")]
    [InlineData("""[Sanctuary(nameof(Ledger), "audit")]""", "Ledger")]
    [InlineData("""[Sanctuary("ledger", "audit", Mode = LeaseMode.Exclusive)]""")]
    [InlineData("""[SanctuaryAttribute("ledger", "audit")]""")]
    [InlineData("""[global::Sanctuary.Sanctuary("ledger", "audit")]""")]
    [InlineData("""[Sanctuary("led" + "ger", "audit")]""")]
    [InlineData("""[Sanctuary("ledger", "audit", Read = new string[0])]""")]
    [InlineData("""[Sanctuary("ledger", "audit", Write = [])]""")]
    public void LegalForm_GeneratesTheSameCodeAsThePlainForm(string attributes, string? ledgerId = null)
    {
        string expected = ledgerId is null ? s_plain : Generate($"""[Sanctuary("{ledgerId}", "audit")]""");
        Assert.Equal(expected, Generate(attributes));
    }

    [Theory]
    [InlineData("""[Sanctuary("ledger", Read = ["audit"])]""")]
    [InlineData("""[Sanctuary(resources: new[] { "ledger" }, Read = new string[] { "audit" })]""")]
    [InlineData("""[Sanctuary("ledger", Read = new[] { "audit" }, Mode = LeaseMode.Exclusive)]""")]
    [InlineData("""[Sanctuary(new[] { "ledger" }, Read = new[] { "aud" + "it" })]""")]
    public void ReadForms_GenerateSameCode(string attributes)
    {
        Assert.Equal(Generate("""[Sanctuary("ledger", Read = new[] { "audit" })]"""), Generate(attributes));
    }

    [Theory]
    [InlineData("""[Sanctuary(42)]""", "SNC4016")]
    [InlineData("""[Sanctuary("ledger", 42)]""", "SNC4016")]
    [InlineData("""[Sanctuary("ledger", TimeoutMilliseconds = "5")]""", "SNC4016")]
    [InlineData("""[Sanctuary("ledger", Priority = LeaseMode.Read)]""", "SNC4016")]
    [InlineData("""[Sanctuary("ledger", Read = "audit")]""", "SNC4016")]
    [InlineData("""[Sanctuary("ledger")] [Sanctuary("audit")]""", "SNC4018")]
    [InlineData("""[Sanctuary("ledger"), Sanctuary("ledger")]""", "SNC4018")]
    [InlineData("""[Sanctuary("ledger")] [Sanctuary("audit", Mode = LeaseMode.Read)]""", "SNC4018")]
    public void IllegalForm_ReportsADiagnosticAndGeneratesNothing(string attributes, string id)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude.Replace("ATTRIBUTES", attributes, StringComparison.Ordinal));
        Assert.Contains(id, run.DiagnosticIds);
        Assert.Empty(run.Result.GeneratedSources);
    }

    [Fact]
    public void ArgumentsThatDoNotBind_NeverThrow()
    {
        // Sources the compiler rejects in different ways; the harness fails the test if the generator throws.
        string[] attributes =
        {
            """[Sanctuary(Unknown = 1)]""",
            """[Sanctuary(null)]""",
            """[Sanctuary(new string[0])]""",
            """[Sanctuary("a", Mode = )]""",
            """[Sanctuary(typeof(int))]""",
            """[Sanctuary("a", TimeoutMilliseconds = int.MaxValue + 1L)]""",
            """[Sanctuary(NoSuchConstant)]""",
            """[Sanctuary("{amount", "{amount}")]""",
            """[Sanctuary(Read = 5)]""",
            """[Sanctuary(Read = null)]""",
            """[Sanctuary("a", Write = new string[] { null })]""",
            """[Sanctuary("a", Read = new[] { NoSuchConstant })]""",
            """[Sanctuary("a", Read = new object[] { "b" })]""",
        };

        foreach (string attribute in attributes)
        {
            GeneratorRun run = GeneratorHarness.Run(Prelude.Replace("ATTRIBUTES", attribute, StringComparison.Ordinal));
            Assert.NotEmpty(run.DiagnosticIds);
        }
    }

    private static string Generate(string attributes)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude.Replace("ATTRIBUTES", attributes, StringComparison.Ordinal));
        Assert.Empty(run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
        return run.SingleSource;
    }
}
