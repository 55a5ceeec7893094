using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// SNC3001 (self-deadlock), SNC3002 (two locks taken in both orders within one method) and SNC3003
/// (a lock-order cycle across methods, reported when the whole compilation has been seen).
/// </summary>
/// <remarks>
/// Each body yields a summary: the locks it holds when it takes another (fields and properties of
/// lock types, constant resource ids of registries, [Sanctuary] resources) and the source methods it
/// calls while holding locks. At the end of the compilation the summaries are joined: a call adds
/// an edge from each held lock to every lock the callee may take, directly or through its own calls.
/// </remarks>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class SNC3001_LockOrderAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property with the span start of the first of two adjacent acquire statements that the code fix swaps.</summary>
    public const string SwapFirstProperty = "SwapFirst";

    /// <summary>Property with the span start of the second statement to swap.</summary>
    public const string SwapSecondProperty = "SwapSecond";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.SNC3001_SelfDeadlock,
        Descriptors.SNC3002_OrderInvertedInMethod,
        Descriptors.SNC3003_LockOrderCycle);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            SanctuaryModel model = SanctuaryModel.Create(start.Compilation);
            var summaries = new ConcurrentBag<BodySummary>();
            start.RegisterOperationBlockAction(block =>
            {
                foreach (IOperation root in block.OperationBlocks)
                {
                    if (root.Kind is not (OperationKind.MethodBody or OperationKind.ConstructorBody or OperationKind.Block))
                    {
                        continue;
                    }

                    AnalyzerGuard.Run(root.Syntax, (block, root), state =>
                    {
                        foreach (BodyModel body in BodyModel.Build(state.root, state.block.OwningSymbol, model))
                        {
                            ReportSelfDeadlocks(state.block, body);
                            ReportInversions(state.block, body);
                            summaries.Add(Summarize(body));
                        }
                    });
                }
            });
            start.RegisterCompilationEndAction(end => ReportCycles(end, summaries));
        });
    }

    private static void ReportSelfDeadlocks(OperationBlockAnalysisContext context, BodyModel body)
    {
        foreach (AcquireSite site in body.Acquires)
        {
            // A try with a timeout fails instead of waiting forever. An acquire that is not awaited
            // here does not wait here. A pool may have units left for a second reservation.
            if (!site.Waits || site.IsTry || site.LocalKey is null || site.IsCounting)
            {
                continue;
            }

            // An acquire that overwrites the local of the held lease implies the old lease is not
            // held any more there, as in "if (!gate.TryAcquire(out lease)) lease = await gate.AcquireAsync();".
            // Modes are compared per resource: a [Sanctuary] method holds each id in its own mode.
            // NOTE: a second Read of a resource held in Read is not reported, but it can still
            // deadlock. The in-memory registry's reader-writer lock has writer preference, so the
            // second Read waits behind a queued writer, which waits for the first Read.
            Hold? held = body.HeldAt(site.Syntax.SpanStart).FirstOrDefault(hold =>
                hold.Kind != HoldKind.ThreadLock
                && hold.Site != site.Syntax
                && hold.LocalKey == site.LocalKey
                && !(hold.Mode == LeaseModes.Read && site.Mode == LeaseModes.Read)
                && !(hold.MayBeShared && site.Mode == LeaseModes.Read)
                && !(site.Local is not null && SymbolEqualityComparer.Default.Equals(site.Local, hold.Local)));
            if (held is null)
            {
                continue;
            }

            string how = held.Kind == HoldKind.Attribute
                ? "declared by the [Sanctuary] attribute of '" + OwnerName(body.Owner) + "'"
                : "acquired on line " + Line(held.Site);
            if (site.SanctuaryMethod is not null)
            {
                how += ", and '" + site.SanctuaryMethod.Name + "' declares it too";
            }

            context.ReportDiagnostic(Diagnostic.Create(Descriptors.SNC3001_SelfDeadlock, site.Syntax.GetLocation(), site.Display, how));
        }
    }

    private static void ReportInversions(OperationBlockAnalysisContext context, BodyModel body)
    {
        List<OrderEdge> edges = LocalEdges(body);
        var reported = new HashSet<SyntaxNode>();
        foreach (OrderEdge edge in edges)
        {
            OrderEdge? opposite = edges.FirstOrDefault(other => other.FromKey == edge.ToKey && other.ToKey == edge.FromKey);
            if (opposite is null)
            {
                continue;
            }

            // Report the edge that breaks the canonical (ordinal) order; when the names tie, the later one.
            int order = string.CompareOrdinal(edge.FromDisplay, edge.ToDisplay);
            bool breaksOrder = order > 0 || (order == 0 && edge.Site.SpanStart > opposite.Site.SpanStart);
            if (!breaksOrder || !reported.Add(edge.Site))
            {
                continue;
            }

            context.ReportDiagnostic(CreateOrderDiagnostic(Descriptors.SNC3002_OrderInvertedInMethod, edge, edge.ToDisplay, edge.FromDisplay, Line(opposite.Site)));
        }
    }

    private static Diagnostic CreateOrderDiagnostic(DiagnosticDescriptor descriptor, OrderEdge edge, params object[] arguments)
    {
        // The fix swaps the two acquire statements when they are adjacent using declarations.
        // Compilation-end diagnostics cannot be fixed in the editor, so only SNC3002 offers it.
        ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty;
        if (descriptor == Descriptors.SNC3002_OrderInvertedInMethod
            && edge.FromStatement is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 } first
            && edge.ToStatement is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 } second
            && first.Parent is BlockSyntax block
            && second.Parent == block
            && block.Statements.IndexOf(second) == block.Statements.IndexOf(first) + 1)
        {
            properties = properties
                .Add(SwapFirstProperty, first.SpanStart.ToString(CultureInfo.InvariantCulture))
                .Add(SwapSecondProperty, second.SpanStart.ToString(CultureInfo.InvariantCulture));
        }

        return Diagnostic.Create(descriptor, edge.Site.GetLocation(), properties, arguments);
    }

    private static List<OrderEdge> LocalEdges(BodyModel body)
    {
        var edges = new List<OrderEdge>();
        foreach (AcquireSite site in body.Acquires)
        {
            if (!site.Waits || site.IsTry || site.LocalKey is null)
            {
                continue;
            }

            foreach (Hold held in body.HeldAt(site.Syntax.SpanStart))
            {
                if (held.Kind == HoldKind.ThreadLock || held.LocalKey is null || held.LocalKey == site.LocalKey || held.Site == site.Syntax)
                {
                    continue;
                }

                edges.Add(new OrderEdge(held.LocalKey, held.LockDisplay ?? held.Display, site.LocalKey, site.Display, site.Syntax, body.Owner, held.Statement, site.Statement));
            }
        }

        return edges;
    }

    private static BodySummary Summarize(BodyModel body)
    {
        var summary = new BodySummary(body.Owner);
        foreach (AcquireSite site in body.Acquires)
        {
            if (!site.Waits || site.IsTry || site.GlobalKey is null)
            {
                continue;
            }

            summary.Acquires[site.GlobalKey] = site.GlobalDisplay ?? site.Display;
            foreach (Hold held in body.HeldAt(site.Syntax.SpanStart))
            {
                if (held.Kind != HoldKind.ThreadLock && held.GlobalKey is not null && held.GlobalKey != site.GlobalKey && held.Site != site.Syntax)
                {
                    summary.Edges.Add(new OrderEdge(held.GlobalKey, held.GlobalDisplay ?? held.Display, site.GlobalKey, site.GlobalDisplay ?? site.Display, site.Syntax, body.Owner, held.Statement, site.Statement));
                }
            }
        }

        // The generator takes [Sanctuary] resources in ordinal order, which orders each pair.
        List<Hold> attributeHolds = body.Holds.Where(h => h.Kind == HoldKind.Attribute).ToList();
        for (int i = 0; i < attributeHolds.Count; i++)
        {
            summary.Acquires[attributeHolds[i].GlobalKey!] = attributeHolds[i].Display;
            for (int j = i + 1; j < attributeHolds.Count; j++)
            {
                summary.Edges.Add(new OrderEdge(attributeHolds[i].GlobalKey!, attributeHolds[i].Display, attributeHolds[j].GlobalKey!, attributeHolds[j].Display, attributeHolds[j].Site, body.Owner, null, null));
            }
        }

        foreach (IInvocationOperation call in body.SourceCalls)
        {
            var held = body.HeldAt(call.Syntax.SpanStart)
                .Where(h => h.Kind != HoldKind.ThreadLock && h.GlobalKey is not null)
                .Select(h => (h.GlobalKey!, h.GlobalDisplay ?? h.Display))
                .ToList();
            summary.Calls.Add(new CallSite(call.TargetMethod.OriginalDefinition, held, call.Syntax));
        }

        return summary;
    }

    private static void ReportCycles(CompilationAnalysisContext context, ConcurrentBag<BodySummary> summaries)
    {
        // Step 1: the locks each method may take, directly or through the source methods it calls.
        var byOwner = new Dictionary<ISymbol, List<BodySummary>>(SymbolEqualityComparer.Default);
        foreach (BodySummary summary in summaries)
        {
            if (summary.Owner is null)
            {
                continue;
            }

            if (!byOwner.TryGetValue(summary.Owner, out List<BodySummary>? list))
            {
                list = [];
                byOwner.Add(summary.Owner, list);
            }

            list.Add(summary);
        }

        var mayAcquire = new Dictionary<ISymbol, Dictionary<string, string>>(SymbolEqualityComparer.Default);
        foreach (var pair in byOwner)
        {
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (BodySummary summary in pair.Value)
            {
                foreach (var acquired in summary.Acquires)
                {
                    set[acquired.Key] = acquired.Value;
                }
            }

            mayAcquire.Add(pair.Key, set);
        }

        bool changed = true;
        while (changed)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            changed = false;
            foreach (var pair in byOwner)
            {
                Dictionary<string, string> set = mayAcquire[pair.Key];
                foreach (CallSite call in pair.Value.SelectMany(s => s.Calls))
                {
                    if (!mayAcquire.TryGetValue(call.Target, out Dictionary<string, string>? calleeSet) || ReferenceEquals(calleeSet, set))
                    {
                        continue;
                    }

                    foreach (var acquired in calleeSet.ToList())
                    {
                        if (!set.ContainsKey(acquired.Key))
                        {
                            set[acquired.Key] = acquired.Value;
                            changed = true;
                        }
                    }
                }
            }
        }

        // Step 2: the graph. Direct edges first, then one edge per lock a callee may take.
        var edges = new List<OrderEdge>();
        foreach (BodySummary summary in summaries)
        {
            edges.AddRange(summary.Edges);
            foreach (CallSite call in summary.Calls)
            {
                if (call.Held.Count == 0 || !mayAcquire.TryGetValue(call.Target, out Dictionary<string, string>? calleeSet))
                {
                    continue;
                }

                foreach ((string heldKey, string heldDisplay) in call.Held)
                {
                    foreach (var acquired in calleeSet)
                    {
                        if (acquired.Key != heldKey)
                        {
                            edges.Add(new OrderEdge(heldKey, heldDisplay, acquired.Key, acquired.Value, call.Syntax, summary.Owner, null, null) { Via = call.Target });
                        }
                    }
                }
            }
        }

        var outgoing = edges.GroupBy(e => e.FromKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        // Step 3: every edge on a cycle is reported at its site, naming the rest of the cycle.
        var reported = new HashSet<(SyntaxNode, string, string)>();
        foreach (OrderEdge edge in edges)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            List<OrderEdge>? path = ShortestPath(outgoing, edge.ToKey, edge.FromKey);
            if (path is null || !reported.Add((edge.Site, edge.FromKey, edge.ToKey)))
            {
                continue;
            }

            // A cycle whose edges all sit in one body is reported there, as SNC3002, while typing.
            if (edge.Via is null && path.All(p => p.Via is null && SymbolEqualityComparer.Default.Equals(p.Owner, edge.Owner)))
            {
                continue;
            }

            string rest = string.Join("; ", path.Select(p =>
                p.ToDisplay + " taken while holding " + p.FromDisplay + " in '" + OwnerName(p.Owner) + "'"
                + (p.Via is null ? string.Empty : " through '" + p.Via.Name + "'")));
            string acquired = edge.Via is null ? edge.ToDisplay : edge.ToDisplay + " (through '" + edge.Via.Name + "')";
            context.ReportDiagnostic(CreateOrderDiagnostic(Descriptors.SNC3003_LockOrderCycle, edge, acquired, edge.FromDisplay, rest));
        }
    }

    private static List<OrderEdge>? ShortestPath(Dictionary<string, List<OrderEdge>> outgoing, string from, string to)
    {
        var previous = new Dictionary<string, OrderEdge>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            string node = queue.Dequeue();
            if (node == to)
            {
                var path = new List<OrderEdge>();
                while (node != from)
                {
                    OrderEdge step = previous[node];
                    path.Add(step);
                    node = step.FromKey;
                }

                path.Reverse();
                return path;
            }

            if (!outgoing.TryGetValue(node, out List<OrderEdge>? next))
            {
                continue;
            }

            foreach (OrderEdge edge in next)
            {
                if (seen.Add(edge.ToKey))
                {
                    previous[edge.ToKey] = edge;
                    queue.Enqueue(edge.ToKey);
                }
            }
        }

        return null;
    }

    private static string OwnerName(ISymbol? owner) => owner switch
    {
        IMethodSymbol { MethodKind: MethodKind.LocalFunction or MethodKind.AnonymousFunction } local =>
            OwnerName(local.ContainingSymbol) + (local.MethodKind == MethodKind.LocalFunction ? "." + local.Name : " (lambda)"),
        IMethodSymbol method => method.ContainingType.Name + "." + method.Name,
        null => "?",
        _ => owner.Name,
    };

    private static string Line(SyntaxNode node) =>
        (node.GetLocation().GetLineSpan().StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture);

    private sealed class OrderEdge
    {
        public OrderEdge(string fromKey, string fromDisplay, string toKey, string toDisplay, SyntaxNode site, ISymbol? owner, SyntaxNode? fromStatement, SyntaxNode? toStatement)
        {
            FromKey = fromKey;
            FromDisplay = fromDisplay;
            ToKey = toKey;
            ToDisplay = toDisplay;
            Site = site;
            Owner = owner;
            FromStatement = fromStatement;
            ToStatement = toStatement;
        }

        public string FromKey { get; }

        public string FromDisplay { get; }

        public string ToKey { get; }

        public string ToDisplay { get; }

        public SyntaxNode Site { get; }

        public ISymbol? Owner { get; }

        public SyntaxNode? FromStatement { get; }

        public SyntaxNode? ToStatement { get; }

        /// <summary>The callee through which the lock is taken, for edges added at a call.</summary>
        public IMethodSymbol? Via { get; init; }
    }

    private sealed class CallSite
    {
        public CallSite(IMethodSymbol target, List<(string Key, string Display)> held, SyntaxNode syntax)
        {
            Target = target;
            Held = held;
            Syntax = syntax;
        }

        public IMethodSymbol Target { get; }

        public List<(string Key, string Display)> Held { get; }

        public SyntaxNode Syntax { get; }
    }

    private sealed class BodySummary
    {
        public BodySummary(ISymbol? owner)
        {
            Owner = owner;
        }

        public ISymbol? Owner { get; }

        public Dictionary<string, string> Acquires { get; } = new(StringComparer.Ordinal);

        public List<OrderEdge> Edges { get; } = [];

        public List<CallSite> Calls { get; } = [];
    }
}
