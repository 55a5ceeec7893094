using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC2004: await, await foreach, await using or yield return while a sync-only lock is held: a
/// Sanctuary Scope, a Monitor between Enter and Exit, a System.Threading.Lock (Enter or EnterScope),
/// a ReaderWriterLockSlim between Enter and Exit, or a lock statement.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC2004_AwaitWhileHoldingSyncLockAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC2004_AwaitWhileHoldingSyncLock);

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
            if (body.Suspensions.Count == 0)
            {
                continue;
            }

            foreach (SuspensionPoint point in body.Suspensions)
            {
                Hold? held = body.HeldAt(point.Position).FirstOrDefault(h => h.SyncOnly);
                if (held is not null)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2004_AwaitWhileHoldingSyncLock, point.Location, held.Display, point.Kind));
                }
            }
        }
    }
}
