using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
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
/// SNC1002: moves the statements between the acquire and the protecting try (or using) to the start
/// of its body. SNC1003: wraps the statements between the acquire and the release in a try whose
/// finally holds the release.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC1002_MoveIntoTryCodeFix))]
[Shared]
public sealed class SNC1002_MoveIntoTryCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        Descriptors.SNC1002_ProtectionStartsLate.Id,
        Descriptors.SNC1003_ReleasedOutsideFinally.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (diagnostic.Id == Descriptors.SNC1002_ProtectionStartsLate.Id
                && diagnostic.Properties.TryGetValue(SNC1002_ReleaseProtectionAnalyzer.ProtectorProperty, out string? start)
                && node.FirstAncestorOrSelf<StatementSyntax>() is { Parent: BlockSyntax block } risky
                && int.TryParse(start, NumberStyles.Integer, CultureInfo.InvariantCulture, out int protectorStart)
                && block.Statements.FirstOrDefault(s => s.SpanStart == protectorStart) is { } protector)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Move the statements into the protected block", token => MoveAsync(context.Document, block, risky, protector, token), nameof(SNC1002_MoveIntoTryCodeFix)),
                    diagnostic);
            }
            else if (diagnostic.Id == Descriptors.SNC1003_ReleasedOutsideFinally.Id
                && node.FirstAncestorOrSelf<ExpressionStatementSyntax>() is { Parent: BlockSyntax releaseBlock } release)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Release the lease in a finally block", token => WrapAsync(context.Document, releaseBlock, release, token), nameof(SNC1002_MoveIntoTryCodeFix) + "Wrap"),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> MoveAsync(Document document, BlockSyntax block, StatementSyntax risky, StatementSyntax protector, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;

        // Everything from the first risky statement up to the protector moves into its body.
        int from = block.Statements.IndexOf(risky);
        int to = block.Statements.IndexOf(protector);
        List<StatementSyntax> moved = block.Statements.Skip(from).Take(to - from).ToList();
        StatementSyntax newProtector = protector switch
        {
            TryStatementSyntax tryStatement => tryStatement.WithBlock(tryStatement.Block.WithStatements(tryStatement.Block.Statements.InsertRange(0, moved))),
            UsingStatementSyntax { Statement: BlockSyntax body } usingStatement => usingStatement.WithStatement(body.WithStatements(body.Statements.InsertRange(0, moved))),
            _ => protector,
        };

        var statements = block.Statements.Take(from)
            .Append(newProtector.WithLeadingTrivia(risky.GetLeadingTrivia()))
            .Concat(block.Statements.Skip(to + 1));
        BlockSyntax newBlock = block.WithStatements(SyntaxFactory.List(statements)).WithAdditionalAnnotations(Microsoft.CodeAnalysis.Formatting.Formatter.Annotation);
        return document.WithSyntaxRoot(root.ReplaceNode(block, newBlock));
    }

    private static async Task<Document> WrapAsync(Document document, BlockSyntax block, ExpressionStatementSyntax release, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        SemanticModel model = (await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false))!;
        if (release.Expression is not InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax name } }
            || model.GetSymbolInfo(name, cancellationToken).Symbol is not ILocalSymbol local)
        {
            return document;
        }

        // The statement that acquires the lease: the last one before the release that mentions it.
        int releaseIndex = block.Statements.IndexOf(release);
        int acquireIndex = -1;
        for (int i = releaseIndex - 1; i >= 0; i--)
        {
            if (block.Statements[i].DescendantNodes().OfType<IdentifierNameSyntax>().Any(id => id.Identifier.ValueText == local.Name)
                || block.Statements[i].DescendantNodes().OfType<VariableDeclaratorSyntax>().Any(v => v.Identifier.ValueText == local.Name)
                || block.Statements[i].DescendantNodes().OfType<SingleVariableDesignationSyntax>().Any(v => v.Identifier.ValueText == local.Name))
            {
                acquireIndex = i;
                if (block.Statements[i].DescendantNodes().OfType<VariableDeclaratorSyntax>().Any(v => v.Identifier.ValueText == local.Name)
                    || block.Statements[i].DescendantNodes().OfType<SingleVariableDesignationSyntax>().Any(v => v.Identifier.ValueText == local.Name)
                    || block.Statements[i].DescendantNodes().OfType<AssignmentExpressionSyntax>().Any(a => a.Left is IdentifierNameSyntax left && left.Identifier.ValueText == local.Name))
                {
                    break;
                }
            }
        }

        if (acquireIndex < 0)
        {
            return document;
        }

        List<StatementSyntax> body = block.Statements.Skip(acquireIndex + 1).Take(releaseIndex - acquireIndex - 1).ToList();
        TryStatementSyntax tryStatement = SyntaxFactory.TryStatement(
            SyntaxFactory.Block(body),
            default,
            SyntaxFactory.FinallyClause(SyntaxFactory.Block(release.WithoutLeadingTrivia())))
            .WithLeadingTrivia(body.Count > 0 ? body[0].GetLeadingTrivia() : release.GetLeadingTrivia())
            .WithAdditionalAnnotations(Microsoft.CodeAnalysis.Formatting.Formatter.Annotation);

        var statements = block.Statements.Take(acquireIndex + 1)
            .Append((StatementSyntax)tryStatement)
            .Concat(block.Statements.Skip(releaseIndex + 1));
        return document.WithSyntaxRoot(root.ReplaceNode(block, block.WithStatements(SyntaxFactory.List(statements))));
    }
}
