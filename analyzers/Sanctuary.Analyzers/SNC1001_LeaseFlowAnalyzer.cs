using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC1001 (a lease not released on every path), SNC1005 (released twice) and SNC1006 (used after
/// release): a data-flow analysis over the control-flow graph of each body.
/// </summary>
/// <remarks>
/// Each local that receives a lease from an acquire is tracked through the states
/// held, not held (a failed try), released and handed over. Branches on <c>IsHeld</c>, on the result
/// of <c>TryAcquire(out ...)</c> and assertions such as <c>Assert.True(lease.IsHeld)</c> refine the
/// state. Finally blocks run on every branch that leaves their try. Paths that an exception takes,
/// catch blocks included, are not followed here: SNC1002 and SNC1003 cover them.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SNC1001_LeaseFlowAnalyzer : DiagnosticAnalyzer
{
    private const byte Held = 1;
    private const byte NotHeld = 2;
    private const byte Released = 4;
    private const byte HandedOver = 8;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.SNC1001_LeaseNotReleased,
        Descriptors.SNC1005_ReleasedTwice,
        Descriptors.SNC1006_UsedAfterRelease);

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
                    // Only bodies have a graph; parameter defaults and attribute arguments take no leases.
                    if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block) || !MayAcquire(root, model))
                    {
                        continue;
                    }

                    AnalyzerGuard.Run(root.Syntax, (block, root), state =>
                    {
                        ControlFlowGraph graph = state.block.GetControlFlowGraph(state.root);
                        HashSet<ILocalSymbol> captured = CapturedLocals(state.root, model);
                        AnalyzeGraph(graph, model, captured, state.block.ReportDiagnostic, state.block.CancellationToken);
                    });
                }
            });
        });
    }

    private static bool MayAcquire(IOperation root, SanctuaryModel model) =>
        root.Descendants().Any(o => o is IInvocationOperation invocation && model.GetAcquireInfo(invocation.TargetMethod).IsAcquire);

    /// <summary>
    /// Locals that leave the flow of their body: read by a lambda (SNC1004 reports those that may
    /// outlive the scope), or released or handed over by a local function. A local function that
    /// only reads a lease borrows it, and the lease stays tracked.
    /// </summary>
    private static HashSet<ILocalSymbol> CapturedLocals(IOperation root, SanctuaryModel model)
    {
        var captured = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        foreach (ILocalReferenceOperation reference in root.Descendants().OfType<ILocalReferenceOperation>())
        {
            for (IOperation? parent = reference.Parent; parent is not null; parent = parent.Parent)
            {
                if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
                {
                    var declared = reference.Local.DeclaringSyntaxReferences;
                    bool outside = declared.Length > 0 && !parent.Syntax.Span.Contains(declared[0].Span);
                    if (outside && (parent is IAnonymousFunctionOperation || TakesOver(reference, model)))
                    {
                        captured.Add(reference.Local);
                    }

                    break;
                }
            }
        }

        return captured;
    }

    private static bool TakesOver(ILocalReferenceOperation reference, SanctuaryModel model)
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
            IPropertyReferenceOperation or IBinaryOperation => false,
            _ => true,
        };
    }

    private static void AnalyzeGraph(ControlFlowGraph graph, SanctuaryModel model, HashSet<ILocalSymbol> captured, System.Action<Diagnostic> report, System.Threading.CancellationToken cancellationToken)
    {
        new LeaseFlow(graph, model, captured, report, cancellationToken).Run();

        foreach (IMethodSymbol localFunction in graph.LocalFunctions)
        {
            AnalyzeGraph(graph.GetLocalFunctionControlFlowGraph(localFunction, cancellationToken), model, captured, report, cancellationToken);
        }

        foreach (BasicBlock block in graph.Blocks)
        {
            IEnumerable<IOperation> roots = block.BranchValue is null ? block.Operations : block.Operations.Append(block.BranchValue);
            foreach (IFlowAnonymousFunctionOperation lambda in roots.SelectMany(o => o.DescendantsAndSelf()).OfType<IFlowAnonymousFunctionOperation>())
            {
                AnalyzeGraph(graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), model, captured, report, cancellationToken);
            }
        }
    }

    /// <summary>The analysis of one graph: a work list over blocks, then one reporting pass.</summary>
    private sealed class LeaseFlow
    {
        private readonly ControlFlowGraph _graph;
        private readonly SanctuaryModel _model;
        private readonly HashSet<ILocalSymbol> _captured;
        private readonly System.Action<Diagnostic> _report;
        private readonly System.Threading.CancellationToken _cancellationToken;
        private readonly Dictionary<ILocalSymbol, int> _index = new(SymbolEqualityComparer.Default);
        private readonly List<ILocalSymbol> _locals = [];
        private readonly List<Location> _acquiredAt = [];
        private readonly Dictionary<CaptureId, int> _captures = [];

        // A bool local assigned the result of TryAcquire(out lease) records whether that lease is held.
        private readonly Dictionary<ILocalSymbol, int> _witnesses = new(SymbolEqualityComparer.Default);
        private readonly HashSet<(string Id, Location Location)> _reported = [];
        private byte[]?[] _inputs = [];
        private bool _reporting;

        public LeaseFlow(ControlFlowGraph graph, SanctuaryModel model, HashSet<ILocalSymbol> captured, System.Action<Diagnostic> report, System.Threading.CancellationToken cancellationToken)
        {
            _graph = graph;
            _model = model;
            _captured = captured;
            _report = report;
            _cancellationToken = cancellationToken;
        }

        public void Run()
        {
            FindTrackedLocals();
            if (_locals.Count == 0)
            {
                return;
            }

            // Step 1: propagate states to a fixed point. Inputs only grow, so this ends.
            _inputs = new byte[]?[_graph.Blocks.Length];
            var work = new Stack<int>();
            _inputs[0] = new byte[_locals.Count];
            work.Push(0);
            while (work.Count > 0)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                int ordinal = work.Pop();
                foreach (int next in Flow(_graph.Blocks[ordinal], _inputs[ordinal]!))
                {
                    work.Push(next);
                }
            }

            // Step 2: one more pass over the final states reports what it finds.
            _reporting = true;
            foreach (BasicBlock block in _graph.Blocks)
            {
                if (_inputs[block.Ordinal] is { } input)
                {
                    Flow(block, input);
                }
            }

            BasicBlock exit = _graph.Blocks[_graph.Blocks.Length - 1];
            if (_inputs[exit.Ordinal] is { } final)
            {
                for (int i = 0; i < _locals.Count; i++)
                {
                    if ((final[i] & Held) != 0)
                    {
                        Report(Descriptors.SNC1001_LeaseNotReleased, _acquiredAt[i], _locals[i].Name);
                    }
                }
            }
        }

        private void FindTrackedLocals()
        {
            foreach (BasicBlock block in _graph.Blocks)
            {
                IEnumerable<IOperation> roots = block.BranchValue is null ? block.Operations : block.Operations.Append(block.BranchValue);
                foreach (IOperation operation in roots.SelectMany(o => o.DescendantsAndSelf()))
                {
                    switch (operation)
                    {
                        case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when _model.IsAcquiredLease(assignment.Value, out _):
                            Track(target.Local, assignment.Value.Syntax.GetLocation());
                            break;
                        case IInvocationOperation invocation when _model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.OutParameter:
                            foreach (IArgumentOperation argument in invocation.Arguments)
                            {
                                if (argument.Parameter?.RefKind == RefKind.Out && LockKeys.Unwrap(argument.Value) is ILocalReferenceOperation outLocal)
                                {
                                    Track(outLocal.Local, invocation.Syntax.GetLocation());
                                }
                            }

                            break;
                    }
                }
            }
        }

        private void Track(ILocalSymbol local, Location location)
        {
            if (_captured.Contains(local) || _index.ContainsKey(local) || !_model.IsLeaseType(local.Type))
            {
                return;
            }

            _index.Add(local, _locals.Count);
            _locals.Add(local);
            _acquiredAt.Add(location);
        }

        /// <summary>Runs one block from its input state and merges the result into its successors; returns the successors that changed.</summary>
        private List<int> Flow(BasicBlock block, byte[] input)
        {
            var changed = new List<int>();
            byte[] state = (byte[])input.Clone();
            foreach (IOperation operation in block.Operations)
            {
                Visit(operation, state);
            }

            if (block.BranchValue is { } branchValue)
            {
                bool returns = block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return;
                if (returns)
                {
                    VisitReturned(branchValue, state);
                }
                else
                {
                    Visit(branchValue, state);
                }
            }

            if (block.ConditionKind != ControlFlowConditionKind.None && block.BranchValue is not null)
            {
                bool jumpsWhen = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
                byte[] taken = (byte[])state.Clone();
                Refine(block.BranchValue, jumpsWhen, taken);
                Follow(block.ConditionalSuccessor, taken, changed);
                byte[] fallThrough = (byte[])state.Clone();
                Refine(block.BranchValue, !jumpsWhen, fallThrough);
                Follow(block.FallThroughSuccessor, fallThrough, changed);
            }
            else
            {
                Follow(block.FallThroughSuccessor, state, changed);
            }

            return changed;
        }

        private void Follow(ControlFlowBranch? branch, byte[] state, List<int> changed)
        {
            if (branch?.Destination is not { } destination)
            {
                return;
            }

            state = RunFinallies(branch, state);
            if (!_reporting && Merge(destination.Ordinal, state))
            {
                changed.Add(destination.Ordinal);
            }
        }

        private byte[] RunFinallies(ControlFlowBranch branch, byte[] state)
        {
            foreach (ControlFlowRegion region in branch.FinallyRegions)
            {
                state = RunRegion(region, state);
            }

            return state;
        }

        /// <summary>Runs a finally region from the given state and returns the state at its end.</summary>
        private byte[] RunRegion(ControlFlowRegion region, byte[] entry)
        {
            var inputs = new Dictionary<int, byte[]> { [region.FirstBlockOrdinal] = (byte[])entry.Clone() };
            var work = new Stack<int>();
            work.Push(region.FirstBlockOrdinal);
            byte[]? result = null;
            int guard = 0;
            while (work.Count > 0 && guard++ < 10_000)
            {
                int ordinal = work.Pop();
                BasicBlock block = _graph.Blocks[ordinal];
                byte[] state = (byte[])inputs[ordinal].Clone();
                foreach (IOperation operation in block.Operations)
                {
                    Visit(operation, state);
                }

                if (block.BranchValue is { } branchValue)
                {
                    Visit(branchValue, state);
                }

                foreach ((ControlFlowBranch? branch, bool? when) in Successors(block))
                {
                    if (branch is null)
                    {
                        continue;
                    }

                    byte[] next = (byte[])state.Clone();
                    if (when is { } value && block.BranchValue is not null)
                    {
                        Refine(block.BranchValue, value, next);
                    }

                    if (branch.Destination is null)
                    {
                        result = Join(result, next);
                        continue;
                    }

                    int target = branch.Destination.Ordinal;
                    if (target < region.FirstBlockOrdinal || target > region.LastBlockOrdinal)
                    {
                        continue;
                    }

                    next = RunFinallies(branch, next);
                    if (!inputs.TryGetValue(target, out byte[]? existing))
                    {
                        inputs[target] = next;
                        work.Push(target);
                    }
                    else if (MergeInto(existing, next))
                    {
                        work.Push(target);
                    }
                }
            }

            return result ?? entry;
        }

        private static IEnumerable<(ControlFlowBranch? Branch, bool? When)> Successors(BasicBlock block)
        {
            if (block.ConditionKind == ControlFlowConditionKind.None)
            {
                yield return (block.FallThroughSuccessor, null);
                yield break;
            }

            bool jumpsWhen = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
            yield return (block.ConditionalSuccessor, jumpsWhen);
            yield return (block.FallThroughSuccessor, !jumpsWhen);
        }

        private bool Merge(int ordinal, byte[] state)
        {
            if (_inputs[ordinal] is not { } existing)
            {
                _inputs[ordinal] = (byte[])state.Clone();
                return true;
            }

            return MergeInto(existing, state);
        }

        private static bool MergeInto(byte[] existing, byte[] state)
        {
            bool changed = false;
            for (int i = 0; i < existing.Length; i++)
            {
                byte merged = (byte)(existing[i] | state[i]);
                if (merged != existing[i])
                {
                    existing[i] = merged;
                    changed = true;
                }
            }

            return changed;
        }

        private static byte[] Join(byte[]? left, byte[] right)
        {
            if (left is null)
            {
                return right;
            }

            MergeInto(left, right);
            return left;
        }

        /// <summary>Narrows the state on a branch where <paramref name="condition"/> has the value <paramref name="value"/>.</summary>
        private void Refine(IOperation condition, bool value, byte[] state)
        {
            condition = LockKeys.Unwrap(condition)!;
            switch (condition)
            {
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                    Refine(not.Operand, !value, state);
                    break;
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } either when !value:
                    Refine(either.LeftOperand, false, state);
                    Refine(either.RightOperand, false, state);
                    break;
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } both when value:
                    Refine(both.LeftOperand, true, state);
                    Refine(both.RightOperand, true, state);
                    break;
                case ILocalReferenceOperation witness when _witnesses.TryGetValue(witness.Local, out int witnessed):
                    state[witnessed] = Narrow(state[witnessed], value);
                    break;
                case IPropertyReferenceOperation { Property.Name: "IsHeld" } isHeld when TrackedIndex(isHeld.Instance) is int index:
                    state[index] = Narrow(state[index], value);
                    break;
                case IInvocationOperation invocation when _model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.OutParameter:
                    foreach (IArgumentOperation argument in invocation.Arguments)
                    {
                        if (argument.Parameter?.RefKind == RefKind.Out && TrackedIndex(argument.Value) is int outIndex)
                        {
                            state[outIndex] = Narrow(state[outIndex], value);
                        }
                    }

                    break;
            }
        }

        private static byte Narrow(byte state, bool held)
        {
            if (held)
            {
                return (state & Held) != 0 ? Held : state;
            }

            byte rest = (byte)(state & ~Held);
            return rest == 0 ? NotHeld : rest;
        }

        private int? TrackedIndex(IOperation? operation)
        {
            switch (LockKeys.Unwrap(operation))
            {
                case ILocalReferenceOperation local when _index.TryGetValue(local.Local, out int index):
                    return index;
                case IFlowCaptureReferenceOperation capture when _captures.TryGetValue(capture.Id, out int captured):
                    return captured;
                default:
                    return null;
            }
        }

        private void VisitReturned(IOperation value, byte[] state)
        {
            if (TrackedIndex(value) is int index)
            {
                state[index] = HandedOver;
                return;
            }

            Visit(value, state);
        }

        /// <summary>Applies the effects of one operation tree, children before parents.</summary>
        private void Visit(IOperation operation, byte[] state)
        {
            switch (operation)
            {
                case IFlowAnonymousFunctionOperation:
                    return;
                case IFlowCaptureOperation capture when TrackedIndex(capture.Value) is int captured:
                    _captures[capture.Id] = captured;
                    return;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation witness, Value: IInvocationOperation tried } when witness.Local.Type.SpecialType == SpecialType.System_Boolean
                    && _model.GetAcquireInfo(tried.TargetMethod).Shape == AcquireShape.OutParameter
                    && SanctuaryModel.OutLeaseLocal(tried) is { } outLocal
                    && _index.TryGetValue(outLocal, out int witnessed):
                    Visit(tried, state);
                    _witnesses[witness.Local] = witnessed;
                    return;
                case IMethodReferenceOperation { Instance: { } instance } method when SanctuaryModel.IsReleaseName(method.Method.Name) && TrackedIndex(instance) is int releasedLater:
                    // A method group such as lease.Release handed to a callee that calls it.
                    state[releasedLater] = Released;
                    return;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when _index.TryGetValue(target.Local, out int index):
                    Visit(assignment.Value, state);
                    state[index] = _model.IsAcquiredLease(assignment.Value, out bool isTry)
                        ? (isTry ? (byte)(Held | NotHeld) : Held)
                        : NotHeld;
                    return;
                case IInvocationOperation invocation:
                    VisitInvocation(invocation, state);
                    return;
                case ILocalReferenceOperation or IFlowCaptureReferenceOperation when TrackedIndex(operation) is int used:
                    VisitReference(operation, used, state);
                    return;
            }

            foreach (IOperation child in operation.ChildOperations)
            {
                Visit(child, state);
            }
        }

        private void VisitInvocation(IInvocationOperation invocation, byte[] state)
        {
            string name = invocation.TargetMethod.Name;
            if (TrackedIndex(invocation.Instance) is int released && SanctuaryModel.IsReleaseName(name))
            {
                foreach (IArgumentOperation argument in invocation.Arguments)
                {
                    Visit(argument, state);
                }

                // An early release inside a using scope is a common idiom: the using only backs it
                // up for exceptions, and disposing a released lease does nothing. A release whose
                // result the code inspects expects that it may find the lease released already.
                bool resultUsed = invocation.Parent is not (IExpressionStatementOperation or IAwaitOperation { Parent: IExpressionStatementOperation } or null);
                if (state[released] == Released && !invocation.IsImplicit && !resultUsed)
                {
                    Report(Descriptors.SNC1005_ReleasedTwice, invocation.Syntax.GetLocation(), _locals[released].Name);
                }

                state[released] = Released;
                return;
            }

            if (invocation.Instance is { } instance)
            {
                if (TrackedIndex(instance) is int used)
                {
                    if (name is not ("Equals" or "GetHashCode" or "ToString"))
                    {
                        ReportUse(used, instance, state);
                    }

                    // Upgrade and downgrade turn the lease into another one, which carries the hold on.
                    if (_model.IsLeaseType(invocation.TargetMethod.ReturnType) || _model.GetAwaitedLeaseType(invocation.TargetMethod.ReturnType) is not null)
                    {
                        state[used] = HandedOver;
                    }
                }
                else
                {
                    Visit(instance, state);
                }
            }

            bool isAcquire = _model.GetAcquireInfo(invocation.TargetMethod).Shape == AcquireShape.OutParameter;
            bool handsOver = name == "FromResult" && _model.IsTaskLike(invocation.TargetMethod.ContainingType);
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                if (TrackedIndex(argument.Value) is not int index)
                {
                    Visit(argument.Value, state);
                    continue;
                }

                if (argument.Parameter?.RefKind == RefKind.Out)
                {
                    state[index] = isAcquire ? (byte)(Held | NotHeld) : NotHeld;
                }
                else if (handsOver || argument.Parameter is null || _model.TakesOwnership(argument.Parameter))
                {
                    state[index] = HandedOver;
                }
                else
                {
                    ReportUse(index, argument.Value, state);
                }
            }

            // An assertion stops the flow when it fails, so after it the asserted condition holds.
            if (IsAssertion(invocation, out bool expected) && invocation.Arguments.Length > 0)
            {
                Refine(invocation.Arguments[0].Value, expected, state);
            }
        }

        private static bool IsAssertion(IInvocationOperation invocation, out bool expected)
        {
            // xunit, NUnit and MSTest assertions, Debug.Assert, Trace.Assert and Coyote's Specification.Assert.
            string type = invocation.TargetMethod.ContainingType?.Name ?? string.Empty;
            string name = invocation.TargetMethod.Name;
            expected = name is "True" or "IsTrue" or "Assert";
            return (type.EndsWith("Assert", System.StringComparison.Ordinal) && name is "True" or "IsTrue" or "False" or "IsFalse")
                || name == "Assert";
        }

        private void VisitReference(IOperation reference, int index, byte[] state)
        {
            // Climb through conversions that keep the value; a conversion to a reference type boxes it.
            IOperation node = reference;
            while (node.Parent is IConversionOperation conversion && conversion.Type?.IsReferenceType != true)
            {
                node = conversion;
            }

            switch (node.Parent)
            {
                // Properties describe the lease (IsHeld, Lock, FencingToken, ExpiresAt); reading them is not a use.
                case IPropertyReferenceOperation:
                case IBinaryOperation:
                    return;
                case IConversionOperation:
                case IReturnOperation:
                case IObjectCreationOperation:
                case IArgumentOperation { Parent: IObjectCreationOperation }:
                case ITupleOperation:
                case IArrayInitializerOperation:
                case IAnonymousObjectCreationOperation:
                case IPropertyInitializerOperation:
                case IFieldInitializerOperation:
                case ISimpleAssignmentOperation assignment when assignment.Value == node:
                    state[index] = HandedOver;
                    return;
                default:
                    ReportUse(index, reference, state);
                    return;
            }
        }

        private void ReportUse(int index, IOperation reference, byte[] state)
        {
            if (state[index] == Released)
            {
                Report(Descriptors.SNC1006_UsedAfterRelease, reference.Syntax.GetLocation(), _locals[index].Name);
            }
        }

        private void Report(DiagnosticDescriptor descriptor, Location location, string name)
        {
            if (_reporting && _reported.Add((descriptor.Id, location)))
            {
                _report(Diagnostic.Create(descriptor, location, name));
            }
        }
    }
}
