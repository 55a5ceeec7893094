using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Sanctuary.Analyzers.CodeFixes;

/// <summary>SNC1007: adds the partial modifier to the type that declares the [Sanctuary] method and to every type around it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC1007_MakePartialCodeFix))]
[Shared]
public sealed class SNC1007_MakePartialCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.SNC1007_SanctuaryTypeNotPartial.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } type)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create("Make the type partial", token => MakePartialAsync(context.Document, type, token), nameof(SNC1007_MakePartialCodeFix)),
            context.Diagnostics);
    }

    private static async Task<Document> MakePartialAsync(Document document, TypeDeclarationSyntax type, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var types = type.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)).ToList();
        SyntaxNode updated = root.ReplaceNodes(types, (original, rewritten) =>
        {
            SyntaxToken partialKeyword = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
            if (rewritten.Modifiers.Count == 0)
            {
                // The keyword takes over the leading trivia (indentation, comments) of the type keyword.
                return rewritten
                    .WithKeyword(rewritten.Keyword.WithLeadingTrivia(SyntaxTriviaList.Empty))
                    .WithModifiers(SyntaxFactory.TokenList(partialKeyword.WithLeadingTrivia(rewritten.Keyword.LeadingTrivia)));
            }

            return rewritten.WithModifiers(rewritten.Modifiers.Add(partialKeyword));
        });
        return document.WithSyntaxRoot(updated);
    }
}
