using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>How an acquire method hands out its lease.</summary>
internal enum AcquireShape
{
    None,

    /// <summary>Returns the lease itself and blocks until it is granted.</summary>
    Sync,

    /// <summary>Returns a Task or ValueTask of the lease.</summary>
    Async,

    /// <summary>Returns bool and writes the lease to an out parameter without waiting (a try-now).</summary>
    OutParameter,
}

/// <summary>The shape of one acquire method and the lease type it returns.</summary>
internal readonly struct AcquireInfo
{
    public AcquireInfo(AcquireShape shape, bool isTry, ITypeSymbol? leaseType)
    {
        Shape = shape;
        IsTry = isTry;
        LeaseType = leaseType;
    }

    public AcquireShape Shape { get; }

    /// <summary>Whether the method may return a lease that is not held (a Try* or TryReserve* method).</summary>
    public bool IsTry { get; }

    public ITypeSymbol? LeaseType { get; }

    public bool IsAcquire => Shape != AcquireShape.None;
}

/// <summary>
/// The symbols and naming rules that every Sanctuary analyzer needs, resolved once per compilation.
/// </summary>
/// <remarks>
/// The library grows new primitives, so types are recognised by a naming rule rather than a list:
/// <list type="bullet">
/// <item>A lease is a type declared in namespace <c>Sanctuary</c> or one below it (or nested in such a
/// type) whose name ends in <c>Lease</c>, <c>Scope</c> or <c>Reservation</c> and that has a
/// parameterless <c>Dispose</c> or <c>DisposeAsync</c> method. A lease whose name ends in <c>Scope</c>
/// is sync-only.</item>
/// <item>A lock is a type in such a namespace whose name ends in <c>Lock</c>, <c>Pool</c> or <c>Registry</c>.</item>
/// <item>An acquire is a method named <c>Acquire*</c>, <c>TryAcquire*</c>, <c>Reserve*</c> or
/// <c>TryReserve*</c> that returns a lease, a Task or ValueTask of a lease, or bool with an out lease.</item>
/// </list>
/// </remarks>
internal sealed class SanctuaryModel
{
    public const string SanctuaryNamespace = "Sanctuary";
    public const string TransfersOwnershipAttributeName = "TransfersOwnershipAttribute";

    private static readonly string[] s_leaseSuffixes = ["Lease", "Scope", "Reservation"];
    private static readonly string[] s_lockSuffixes = ["Lock", "Pool", "Registry"];
    private static readonly string[] s_acquirePrefixes = ["Acquire", "TryAcquire", "Reserve", "TryReserve"];

    private readonly ConcurrentDictionary<ITypeSymbol, bool> _leaseTypes = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<ITypeSymbol, bool> _lockTypes = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, AcquireInfo> _acquires = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IParameterSymbol, bool> _ownershipParameters = new(SymbolEqualityComparer.Default);

    private SanctuaryModel(Compilation compilation)
    {
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        Monitor = compilation.GetTypeByMetadataName("System.Threading.Monitor");
        ThreadingLock = compilation.GetTypeByMetadataName("System.Threading.Lock");
        ReaderWriterLockSlim = compilation.GetTypeByMetadataName("System.Threading.ReaderWriterLockSlim");
        SanctuaryAttribute = compilation.GetTypeByMetadataName("Sanctuary.SanctuaryAttribute");
    }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? Monitor { get; }

    /// <summary>System.Threading.Lock, present from .NET 9 on.</summary>
    public INamedTypeSymbol? ThreadingLock { get; }

    public INamedTypeSymbol? ReaderWriterLockSlim { get; }

    /// <summary>Sanctuary.SanctuaryAttribute, absent when the compilation does not reference Sanctuary.Core.</summary>
    public INamedTypeSymbol? SanctuaryAttribute { get; }

    public static SanctuaryModel Create(Compilation compilation) => new(compilation);

    public static bool IsInSanctuaryNamespace(ITypeSymbol type)
    {
        // Nested types take the namespace of their outermost containing type.
        INamespaceSymbol? ns = type.ContainingNamespace;
        if (ns is null)
        {
            return false;
        }

        while (ns.ContainingNamespace is { IsGlobalNamespace: false } parent)
        {
            ns = parent;
        }

        return !ns.IsGlobalNamespace && ns.Name == SanctuaryNamespace;
    }

    public bool IsLeaseType(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol { TypeKind: not TypeKind.Error } named)
        {
            return false;
        }

        return _leaseTypes.GetOrAdd(named.OriginalDefinition, static t =>
            IsInSanctuaryNamespace(t)
            && EndsWithAny(t.Name, s_leaseSuffixes)
            && t.GetMembers().Any(m => m is IMethodSymbol { Name: "Dispose" or "DisposeAsync", Parameters.Length: 0, IsStatic: false }));
    }

    /// <summary>A lease that must never be held across an await: this library's Scope types.</summary>
    public bool IsSyncOnlyLeaseType(ITypeSymbol? type) =>
        IsLeaseType(type) && type!.Name.EndsWith("Scope", StringComparison.Ordinal);

    public bool IsLockType(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol { TypeKind: not TypeKind.Error } named)
        {
            return false;
        }

        return _lockTypes.GetOrAdd(named.OriginalDefinition, static t =>
            IsInSanctuaryNamespace(t) && EndsWithAny(t.Name, s_lockSuffixes));
    }

    public static bool IsRegistryType(ITypeSymbol? type) =>
        type is not null && type.Name.EndsWith("Registry", StringComparison.Ordinal) && IsInSanctuaryNamespace(type);

    public bool IsTaskLike(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol named)
        {
            return false;
        }

        INamedTypeSymbol original = named.OriginalDefinition;
        return SymbolEqualityComparer.Default.Equals(original, Task)
            || SymbolEqualityComparer.Default.Equals(original, TaskOfT)
            || SymbolEqualityComparer.Default.Equals(original, ValueTask)
            || SymbolEqualityComparer.Default.Equals(original, ValueTaskOfT);
    }

    /// <summary>The lease type T of Task&lt;T&gt; or ValueTask&lt;T&gt;, or null.</summary>
    public ITypeSymbol? GetAwaitedLeaseType(ITypeSymbol? type)
    {
        if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, TaskOfT)
                || SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, ValueTaskOfT))
            && IsLeaseType(named.TypeArguments[0]))
        {
            return named.TypeArguments[0];
        }

        return null;
    }

    public AcquireInfo GetAcquireInfo(IMethodSymbol? method)
    {
        if (method is null || !StartsWithAny(method.Name, s_acquirePrefixes))
        {
            return default;
        }

        return _acquires.GetOrAdd(method, m =>
        {
            bool isTry = m.Name.StartsWith("Try", StringComparison.Ordinal);
            if (IsLeaseType(m.ReturnType))
            {
                return new AcquireInfo(AcquireShape.Sync, isTry, m.ReturnType);
            }

            if (GetAwaitedLeaseType(m.ReturnType) is { } awaited)
            {
                return new AcquireInfo(AcquireShape.Async, isTry, awaited);
            }

            if (m.ReturnType.SpecialType == SpecialType.System_Boolean)
            {
                IParameterSymbol? outLease = m.Parameters.FirstOrDefault(p => p.RefKind == RefKind.Out && IsLeaseType(p.Type));
                if (outLease is not null)
                {
                    return new AcquireInfo(AcquireShape.OutParameter, isTry: true, outLease.Type);
                }
            }

            return default;
        });
    }

    /// <summary>
    /// Whether passing a lease to <paramref name="parameter"/> hands over the duty to release it:
    /// the parameter is ref or out, carries an attribute named TransfersOwnershipAttribute, or is
    /// declared in source by a method that does more with it than read its members: releases it,
    /// stores it, copies it, returns it or passes it on.
    /// </summary>
    public bool TakesOwnership(IParameterSymbol parameter)
    {
        if (parameter.RefKind is RefKind.Ref or RefKind.Out)
        {
            return true;
        }

        return _ownershipParameters.GetOrAdd(parameter.OriginalDefinition, static p =>
            p.GetAttributes().Any(a => a.AttributeClass?.Name is TransfersOwnershipAttributeName or "TransfersOwnership")
            || SourceTakesOwnership(p));
    }

    private static bool SourceTakesOwnership(IParameterSymbol parameter)
    {
        if (parameter.ContainingSymbol is not IMethodSymbol method)
        {
            return false;
        }

        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            SyntaxNode declaration = reference.GetSyntax();
            foreach (IdentifierNameSyntax name in declaration.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (name.Identifier.ValueText != parameter.Name)
                {
                    continue;
                }

                // Reading a member such as IsHeld leaves the lease with the caller. A release takes it
                // over, and so does any other use of the value: passing it on, storing, copying, returning.
                bool taken = name.Parent is not MemberAccessExpressionSyntax access || access.Expression != name
                    || access.Name.Identifier.ValueText is "Dispose" or "DisposeAsync" or "Release" or "ReleaseAsync";

                if (taken)
                {
                    return true;
                }
            }
        }

        return false;
    }

    public static bool IsReleaseName(string name) => name is "Dispose" or "DisposeAsync" or "Release" or "ReleaseAsync";

    private static bool EndsWithAny(string name, string[] suffixes)
    {
        foreach (string suffix in suffixes)
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsWithAny(string name, string[] prefixes)
    {
        foreach (string prefix in prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Strips what wraps an acquire call on its way to the lease: await, ConfigureAwait, AsTask,
    /// conversions and parentheses. Returns the acquire invocation, or null.
    /// </summary>
    public IInvocationOperation? FindAcquireInvocation(IOperation? operation, out bool awaited)
    {
        awaited = false;
        while (operation is not null)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    break;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    break;
                case IAwaitOperation awaitOperation:
                    awaited = true;
                    operation = awaitOperation.Operation;
                    break;
                case IInvocationOperation { TargetMethod.Name: "ConfigureAwait" or "AsTask", Instance: { } instance }:
                    operation = instance;
                    break;
                case IInvocationOperation invocation when GetAcquireInfo(invocation.TargetMethod).IsAcquire:
                    return invocation;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>Whether the value is a lease fresh from an acquire; try forms may return a lease that is not held.</summary>
    public bool IsAcquiredLease(IOperation value, out bool isTry)
    {
        isTry = false;
        IOperation current = LockKeys.Unwrap(value)!;

        // .Result and GetAwaiter().GetResult() block, but still produce the lease.
        bool blocked = false;
        if (current is IPropertyReferenceOperation { Property.Name: "Result", Instance: { } resultOf })
        {
            current = resultOf;
            blocked = true;
        }
        else if (current is IInvocationOperation { TargetMethod.Name: "GetResult", Instance: IInvocationOperation { TargetMethod.Name: "GetAwaiter", Instance: { } awaiterOf } })
        {
            current = awaiterOf;
            blocked = true;
        }

        IInvocationOperation? invocation = FindAcquireInvocation(current, out bool awaited);
        if (invocation is null)
        {
            return false;
        }

        AcquireInfo info = GetAcquireInfo(invocation.TargetMethod);
        isTry = info.IsTry;
        return info.Shape == AcquireShape.Sync || (info.Shape == AcquireShape.Async && (awaited || blocked));
    }

    /// <summary>The local of an out argument of an acquire such as <c>TryAcquire(out var lease)</c>.</summary>
    public static ILocalSymbol? OutLeaseLocal(IInvocationOperation invocation)
    {
        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (argument.Parameter?.RefKind == RefKind.Out && LockKeys.Unwrap(argument.Value) is ILocalReferenceOperation local)
            {
                return local.Local;
            }
        }

        return null;
    }

    /// <summary>The outermost operation of the body that contains <paramref name="operation"/>.</summary>
    public static IOperation Root(IOperation operation)
    {
        while (operation.Parent is { } parent)
        {
            operation = parent;
        }

        return operation;
    }

    /// <summary>
    /// Returns the [Sanctuary] attribute of the method, or null when it has none. The attribute
    /// allows one use per method, so when a method carries it twice anyway (error CS0579), the first is read.
    /// </summary>
    public AttributeData? GetSanctuaryAttribute(IMethodSymbol method)
    {
        foreach (AttributeData data in method.GetAttributes())
        {
            if (data.AttributeClass is { } attributeClass
                && (SymbolEqualityComparer.Default.Equals(attributeClass, SanctuaryAttribute)
                    || (attributeClass.Name == "SanctuaryAttribute" && IsInSanctuaryNamespace(attributeClass))))
            {
                return data;
            }
        }

        return null;
    }

    /// <summary>
    /// Returns the constant resource ids of the method's [Sanctuary] attribute, in ordinal order,
    /// which is the order the generator takes them in. See <see cref="GetSanctuaryResources(AttributeData)"/>.
    /// </summary>
    public ImmutableArray<SanctuaryResource> GetSanctuaryResources(IMethodSymbol method) =>
        GetSanctuaryAttribute(method) is { } attribute
            ? GetSanctuaryResources(attribute)
            : ImmutableArray<SanctuaryResource>.Empty;

    /// <summary>
    /// Returns the constant resource ids of a [Sanctuary] attribute, in ordinal order, each with the
    /// mode the generated code holds it in. The constructor's ids are held in <c>Mode</c> (Exclusive
    /// unless set), the ids of <c>Read</c> in Read and the ids of <c>Write</c> in Write. An id listed
    /// more than once is held once, in the strongest of its modes (<see cref="LeaseModes.Merge"/>).
    /// Templates such as <c>"account:{from}"</c> are left out.
    /// </summary>
    public static ImmutableArray<SanctuaryResource> GetSanctuaryResources(AttributeData attribute)
    {
        int mode = LeaseModes.Exclusive;
        TypedConstant read = default;
        TypedConstant write = default;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Mode" when named.Value.Value is int value:
                    mode = value;
                    break;
                case "Read":
                    read = named.Value;
                    break;
                case "Write":
                    write = named.Value;
                    break;
            }
        }

        var modes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (TypedConstant argument in attribute.ConstructorArguments)
        {
            AddIds(modes, argument, mode);
        }

        AddIds(modes, read, LeaseModes.Read);
        AddIds(modes, write, LeaseModes.Write);

        return modes
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new SanctuaryResource(pair.Key, pair.Value))
            .ToImmutableArray();
    }

    // Adds the constant ids of one argument: a string, or an array of strings such as the params
    // array or Read. A null array, an argument with errors and an unset property (default) add nothing.
    private static void AddIds(Dictionary<string, int> modes, TypedConstant argument, int mode)
    {
        if (argument.Kind == TypedConstantKind.Array)
        {
            if (argument.IsNull)
            {
                return;
            }

            foreach (TypedConstant item in argument.Values)
            {
                AddId(modes, item.Value as string, mode);
            }
        }
        else if (argument.Kind == TypedConstantKind.Primitive)
        {
            AddId(modes, argument.Value as string, mode);
        }

        static void AddId(Dictionary<string, int> modes, string? id, int mode)
        {
            // A template such as "account:{from}" names a resource only at run time.
            if (id is null || id.IndexOf('{') >= 0)
            {
                return;
            }

            modes[id] = modes.TryGetValue(id, out int earlier) ? LeaseModes.Merge(earlier, mode) : mode;
        }
    }
}
