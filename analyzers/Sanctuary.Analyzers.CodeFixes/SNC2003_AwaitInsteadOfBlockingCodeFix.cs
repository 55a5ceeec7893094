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

/// <summary>SNC2003: replaces <c>.Result</c> or <c>.GetAwaiter().GetResult()</c> with <c>await</c> inside async code.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC2003_AwaitInsteadOfBlockingCodeFix))]
[Shared]
public sealed class SNC2003_AwaitInsteadOfBlockingCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.SNC2003_BlockingOnAcquire.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SyntaxNode? node = root?.FindNode(context.Span, getInnermostNodeForTie: true);
        if (node is null || !FixHelpers.IsInAsyncContext(node))
        {
            return;
        }

        // x.Result, or x.GetAwaiter().GetResult(): the task is x.
        ExpressionSyntax? task = node switch
        {
            MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Result" } result => result.Expression,
            InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "GetResult", Expression: InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "GetAwaiter" } awaiter } } } => awaiter.Expression,
            _ => null,
        };
        if (task is null || node is not ExpressionSyntax blocking)
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create("Await the acquire", token => ReplaceAsync(context.Document, blocking, task, token), nameof(SNC2003_AwaitInsteadOfBlockingCodeFix)),
            context.Diagnostics);
    }

    private static async Task<Document> ReplaceAsync(Document document, ExpressionSyntax blocking, ExpressionSyntax task, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        ExpressionSyntax awaited = SyntaxFactory.ParenthesizedExpression(SyntaxFactory.AwaitExpression(task.WithoutTrivia()));

        // Parentheses are only kept where the await is itself the receiver of a member access.
        ExpressionSyntax replacement = blocking.Parent is MemberAccessExpressionSyntax or ElementAccessExpressionSyntax
            ? awaited
            : SyntaxFactory.AwaitExpression(task.WithoutTrivia());
        return document.WithSyntaxRoot(root.ReplaceNode(blocking, replacement.WithTriviaFrom(blocking)));
    }
}
