using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Sanctuary.Generators.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>
/// Edits that do not touch an annotated method leave the generator's steps cached or unchanged,
/// so the IDE does not regenerate (or re-report) on every keystroke.
/// </summary>
public class IncrementalTests
{
    private const string Annotated = """
        using System.Threading;
        using System.Threading.Tasks;
        using Sanctuary;

        namespace Demo;

        public partial class Ledger
        {
            [Sanctuary("ledger", "account:{id}")]
            public partial Task PostAsync(int id, CancellationToken cancellationToken);

            private Task PostAsyncCore(int id, CancellationToken cancellationToken) => Task.CompletedTask;

            [Sanctuary("")]
            public partial void Broken();

            private void BrokenCore() { }
        }
        """;

    private const string Unrelated = """
        namespace Demo;

        public static class Helpers
        {
            public static int Twice(int value) => value * 2;
        }
        """;

    [Fact]
    public void EditInAnotherFile_CachesEveryStep()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Annotated, Unrelated);
        GeneratorRun initial = GeneratorHarness.Run(first, GeneratorHarness.CreateDriver());

        SyntaxTree old = first.SyntaxTrees.Last();
        SyntaxTree edited = old.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(Unrelated.Replace("value * 2", "value + value", System.StringComparison.Ordinal)));
        GeneratorRun second = GeneratorHarness.Run(first.ReplaceSyntaxTree(old, edited), initial.Driver);

        AssertAllOutputs(second, TrackingNames.Model, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertAllOutputs(second, TrackingNames.Diagnostics, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void SameFileEdit_LeavesModelUnchanged()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Annotated);
        GeneratorRun initial = GeneratorHarness.Run(first, GeneratorHarness.CreateDriver());

        // A new member in the annotated type: the method is parsed again, and its model compares equal.
        string changed = Annotated.Replace("private void BrokenCore() { }", "private void BrokenCore() { }\n\n    public int Count { get; set; }", System.StringComparison.Ordinal);
        SyntaxTree old = first.SyntaxTrees.Single();
        GeneratorRun second = GeneratorHarness.Run(first.ReplaceSyntaxTree(old, old.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(changed))), initial.Driver);

        AssertAllOutputs(second, TrackingNames.Model, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        Assert.Equal(initial.Sources, second.Sources);
    }

    [Fact]
    public void EditOfTheIds_ModifiesTheModel()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Annotated);
        GeneratorRun initial = GeneratorHarness.Run(first, GeneratorHarness.CreateDriver());

        string changed = Annotated.Replace("\"ledger\"", "\"journal\"", System.StringComparison.Ordinal);
        SyntaxTree old = first.SyntaxTrees.Single();
        GeneratorRun second = GeneratorHarness.Run(first.ReplaceSyntaxTree(old, old.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(changed))), initial.Driver);

        Assert.Contains(
            second.Result.TrackedSteps[TrackingNames.Model].SelectMany(step => step.Outputs),
            output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("journal", second.Sources.Values.Single(), System.StringComparison.Ordinal);
    }

    [Fact]
    public void Models_HoldNoRoslynObjects()
    {
        // Symbols, syntax nodes or compilations in a model would defeat caching and keep compilations alive.
        foreach (System.Type type in new[] { typeof(Model.MethodModel), typeof(Model.ParameterModel), typeof(Model.ResourceIdModel), typeof(Model.OptionsModel), typeof(Model.RegistryModel), typeof(Model.ContainingTypeModel) })
        {
            foreach (System.Reflection.PropertyInfo property in type.GetProperties())
            {
                Assert.False(
                    property.PropertyType.Namespace?.StartsWith("Microsoft.CodeAnalysis", System.StringComparison.Ordinal) == true,
                    $"{type.Name}.{property.Name} is a {property.PropertyType}.");
            }
        }
    }

    private static void AssertAllOutputs(GeneratorRun run, string step, params IncrementalStepRunReason[] allowed)
    {
        Assert.True(run.Result.TrackedSteps.TryGetValue(step, out var steps), $"The step {step} did not run.");
        var reasons = steps.SelectMany(s => s.Outputs).Select(output => output.Reason).ToArray();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.Contains(reason, allowed));
    }
}
