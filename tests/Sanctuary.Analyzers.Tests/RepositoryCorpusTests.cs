using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Sanctuary.Analyzers.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Analyzers.Tests;

/// <summary>
/// The false-positive check: every rule runs over the repository's own samples and tests that use
/// Sanctuary.Core (see docs/analyzers/README.md, "False-positive corpus").
/// </summary>
public sealed class RepositoryCorpusTests(ITestOutputHelper output)
{
    /// <summary>
    /// Findings in the library's own tests that are deliberate: the test exercises exactly the misuse
    /// that the rule reports (a second release, a boxed copy, a lease left to expire). Keyed by file
    /// and rule; a new deliberate case belongs here or under a #pragma with its reason.
    /// </summary>
    private static readonly Dictionary<(string File, string Rule), string> s_deliberate = new()
    {
        [("tests/Sanctuary.Core.Tests/LeaseTests.cs", "SNC1005")] = "checks that a second release and a dispose after release do nothing",
        [("tests/Sanctuary.Core.Tests/LeaseTests.cs", "SNC1004")] = "checks Equals(object) with a boxed lease",
        [("tests/Sanctuary.Core.Tests/ScopeTests.cs", "SNC1005")] = "checks that a second release of a scope does nothing",
        [("tests/Sanctuary.Core.Tests/AsyncLockDisposeTests.cs", "SNC1005")] = "checks release after the lock is disposed, twice",
        [("tests/Sanctuary.Core.Tests/PriorityLock/PriorityLockAcquireTests.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.Tests/PriorityLock/PriorityLockAcquireTests.cs", "SNC1004")] = "checks Equals(object) with a boxed lease",
        [("tests/Sanctuary.Core.Tests/PriorityLock/PriorityLockScenarioTests.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.Tests/CapacityPool/CapacityPoolReserveTests.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.Tests/CapacityPool/CapacityPoolScenarioTests.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.Tests/ReaderWriterLock/ReaderWriterLockLeaseTests.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.Tests/ReaderWriterLock/ReaderWriterLockLeaseTests.cs", "SNC1004")] = "checks Equals(object) with a boxed lease",
        [("tests/Sanctuary.Core.Tests/ReaderWriterLock/ReaderWriterLockScopeTests.cs", "SNC1001")] = "failed timed tries checked with one compound assertion, and a try on another thread that must fail",
        [("tests/Sanctuary.Core.Tests/ReaderWriterLock/ReaderWriterLockScopeTests.cs", "SNC1006")] = "checks that upgrading a released scope throws",
        [("tests/Sanctuary.Core.Tests/Resources/PoolAndSnapshotTests.cs", "SNC1001")] = "leaves a reservation to expire",
        [("tests/Sanctuary.Core.Tests/Resources/LeaseExpiryTests.cs", "SNC1001")] = "leaves leases to expire",
        [("tests/Sanctuary.Core.Tests/Resources/RegistryAcquireTests.cs", "SNC2003")] = "a blocking loop that measures allocations",
        [("tests/Sanctuary.Core.Tests/Resources/TelemetryTests.cs", "SNC2003")] = "a blocking loop that measures allocations",
        [("tests/Sanctuary.Core.Tests/CapacityPool/CapacityPoolModel.cs", "SNC1001")] = "the model knows that an invalid amount made the try throw, which the analysis cannot see",
        [("tests/Sanctuary.Core.Tests/CapacityPool/CapacityPoolKit.cs", "SNC1001")] = "LooksIdle keeps the full reservation when the second try succeeds; it only runs against broken pools",
        [("tests/Sanctuary.Core.Tests/PriorityLock/PriorityLockKit.cs", "SNC1001")] = "LooksFree keeps the first lease when the second try succeeds; it only runs against broken locks",
        [("tests/Sanctuary.Core.SystematicTests/CapacityPool/CapacityPoolScenarios.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.SystematicTests/PriorityLock/PriorityLockScenarios.cs", "SNC1005")] = "checks that a second release does nothing",
        [("tests/Sanctuary.Core.SystematicTests/ReaderWriterLock/ReaderWriterLockScenarios.cs", "SNC1005")] = "checks that a second release does nothing",
    };

    public static TheoryData<string> Projects()
    {
        var data = new TheoryData<string>();
        foreach (string project in RepositoryCorpus.Projects())
        {
            data.Add(Path.GetRelativePath(RepositoryCorpus.Root, project).Replace('\\', '/'));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task RepositoryProject_ProducesNoUnexpectedDiagnostic(string project)
    {
        var compilation = RepositoryCorpus.Compile(Path.Combine(RepositoryCorpus.Root, project));
        Assert.NotEmpty(compilation.SyntaxTrees);
        bool isSample = project.StartsWith("samples/", StringComparison.Ordinal);

        var unexpected = new List<string>();
        foreach (Diagnostic diagnostic in await RepositoryCorpus.AnalyzeAsync(compilation))
        {
            string file = Path.GetRelativePath(RepositoryCorpus.Root, diagnostic.Location.SourceTree?.FilePath ?? string.Empty).Replace('\\', '/');

            // Tests release after their assertions on purpose, which SNC1003 (a suggestion) points out.
            bool suggestionInTests = !isSample && diagnostic.Severity < DiagnosticSeverity.Warning;
            if (suggestionInTests || s_deliberate.ContainsKey((file, diagnostic.Id)))
            {
                continue;
            }

            unexpected.Add(diagnostic.ToString());
        }

        foreach (string line in unexpected)
        {
            output.WriteLine(line);
        }

        Assert.True(unexpected.Count == 0, $"{unexpected.Count} unexpected diagnostic(s) in {project}:\n" + string.Join("\n", unexpected));
    }

    [Fact]
    public void Corpus_CoversTheSampleAndTheLibraryTests()
    {
        var projects = RepositoryCorpus.Projects().Select(p => Path.GetRelativePath(RepositoryCorpus.Root, p).Replace('\\', '/')).ToList();
        Assert.Contains("samples/Sanctuary.Demo", projects);
        Assert.Contains("tests/Sanctuary.Core.Tests", projects);
    }
}
