using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Sanctuary.Analyzers.CodeFixes;

/// <summary>
/// SNC3002: swaps two adjacent using declarations that acquire locks, so that they are taken in
/// canonical (ordinal) order. The analyzer offers the fix only on the acquisition that breaks that
/// order and only when the two declarations are neighbours in one block. SNC3003 is a
/// compilation-end diagnostic, which editors do not offer fixes for.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SNC3002_ReorderAcquisitionsCodeFix))]
[Shared]
public sealed class SNC3002_ReorderAcquisitionsCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.SNC3002_OrderInvertedInMethod.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (root is null
                || !diagnostic.Properties.TryGetValue(SNC3001_LockOrderAnalyzer.SwapFirstProperty, out string? firstStart)
                || !diagnostic.Properties.TryGetValue(SNC3001_LockOrderAnalyzer.SwapSecondProperty, out string? secondStart)
                || FindDeclaration(root, firstStart) is not { } first
                || FindDeclaration(root, secondStart) is not { } second)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create("Take the locks in canonical order", token => SwapAsync(context.Document, first, second, token), nameof(SNC3002_ReorderAcquisitionsCodeFix)),
                diagnostic);
        }
    }

    private static LocalDeclarationStatementSyntax? FindDeclaration(SyntaxNode root, string? start) =>
        int.TryParse(start, NumberStyles.Integer, CultureInfo.InvariantCulture, out int position)
            ? root.FindToken(position).Parent?.FirstAncestorOrSelf<LocalDeclarationStatementSyntax>()
            : null;

    private static async Task<Document> SwapAsync(Document document, LocalDeclarationStatementSyntax first, LocalDeclarationStatementSyntax second, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var block = (BlockSyntax)first.Parent!;
        int index = block.Statements.IndexOf(first);
        SyntaxList<StatementSyntax> statements = block.Statements
            .RemoveAt(index)
            .RemoveAt(index)
            .Insert(index, first.WithTriviaFrom(second))
            .Insert(index, second.WithTriviaFrom(first));
        return document.WithSyntaxRoot(root.ReplaceNode(block, block.WithStatements(statements)));
    }
}
