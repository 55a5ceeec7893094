using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Sanctuary.Generators.Model;

/// <summary>
/// A diagnostic waiting to be reported: its descriptor's id, where it points and its message
/// arguments. It keeps the syntax tree (not a Location), which stays the same object while its
/// file is unchanged, so equal diagnostics compare equal across compilations.
/// </summary>
internal sealed record DiagnosticInfo(string Id, SyntaxTree? Tree, TextSpan Span, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
    {
        SyntaxTree? tree = location is { IsInSource: true } ? location.SourceTree : null;
        TextSpan span = tree is null ? default : location!.SourceSpan;
        return new DiagnosticInfo(descriptor.Id, tree, span, new EquatableArray<string>(arguments));
    }

    public Diagnostic ToDiagnostic()
    {
        Location location = Tree is null ? Location.None : Location.Create(Tree, Span);
        object[] arguments = new object[Arguments.Count];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = Arguments[i];
        }

        return Diagnostic.Create(Descriptors.ById(Id), location, arguments);
    }
}

/// <summary>What parsing one annotated method produced: a model to emit, diagnostics, or both.</summary>
/// <param name="Model">The model, or null when the method cannot be generated.</param>
/// <param name="Diagnostics">Diagnostics to report; warnings may come with a model.</param>
internal sealed record ParseResult(MethodModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
