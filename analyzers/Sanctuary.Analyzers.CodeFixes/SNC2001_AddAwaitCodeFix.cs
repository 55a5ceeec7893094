using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Sanctuary.Analyzers.CodeFixes;

/// <summary>
/// SNC2001: awaits the acquire. A discarded acquire becomes <c>using var lease = await ...;</c> so
/// that the lease it returns is released; an acquire used as a using resource gets the await it lacks.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC2001_AddAwaitCodeFix))]
[Shared]
public sealed class SNC2001_AddAwaitCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.SNC2001_AcquireNotAwaited.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax invocation
                || !FixHelpers.IsInAsyncContext(invocation)
                || !diagnostic.Properties.TryGetValue(SNC2001_AcquireNotAwaitedAnalyzer.ShapeProperty, out string? shape))
            {
                continue;
            }

            if (shape == SNC2001_AcquireNotAwaitedAnalyzer.UsingShape)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Await the acquire", token => AwaitAsync(context.Document, invocation, token), nameof(SNC2001_AddAwaitCodeFix)),
                    diagnostic);
            }
            else if (shape == SNC2001_AcquireNotAwaitedAnalyzer.StatementShape && invocation.FirstAncestorOrSelf<ExpressionStatementSyntax>() is { Parent: BlockSyntax } statement)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Await the acquire and hold the lease to the end of the block", token => HoldAsync(context.Document, statement, invocation, token), nameof(SNC2001_AddAwaitCodeFix) + "Hold"),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> AwaitAsync(Document document, InvocationExpressionSyntax invocation, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        AwaitExpressionSyntax awaited = SyntaxFactory.AwaitExpression(invocation.WithoutLeadingTrivia()).WithLeadingTrivia(invocation.GetLeadingTrivia());
        return document.WithSyntaxRoot(root.ReplaceNode(invocation, awaited));
    }

    private static async Task<Document> HoldAsync(Document document, ExpressionStatementSyntax statement, InvocationExpressionSyntax invocation, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        LocalDeclarationStatementSyntax declaration = SyntaxFactory.LocalDeclarationStatement(
                SyntaxFactory.VariableDeclaration(
                    SyntaxFactory.IdentifierName("var"),
                    SyntaxFactory.SingletonSeparatedList(
                        SyntaxFactory.VariableDeclarator(SyntaxFactory.Identifier("lease"))
                            .WithInitializer(SyntaxFactory.EqualsValueClause(SyntaxFactory.AwaitExpression(invocation.WithoutTrivia()))))))
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword))
            .NormalizeWhitespace()
            .WithTriviaFrom(statement);
        return document.WithSyntaxRoot(root.ReplaceNode(statement, declaration));
    }
}
