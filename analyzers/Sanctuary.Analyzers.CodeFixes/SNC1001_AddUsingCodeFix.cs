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

/// <summary>
/// SNC1001: turns the declaration of the lease into a using declaration (await using when the lease
/// type has DisposeAsync and the code is async) and removes the explicit releases that it replaces.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC1001_AddUsingCodeFix))]
[Shared]
public sealed class SNC1001_AddUsingCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.SNC1001_LeaseNotReleased.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SyntaxNode? node = root?.FindNode(context.Span, getInnermostNodeForTie: true);

        // Only a plain local declaration can become a using declaration; out variables cannot.
        if (node?.FirstAncestorOrSelf<LocalDeclarationStatementSyntax>() is not { UsingKeyword.RawKind: 0, Parent: BlockSyntax } declaration
            || declaration.Declaration.Variables.Count != 1)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Dispose the lease with a using declaration",
                token => AddUsingAsync(context.Document, declaration, token),
                equivalenceKey: nameof(SNC1001_AddUsingCodeFix)),
            context.Diagnostics);
    }

    private static async Task<Document> AddUsingAsync(Document document, LocalDeclarationStatementSyntax declaration, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        SemanticModel model = (await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false))!;
        VariableDeclaratorSyntax variable = declaration.Declaration.Variables[0];
        ISymbol? local = model.GetDeclaredSymbol(variable, cancellationToken);
        ITypeSymbol? type = (local as ILocalSymbol)?.Type;
        bool awaitUsing = FixHelpers.IsInAsyncContext(declaration)
            && type?.GetMembers("DisposeAsync").Length > 0
            && type.GetMembers("Dispose").Length == 0;

        // The explicit releases of this local become redundant once the using releases it.
        var block = (BlockSyntax)declaration.Parent!;
        var releases = block.DescendantNodes().OfType<ExpressionStatementSyntax>().Where(statement =>
            statement.Expression is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Dispose" or "Release" } access }
            && access.Expression is IdentifierNameSyntax name
            && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, cancellationToken).Symbol, local)
            && statement.Parent is BlockSyntax).ToList();

        LocalDeclarationStatementSyntax replacement = declaration
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
            .WithLeadingTrivia(declaration.GetLeadingTrivia());
        if (awaitUsing)
        {
            replacement = replacement.WithAwaitKeyword(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        }

        replacement = replacement.WithDeclaration(replacement.Declaration.WithLeadingTrivia(SyntaxTriviaList.Empty));
        SyntaxNode updated = root.TrackNodes(releases.Cast<SyntaxNode>().Append(declaration));
        updated = updated.ReplaceNode(updated.GetCurrentNode(declaration)!, replacement.WithLeadingTrivia(declaration.GetLeadingTrivia()));
        foreach (ExpressionStatementSyntax release in releases)
        {
            updated = updated.RemoveNode(updated.GetCurrentNode(release)!, SyntaxRemoveOptions.KeepNoTrivia)!;
        }

        return document.WithSyntaxRoot(updated);
    }
}
