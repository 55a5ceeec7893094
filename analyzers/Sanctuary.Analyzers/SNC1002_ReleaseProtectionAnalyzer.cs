using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC1002 (code that can throw runs between an acquire and the try or using that releases the
/// lease) and SNC1003 (a lease released by a plain statement, which an exception skips).
/// </summary>
/// <remarks>
/// A statement counts as able to throw when it calls a method, awaits, creates an object, throws,
/// indexes an array or casts explicitly. Property reads and plain assignments do not count. A guard
/// such as <c>if (!lease.IsHeld) return;</c> runs only while the lease is not held, so its body does not
/// count either.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC1002_ReleaseProtectionAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property with the span start of the statement that protects the release (SNC1002).</summary>
    public const string ProtectorProperty = "Protector";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.SNC1002_ProtectionStartsLate,
        Descriptors.SNC1003_ReleasedOutsideFinally);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            start.RegisterOperationBlockAction(block =>
            {
                foreach (IOperation root in block.OperationBlocks)
                {
                    AnalyzerGuard.Run(root.Syntax, (block, root), state => Analyze(state.block, state.root, model));
                }
            });
        });
    }

    private static void Analyze(OperationBlockAnalysisContext context, IOperation root, SanctuaryModel model)
    {
        var references = new Dictionary<ILocalSymbol, List<ILocalReferenceOperation>>(SymbolEqualityComparer.Default);
        var acquisitions = new List<(ILocalSymbol Local, IOperation Site)>();
        foreach (IOperation operation in root.Descendants())
        {
            switch (operation)
            {
                case ILocalReferenceOperation reference:
                    if (!references.TryGetValue(reference.Local, out List<ILocalReferenceOperation>? list))
                    {
                        list = [];
                        references.Add(reference.Local, list);
                    }

                    list.Add(reference);
                    break;
                case IVariableDeclaratorOperation { Initializer.Value: { } value } declarator
                    when model.IsAcquiredLease(value, out _) && declarator.Parent?.Parent?.Parent is not (IUsingDeclarationOperation or IUsingOperation):
                    acquisitions.Add((declarator.Symbol, declarator));
                    break;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when model.IsAcquiredLease(assignment.Value, out _):
                    acquisitions.Add((target.Local, assignment));
                    break;
                case IInvocationOperation invocation when model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.OutParameter:
                    if (SanctuaryModel.OutLeaseLocal(invocation) is { } outLocal)
                    {
                        acquisitions.Add((outLocal, invocation));
                    }

                    break;
            }
        }

        foreach ((ILocalSymbol local, IOperation site) in acquisitions)
        {
            if (references.TryGetValue(local, out List<ILocalReferenceOperation>? uses))
            {
                Check(context, root, local, site, uses);
            }
        }
    }

    private static void Check(OperationBlockAnalysisContext context, IOperation root, ILocalSymbol local, IOperation site, List<ILocalReferenceOperation> uses)
    {
        // The acquire must be a statement of a block; other shapes are left to SNC1001.
        if (site.Syntax.FirstAncestorOrSelf<StatementSyntax>() is not { Parent: BlockSyntax block } acquireStatement)
        {
            return;
        }

        var releases = new List<(SyntaxNode Release, SyntaxNode? Protector)>();
        foreach (ILocalReferenceOperation use in uses)
        {
            if (use.Syntax.SpanStart <= acquireStatement.Span.End)
            {
                continue;
            }

            IOperation node = use;
            while (node.Parent is IConversionOperation)
            {
                node = node.Parent;
            }

            if (node.Parent is IInvocationOperation call && call.Instance == node && SanctuaryModel.IsReleaseName(call.TargetMethod.Name))
            {
                TryStatementSyntax? tryStatement = call.Syntax.FirstAncestorOrSelf<FinallyClauseSyntax>()?.Parent as TryStatementSyntax;
                releases.Add((call.Syntax, tryStatement));
            }
            else if (node.Parent is IUsingOperation usingOperation && usingOperation.Resources == node)
            {
                releases.Add((usingOperation.Syntax, usingOperation.Syntax));
            }
        }

        if (releases.Count == 0)
        {
            return;
        }

        (SyntaxNode firstRelease, SyntaxNode? protector) = releases.OrderBy(r => r.Release.SpanStart).First();
        if (protector is not null)
        {
            // SNC1002: the protecting statement must follow the acquire in the same block.
            if (protector.Parent != block)
            {
                return;
            }

            StatementSyntax? risky = Between(block, acquireStatement, (StatementSyntax)protector)
                .FirstOrDefault(statement => CanThrow(statement, local, context, root));
            if (risky is not null)
            {
                var properties = ImmutableDictionary<string, string?>.Empty.Add(ProtectorProperty, protector.SpanStart.ToString(System.Globalization.CultureInfo.InvariantCulture));
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1002_ProtectionStartsLate, risky.GetLocation(), [protector.GetLocation()], properties, local.Name));
            }

            return;
        }

        // SNC1003: every release is a plain statement; report when something before it can throw.
        if (releases.Any(r => r.Protector is not null))
        {
            return;
        }

        StatementSyntax? releaseStatement = firstRelease.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(s => s.Parent == block);
        if (releaseStatement is null)
        {
            return;
        }

        if (Between(block, acquireStatement, releaseStatement).Any(statement => CanThrow(statement, local, context, root)))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1003_ReleasedOutsideFinally, firstRelease.GetLocation(), local.Name));
        }
    }

    private static IEnumerable<StatementSyntax> Between(BlockSyntax block, StatementSyntax first, StatementSyntax last)
    {
        int from = block.Statements.IndexOf(first);
        int to = block.Statements.IndexOf(last);
        for (int i = from + 1; i < to; i++)
        {
            yield return block.Statements[i];
        }
    }

    private static bool CanThrow(StatementSyntax statement, ILocalSymbol lease, OperationBlockAnalysisContext context, IOperation root)
    {
        IOperation? operation = FindOperation(root, statement);
        if (operation is null)
        {
            return true;
        }

        // A guard on the lease: its body runs only while the lease is not held.
        if (operation is IConditionalOperation conditional && IsNotHeldCheck(conditional.Condition, lease) && EndsWithJump(conditional.WhenTrue))
        {
            return conditional.WhenFalse is not null && Throws(conditional.WhenFalse);
        }

        return Throws(operation);
    }

    private static IOperation? FindOperation(IOperation root, SyntaxNode statement) =>
        root.Descendants().FirstOrDefault(o => o.Syntax == statement);

    private static bool Throws(IOperation operation) =>
        operation.DescendantsAndSelf().Any(o => o switch
        {
            IInvocationOperation or IAwaitOperation or IObjectCreationOperation or IThrowOperation => true,
            IArrayElementReferenceOperation or IDynamicInvocationOperation or IDynamicMemberReferenceOperation => true,
            IConversionOperation { IsImplicit: false } conversion => !conversion.Conversion.IsIdentity,
            _ => false,
        });

    private static bool IsNotHeldCheck(IOperation condition, ILocalSymbol lease) =>
        LockKeys.Unwrap(condition) is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not
        && LockKeys.Unwrap(not.Operand) is IPropertyReferenceOperation { Property.Name: "IsHeld", Instance: ILocalReferenceOperation local }
        && SymbolEqualityComparer.Default.Equals(local.Local, lease);

    private static bool EndsWithJump(IOperation branch)
    {
        IOperation last = branch is IBlockOperation { Operations.Length: > 0 } block ? block.Operations[block.Operations.Length - 1] : branch;
        return last is IReturnOperation or IBranchOperation
            || last is IExpressionStatementOperation { Operation: IThrowOperation }
            || last is IThrowOperation;
    }
}
