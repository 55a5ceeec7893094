using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Sanctuary.Generators.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>The examples of the user documentation compile with the generator.</summary>
public class DocumentationTests
{
    [Fact]
    public void GuideExample_CompilesWithTheGeneratedCode()
    {
        string guide = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "generator.md"));
        Match first = Regex.Match(guide, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(first.Success, "docs/generator.md has no C# example.");

        GeneratorRun run = GeneratorHarness.Run(first.Groups[1].Value);

        Assert.Empty(run.DiagnosticIds);
        GeneratorHarness.AssertCompiles(run);
        Assert.Contains("MoveAsyncCore(from, to, amount, cancellationToken)", run.SingleSource, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot([CallerFilePath] string path = "")
    {
        for (string? directory = Path.GetDirectoryName(path); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Sanctuary.Core.sln")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("The repository root was not found.");
    }
}
