using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC2001: an async acquire whose task is discarded, assigned to <c>_</c>, used directly as a using
/// resource, or stored in a local that is never awaited or passed on.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC2001_AcquireNotAwaitedAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property with the shape of the code that the fix rewrites.</summary>
    public const string ShapeProperty = "Shape";

    /// <summary>The task is the whole expression statement, or assigned to a discard.</summary>
    public const string StatementShape = "Statement";

    /// <summary>The task is the resource of a using statement or declaration.</summary>
    public const string UsingShape = "Using";

    /// <summary>The task is stored in a local that nothing awaits.</summary>
    public const string LocalShape = "Local";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC2001_AcquireNotAwaited);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            start.RegisterOperationAction(operation => AnalyzerGuard.Run(operation.Operation.Syntax, operation, o => Analyze(o, model)), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, SanctuaryModel model)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (model.GetAcquireInfo(invocation.TargetMethod).Shape != AcquireShape.Async)
        {
            return;
        }

        // Awaited, or blocked on (SNC2003's case): the lease is taken out of the task.
        IOperation top = BodyModel.ClimbToResult(invocation, out bool awaited);
        if (awaited)
        {
            return;
        }

        string? shape = top.Parent switch
        {
            IExpressionStatementOperation => StatementShape,
            ISimpleAssignmentOperation { Target: IDiscardOperation } => StatementShape,
            IUsingOperation => UsingShape,
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Parent.Parent.Parent: IUsingDeclarationOperation or IUsingOperation } } => UsingShape,
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } when !IsConsumed(declarator.Symbol, top) => LocalShape,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } when !IsConsumed(local.Local, top) => LocalShape,
            _ => null,
        };

        if (shape is null)
        {
            return;
        }

        var properties = ImmutableDictionary<string, string?>.Empty.Add(ShapeProperty, shape);
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2001_AcquireNotAwaited, invocation.Syntax.GetLocation(), properties, invocation.TargetMethod.Name));
    }

    /// <summary>Whether any read of the local takes the task further than a status check.</summary>
    private static bool IsConsumed(ILocalSymbol local, IOperation anyOperation)
    {
        IOperation root = SanctuaryModel.Root(anyOperation);
        return root.Descendants().OfType<ILocalReferenceOperation>().Any(reference =>
            SymbolEqualityComparer.Default.Equals(reference.Local, local)
            && !(reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference)
            && !(reference.Parent is IPropertyReferenceOperation { Property.Name: "IsCompleted" or "IsCompletedSuccessfully" or "IsFaulted" or "IsCanceled" })
            && !reference.IsDeclaration);
    }
}
