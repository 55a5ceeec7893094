using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Analyzers.Tests;

/// <summary>How the analyzers read the resources and modes of several [Sanctuary] attributes on one method.</summary>
public sealed class SanctuaryResourcesTests
{
    private const string Source = """
        using Sanctuary;

        public partial class Ledger
        {
            [Sanctuary("ledger", "account:{id}")]
            [Sanctuary("rates", "audit", Mode = LeaseMode.Read)]
            [Sanctuary("audit", "notes", Mode = LeaseMode.UpgradeableRead)]
            [Sanctuary("rates", Mode = LeaseMode.Write)]
            [Sanctuary("ledger", Mode = LeaseMode.Write)]
            public void Post(int id)
            {
            }

            public void Plain()
            {
            }
        }
        """;

    [Fact]
    public void GetSanctuaryResources_MergesModesPerId()
    {
        (SanctuaryModel model, IMethodSymbol post) = Compile("Post");

        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(post);

        // Ordinal order, each id once, templates left out.
        Assert.Equal(["audit", "ledger", "notes", "rates"], resources.Select(r => r.Id));
        Assert.Equal(LeaseModes.UpgradeableRead, resources[0].Mode);
        Assert.Equal(LeaseModes.Exclusive, resources[1].Mode);
        Assert.Equal(LeaseModes.UpgradeableRead, resources[2].Mode);
        Assert.Equal(LeaseModes.Write, resources[3].Mode);
    }

    [Fact]
    public void GetSanctuaryResources_KeepsFirstListingAttribute()
    {
        (SanctuaryModel model, IMethodSymbol post) = Compile("Post");
        ImmutableArray<AttributeData> attributes = model.GetSanctuaryAttributes(post);

        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(post);

        Assert.Equal(5, attributes.Length);
        Assert.Same(attributes[1], resources.Single(r => r.Id == "audit").Attribute);
        Assert.Same(attributes[0], resources.Single(r => r.Id == "ledger").Attribute);
        Assert.Same(attributes[2], resources.Single(r => r.Id == "notes").Attribute);
        Assert.Same(attributes[1], resources.Single(r => r.Id == "rates").Attribute);
    }

    [Fact]
    public void GetSanctuaryResources_MethodWithoutAttribute_IsEmpty()
    {
        (SanctuaryModel model, IMethodSymbol plain) = Compile("Plain");

        Assert.Empty(model.GetSanctuaryAttributes(plain));
        Assert.Empty(model.GetSanctuaryResources(plain));
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

    private static (SanctuaryModel Model, IMethodSymbol Method) Compile(string methodName)
    {
        // The running .NET plus Sanctuary.Core, which the test project copies next to the tests.
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) == "netstandard.dll")
            .Select(path => MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(AsyncLock).Assembly.Location));
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Resources",
            [CSharpSyntaxTree.ParseText(Source)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        IMethodSymbol method = compilation.GetTypeByMetadataName("Ledger")!.GetMembers(methodName).OfType<IMethodSymbol>().Single();
        return (SanctuaryModel.Create(compilation), method);
    }
}
