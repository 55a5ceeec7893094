using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC2005: a Sanctuary lock or lease used as a Monitor lock, either in a lock statement or converted
/// to object for Monitor.Enter, TryEnter, Exit, Wait, Pulse or PulseAll. A local of type object that is
/// only ever assigned a Sanctuary lock counts too.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC2005_MonitorOnSanctuaryLockAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC2005_MonitorOnSanctuaryLock);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            start.RegisterOperationAction(operation => AnalyzeLock(operation, model), OperationKind.Lock);
            start.RegisterOperationAction(operation => AnalyzeMonitorCall(operation, model), OperationKind.Invocation);
        });
    }

    private static void AnalyzeLock(OperationAnalysisContext context, SanctuaryModel model)
    {
        var lockOperation = (ILockOperation)context.Operation;
        if (SanctuaryObject(lockOperation.LockedValue, model) is { } locked)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2005_MonitorOnSanctuaryLock, lockOperation.LockedValue.Syntax.GetLocation(), LockKeys.Text(locked), "a lock statement"));
        }
    }

    private static void AnalyzeMonitorCall(OperationAnalysisContext context, SanctuaryModel model)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, model.Monitor)
            || invocation.TargetMethod.Name is not ("Enter" or "TryEnter" or "Exit" or "Wait" or "Pulse" or "PulseAll")
            || invocation.Arguments.Length == 0)
        {
            return;
        }

        if (SanctuaryObject(invocation.Arguments[0].Value, model) is { } locked)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2005_MonitorOnSanctuaryLock, invocation.Arguments[0].Syntax.GetLocation(), LockKeys.Text(locked), "Monitor." + invocation.TargetMethod.Name));
        }
    }

    /// <summary>The Sanctuary lock or lease behind the locked expression, looking through one local of type object.</summary>
    private static IOperation? SanctuaryObject(IOperation value, SanctuaryModel model)
    {
        IOperation unwrapped = LockKeys.Unwrap(value)!;
        if (IsSanctuary(unwrapped.Type, model))
        {
            return unwrapped;
        }

        if (unwrapped is not ILocalReferenceOperation local)
        {
            return null;
        }

        IOperation? source = null;
        foreach (IOperation operation in SanctuaryModel.Root(value).Descendants())
        {
            IOperation? assigned = operation switch
            {
                IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local.Local) => declarator.Initializer?.Value,
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Local, local.Local) => assignment.Value,
                _ => null,
            };
            if (assigned is null)
            {
                continue;
            }

            IOperation inner = LockKeys.Unwrap(assigned)!;
            if (!IsSanctuary(inner.Type, model))
            {
                return null;
            }

            source ??= inner;
        }

        return source;
    }

    private static bool IsSanctuary(ITypeSymbol? type, SanctuaryModel model) => model.IsLockType(type) || model.IsLeaseType(type);
}
