using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC2002: a method that is not async returns a task from inside a using scope or a try whose
/// finally releases a lease, so the lease is released before the task's work runs.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC2002_LeaseEndsBeforeTaskAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC2002_LeaseEndsBeforeTask);

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
                    if (root.Kind is OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block)
                    {
                        AnalyzerGuard.Run(root.Syntax, (block, root), state => Analyze(state.block, state.root, model));
                    }
                }
            });
        });
    }

    private static void Analyze(OperationBlockAnalysisContext context, IOperation root, SanctuaryModel model)
    {
        foreach (BodyModel body in BodyModel.Build(root, context.OwningSymbol, model))
        {
            // An async method keeps its scopes open until its awaits finish.
            if (body.Owner is not IMethodSymbol { IsAsync: false } method || !model.IsTaskLike(method.ReturnType))
            {
                continue;
            }

            foreach (IReturnOperation returned in body.Returns)
            {
                if (returned.Kind != OperationKind.Return || returned.ReturnedValue is not { } value || IsCompletedTask(value, model))
                {
                    continue;
                }

                Hold? lease = body.HeldAt(returned.Syntax.SpanStart).FirstOrDefault(h => h.Kind == HoldKind.Lease && h.ClosedOnEveryExit);
                if (lease is not null)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2002_LeaseEndsBeforeTask, returned.Syntax.GetLocation(), lease.Display.Trim('\'')));
                }
            }
        }
    }

    /// <summary>A task that is already complete when it is returned, so no work runs after the return.</summary>
    private static bool IsCompletedTask(IOperation value, SanctuaryModel model)
    {
        value = LockKeys.Unwrap(value)!;
        return value switch
        {
            IDefaultValueOperation or ILiteralOperation => true,
            IPropertyReferenceOperation { Property.Name: "CompletedTask" } => true,
            IInvocationOperation { TargetMethod.Name: "FromResult" or "FromException" or "FromCanceled" } invocation => model.IsTaskLike(invocation.TargetMethod.ContainingType),
            IObjectCreationOperation creation => model.IsTaskLike(creation.Type) && creation.Arguments.All(a => !model.IsTaskLike(a.Value.Type)),
            _ => false,
        };
    }
}
