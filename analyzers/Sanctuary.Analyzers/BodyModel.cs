using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace Sanctuary.Analyzers;

/// <summary>What holds a lock over a stretch of code.</summary>
internal enum HoldKind
{
    /// <summary>A Sanctuary lease.</summary>
    Lease,

    /// <summary>A resource of the method's [Sanctuary] attribute, held for the whole body.</summary>
    Attribute,

    /// <summary>Monitor, System.Threading.Lock, ReaderWriterLockSlim or a lock statement.</summary>
    ThreadLock,
}

/// <summary>
/// A lock held over a span of source text. The span is lexical: it runs from the acquire to the
/// release that follows it in the text, such as the end of a using scope, a Dispose or Release call
/// or a Monitor.Exit. When nothing releases the lock, the span ends with the enclosing block.
/// </summary>
internal sealed class Hold
{
    public Hold(HoldKind kind, TextSpan region, SyntaxNode site, string display, string? localKey, string? globalKey, string? globalDisplay, bool syncOnly, bool closedOnEveryExit)
    {
        Kind = kind;
        Region = region;
        Site = site;
        Display = display;
        LocalKey = localKey;
        GlobalKey = globalKey;
        GlobalDisplay = globalDisplay;
        SyncOnly = syncOnly;
        ClosedOnEveryExit = closedOnEveryExit;
    }

    public HoldKind Kind { get; }

    public TextSpan Region { get; }

    /// <summary>The acquire, the lock statement or the attribute.</summary>
    public SyntaxNode Site { get; }

    /// <summary>How messages name the held lock or lease, quoted.</summary>
    public string Display { get; }

    public string? LocalKey { get; }

    public string? GlobalKey { get; }

    public string? GlobalDisplay { get; }

    /// <summary>A lock that belongs to a thread and must not be held across an await or a yield.</summary>
    public bool SyncOnly { get; }

    /// <summary>Released by a using scope or a finally block, so it is released on every exit of the region.</summary>
    public bool ClosedOnEveryExit { get; }

    /// <summary>The LeaseMode value (see <see cref="LeaseModes"/>) of an attribute hold, or 0 (Exclusive) for other holds, whose mode is not tracked.</summary>
    public int Mode { get; init; }

    /// <summary>
    /// Whether the lease came from a reservation or from a registry acquire with options, whose
    /// mode may be shared (read), so a second acquire of it may not wait.
    /// </summary>
    public bool MayBeShared { get; init; }

    /// <summary>The statement that acquired a lease, for fixes that move it.</summary>
    public SyntaxNode? Statement { get; init; }

    /// <summary>How messages name the lock itself (the lease is named by <see cref="Display"/>).</summary>
    public string? LockDisplay { get; init; }

    /// <summary>The local that stores the lease, if any.</summary>
    public ILocalSymbol? Local { get; init; }
}

/// <summary>A Sanctuary acquire, or a call of a [Sanctuary] method, which acquires its resources.</summary>
internal sealed class AcquireSite
{
    public AcquireSite(SyntaxNode syntax, bool waits, bool isTry, string? localKey, string? globalKey, string display, string? globalDisplay)
    {
        Syntax = syntax;
        Waits = waits;
        IsTry = isTry;
        LocalKey = localKey;
        GlobalKey = globalKey;
        Display = display;
        GlobalDisplay = globalDisplay;
    }

    public SyntaxNode Syntax { get; }

    /// <summary>The flow waits here until the lock is granted (an awaited async acquire or a sync acquire).</summary>
    public bool Waits { get; }

    public bool IsTry { get; }

    public string? LocalKey { get; }

    public string? GlobalKey { get; }

    public string Display { get; }

    public string? GlobalDisplay { get; }

    /// <summary>The LeaseMode value in which a called [Sanctuary] method holds this site's resource, or 0 (Exclusive) for other acquires, whose mode is not tracked.</summary>
    public int Mode { get; init; }

    /// <summary>The [Sanctuary] method called here, when the site is such a call.</summary>
    public IMethodSymbol? SanctuaryMethod { get; init; }

    /// <summary>The statement that contains the acquire, when the acquire is that statement's whole job.</summary>
    public SyntaxNode? Statement { get; init; }

    /// <summary>The local that receives the lease, if any.</summary>
    public ILocalSymbol? Local { get; init; }

    /// <summary>
    /// A reservation from a capacity pool, which counts units instead of excluding holders, or a
    /// registry acquire whose options may ask for a shared mode.
    /// </summary>
    public bool IsCounting { get; init; }
}

/// <summary>A point where the flow may leave the thread: await, await foreach, await using or yield return.</summary>
internal readonly struct SuspensionPoint
{
    public SuspensionPoint(Location location, int position, string kind)
    {
        Location = location;
        Position = position;
        Kind = kind;
    }

    public Location Location { get; }

    public int Position { get; }

    public string Kind { get; }
}

/// <summary>
/// One body (a method, local function or lambda) with the locks it takes and where it holds them.
/// Lambdas and local functions inside the body are bodies of their own.
/// </summary>
internal sealed class BodyModel
{
    private BodyModel(IOperation root, ISymbol? owner)
    {
        Root = root;
        Owner = owner;
    }

    public IOperation Root { get; }

    /// <summary>The method, local function or lambda symbol whose body this is.</summary>
    public ISymbol? Owner { get; }

    public List<Hold> Holds { get; } = [];

    public List<AcquireSite> Acquires { get; } = [];

    public List<SuspensionPoint> Suspensions { get; } = [];

    /// <summary>Invocations of methods declared in source, for the cross-method lock-order summary.</summary>
    public List<IInvocationOperation> SourceCalls { get; } = [];

    public List<IInvocationOperation> Invocations { get; } = [];

    public List<IReturnOperation> Returns { get; } = [];

    public IEnumerable<Hold> HeldAt(int position) => Holds.Where(h => h.Region.Contains(position));

    /// <summary>Builds the models of a body and of every lambda and local function inside it.</summary>
    public static List<BodyModel> Build(IOperation root, ISymbol owner, SanctuaryModel model)
    {
        var bodies = new List<BodyModel>();
        var pending = new Stack<(IOperation Root, ISymbol? Owner)>();
        pending.Push((root, owner));
        while (pending.Count > 0)
        {
            (IOperation body, ISymbol? bodyOwner) = pending.Pop();
            var built = new BodyModel(body, bodyOwner);
            built.Collect(model, pending);
            bodies.Add(built);
        }

        return bodies;
    }

    private void Collect(SanctuaryModel model, Stack<(IOperation Root, ISymbol? Owner)> nested)
    {
        // Step 1: one walk gathers every operation of interest, leaving nested functions for later.
        var localReferences = new Dictionary<ILocalSymbol, List<ILocalReferenceOperation>>(SymbolEqualityComparer.Default);
        var locks = new List<ILockOperation>();
        var stack = new Stack<IOperation>();
        stack.Push(Root);
        while (stack.Count > 0)
        {
            IOperation operation = stack.Pop();
            switch (operation)
            {
                case IAnonymousFunctionOperation lambda when operation != Root:
                    nested.Push((lambda.Body, lambda.Symbol));
                    continue;
                case ILocalFunctionOperation localFunction when operation != Root:
                    if (localFunction.Body is not null || localFunction.IgnoredBody is not null)
                    {
                        nested.Push((localFunction.Body ?? localFunction.IgnoredBody!, localFunction.Symbol));
                    }

                    continue;
                case ILocalReferenceOperation reference:
                    if (!localReferences.TryGetValue(reference.Local, out List<ILocalReferenceOperation>? list))
                    {
                        list = [];
                        localReferences.Add(reference.Local, list);
                    }

                    list.Add(reference);
                    break;
                case IInvocationOperation invocation:
                    Invocations.Add(invocation);
                    if (invocation.TargetMethod.DeclaringSyntaxReferences.Length > 0)
                    {
                        SourceCalls.Add(invocation);
                    }

                    break;
                case ILockOperation lockOperation:
                    locks.Add(lockOperation);
                    break;
                case IReturnOperation returnOperation:
                    Returns.Add(returnOperation);
                    if (returnOperation.Kind == OperationKind.YieldReturn)
                    {
                        Suspensions.Add(new SuspensionPoint(returnOperation.Syntax.GetLocation(), returnOperation.Syntax.SpanStart, "yield return"));
                    }

                    break;
                case IAwaitOperation awaitOperation:
                    Suspensions.Add(new SuspensionPoint(awaitOperation.Syntax.GetLocation(), awaitOperation.Syntax.SpanStart, "await"));
                    break;
                case IForEachLoopOperation { IsAsynchronous: true, Syntax: CommonForEachStatementSyntax forEach }:
                    Suspensions.Add(new SuspensionPoint(forEach.AwaitKeyword.GetLocation(), forEach.SpanStart, "await foreach"));
                    break;
                case IUsingOperation { IsAsynchronous: true, Syntax: UsingStatementSyntax usingStatement }:
                    Suspensions.Add(new SuspensionPoint(usingStatement.AwaitKeyword.GetLocation(), usingStatement.SpanStart, "await using"));
                    break;
                case IUsingDeclarationOperation { IsAsynchronous: true, Syntax: LocalDeclarationStatementSyntax declaration }:
                    Suspensions.Add(new SuspensionPoint(declaration.AwaitKeyword.GetLocation(), declaration.SpanStart, "await using"));
                    break;
            }

            // Children are pushed in reverse so that they pop in source order.
            var children = operation.ChildOperations.ToList();
            for (int i = children.Count - 1; i >= 0; i--)
            {
                stack.Push(children[i]);
            }
        }

        // Step 2: the [Sanctuary] resources of a method are held for its whole body.
        // Diagnostics about them point at the attribute.
        if (Owner is IMethodSymbol method
            && method.MethodKind != MethodKind.AnonymousFunction
            && model.GetSanctuaryAttribute(method) is { } attribute)
        {
            SyntaxNode site = attribute.ApplicationSyntaxReference?.GetSyntax() ?? Root.Syntax;
            foreach (SanctuaryResource resource in SanctuaryModel.GetSanctuaryResources(attribute))
            {
                string key = LockKeys.ResourceKey(resource.Id);
                string display = LockKeys.ResourceDisplay(resource.Id);
                Holds.Add(new Hold(HoldKind.Attribute, Root.Syntax.Span, site, display, key, key, display, syncOnly: false, closedOnEveryExit: true) { Mode = resource.Mode });
            }
        }

        // Step 3: acquires, calls of [Sanctuary] methods and thread locks, each with the span it holds.
        foreach (IInvocationOperation invocation in Invocations)
        {
            AddInvocation(invocation, model, localReferences);
        }

        foreach (ILockOperation lockOperation in locks)
        {
            string text = LockKeys.Text(lockOperation.LockedValue);
            Holds.Add(new Hold(HoldKind.ThreadLock, lockOperation.Body.Syntax.Span, lockOperation.Syntax, "the lock on '" + text + "'", LockKeys.LocalKey(lockOperation.LockedValue), null, null, syncOnly: true, closedOnEveryExit: true));
        }
    }

    private void AddInvocation(IInvocationOperation invocation, SanctuaryModel model, Dictionary<ILocalSymbol, List<ILocalReferenceOperation>> localReferences)
    {
        IMethodSymbol target = invocation.TargetMethod;
        AcquireInfo info = model.GetAcquireInfo(target);
        if (info.IsAcquire)
        {
            AddAcquire(invocation, info, model, localReferences);
            return;
        }

        // A [Sanctuary] method waits for its resources when it is called, or when its task is awaited.
        ImmutableArray<SanctuaryResource> resources = model.GetSanctuaryResources(target);
        ClimbToResult(invocation, out bool awaited);
        bool waits = awaited || !model.IsTaskLike(target.ReturnType);
        foreach (SanctuaryResource resource in resources)
        {
            string key = LockKeys.ResourceKey(resource.Id);
            string display = LockKeys.ResourceDisplay(resource.Id);
            Acquires.Add(new AcquireSite(invocation.Syntax, waits, isTry: false, key, key, display, display) { Mode = resource.Mode, SanctuaryMethod = target });
        }

        AddThreadLock(invocation, model, localReferences);
    }

    private void AddAcquire(IInvocationOperation invocation, AcquireInfo info, SanctuaryModel model, Dictionary<ILocalSymbol, List<ILocalReferenceOperation>> localReferences)
    {
        IOperation top = ClimbToResult(invocation, out bool awaited);
        string? resource = LockKeys.ResourceId(invocation);
        bool counting = false;
        string? localKey;
        string? globalKey;
        string display;
        string? globalDisplay;
        if (resource is not null)
        {
            localKey = globalKey = LockKeys.ResourceKey(resource);
            display = globalDisplay = LockKeys.ResourceDisplay(resource);

            // A reservation counts units, and options may ask for a shared (read) mode.
            counting = invocation.TargetMethod.Name.Contains("Reserve")
                || invocation.Arguments.Any(a => a.Value.Type?.Name.EndsWith("Options", System.StringComparison.Ordinal) == true && a.ArgumentKind == ArgumentKind.Explicit);
        }
        else
        {
            // An acquire on a lock names the lock by its receiver. A wrapper such as
            // AcquireAsync(AsyncLock gate, ...) names it by its first argument of a lock type.
            IOperation? lockOperand = invocation.Instance;
            if (!model.IsLockType(lockOperand?.Type))
            {
                lockOperand = invocation.Arguments.FirstOrDefault(a => model.IsLockType(a.Value.Type))?.Value;
            }

            localKey = lockOperand is null ? null : LockKeys.LocalKey(lockOperand);
            counting = lockOperand?.Type?.Name.EndsWith("Pool", System.StringComparison.Ordinal) == true;
            globalKey = null;
            globalDisplay = null;
            if (lockOperand is not null)
            {
                globalKey = LockKeys.GlobalKey(lockOperand, out globalDisplay);
            }

            display = "'" + (lockOperand is null ? invocation.TargetMethod.Name : LockKeys.Text(lockOperand)) + "'";
        }

        bool waits = info.Shape switch
        {
            AcquireShape.Sync => true,
            AcquireShape.Async => awaited,
            _ => false,
        };

        SyntaxNode? statement = StatementOf(top);

        // The hold: only a lease that the body keeps in a local or a using scope is held here.
        ILocalSymbol? local = null;
        if ((info.Shape != AcquireShape.Async || awaited)
            && TryGetRegion(invocation, top, localReferences, out TextSpan region, out bool closed, out string? leaseName, out local))
        {
            bool syncOnly = model.IsSyncOnlyLeaseType(info.LeaseType);
            Holds.Add(new Hold(HoldKind.Lease, region, invocation.Syntax, leaseName is null ? display : "'" + leaseName + "'", localKey, globalKey, globalDisplay, syncOnly, closed) { Statement = statement, LockDisplay = display, Local = local, MayBeShared = counting });
        }

        Acquires.Add(new AcquireSite(invocation.Syntax, waits, info.IsTry, localKey, globalKey, display, globalDisplay) { Statement = statement, Local = local, IsCounting = counting });
    }

    private void AddThreadLock(IInvocationOperation invocation, SanctuaryModel model, Dictionary<ILocalSymbol, List<ILocalReferenceOperation>> localReferences)
    {
        IMethodSymbol target = invocation.TargetMethod;
        INamedTypeSymbol type = target.ContainingType;
        string name = target.Name;
        IOperation? lockExpression;
        string display;
        System.Func<IInvocationOperation, bool> isExit;
        if (SymbolEqualityComparer.Default.Equals(type, model.Monitor) && name is "Enter" or "TryEnter" && invocation.Arguments.Length > 0)
        {
            lockExpression = invocation.Arguments[0].Value;
            display = "the Monitor lock on '" + LockKeys.Text(lockExpression) + "'";
            string? key = LockKeys.LocalKey(lockExpression);
            isExit = exit => SymbolEqualityComparer.Default.Equals(exit.TargetMethod.ContainingType, model.Monitor)
                && exit.TargetMethod.Name == "Exit" && exit.Arguments.Length > 0 && LockKeys.LocalKey(exit.Arguments[0].Value) == key;
        }
        else if (SymbolEqualityComparer.Default.Equals(type, model.ThreadingLock) && name is "Enter" or "TryEnter" or "EnterScope")
        {
            lockExpression = invocation.Instance;
            display = "the Lock '" + LockKeys.Text(lockExpression!) + "'";
            if (name == "EnterScope")
            {
                IOperation top = ClimbToResult(invocation, out _);
                if (TryGetRegion(invocation, top, localReferences, out TextSpan scopeRegion, out bool scopeClosed, out _, out _))
                {
                    Holds.Add(new Hold(HoldKind.ThreadLock, scopeRegion, invocation.Syntax, display, LockKeys.LocalKey(lockExpression), null, null, syncOnly: true, scopeClosed));
                }

                return;
            }

            string? key = LockKeys.LocalKey(lockExpression);
            isExit = exit => SymbolEqualityComparer.Default.Equals(exit.TargetMethod.ContainingType, model.ThreadingLock)
                && exit.TargetMethod.Name == "Exit" && LockKeys.LocalKey(exit.Instance) == key;
        }
        else if (SymbolEqualityComparer.Default.Equals(type, model.ReaderWriterLockSlim)
            && (name.StartsWith("Enter", System.StringComparison.Ordinal) || name.StartsWith("TryEnter", System.StringComparison.Ordinal)))
        {
            lockExpression = invocation.Instance;
            string mode = name.Replace("TryEnter", string.Empty).Replace("Enter", string.Empty);
            display = "the " + (mode switch { "ReadLock" => "read", "WriteLock" => "write", _ => "upgradeable read" }) + " lock of '" + LockKeys.Text(lockExpression!) + "'";
            string? key = LockKeys.LocalKey(lockExpression);
            string exitName = "Exit" + mode;
            isExit = exit => SymbolEqualityComparer.Default.Equals(exit.TargetMethod.ContainingType, model.ReaderWriterLockSlim)
                && exit.TargetMethod.Name == exitName && LockKeys.LocalKey(exit.Instance) == key;
        }
        else
        {
            return;
        }

        int start = invocation.Syntax.Span.End;
        IInvocationOperation? release = Invocations
            .Where(candidate => candidate.Syntax.SpanStart >= start && isExit(candidate))
            .OrderBy(candidate => candidate.Syntax.SpanStart)
            .FirstOrDefault();
        TextSpan region;
        bool closed;
        if (release is not null)
        {
            region = TextSpan.FromBounds(start, release.Syntax.SpanStart);
            closed = release.Syntax.FirstAncestorOrSelf<FinallyClauseSyntax>() is not null;
        }
        else
        {
            region = TextSpan.FromBounds(start, EnclosingBlockEnd(invocation.Syntax));
            closed = false;
        }

        Holds.Add(new Hold(HoldKind.ThreadLock, region, invocation.Syntax, display, LockKeys.LocalKey(lockExpression), null, null, syncOnly: true, closed));
    }

    /// <summary>
    /// Climbs from an acquire call to the expression that carries its lease: through await,
    /// ConfigureAwait, conversions and .Result or GetAwaiter().GetResult().
    /// </summary>
    public static IOperation ClimbToResult(IOperation operation, out bool awaited)
    {
        awaited = false;
        while (operation.Parent is { } parent)
        {
            switch (parent)
            {
                case IAwaitOperation:
                    awaited = true;
                    break;
                case IConversionOperation:
                case IParenthesizedOperation:
                    break;
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "AsTask" or "GetAwaiter" or "GetResult" } call when call.Instance == operation:
                    if (call.TargetMethod.Name == "GetResult")
                    {
                        awaited = true;
                    }

                    break;
                case IPropertyReferenceOperation { Property.Name: "Result" } result when result.Instance == operation:
                    awaited = true;
                    break;
                default:
                    return operation;
            }

            operation = parent;
        }

        return operation;
    }

    /// <summary>
    /// The span over which the value of <paramref name="top"/> is held: a using scope, or the local
    /// it is stored in until its first release. Returns false when the value is not kept in the body.
    /// </summary>
    private bool TryGetRegion(IInvocationOperation invocation, IOperation top, Dictionary<ILocalSymbol, List<ILocalReferenceOperation>> localReferences, out TextSpan region, out bool closed, out string? leaseName, out ILocalSymbol? local)
    {
        region = default;
        closed = false;
        leaseName = null;
        local = null;
        TextSpan? limit = null;
        int start = top.Syntax.Span.End;
        switch (top.Parent)
        {
            case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                leaseName = declarator.Symbol.Name;
                IOperation? group = declarator.Parent?.Parent;
                if (group?.Parent is IUsingDeclarationOperation usingDeclaration)
                {
                    region = TextSpan.FromBounds(usingDeclaration.Syntax.Span.End, EnclosingBlockEnd(usingDeclaration.Syntax));
                    closed = true;
                    return true;
                }

                if (group?.Parent is IUsingOperation { Body: { } usingBody })
                {
                    region = usingBody.Syntax.Span;
                    closed = true;
                    return true;
                }

                local = declarator.Symbol;
                start = declarator.Syntax.Span.End;
                break;
            case IUsingOperation { Body: { } body } usingOperation when usingOperation.Resources == top:
                region = body.Syntax.Span;
                closed = true;
                return true;
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when assignment.Value == top:
                local = target.Local;
                leaseName = local.Name;
                start = assignment.Syntax.Span.End;
                break;
        }

        if (local is null && SanctuaryModel.OutLeaseLocal(invocation) is { } outLocal)
        {
            local = outLocal;
            leaseName = local.Name;
            start = invocation.Syntax.Span.End;
            if (!TryNarrowToSuccess(invocation, ref start, out limit))
            {
                return false;
            }
        }

        if (local is null)
        {
            return false;
        }

        // The first release after the acquire ends the hold: Dispose or Release, or a using
        // statement over the local, which releases at its end.
        int releaseStart = int.MaxValue;
        if (localReferences.TryGetValue(local, out List<ILocalReferenceOperation>? references))
        {
            foreach (ILocalReferenceOperation reference in references)
            {
                if (reference.Syntax.SpanStart < start)
                {
                    continue;
                }

                int end;
                bool inFinally;
                if (reference.Parent is IInvocationOperation call && call.Instance == reference && SanctuaryModel.IsReleaseName(call.TargetMethod.Name))
                {
                    end = call.Syntax.SpanStart;
                    inFinally = call.Syntax.FirstAncestorOrSelf<FinallyClauseSyntax>() is not null;
                }
                else if (reference.Parent is IUsingOperation usingOperation && usingOperation.Resources == reference)
                {
                    end = usingOperation.Syntax.Span.End;
                    inFinally = true;
                }
                else
                {
                    continue;
                }

                if (end < releaseStart)
                {
                    releaseStart = end;
                    closed = inFinally;
                }
            }
        }

        int regionEnd = releaseStart != int.MaxValue ? releaseStart : EnclosingBlockEnd(invocation.Syntax);
        if (limit is { } bounds)
        {
            start = System.Math.Max(start, bounds.Start);
            regionEnd = System.Math.Min(regionEnd, bounds.End);
        }

        region = TextSpan.FromBounds(start, System.Math.Max(start, regionEnd));
        return true;
    }

    /// <summary>
    /// A try with an out lease holds only where it succeeded: in the branch of <c>if (TryAcquire(out l))</c>,
    /// after <c>if (!TryAcquire(out l)) return;</c> or after <c>while (!TryAcquire(out l))</c>. Inside a
    /// compound condition nothing is known, and the try is not counted as a hold.
    /// </summary>
    private static bool TryNarrowToSuccess(IInvocationOperation invocation, ref int start, out TextSpan? limit)
    {
        limit = null;
        IOperation node = invocation;
        while (node.Parent is IConversionOperation or IParenthesizedOperation)
        {
            node = node.Parent;
        }

        bool negated = false;
        if (node.Parent is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not)
        {
            negated = true;
            node = not;
            while (node.Parent is IConversionOperation or IParenthesizedOperation)
            {
                node = node.Parent;
            }
        }

        switch (node.Parent)
        {
            case IConditionalOperation conditional when conditional.Condition == node:
                if (!negated)
                {
                    limit = conditional.WhenTrue.Syntax.Span;
                }
                else if (EndsWithJump(conditional.WhenTrue))
                {
                    start = conditional.Syntax.Span.End;
                }
                else if (conditional.WhenFalse is not null)
                {
                    limit = conditional.WhenFalse.Syntax.Span;
                }
                else
                {
                    return false;
                }

                return true;
            case IWhileLoopOperation loop when loop.Condition == node && negated:
                start = loop.Syntax.Span.End;
                return true;
            case IBinaryOperation:
                return false;
            default:
                return !negated;
        }
    }

    private static bool EndsWithJump(IOperation branch)
    {
        IOperation last = branch is IBlockOperation { Operations.Length: > 0 } block ? block.Operations[block.Operations.Length - 1] : branch;
        return last is IReturnOperation or IBranchOperation or IThrowOperation
            || last is IExpressionStatementOperation { Operation: IThrowOperation };
    }

    private int EnclosingBlockEnd(SyntaxNode node)
    {
        SyntaxNode? block = node.Parent;
        while (block is not null && block is not BlockSyntax && block is not SwitchSectionSyntax && block != Root.Syntax)
        {
            block = block.Parent;
        }

        return (block ?? Root.Syntax).Span.End;
    }

    /// <summary>The statement whose only job is the given expression: a declaration, an assignment or an expression statement.</summary>
    private static SyntaxNode? StatementOf(IOperation top)
    {
        SyntaxNode? node = top.Syntax.Parent;
        while (node is EqualsValueClauseSyntax or VariableDeclaratorSyntax or VariableDeclarationSyntax or AssignmentExpressionSyntax)
        {
            node = node.Parent;
        }

        return node is LocalDeclarationStatementSyntax or ExpressionStatementSyntax ? node : null;
    }
}
