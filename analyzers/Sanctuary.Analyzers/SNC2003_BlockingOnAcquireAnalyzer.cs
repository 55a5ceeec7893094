using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC2003: <c>.Result</c>, <c>.Wait()</c> or <c>GetAwaiter().GetResult()</c> on the task of an async
/// acquire, directly or through a local that is only ever assigned such tasks. The message is stronger when
/// another lease is held at that point.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC2003_BlockingOnAcquireAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC2003_BlockingOnAcquire);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            start.RegisterOperationAction(
                operation => AnalyzerGuard.Run(operation.Operation.Syntax, operation, o => Analyze(o, model)),
                OperationKind.PropertyReference,
                OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, SanctuaryModel model)
    {
        IOperation? task;
        string how;
        switch (context.Operation)
        {
            case IPropertyReferenceOperation { Property.Name: "Result", Instance: { } instance }:
                task = instance;
                how = ".Result";
                break;
            case IInvocationOperation { TargetMethod.Name: "Wait", Instance: { } instance }:
                task = instance;
                how = ".Wait()";
                break;
            case IInvocationOperation { TargetMethod.Name: "GetResult", Instance: IInvocationOperation { TargetMethod.Name: "GetAwaiter", Instance: { } instance } }:
                task = instance;
                how = ".GetAwaiter().GetResult()";
                break;
            default:
                return;
        }

        if (!model.IsTaskLike(LockKeys.Unwrap(task)?.Type) && LockKeys.Unwrap(task) is not IInvocationOperation { TargetMethod.Name: "ConfigureAwait" })
        {
            return;
        }

        IInvocationOperation? acquire = TraceAcquire(task, model);
        if (acquire is null)
        {
            return;
        }

        // The stronger message: a lease held while this thread blocks.
        IOperation root = SanctuaryModel.Root(context.Operation);
        string held = string.Empty;
        foreach (BodyModel body in BodyModel.Build(root, context.ContainingSymbol, model))
        {
            if (!body.Root.Syntax.Span.Contains(context.Operation.Syntax.Span) || body.Invocations.All(i => i != acquire))
            {
                continue;
            }

            Hold? other = body.HeldAt(context.Operation.Syntax.SpanStart).FirstOrDefault(h => h.Kind != HoldKind.ThreadLock && h.Site != acquire.Syntax);
            if (other is not null)
            {
                held = "; " + other.Display + " is held here, so this can deadlock with a flow that holds the awaited lock and waits for " + other.Display;
            }
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC2003_BlockingOnAcquire, context.Operation.Syntax.GetLocation(), acquire.TargetMethod.Name, how, held));
    }

    private static IInvocationOperation? TraceAcquire(IOperation task, SanctuaryModel model)
    {
        IOperation? current = task;
        while (true)
        {
            current = LockKeys.Unwrap(current);
            switch (current)
            {
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "AsTask", Instance: { } inner }:
                    current = inner;
                    continue;
                case IInvocationOperation invocation when model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.Async:
                    return invocation;
                case ILocalReferenceOperation local:
                    return TraceLocal(local, model);
                default:
                    return null;
            }
        }
    }

    private static IInvocationOperation? StripToAcquire(IOperation value, SanctuaryModel model)
    {
        IOperation? current = LockKeys.Unwrap(value);
        while (current is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "AsTask", Instance: { } inner })
        {
            current = LockKeys.Unwrap(inner);
        }

        return current is IInvocationOperation invocation && model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.Async ? invocation : null;
    }

    /// <summary>The acquire behind a local, when every value ever stored in it comes from one.</summary>
    private static IInvocationOperation? TraceLocal(ILocalReferenceOperation reference, SanctuaryModel model)
    {
        IInvocationOperation? found = null;
        foreach (IOperation operation in SanctuaryModel.Root(reference).Descendants())
        {
            IOperation? value = operation switch
            {
                IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, reference.Local) => declarator.Initializer?.Value,
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Local, reference.Local) => assignment.Value,
                _ => null,
            };
            if (value is null)
            {
                continue;
            }

            if (StripToAcquire(value, model) is { } invocation)
            {
                found ??= invocation;
            }
            else
            {
                return null;
            }
        }

        return found;
    }
}
