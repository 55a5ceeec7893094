using System;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Sanctuary.Generators.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>
/// Every unsupported shape gets its own diagnostic, the generator emits nothing for that method,
/// and it never throws (the harness asserts that on every run).
/// </summary>
public class DiagnosticTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Sanctuary;
        using Sanctuary.Resources;

        """;

    [Fact]
    public void NonPartialType_ReportsSNC4001()
    {
        AssertReported("SNC4001", """
            public class Ledger
            {
                [Sanctuary("a")]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void NonPartialOuterType_ReportsSNC4001()
    {
        GeneratorRun run = AssertReported("SNC4001", """
            public class Outer
            {
                public partial class Inner
                {
                    [Sanctuary("a")]
                    public partial void Post();

                    private void PostCore() { }
                }
            }
            """);
        Assert.Contains("'Outer'", run.GeneratorDiagnostics.Single().GetMessage(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void MethodWithBody_ReportsSNC4002()
    {
        AssertReported("SNC4002", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public void Post() { }
            }
            """);
    }

    [Fact]
    public void MissingBodyMethod_ReportsSNC4003()
    {
        AssertReported("SNC4003", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial void Post(int amount);

                private void PostCore(long amount) { }
            }
            """);
    }

    [Fact]
    public void IteratorBody_ReportsSNC4004()
    {
        AssertReported("SNC4004", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial IEnumerable<int> Entries();

                private IEnumerable<int> EntriesCore()
                {
                    yield return 1;
                }
            }
            """);
    }

    [Fact]
    public void AsyncIterator_ReportsSNC4004()
    {
        AssertReported("SNC4004", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial IAsyncEnumerable<int> EntriesAsync();

                private async IAsyncEnumerable<int> EntriesAsyncCore()
                {
                    await Task.Yield();
                    yield return 1;
                }
            }
            """);
    }

    [Fact]
    public void AsyncVoidBody_ReportsSNC4005()
    {
        AssertReported("SNC4005", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial void Post();

                private async void PostCore() => await Task.Yield();
            }
            """);
    }

    [Fact]
    public void AsyncVoidMethod_ReportsSNC4005()
    {
        AssertReported("SNC4005", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public async void Post() => await Task.Yield();
            }
            """);
    }

    [Fact]
    public void CustomTaskLikeReturn_ReportsSNC4006()
    {
        AssertReported("SNC4006", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial Later Post();

                private Later PostCore() => new();
            }

            public sealed class Later
            {
                public TaskAwaiter GetAwaiter() => Task.CompletedTask.GetAwaiter();
            }
            """);
    }

    [Fact]
    public void RefParameterOnAsyncMethod_ReportsSNC4007()
    {
        AssertReported("SNC4007", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial Task Post(ref int amount);

                private Task PostCore(ref int amount) => Task.CompletedTask;
            }
            """);
    }

    [Fact]
    public void RefStructParameterOnAsyncMethod_ReportsSNC4007()
    {
        AssertReported("SNC4007", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public partial ValueTask Post(ReadOnlySpan<byte> payload);

                private ValueTask PostCore(ReadOnlySpan<byte> payload) => default;
            }
            """);
    }

    [Fact]
    public void RefReturn_ReportsSNC4008()
    {
        AssertReported("SNC4008", """
            public partial class Ledger
            {
                private int _total;

                [Sanctuary("a")]
                public partial ref int Total();

                private ref int TotalCore() => ref _total;
            }
            """);
    }

    [Fact]
    public void AbstractMethod_ReportsSNC4009()
    {
        AssertReported("SNC4009", """
            public abstract partial class Ledger
            {
                [Sanctuary("a")]
                public abstract void Post();
            }
            """);
    }

    [Fact]
    public void ExternMethod_ReportsSNC4009()
    {
        AssertReported("SNC4009", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                public static extern void Post();
            }
            """);
    }

    [Fact]
    public void InterfaceMethod_ReportsSNC4009()
    {
        AssertReported("SNC4009", """
            public partial interface ILedger
            {
                [Sanctuary("a")]
                void Post();
            }
            """);
    }

    [Fact]
    public void LocalFunction_ReportsSNC4010()
    {
        AssertReported("SNC4010", """
            public partial class Ledger
            {
                public void Run()
                {
                    Post();

                    [Sanctuary("a")]
                    static void Post() { }
                }
            }
            """);
    }

    [Fact]
    public void Lambda_ReportsSNC4010()
    {
        AssertReported("SNC4010", """
            public partial class Ledger
            {
                public Action Run() => [Sanctuary("a")] () => { };
            }
            """);
    }

    [Fact]
    public void NoIds_ReportsSNC4011()
    {
        AssertReported("SNC4011", """
            public partial class Ledger
            {
                [Sanctuary]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void EmptyId_ReportsSNC4012()
    {
        AssertReported("SNC4012", """
            public partial class Ledger
            {
                [Sanctuary("a", "")]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void NullId_ReportsSNC4012()
    {
        AssertReported("SNC4012", """
            public partial class Ledger
            {
                [Sanctuary("a", null)]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void DuplicateId_WarnsSNC4013AndGeneratesOneAcquire()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("x", "x")]
                public partial void Post();

                private void PostCore() { }
            }
            """);

        Assert.Equal(new[] { "SNC4013" }, run.DiagnosticIds);
        Assert.Equal(DiagnosticSeverity.Warning, run.GeneratorDiagnostics.Single().Severity);
        string source = run.SingleSource;
        Assert.Single(source.Split("GetHandle(\"x\")").Skip(1));
        GeneratorHarness.AssertCompiles(run);
    }

    [Fact]
    public void IdNamingMissingParameter_ReportsSNC4014()
    {
        AssertReported("SNC4014", """
            public partial class Ledger
            {
                [Sanctuary("account:{form}")]
                public partial void Post(int from);

                private void PostCore(int from) { }
            }
            """);
    }

    [Fact]
    public void IdNamingOutParameter_ReportsSNC4014()
    {
        AssertReported("SNC4014", """
            public partial class Ledger
            {
                [Sanctuary("account:{id}")]
                public partial void Open(out int id);

                private void OpenCore(out int id) => id = 1;
            }
            """);
    }

    [Theory]
    [InlineData("account:{from")]
    [InlineData("account:from}")]
    [InlineData("account:{}")]
    [InlineData("account:{from:}")]
    public void MalformedTemplate_ReportsSNC4015(string id)
    {
        AssertReported("SNC4015", """
            public partial class Ledger
            {
                [Sanctuary("ID")]
                public partial void Post(int from);

                private void PostCore(int from) { }
            }
            """.Replace("ID", id, System.StringComparison.Ordinal));
    }

    [Fact]
    public void IntegerId_ReportsSNC4016()
    {
        AssertReported("SNC4016", """
            public partial class Ledger
            {
                [Sanctuary(42)]
                public partial void Post();

                private void PostCore() { }
            }
            """, compilerErrorExpected: true);
    }

    [Fact]
    public void StringMode_ReportsSNC4016()
    {
        AssertReported("SNC4016", """
            public partial class Ledger
            {
                [Sanctuary("a", Mode = "read")]
                public partial void Post();

                private void PostCore() { }
            }
            """, compilerErrorExpected: true);
    }

    [Theory]
    [InlineData("TimeoutMilliseconds = -2")]
    [InlineData("TimeToLiveMilliseconds = 0")]
    [InlineData("HeartbeatMilliseconds = -5")]
    [InlineData("TimeToLiveMilliseconds = 1000, HeartbeatMilliseconds = 1000")]
    [InlineData("Mode = (LeaseMode)9")]
    [InlineData("Priority = (LockPriority)(-1)")]
    public void OptionOutOfRange_ReportsSNC4017(string option)
    {
        AssertReported("SNC4017", """
            public partial class Ledger
            {
                [Sanctuary("a", OPTION)]
                public partial void Post();

                private void PostCore() { }
            }
            """.Replace("OPTION", option, System.StringComparison.Ordinal));
    }

    [Fact]
    public void AppliedTwice_ReportsSNC4018()
    {
        AssertReported("SNC4018", """
            public partial class Ledger
            {
                [Sanctuary("a")]
                [Sanctuary("b", Mode = LeaseMode.Read)]
                public partial void Post();

                private void PostCore() { }
            }
            """, compilerErrorExpected: true);
    }

    [Fact]
    public void Overloads_GetTheirOwnFiles()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Accounts
            {
                [Sanctuary("account:{id}")]
                public partial void Touch(int id);

                [Sanctuary("account:{id}")]
                public partial void Touch(string id);

                [Sanctuary("account:{id}")]
                public partial void Touch<T>(T id);

                private void TouchCore(int id) { }

                private void TouchCore(string id) { }

                private void TouchCore<T>(T id) { }
            }
            """);

        Assert.Empty(run.DiagnosticIds);
        Assert.Equal(3, run.Result.GeneratedSources.Length);
        Assert.Equal(3, run.Result.GeneratedSources.Select(source => source.HintName).Distinct().Count());
        GeneratorHarness.AssertCompiles(run);
    }

    [Theory]
    [InlineData("in CancellationToken token")]
    [InlineData("ref CancellationToken token")]
    [InlineData("ref readonly CancellationToken token")]
    public void TokenByReference_FlowsIntoTheAcquire(string parameter)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("a", "b")]
                public partial void Post(PARAMETER);

                private void PostCore(PARAMETER) { }
            }
            """.Replace("PARAMETER", parameter, StringComparison.Ordinal));

        Assert.Empty(run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
        Assert.Equal(2, run.SingleSource.Split("Options, token)").Length - 1);
    }

    [Theory]
    [InlineData("TimeToLiveMilliseconds = 1000", true)]
    [InlineData("HeartbeatMilliseconds = 100", true)]
    [InlineData("TimeoutMilliseconds = 100", false)]
    public void LeasesThatCanExpire_AreCheckedBeforeTheBody(string option, bool checks)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("a", "b", OPTION)]
                public partial void Post();

                private void PostCore() { }
            }
            """.Replace("OPTION", option, StringComparison.Ordinal));

        Assert.Empty(run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
        Assert.Equal(checks, run.SingleSource.Contains("__sanctuaryLease0.ThrowIfLost();", StringComparison.Ordinal));
        Assert.DoesNotContain("__sanctuaryLease1.ThrowIfLost();", run.SingleSource, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAndWrite_GetTheirOwnOptions()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("a", Read = new[] { "b" }, Write = new[] { "c" }, TimeoutMilliseconds = 250, Priority = LockPriority.High)]
                public partial void Post();

                private void PostCore() { }
            }
            """);

        Assert.Empty(run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
        string source = run.SingleSource;

        // Each mode has its own cached options, and all carry the attribute's other settings.
        Assert.Contains("ExclusiveOptions = new", source, StringComparison.Ordinal);
        Assert.Contains("ReadOptions = new", source, StringComparison.Ordinal);
        Assert.Contains("WriteOptions = new", source, StringComparison.Ordinal);
        Assert.Equal(3, source.Split("WaitTimeout = global::System.TimeSpan.FromMilliseconds(250)").Length - 1);
        Assert.Equal(3, source.Split("Priority = global::Sanctuary.LockPriority.High").Length - 1);
        Assert.Contains("GetHandle(\"b\", global::Sanctuary.LeaseMode.Read,", source, StringComparison.Ordinal);
        Assert.Contains("GetHandle(\"c\", global::Sanctuary.LeaseMode.Write,", source, StringComparison.Ordinal);
    }

    [Fact]
    public void IdInTwoModes_WarnsSNC4022()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("a", "shared", Read = new[] { "shared", "b" })]
                public partial void Post();

                private void PostCore() { }
            }
            """);

        Assert.Equal(new[] { "SNC4022" }, run.DiagnosticIds);
        Diagnostic warning = run.GeneratorDiagnostics.Single();
        string message = warning.GetMessage(CultureInfo.InvariantCulture);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("'shared'", message, StringComparison.Ordinal);
        Assert.Contains("as Exclusive", message, StringComparison.Ordinal);
        Assert.Contains("Read = new[] { \"shared\", \"b\" }", warning.Location.SourceTree!.GetText().ToString(warning.Location.SourceSpan), StringComparison.Ordinal);
        GeneratorHarness.AssertCompiles(run);

        // "shared" is taken once, by an exclusive handle; "b" by a read handle.
        string source = run.SingleSource;
        Assert.Single(source.Split("GetHandle(\"shared\")").Skip(1));
        Assert.Contains("GetHandle(\"b\", global::Sanctuary.LeaseMode.Read,", source, StringComparison.Ordinal);
    }

    [Fact]
    public void TemplateInReadAndWrite_WarnsSNC4022()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary(Read = new[] { "account:{id}" }, Write = new[] { "account:{id}" })]
                public partial void Post(int id);

                private void PostCore(int id) { }
            }
            """);

        Assert.Equal(new[] { "SNC4022" }, run.DiagnosticIds);
        Assert.Contains("as Write", run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        GeneratorHarness.AssertCompiles(run);
        Assert.Single(run.SingleSource.Split("LeaseMode.Write),").Skip(1));
        Assert.DoesNotContain("LeaseMode.Read),", run.SingleSource, StringComparison.Ordinal);
    }

    [Fact]
    public void IdRepeatedInRead_WarnsSNC4013()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("a", Read = new[] { "x", "x" })]
                public partial void Post();

                private void PostCore() { }
            }
            """);

        Assert.Equal(new[] { "SNC4013" }, run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
    }

    [Fact]
    public void EmptyReadWithoutIds_ReportsSNC4011()
    {
        AssertReported("SNC4011", """
            public partial class Ledger
            {
                [Sanctuary(Read = new string[0])]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void InvalidIdInWrite_ReportsSNC4012AtWrite()
    {
        GeneratorRun run = AssertReported("SNC4012", """
            public partial class Ledger
            {
                [Sanctuary("a", Write = new[] { "b", "" })]
                public partial void Post();

                private void PostCore() { }
            }
            """);

        Diagnostic reported = run.GeneratorDiagnostics.Single(diagnostic => diagnostic.Id == "SNC4012");
        Assert.Contains("Write[1]", reported.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.StartsWith("Write =", reported.Location.SourceTree!.GetText().ToString(reported.Location.SourceSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadIdNamingMissingParameter_ReportsSNC4014()
    {
        AssertReported("SNC4014", """
            public partial class Ledger
            {
                [Sanctuary("a", Read = new[] { "rates:{day}" })]
                public partial void Post(int date);

                private void PostCore(int date) { }
            }
            """);
    }

    [Fact]
    public void ReadOfWrongType_ReportsSNC4016()
    {
        AssertReported("SNC4016", """
            public partial class Ledger
            {
                [Sanctuary("a", Read = new[] { 1, 2 })]
                public partial void Post();

                private void PostCore() { }
            }
            """, compilerErrorExpected: true);
    }

    [Fact]
    public void RegistryMemberOfWrongType_ReportsSNC4019()
    {
        AssertReported("SNC4019", """
            public partial class Ledger
            {
                [SanctuaryRegistry]
                private readonly object _registry = new();

                [Sanctuary("a")]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void InstanceRegistryForStaticMethod_ReportsSNC4019()
    {
        AssertReported("SNC4019", """
            public partial class Ledger
            {
                [SanctuaryRegistry]
                private readonly ResourceRegistry _registry = new();

                [Sanctuary("a")]
                public static partial void Post();

                private static void PostCore() { }
            }
            """);
    }

    [Fact]
    public void TwoRegistryMembers_ReportsSNC4020()
    {
        AssertReported("SNC4020", """
            public partial class Ledger
            {
                [SanctuaryRegistry]
                private readonly ResourceRegistry _first = new();

                [SanctuaryRegistry]
                private ResourceRegistry Second { get; } = new();

                [Sanctuary("a")]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void FileLocalType_ReportsSNC4021()
    {
        AssertReported("SNC4021", """
            file partial class Ledger
            {
                [Sanctuary("a")]
                public partial void Post();

                private void PostCore() { }
            }
            """);
    }

    [Fact]
    public void BrokenMethod_LeavesOthersGenerated()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Ledger
            {
                [Sanctuary("")]
                public partial void Broken();

                private void BrokenCore() { }

                [Sanctuary("a")]
                public partial void Fine();

                private void FineCore() { }
            }
            """);

        Assert.Equal(new[] { "SNC4012" }, run.DiagnosticIds);
        Assert.Contains("Fine", Assert.Single(run.Sources.Keys), System.StringComparison.Ordinal);
    }

    [Fact]
    public void EveryDescriptor_HasADocumentationPageWithItsTitle()
    {
        string docs = System.IO.Path.Combine(DocumentationTests.RepositoryRoot(), "docs", "generator");
        foreach (DiagnosticDescriptor descriptor in Descriptors.All)
        {
            string page = System.IO.Path.Combine(docs, descriptor.Id + ".md");
            Assert.True(System.IO.File.Exists(page), $"{descriptor.Id} has no page at {page}.");
            string firstLine = System.IO.File.ReadLines(page).First();
            Assert.Equal($"# {descriptor.Id}: {descriptor.Title}", firstLine);
        }
    }

    // Runs the generator and checks that it reported the id, generated nothing and did not throw.
    private static GeneratorRun AssertReported(string id, string source, bool compilerErrorExpected = false)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + source);
        Assert.Contains(id, run.DiagnosticIds);
        Assert.Empty(run.Result.GeneratedSources);
        Diagnostic reported = run.GeneratorDiagnostics.First(diagnostic => diagnostic.Id == id);
        Assert.True(reported.Location.IsInSource, $"{id} has no source location.");
        Assert.False(string.IsNullOrWhiteSpace(reported.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
        if (!compilerErrorExpected)
        {
            // Apart from the missing implementation of the partial method, the source itself is valid.
            Assert.All(
                run.Input.GetDiagnostics().Where(diagnostic => diagnostic.Severity == DiagnosticSeverity.Error),
                diagnostic => Assert.Contains(diagnostic.Id, new[] { "CS8795", "CS0751", "CS8796", "CS0759", "CS0106", "CS8818", "CS8817" }));
        }

        return run;
    }
}
