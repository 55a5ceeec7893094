using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC1004: a lease that leaves the code that owns it without a transfer of ownership. Three ways are
/// reported: a field or property that no member of its type ever releases, a lambda that captures a
/// lease local and may run after the lease's scope ends without releasing it, and a conversion that
/// boxes a lease.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC1004_LeaseEscapeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.SNC1004_LeaseEscapes);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            start.RegisterOperationAction(operation => AnalyzeConversion(operation, model), OperationKind.Conversion);
            start.RegisterOperationAction(operation => AnalyzeLambda(operation, model), OperationKind.AnonymousFunction);
            start.RegisterSymbolStartAction(symbol => AnalyzeType(symbol, model), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeConversion(OperationAnalysisContext context, SanctuaryModel model)
    {
        var conversion = (IConversionOperation)context.Operation;
        if (conversion.Type is not { IsReferenceType: true }
            || conversion.Operand.Type is not { IsValueType: true } operandType
            || !model.IsLeaseType(operandType))
        {
            return;
        }

        // Only a lease in a variable can be released through one copy and used through another. A
        // using statement disposes a struct in place; a lock statement is SNC2005's case.
        if (LockKeys.Unwrap(conversion.Operand) is not (ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation)
            || conversion.Parent is IUsingOperation or ILockOperation)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1004_LeaseEscapes, conversion.Syntax.GetLocation(), LockKeys.Text(conversion.Operand), "a boxed copy"));
    }

    private static void AnalyzeLambda(OperationAnalysisContext context, SanctuaryModel model)
    {
        var lambda = (IAnonymousFunctionOperation)context.Operation;
        if (!MayRunLater(lambda))
        {
            return;
        }

        var captured = new Dictionary<ILocalSymbol, List<ILocalReferenceOperation>>(SymbolEqualityComparer.Default);
        foreach (ILocalReferenceOperation reference in lambda.Body.Descendants().OfType<ILocalReferenceOperation>())
        {
            ImmutableArray<SyntaxReference> declared = reference.Local.DeclaringSyntaxReferences;
            if (!model.IsLeaseType(reference.Local.Type) || declared.Length == 0 || lambda.Syntax.Span.Contains(declared[0].Span))
            {
                continue;
            }

            if (!captured.TryGetValue(reference.Local, out List<ILocalReferenceOperation>? references))
            {
                references = [];
                captured.Add(reference.Local, references);
            }

            references.Add(reference);
        }

        foreach (var pair in captured)
        {
            // A lambda that releases the lease, or hands it to an owner, takes ownership with it.
            if (pair.Value.Any(reference => HandsOver(reference, model)))
            {
                continue;
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1004_LeaseEscapes, pair.Value[0].Syntax.GetLocation(), pair.Key.Name, "a lambda that may run after the lease's scope ends"));
        }
    }

    /// <summary>
    /// Whether the lambda may run after the statement that creates it: it is stored, returned, or
    /// started on another thread (Task.Run, StartNew, ContinueWith, the thread pool, a Thread or a
    /// Timer) without being awaited there.
    /// </summary>
    private static bool MayRunLater(IAnonymousFunctionOperation lambda)
    {
        IOperation node = lambda;
        while (node.Parent is IDelegateCreationOperation or IConversionOperation)
        {
            node = node.Parent;
        }

        switch (node.Parent)
        {
            case IVariableInitializerOperation or ISimpleAssignmentOperation or IReturnOperation:
                return true;
            case IArgumentOperation { Parent: IObjectCreationOperation creation }:
                return creation.Type?.Name is "Thread" or "Timer" or "Task";
            case IArgumentOperation { Parent: IInvocationOperation invocation }:
                bool starts = invocation.TargetMethod.Name is "Run" or "StartNew" or "ContinueWith" or "QueueUserWorkItem" or "UnsafeQueueUserWorkItem";
                if (!starts)
                {
                    return false;
                }

                BodyModel.ClimbToResult(invocation, out bool awaited);
                return !awaited;
            default:
                return false;
        }
    }

    private static bool HandsOver(ILocalReferenceOperation reference, SanctuaryModel model)
    {
        IOperation node = reference;
        while (node.Parent is IConversionOperation)
        {
            node = node.Parent;
        }

        return node.Parent switch
        {
            IInvocationOperation call when call.Instance == node => SanctuaryModel.IsReleaseName(call.TargetMethod.Name),
            IArgumentOperation { Parameter: { } parameter } => model.TakesOwnership(parameter),
            IUsingOperation or IReturnOperation => true,
            _ => false,
        };
    }

    private static void AnalyzeType(SymbolStartAnalysisContext context, SanctuaryModel model)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var members = new HashSet<ISymbol>(
            type.GetMembers().Where(m => m switch
            {
                IFieldSymbol { IsConst: false, IsImplicitlyDeclared: false } field => model.IsLeaseType(field.Type),
                IPropertySymbol { IsIndexer: false } property => model.IsLeaseType(property.Type) && property.SetMethod is not null,
                _ => false,
            }),
            SymbolEqualityComparer.Default);
        if (members.Count == 0)
        {
            return;
        }

        var released = new ConcurrentDictionary<ISymbol, bool>(SymbolEqualityComparer.Default);
        var stored = new ConcurrentDictionary<ISymbol, bool>(SymbolEqualityComparer.Default);
        context.RegisterOperationAction(
            operation =>
            {
                ISymbol? member = operation.Operation switch
                {
                    IFieldReferenceOperation field => field.Field.OriginalDefinition,
                    IPropertyReferenceOperation property => property.Property.OriginalDefinition,
                    _ => null,
                };
                if (member is null || !members.Contains(member))
                {
                    return;
                }

                IOperation node = operation.Operation;
                while (node.Parent is IConversionOperation)
                {
                    node = node.Parent;
                }

                switch (node.Parent)
                {
                    case IInvocationOperation call when call.Instance == node && SanctuaryModel.IsReleaseName(call.TargetMethod.Name):
                    case IUsingOperation:
                    case IArgumentOperation { Parameter: { } parameter } when model.TakesOwnership(parameter):
                    case IReturnOperation:
                        // Released here, or handed to code that releases it.
                        released[member] = true;
                        break;
                    case ISimpleAssignmentOperation assignment when assignment.Target == node && model.IsAcquiredLease(assignment.Value, out _) || (node.Parent is ISimpleAssignmentOperation { Value: ILocalReferenceOperation or IParameterReferenceOperation } other && other.Target == node):
                        stored[member] = true;
                        break;
                }
            },
            OperationKind.FieldReference,
            OperationKind.PropertyReference);

        context.RegisterSymbolEndAction(end =>
        {
            foreach (ISymbol member in stored.Keys.Where(m => !released.ContainsKey(m)))
            {
                Location location = member.Locations.FirstOrDefault() ?? Location.None;
                end.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC1004_LeaseEscapes, location, member.Name, "a field that nothing in '" + type.Name + "' releases"));
            }
        });
    }
}
