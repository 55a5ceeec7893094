using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC1007: a [Sanctuary] method in a type (or a type nested in one) that is not partial, so the
/// generator cannot add the code that acquires the method's resources.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC1007_SanctuaryTypeNotPartialAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC1007_SanctuaryTypeNotPartial);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);

            // Without the attribute type in the compilation no method can carry it.
            if (model.SanctuaryAttribute is null)
            {
                return;
            }

            start.RegisterSymbolAction(symbol => Analyze(symbol, model), SymbolKind.Method);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, SanctuaryModel model)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (model.GetSanctuaryAttribute(method)?.ApplicationSyntaxReference is not { } applied)
        {
            return;
        }

        for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            bool isPartial = type.DeclaringSyntaxReferences
                .Select(reference => reference.GetSyntax(context.CancellationToken))
                .OfType<TypeDeclarationSyntax>()
                .Any(declaration => declaration.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!isPartial)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1007_SanctuaryTypeNotPartial, applied.GetSyntax(context.CancellationToken).GetLocation(), type.Name, method.Name));
                return;
            }
        }
    }
}
