using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Sanctuary.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Analyzers.Tests;

/// <summary>Every rule has a docs page, an index row and a release-tracking entry that agree with its descriptor.</summary>
public sealed class DescriptorDocumentationTests
{
    private static readonly string s_docs = Path.Combine(RepositoryCorpus.Root, "docs", "analyzers");

    public static TheoryData<string> RuleIds()
    {
        var data = new TheoryData<string>();
        foreach (string id in Descriptors().Keys.Order(StringComparer.Ordinal))
        {
            data.Add(id);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void DocsPage_MatchesDescriptor(string id)
    {
        DiagnosticDescriptor descriptor = Descriptors()[id];
        string path = Path.Combine(s_docs, id + ".md");
        Assert.True(File.Exists(path), $"{id} has no docs page at docs/analyzers/{id}.md.");

        string[] lines = File.ReadAllLines(path);
        Assert.Equal($"# {id}: {descriptor.Title}", lines[0]);
        Assert.Contains($"Severity: {descriptor.DefaultSeverity}", lines);
        Assert.Contains($"Category: {descriptor.Category}", lines);
        foreach (string section in new[] { "## Rationale", "## Flagged examples", "## Fix", "## Configuration" })
        {
            Assert.Contains(section, lines);
        }
    }

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void IndexAndReleaseTracking_ListRule(string id)
    {
        DiagnosticDescriptor descriptor = Descriptors()[id];
        string index = File.ReadAllText(Path.Combine(s_docs, "README.md"));
        Assert.Contains($"| [{id}]({id}.md) | {descriptor.Title} | {descriptor.DefaultSeverity} |", index, StringComparison.Ordinal);

        string unshipped = File.ReadAllText(Path.Combine(RepositoryCorpus.Root, "analyzers", "Sanctuary.Analyzers", "AnalyzerReleases.Unshipped.md"));
        string shipped = File.ReadAllText(Path.Combine(RepositoryCorpus.Root, "analyzers", "Sanctuary.Analyzers", "AnalyzerReleases.Shipped.md"));
        string row = $"{id} | {descriptor.Category} | {descriptor.DefaultSeverity} |";
        Assert.True(unshipped.Contains(row, StringComparison.Ordinal) || shipped.Contains(row, StringComparison.Ordinal), $"No release-tracking row starts with '{row}'.");
    }

    [Fact]
    public void EveryDocsPage_BelongsToARule()
    {
        var ids = Descriptors().Keys.ToHashSet(StringComparer.Ordinal);
        foreach (string page in Directory.EnumerateFiles(s_docs, "SNC*.md"))
        {
            Assert.Contains(Path.GetFileNameWithoutExtension(page), ids);
        }
    }

    private static Dictionary<string, DiagnosticDescriptor> Descriptors()
    {
        var descriptors = new Dictionary<string, DiagnosticDescriptor>(StringComparer.Ordinal);
        foreach (var analyzer in RepositoryCorpus.Analyzers())
        {
            foreach (DiagnosticDescriptor descriptor in analyzer.SupportedDiagnostics)
            {
                descriptors[descriptor.Id] = descriptor;
            }
        }

        return descriptors;
    }
}
