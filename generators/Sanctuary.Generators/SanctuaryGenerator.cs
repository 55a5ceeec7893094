using Microsoft.CodeAnalysis;
using Sanctuary.Generators.Model;

namespace Sanctuary.Generators;

/// <summary>
/// Generates the locking code of every method marked [Sanctuary]: the implementation of the
/// partial method takes the named resources in ordinal order, all or nothing, runs the body
/// method while all are held and releases them in reverse order on every path.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class SanctuaryGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Step 1: every annotated method, parsed into an equatable model or diagnostics.
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.AttributeMetadataName,
                static (node, _) => Parser.IsCandidate(node),
                static (attributeContext, cancellationToken) => Parser.Parse(attributeContext, cancellationToken))
            .WithTrackingName(TrackingNames.Parse);

        // Step 2: the models alone, so that a change to diagnostics alone does not re-emit source.
        IncrementalValuesProvider<MethodModel> models = parsed
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.Model);

        // Step 3: the diagnostics alone, turned into Diagnostic objects only when reported.
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .Where(static list => list.Count != 0)
            .WithTrackingName(TrackingNames.Diagnostics);

        // Step 4: one source file per method.
        context.RegisterSourceOutput(models, static (output, model) => output.AddSource(model.HintName, Emitter.Emit(model)));
        context.RegisterSourceOutput(diagnostics, static (output, list) =>
        {
            foreach (DiagnosticInfo info in list)
            {
                output.ReportDiagnostic(info.ToDiagnostic());
            }
        });
    }
}

/// <summary>Names of the pipeline steps, which the incremental tests look up.</summary>
internal static class TrackingNames
{
    public const string Parse = "SanctuaryParse";
    public const string Model = "SanctuaryModel";
    public const string Diagnostics = "SanctuaryDiagnostics";
}
