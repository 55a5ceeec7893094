using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Sanctuary.Analyzers.Tests.Infrastructure;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Analyzers.Tests;

/// <summary>How the analyzers read the resources and modes of a method's [Sanctuary] attribute.</summary>
public sealed class SanctuaryResourcesTests
{
    private const string Source = """
        using Sanctuary;

        public partial class Ledger
        {
            [Sanctuary("ledger", "account:{id}", Mode = LeaseMode.UpgradeableRead, Read = new[] { "audit", "ledger", "notes" }, Write = new[] { "rates", "notes", "journal:{id}" })]
            public void Post(int id)
            {
            }

            [Sanctuary("ledger", Read = new[] { "ledger", "rates" }, Write = new[] { "ledger" })]
            public void Close()
            {
            }

            [Sanctuary(Write = new[] { "rates" })]
            public void UpdateRates()
            {
            }

            [Sanctuary("ledger", Read = new[] { "rates" }, Write = new[] { "books" })]
            public void WithArrays()
            {
            }

            [Sanctuary("ledger", Read = ["rates"], Write = ["books"])]
            public void WithCollectionExpressions()
            {
            }

            [Sanctuary(null, Read = null, Write = new[] { "rates" })]
            public void WithNullArrays()
            {
            }

            public void Plain()
            {
            }
        }
        """;

    private const string DuplicateSource = """
        using Sanctuary;

        public partial class Ledger
        {
            [Sanctuary("ledger", Read = new[] { "rates" })]
            [Sanctuary("rates", "books")]
            public void Post()
            {
            }
        }
        """;

    [Fact]
    public void GetSanctuaryResources_MergesModesPerId()
    {
        (SanctuaryModel model, IMethodSymbol post) = Find(Compile(Source), "Post");

        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(post);

        // Ordinal order, each id once, templates left out.
        Assert.Equal(["audit", "ledger", "notes", "rates"], resources.Select(r => r.Id));
        Assert.Equal(LeaseModes.Read, resources[0].Mode);
        Assert.Equal(LeaseModes.UpgradeableRead, resources[1].Mode);
        Assert.Equal(LeaseModes.Write, resources[2].Mode);
        Assert.Equal(LeaseModes.Write, resources[3].Mode);
    }

    [Fact]
    public void GetSanctuaryResources_DefaultModeIsExclusive()
    {
        (SanctuaryModel model, IMethodSymbol close) = Find(Compile(Source), "Close");

        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(close);

        // "ledger" is positional (Exclusive), in Read and in Write: Exclusive wins.
        Assert.Equal(["ledger", "rates"], resources.Select(r => r.Id));
        Assert.Equal(LeaseModes.Exclusive, resources[0].Mode);
        Assert.Equal(LeaseModes.Read, resources[1].Mode);
    }

    [Fact]
    public void GetSanctuaryResources_WriteWithoutPositionalIds()
    {
        (SanctuaryModel model, IMethodSymbol updateRates) = Find(Compile(Source), "UpdateRates");

        SanctuaryResource resource = Assert.Single(model.GetSanctuaryResources(updateRates));

        Assert.Equal("rates", resource.Id);
        Assert.Equal(LeaseModes.Write, resource.Mode);
    }

    [Fact]
    public void GetSanctuaryResources_CollectionExpressionsMatchArrays()
    {
        CSharpCompilation compilation = Compile(Source);
        (SanctuaryModel model, IMethodSymbol withArrays) = Find(compilation, "WithArrays");
        (_, IMethodSymbol withCollections) = Find(compilation, "WithCollectionExpressions");

        ImmutableArray<SanctuaryResource> expected = model.GetSanctuaryResources(withArrays);
        ImmutableArray<SanctuaryResource> actual = model.GetSanctuaryResources(withCollections);

        Assert.Equal(["books", "ledger", "rates"], expected.Select(r => r.Id));
        Assert.Equal([LeaseModes.Write, LeaseModes.Exclusive, LeaseModes.Read], expected.Select(r => r.Mode));
        Assert.Equal(expected.Select(r => (r.Id, r.Mode)), actual.Select(r => (r.Id, r.Mode)));
    }

    [Fact]
    public void GetSanctuaryResources_NullArraysAddNothing()
    {
        (SanctuaryModel model, IMethodSymbol withNullArrays) = Find(Compile(Source), "WithNullArrays");

        SanctuaryResource resource = Assert.Single(model.GetSanctuaryResources(withNullArrays));

        Assert.Equal("rates", resource.Id);
        Assert.Equal(LeaseModes.Write, resource.Mode);
    }

    [Fact]
    public void GetSanctuaryResources_MethodWithoutAttribute_IsEmpty()
    {
        (SanctuaryModel model, IMethodSymbol plain) = Find(Compile(Source), "Plain");

        Assert.Null(model.GetSanctuaryAttribute(plain));
        Assert.Empty(model.GetSanctuaryResources(plain));
    }

    [Fact]
    public void DuplicateAttribute_ReadsFirstOnly()
    {
        CSharpCompilation compilation = Compile(DuplicateSource, allowErrors: true);
        (SanctuaryModel model, IMethodSymbol post) = Find(compilation, "Post");

        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(post);

        Assert.Contains(compilation.GetDiagnostics(), d => d.Id == "CS0579");
        Assert.Equal(["ledger", "rates"], resources.Select(r => r.Id));
        Assert.Equal(LeaseModes.Exclusive, resources[0].Mode);
        Assert.Equal(LeaseModes.Read, resources[1].Mode);
    }

    [Fact]
    public async Task DuplicateAttribute_NoAnalyzerFails()
    {
        CSharpCompilation compilation = Compile(DuplicateSource, allowErrors: true);

        ImmutableArray<Diagnostic> diagnostics = await RepositoryCorpus.AnalyzeAsync(compilation);

        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
    }

    [Fact]
    public void LeaseModesMerge_MatchesResourceRequestMerge()
    {
        // The library's rule is internal, so it is read by reflection. A renamed method fails the NotNull check.
        MethodInfo? merge = typeof(ResourceRequest).GetMethod("Merge", BindingFlags.NonPublic | BindingFlags.Static, [typeof(LeaseMode), typeof(LeaseMode)]);
        Assert.NotNull(merge);

        foreach (LeaseMode left in Enum.GetValues<LeaseMode>())
        {
            foreach (LeaseMode right in Enum.GetValues<LeaseMode>())
            {
                var expected = (LeaseMode)merge.Invoke(null, [left, right])!;
                var actual = (LeaseMode)LeaseModes.Merge((int)left, (int)right);
                Assert.True(expected == actual, $"Merge({left}, {right}): the library returns {expected}, the analyzers {actual}.");
            }
        }
    }

    private static CSharpCompilation Compile(string source, bool allowErrors = false)
    {
        // The running .NET plus Sanctuary.Core, which the test project copies next to the tests.
        // The parse options are the compiler's default language version, C# 12 or later, which
        // has collection expressions.
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) == "netstandard.dll")
            .Select(path => MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(AsyncLock).Assembly.Location));
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Resources",
            [CSharpSyntaxTree.ParseText(source)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        if (!allowErrors)
        {
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        }

        return compilation;
    }

    private static (SanctuaryModel Model, IMethodSymbol Method) Find(CSharpCompilation compilation, string methodName)
    {
        IMethodSymbol method = compilation.GetTypeByMetadataName("Ledger")!.GetMembers(methodName).OfType<IMethodSymbol>().Single();
        return (SanctuaryModel.Create(compilation), method);
    }
}
