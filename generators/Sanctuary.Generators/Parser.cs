using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Sanctuary.Generators.Model;

namespace Sanctuary.Generators;

/// <summary>
/// Turns one [Sanctuary] application into a <see cref="MethodModel"/> of plain strings and
/// numbers, or into diagnostics. Everything that needs the semantic model happens here, so the
/// emitter works from the model alone.
/// </summary>
internal static class Parser
{
    public const string AttributeMetadataName = "Sanctuary.SanctuaryAttribute";
    public const string RegistryAttributeMetadataName = "Sanctuary.SanctuaryRegistryAttribute";
    public const string RegistryMetadataName = "Sanctuary.Resources.ResourceRegistry";
    public const string BodySuffix = "Core";
    public const int MaxResourceIdLength = 512;

    private const string ModeProperty = "Mode";
    private const string PriorityProperty = "Priority";
    private const string TimeoutProperty = "TimeoutMilliseconds";
    private const string TimeToLiveProperty = "TimeToLiveMilliseconds";
    private const string HeartbeatProperty = "HeartbeatMilliseconds";
    private const string ReadProperty = "Read";
    private const string WriteProperty = "Write";

    // Containing type, name, type parameters and parameter types with their ref kinds: unique per overload.
    private static readonly SymbolDisplayFormat s_signatureFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMemberOptions(SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters)
        .WithParameterOptions(SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeParamsRefOut);

    // Fully qualified, with nullable annotations, so that the generated signature matches the declaration.
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Whether a syntax node can carry the attribute: methods, and the shapes reported as unsupported.</summary>
    public static bool IsCandidate(SyntaxNode node) =>
        node is MethodDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax;

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        MethodModel? model = ParseCore(context, diagnostics, cancellationToken);
        return new ParseResult(model, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
    }

    private static MethodModel? ParseCore(GeneratorAttributeSyntaxContext context, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        AttributeData attribute = context.Attributes[0];
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        Location attributeLocation = attributeSyntax?.GetLocation() ?? context.TargetNode.GetLocation();

        // Step 1: only ordinary methods declared with a method declaration can be wrapped.
        if (context.TargetNode is not MethodDeclarationSyntax declaration || context.TargetSymbol is not IMethodSymbol method)
        {
            string kind = context.TargetNode is LocalFunctionStatementSyntax ? "local function" : "lambda";
            string name = context.TargetNode is LocalFunctionStatementSyntax local ? local.Identifier.ValueText : "(anonymous)";
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4010_LocalFunction, attributeLocation, kind, name));
            return null;
        }

        string methodName = method.Name;
        Location nameLocation = declaration.Identifier.GetLocation();

        // Step 2: one attribute whose arguments all have the declared types.
        if (context.Attributes.Length > 1)
        {
            Location second = context.Attributes[1].ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? attributeLocation;
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4018_AppliedTwice, second, methodName, context.Attributes.Length.ToString(CultureInfo.InvariantCulture)));
            return null;
        }

        bool valid = CheckArgumentTypes(context.SemanticModel, attribute, attributeSyntax, methodName, attributeLocation, diagnostics, cancellationToken);

        // Step 3: the method's shape, then its containing types.
        valid &= CheckShape(context.SemanticModel.Compilation, declaration, method, nameLocation, diagnostics, out ReturnShape shape);
        valid &= CheckContainingTypes(method, attributeLocation, diagnostics);

        // Step 4: the body method that the wrapper calls.
        string bodyName = methodName + BodySuffix;
        if (valid && !FindBody(method, bodyName, nameLocation, diagnostics, cancellationToken))
        {
            valid = false;
        }

        // Step 5: the options, then the resource ids in their modes (checked even when the shape
        // is wrong, so all problems show at once).
        OptionsModel? options = ReadOptions(attribute, attributeSyntax, methodName, attributeLocation, diagnostics, out int mode);
        EquatableArray<ResourceIdModel>? resources = ReadResources(attribute, attributeSyntax, method, attributeLocation, diagnostics, mode);
        if (!valid || resources is null || options is null)
        {
            return null;
        }

        // Step 6: the registry.
        RegistryModel? registry = FindRegistry(context.SemanticModel.Compilation, method, nameLocation, diagnostics);
        if (registry is null)
        {
            return null;
        }

        return BuildModel(declaration, method, shape, bodyName, resources.Value, options, registry);
    }

    // ---- Arguments --------------------------------------------------------------------------

    private static bool CheckArgumentTypes(SemanticModel semanticModel, AttributeData attribute, AttributeSyntax? syntax, string methodName, Location attributeLocation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        bool valid = true;
        if (syntax?.ArgumentList is { } arguments)
        {
            int position = 0;
            foreach (AttributeArgumentSyntax argument in arguments.Arguments)
            {
                string? property = argument.NameEquals?.Name.Identifier.ValueText;
                string label = property ?? argument.NameColon?.Name.Identifier.ValueText ?? "#" + (position + 1).ToString(CultureInfo.InvariantCulture);
                if (property is null)
                {
                    position++;
                }

                TypeInfo typeInfo = semanticModel.GetTypeInfo(argument.Expression, cancellationToken);

                // A collection expression has no type of its own, only the one it converts to.
                ITypeSymbol? type = argument.Expression is CollectionExpressionSyntax ? typeInfo.ConvertedType : typeInfo.Type;
                string? expected = ExpectedType(property, type);
                if (expected is not null)
                {
                    string actual = type?.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) ?? "unknown";
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4016_WrongArgumentType, argument.GetLocation(), methodName, label, actual, expected));
                    valid = false;
                }
            }
        }

        // Overload resolution failed without an argument to blame (for example too many named arguments).
        if (valid && (attribute.AttributeConstructor is null || HasErrorArgument(attribute)))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4016_WrongArgumentType, attributeLocation, methodName, "(all)", "unknown", "string resource ids and the documented properties"));
            valid = false;
        }

        return valid;
    }

    // Returns what was expected when the argument's type is wrong, or null when it fits.
    private static string? ExpectedType(string? property, ITypeSymbol? type)
    {
        // A null literal has no type. It fits the positional string ids (and is reported there as
        // empty) and Read and Write, where it lists no id, as their default does.
        if (type is null)
        {
            return property is null or ReadProperty or WriteProperty ? null : "a value";
        }

        switch (property)
        {
            case null:
                bool isString = type.SpecialType == SpecialType.System_String;
                bool isStringArray = type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_String };
                return isString || isStringArray ? null : "string";
            case ModeProperty:
                return IsEnum(type, "Sanctuary.LeaseMode") ? null : "Sanctuary.LeaseMode";
            case ReadProperty or WriteProperty:
                return type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_String } ? null : "string[]";
            case PriorityProperty:
                return IsEnum(type, "Sanctuary.LockPriority") ? null : "Sanctuary.LockPriority";
            case TimeoutProperty or TimeToLiveProperty or HeartbeatProperty:
                return type.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int16 or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_UInt16 or SpecialType.System_Char
                    ? null
                    : "int (milliseconds)";
            default:
                // A property the attribute does not have; the compiler reports it (CS0246 or CS0617).
                return "a property of SanctuaryAttribute";
        }
    }

    private static bool IsEnum(ITypeSymbol type, string metadataName) =>
        type.TypeKind == TypeKind.Enum && type.ToDisplayString() == metadataName;

    private static bool HasErrorArgument(AttributeData attribute)
    {
        foreach (TypedConstant argument in attribute.ConstructorArguments)
        {
            if (argument.Kind == TypedConstantKind.Error)
            {
                return true;
            }
        }

        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Value.Kind == TypedConstantKind.Error)
            {
                return true;
            }
        }

        return false;
    }

    // ---- Shape ------------------------------------------------------------------------------

    private static bool CheckShape(Compilation compilation, MethodDeclarationSyntax declaration, IMethodSymbol method, Location location, List<DiagnosticInfo> diagnostics, out ReturnShape shape)
    {
        string name = method.Name;
        shape = ReturnShape.Void;
        bool valid = true;

        if (method.ContainingType.TypeKind == TypeKind.Interface)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4009_NoBodyToWrap, location, name, "a member of an interface"));
            return false;
        }

        if (method.IsAbstract || method.IsExtern)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4009_NoBodyToWrap, location, name, method.IsAbstract ? "abstract" : "extern"));
            return false;
        }

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4008_RefReturn, location, name));
            valid = false;
        }

        bool isAsync = declaration.Modifiers.Any(SyntaxKind.AsyncKeyword);
        if (isAsync && method.ReturnsVoid)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4005_AsyncVoid, location, name));
            return false;
        }

        if (IsIterator(declaration) || IsAsyncEnumerable(method.ReturnType))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4004_Iterator, location, name));
            return false;
        }

        shape = ClassifyReturn(compilation, method, out bool custom);
        if (custom)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4006_UnsupportedReturnType, location, name, method.ReturnType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat)));
            valid = false;
        }

        if (shape is ReturnShape.Awaitable or ReturnShape.AwaitableOfT)
        {
            foreach (IParameterSymbol parameter in method.Parameters)
            {
                string? problem = parameter.RefKind switch
                {
                    RefKind.None => parameter.Type.IsRefLikeType ? "a ref struct" : null,
                    RefKind.Out => "passed by out",
                    RefKind.Ref => "passed by ref",
                    _ => "passed by in",
                };
                if (problem is not null)
                {
                    Location at = parameter.Locations.Length > 0 ? parameter.Locations[0] : location;
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4007_ByRefParameterOnAsync, at, name, parameter.Name, problem));
                    valid = false;
                }
            }
        }

        // The generator supplies the body: the attribute belongs on a partial declaration without one.
        if (!method.IsPartialDefinition || method.PartialImplementationPart is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4002_NotPartialDeclaration, location, name, name + BodySuffix));
            valid = false;
        }

        return valid;
    }

    private static ReturnShape ClassifyReturn(Compilation compilation, IMethodSymbol method, out bool custom)
    {
        custom = false;
        if (method.ReturnsVoid)
        {
            return ReturnShape.Void;
        }

        ITypeSymbol type = method.ReturnType;
        if (type is INamedTypeSymbol named)
        {
            INamedTypeSymbol definition = named.OriginalDefinition;
            if (Is(definition, compilation, "System.Threading.Tasks.Task") || Is(definition, compilation, "System.Threading.Tasks.ValueTask"))
            {
                return ReturnShape.Awaitable;
            }

            if (Is(definition, compilation, "System.Threading.Tasks.Task`1") || Is(definition, compilation, "System.Threading.Tasks.ValueTask`1"))
            {
                return ReturnShape.AwaitableOfT;
            }
        }

        // Any other type that can be awaited or has its own async builder is a custom task-like type.
        foreach (ISymbol member in type.GetMembers("GetAwaiter"))
        {
            if (member is IMethodSymbol { Parameters.Length: 0, IsStatic: false })
            {
                custom = true;
            }
        }

        foreach (AttributeData data in type.GetAttributes())
        {
            if (data.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.AsyncMethodBuilderAttribute")
            {
                custom = true;
            }
        }

        return ReturnShape.Value;
    }

    private static bool Is(INamedTypeSymbol type, Compilation compilation, string metadataName) =>
        SymbolEqualityComparer.Default.Equals(type, compilation.GetTypeByMetadataName(metadataName));

    private static bool IsAsyncEnumerable(ITypeSymbol type)
    {
        string name = type.OriginalDefinition.ToDisplayString();
        return name is "System.Collections.Generic.IAsyncEnumerable<T>" or "System.Collections.Generic.IAsyncEnumerator<T>";
    }

    // An iterator has a yield statement of its own (not one inside a nested function).
    private static bool IsIterator(MethodDeclarationSyntax declaration)
    {
        SyntaxNode? body = (SyntaxNode?)declaration.Body ?? declaration.ExpressionBody;
        if (body is null)
        {
            return false;
        }

        foreach (SyntaxNode node in body.DescendantNodes(static child => child is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax)))
        {
            if (node is YieldStatementSyntax)
            {
                return true;
            }
        }

        return false;
    }

    private static bool CheckContainingTypes(IMethodSymbol method, Location location, List<DiagnosticInfo> diagnostics)
    {
        for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            bool isPartial = false;
            foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is TypeDeclarationSyntax typeDeclaration && typeDeclaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    isPartial = true;
                    break;
                }
            }

            if (!isPartial)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4001_TypeNotPartial, location, type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat), method.Name));
                return false;
            }

            if (type.IsFileLocal)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4021_FileLocalType, location, type.Name, method.Name));
                return false;
            }
        }

        return true;
    }

    private static bool FindBody(IMethodSymbol method, string bodyName, Location location, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        foreach (ISymbol member in method.ContainingType.GetMembers(bodyName))
        {
            if (member is not IMethodSymbol candidate || candidate.MethodKind != MethodKind.Ordinary || !Matches(method, candidate))
            {
                continue;
            }

            if (candidate.IsAsync && candidate.ReturnsVoid)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4005_AsyncVoid, location, bodyName));
                return false;
            }

            foreach (SyntaxReference reference in candidate.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is MethodDeclarationSyntax bodyDeclaration && IsIterator(bodyDeclaration))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4004_Iterator, location, bodyName));
                    return false;
                }
            }

            return true;
        }

        diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4003_BodyMethodMissing, location, method.Name, bodyName));
        return false;
    }

    // Same static-ness, type parameter count, parameters (type and ref kind) and return type.
    private static bool Matches(IMethodSymbol method, IMethodSymbol candidate)
    {
        if (candidate.IsStatic != method.IsStatic || candidate.Arity != method.Arity || candidate.Parameters.Length != method.Parameters.Length)
        {
            return false;
        }

        // Compare a generic body through the wrapper's own type parameters.
        IMethodSymbol body = candidate.Arity == 0 ? candidate : candidate.Construct(AsTypes(method.TypeParameters));
        for (int i = 0; i < body.Parameters.Length; i++)
        {
            IParameterSymbol mine = method.Parameters[i];
            IParameterSymbol theirs = body.Parameters[i];
            if (mine.RefKind != theirs.RefKind || !SymbolEqualityComparer.Default.Equals(mine.Type, theirs.Type))
            {
                return false;
            }
        }

        return SymbolEqualityComparer.Default.Equals(method.ReturnType, body.ReturnType)
            && method.ReturnsByRef == body.ReturnsByRef
            && method.ReturnsByRefReadonly == body.ReturnsByRefReadonly;
    }

    private static ITypeSymbol[] AsTypes(ImmutableArray<ITypeParameterSymbol> typeParameters)
    {
        var types = new ITypeSymbol[typeParameters.Length];
        for (int i = 0; i < types.Length; i++)
        {
            types[i] = typeParameters[i];
        }

        return types;
    }

    // ---- Resources --------------------------------------------------------------------------

    /// <summary>
    /// Reads the ids of the attribute: the constructor's in <paramref name="mode"/>, then those of
    /// Read and Write. Constants come out sorted and merged, then templates as written; an id
    /// listed twice is held once, in the stronger mode. Null when any id is invalid.
    /// </summary>
    private static EquatableArray<ResourceIdModel>? ReadResources(AttributeData attribute, AttributeSyntax? syntax, IMethodSymbol method, Location attributeLocation, List<DiagnosticInfo> diagnostics, int mode)
    {
        var collector = new ResourceIdCollector(method, diagnostics);
        bool valid = true;
        int count = 0;

        // The constructor's ids, each at its own argument when they are written one by one.
        var positional = new List<string?>();
        if (attribute.ConstructorArguments.Length == 1)
        {
            AddValues(attribute.ConstructorArguments[0], positional);
        }

        for (int i = 0; i < positional.Count; i++)
        {
            valid &= collector.Add(positional[i], "#" + (i + 1).ToString(CultureInfo.InvariantCulture), ArgumentLocation(syntax, i) ?? attributeLocation, mode);
            count++;
        }

        // The ids of Read and Write, at their named argument.
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            int namedMode = argument.Key switch
            {
                ReadProperty => 1,
                WriteProperty => 2,
                _ => -1,
            };
            if (namedMode < 0 || argument.Value.Kind == TypedConstantKind.Error)
            {
                continue;
            }

            var named = new List<string?>();
            AddValues(argument.Value, named);
            Location location = PropertyLocation(syntax, argument.Key) ?? attributeLocation;
            for (int i = 0; i < named.Count; i++)
            {
                valid &= collector.Add(named[i], argument.Key + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", location, namedMode);
                count++;
            }
        }

        if (count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4011_NoResources, attributeLocation, method.Name));
            return null;
        }

        return valid ? collector.ToModel() : null;
    }

    // Adds the strings of a string or string[] argument; other values were reported as wrong types.
    private static void AddValues(TypedConstant argument, List<string?> values)
    {
        if (argument.Kind == TypedConstantKind.Array && !argument.IsNull)
        {
            foreach (TypedConstant item in argument.Values)
            {
                values.Add(item.Value as string);
            }
        }
        else if (argument.Kind == TypedConstantKind.Primitive)
        {
            values.Add(argument.Value as string);
        }
    }

    /// <summary>
    /// Gathers the ids of one method: constants sorted and merged at compile time, templates kept
    /// as written. An id listed twice is held once, in the stronger mode.
    /// </summary>
    private sealed class ResourceIdCollector
    {
        private readonly IMethodSymbol _method;
        private readonly List<DiagnosticInfo> _diagnostics;
        private readonly SortedDictionary<string, int> _constants = new(StringComparer.Ordinal);
        private readonly List<ResourceIdModel> _templates = new();
        private readonly Dictionary<string, int> _templateIndex = new(StringComparer.Ordinal);

        public ResourceIdCollector(IMethodSymbol method, List<DiagnosticInfo> diagnostics)
        {
            _method = method;
            _diagnostics = diagnostics;
        }

        /// <summary>Adds one id in a mode; false when it is invalid (and reported).</summary>
        public bool Add(string? id, string position, Location location, int mode)
        {
            string name = _method.Name;
            if (string.IsNullOrEmpty(id))
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4012_InvalidResourceId, location, name, position, id is null ? "null" : "empty"));
                return false;
            }

            if (!TryParseTemplate(id!, _method, out string? constant, out string? interpolation, out string? error, out string? unknown))
            {
                if (unknown is not null)
                {
                    _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4014_UnknownParameter, location, name, id!, unknown));
                }
                else
                {
                    _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4015_MalformedTemplate, location, name, id!, error!));
                }

                return false;
            }

            if (constant is not null)
            {
                if (constant.Length > MaxResourceIdLength)
                {
                    string length = constant.Length.ToString(CultureInfo.InvariantCulture) + " characters long";
                    _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4012_InvalidResourceId, location, name, "'" + constant.Substring(0, 32) + "...'", length));
                    return false;
                }

                _constants[constant] = _constants.TryGetValue(constant, out int earlier) ? Repeated(constant, earlier, mode, location) : mode;
            }
            else if (_templateIndex.TryGetValue(id!, out int index))
            {
                ResourceIdModel first = _templates[index];
                _templates[index] = first with { Mode = Repeated(id!, first.Mode, mode, location) };
            }
            else
            {
                _templateIndex.Add(id!, _templates.Count);
                _templates.Add(new ResourceIdModel(null, interpolation, mode));
            }

            return true;
        }

        /// <summary>Returns the constants in ordinal order, then the templates as written; templates are sorted at run time.</summary>
        public EquatableArray<ResourceIdModel> ToModel()
        {
            var ordered = new List<ResourceIdModel>();
            foreach (KeyValuePair<string, int> constant in _constants)
            {
                ordered.Add(new ResourceIdModel(constant.Key, null, constant.Value));
            }

            ordered.AddRange(_templates);
            return new EquatableArray<ResourceIdModel>(ordered.ToArray());
        }

        // Reports an id written twice and returns the mode it is held in.
        private int Repeated(string id, int earlier, int later, Location location)
        {
            if (earlier == later)
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4013_DuplicateResourceId, location, _method.Name, id));
                return earlier;
            }

            int merged = MergeModes(earlier, later);
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4022_ConflictingModes, location, _method.Name, id, ModeName(earlier), ModeName(later), ModeName(merged)));
            return merged;
        }
    }

    /// <summary>
    /// The mode an id listed in two modes is held in, as the registry merges a set: a writing mode
    /// (Exclusive 0 or Write 2) wins over UpgradeableRead (3), which wins over Read (1); Exclusive
    /// wins over Write.
    /// </summary>
    internal static int MergeModes(int left, int right)
    {
        bool leftWrites = left is 0 or 2;
        bool rightWrites = right is 0 or 2;
        if (leftWrites || rightWrites)
        {
            return left == 0 || right == 0 ? 0 : 2;
        }

        return left == 3 || right == 3 ? 3 : 1;
    }

    internal static string ModeName(int mode) => mode switch
    {
        0 => "Exclusive",
        1 => "Read",
        2 => "Write",
        3 => "UpgradeableRead",
        _ => mode.ToString(CultureInfo.InvariantCulture),
    };

    // The location of the index-th id when each id is its own argument; null when they come in one array.
    private static Location? ArgumentLocation(AttributeSyntax? syntax, int index)
    {
        if (syntax?.ArgumentList is not { } list)
        {
            return null;
        }

        int position = 0;
        foreach (AttributeArgumentSyntax argument in list.Arguments)
        {
            if (argument.NameEquals is not null)
            {
                continue;
            }

            if (argument.Expression is ArrayCreationExpressionSyntax or ImplicitArrayCreationExpressionSyntax or CollectionExpressionSyntax)
            {
                return argument.GetLocation();
            }

            if (position == index)
            {
                return argument.GetLocation();
            }

            position++;
        }

        return null;
    }

    /// <summary>
    /// Parses an id. Without parameters it is a constant (with <c>{{</c> and <c>}}</c> unescaped);
    /// otherwise the body of an interpolated string that formats it.
    /// </summary>
    internal static bool TryParseTemplate(string id, IMethodSymbol method, out string? constant, out string? interpolation, out string? error, out string? unknownParameter)
    {
        constant = null;
        interpolation = null;
        error = null;
        unknownParameter = null;
        var literal = new StringBuilder();
        var body = new StringBuilder();
        bool hasParameter = false;
        int i = 0;
        while (i < id.Length)
        {
            char c = id[i];
            if (c == '{' && i + 1 < id.Length && id[i + 1] == '{')
            {
                literal.Append('{');
                body.Append("{{");
                i += 2;
                continue;
            }

            if (c == '}' && i + 1 < id.Length && id[i + 1] == '}')
            {
                literal.Append('}');
                body.Append("}}");
                i += 2;
                continue;
            }

            if (c == '}')
            {
                error = "the '}' at position " + (i + 1).ToString(CultureInfo.InvariantCulture) + " closes nothing";
                return false;
            }

            if (c != '{')
            {
                literal.Append(c);
                AppendEscaped(body, c);
                i++;
                continue;
            }

            int close = id.IndexOf('}', i + 1);
            if (close < 0)
            {
                error = "the '{' at position " + (i + 1).ToString(CultureInfo.InvariantCulture) + " is never closed";
                return false;
            }

            string hole = id.Substring(i + 1, close - i - 1);
            int colon = hole.IndexOf(':');
            string parameterName = (colon < 0 ? hole : hole.Substring(0, colon)).Trim();
            string? format = colon < 0 ? null : hole.Substring(colon + 1);
            if (parameterName.Length == 0 || !SyntaxFacts.IsValidIdentifier(parameterName))
            {
                error = "'{" + hole + "}' does not name a parameter";
                return false;
            }

            if (format is not null && (format.Length == 0 || format.IndexOfAny(new[] { '{', '"', '\\', '\n', '\r' }) >= 0))
            {
                error = "the format of '{" + hole + "}' is empty or has a brace, quote, backslash or line break";
                return false;
            }

            IParameterSymbol? parameter = null;
            foreach (IParameterSymbol candidate in method.Parameters)
            {
                if (candidate.Name == parameterName)
                {
                    parameter = candidate;
                }
            }

            if (parameter is null || parameter.RefKind == RefKind.Out)
            {
                unknownParameter = parameterName;
                return false;
            }

            body.Append('{').Append(EscapeIdentifier(parameterName));
            if (format is not null)
            {
                body.Append(':').Append(format);
            }

            body.Append('}');
            hasParameter = true;
            i = close + 1;
        }

        if (hasParameter)
        {
            interpolation = body.ToString();
        }
        else
        {
            constant = literal.ToString();
        }

        return true;
    }

    private static void AppendEscaped(StringBuilder builder, char c)
    {
        switch (c)
        {
            case '"':
                builder.Append("\\\"");
                break;
            case '\\':
                builder.Append("\\\\");
                break;
            default:
                if (char.IsControl(c) || char.IsSurrogate(c) || c > '\u007e')
                {
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                }
                else
                {
                    builder.Append(c);
                }

                break;
        }
    }

    // ---- Options ----------------------------------------------------------------------------

    // Reads and checks the named options; null when one is out of range. The mode of the
    // constructor's ids comes back separately, because each id carries its own mode.
    private static OptionsModel? ReadOptions(AttributeData attribute, AttributeSyntax? syntax, string methodName, Location attributeLocation, List<DiagnosticInfo> diagnostics, out int mode)
    {
        mode = 0;
        int priority = 1;
        int timeout = -1;
        int timeToLive = -1;
        int heartbeat = -1;
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            // Valid options arrive as int (the enums' underlying type too); the rest is reported as a
            // wrong type. Arrays (Read and Write) are ids, read with the others.
            if (argument.Value.Kind is TypedConstantKind.Error or TypedConstantKind.Array || argument.Value.Value is not int value)
            {
                continue;
            }

            switch (argument.Key)
            {
                case ModeProperty:
                    mode = value;
                    break;
                case PriorityProperty:
                    priority = value;
                    break;
                case TimeoutProperty:
                    timeout = value;
                    break;
                case TimeToLiveProperty:
                    timeToLive = value;
                    break;
                case HeartbeatProperty:
                    heartbeat = value;
                    break;
            }
        }

        bool valid = true;
        void Fail(string property, int value, string rule)
        {
            Location location = PropertyLocation(syntax, property) ?? attributeLocation;
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4017_InvalidOptionValue, location, methodName, property, value.ToString(CultureInfo.InvariantCulture), rule));
            valid = false;
        }

        if (mode is < 0 or > 3)
        {
            Fail(ModeProperty, mode, "it must be a defined LeaseMode (Exclusive, Read, Write or UpgradeableRead)");
            mode = 0;
        }

        if (priority is < 0 or > 3)
        {
            Fail(PriorityProperty, priority, "it must be a defined LockPriority (Low, Normal, High or Critical)");
        }

        if (timeout < -1)
        {
            Fail(TimeoutProperty, timeout, "it must be 0 or more, or -1 to wait without a limit");
        }

        if (timeToLive is < -1 or 0)
        {
            Fail(TimeToLiveProperty, timeToLive, "it must be more than 0, or -1 for leases that never expire");
        }

        if (heartbeat is < -1 or 0)
        {
            Fail(HeartbeatProperty, heartbeat, "it must be more than 0, or -1 for no heartbeat");
        }
        else if (heartbeat > 0 && timeToLive > 0 && heartbeat >= timeToLive)
        {
            Fail(HeartbeatProperty, heartbeat, "it must be shorter than TimeToLiveMilliseconds (" + timeToLive.ToString(CultureInfo.InvariantCulture) + "), or no renewal arrives in time");
        }

        return valid ? new OptionsModel(priority, timeout, timeToLive, heartbeat) : null;
    }

    private static Location? PropertyLocation(AttributeSyntax? syntax, string property)
    {
        if (syntax?.ArgumentList is { } list)
        {
            foreach (AttributeArgumentSyntax argument in list.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == property)
                {
                    return argument.GetLocation();
                }
            }
        }

        return null;
    }

    // ---- Registry ---------------------------------------------------------------------------

    private static RegistryModel? FindRegistry(Compilation compilation, IMethodSymbol method, Location location, List<DiagnosticInfo> diagnostics)
    {
        INamedTypeSymbol? marker = compilation.GetTypeByMetadataName(RegistryAttributeMetadataName);
        INamedTypeSymbol? registryType = compilation.GetTypeByMetadataName(RegistryMetadataName);
        var marked = new List<ISymbol>();
        if (marker is not null)
        {
            for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.BaseType)
            {
                bool inherited = !SymbolEqualityComparer.Default.Equals(type, method.ContainingType);
                foreach (ISymbol member in type.GetMembers())
                {
                    if (member is not (IFieldSymbol or IPropertySymbol) || (inherited && member.DeclaredAccessibility == Accessibility.Private))
                    {
                        continue;
                    }

                    foreach (AttributeData data in member.GetAttributes())
                    {
                        if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, marker))
                        {
                            marked.Add(member);
                            break;
                        }
                    }
                }
            }
        }

        if (marked.Count == 0)
        {
            return new RegistryModel("global::Sanctuary.Resources.ResourceRegistry.Shared", "ResourceRegistry.Shared", MayBeNull: false);
        }

        string containing = method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        if (marked.Count > 1)
        {
            var names = new List<string>();
            foreach (ISymbol member in marked)
            {
                names.Add(member.Name);
            }

            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4020_AmbiguousRegistry, location, method.Name, containing, string.Join(", ", names)));
            return null;
        }

        ISymbol chosen = marked[0];
        ITypeSymbol memberType = chosen is IFieldSymbol field ? field.Type : ((IPropertySymbol)chosen).Type;
        string? problem = null;
        if (registryType is not null && !SymbolEqualityComparer.Default.Equals(memberType, registryType))
        {
            problem = "its type is '" + memberType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "'; it must be Sanctuary.Resources.ResourceRegistry";
        }
        else if (chosen is IPropertySymbol { GetMethod: null })
        {
            problem = "the property has no getter";
        }
        else if (method.IsStatic && !chosen.IsStatic)
        {
            problem = "it is an instance member and '" + method.Name + "' is static; make the member static, or the method an instance method";
        }

        if (problem is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SNC4019_InvalidRegistryMember, location, method.Name, chosen.Name, problem));
            return null;
        }

        string expression = chosen.IsStatic
            ? chosen.ContainingType.ToDisplayString(s_typeFormat) + "." + EscapeIdentifier(chosen.Name)
            : "this." + EscapeIdentifier(chosen.Name);
        return new RegistryModel(expression, chosen.ContainingType.Name + "." + chosen.Name, MayBeNull: true);
    }

    // ---- Model ------------------------------------------------------------------------------

    private static MethodModel BuildModel(MethodDeclarationSyntax declaration, IMethodSymbol method, ReturnShape shape, string bodyName, EquatableArray<ResourceIdModel> resources, OptionsModel options, RegistryModel registry)
    {
        // Containing types, outermost first.
        var types = new List<ContainingTypeModel>();
        for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            types.Insert(0, new ContainingTypeModel(TypeKeyword(type), EscapeIdentifier(type.Name) + TypeParameterList(type.TypeParameters)));
        }

        var modifiers = new List<string>();
        foreach (SyntaxToken modifier in declaration.Modifiers)
        {
            if (!modifier.IsKind(SyntaxKind.PartialKeyword))
            {
                modifiers.Add(modifier.Text);
            }
        }

        var parameters = new List<ParameterModel>();
        string? cancellationToken = null;
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            string parameterModifiers = string.Empty;
            if (parameter.DeclaringSyntaxReferences.Length > 0 && parameter.DeclaringSyntaxReferences[0].GetSyntax() is ParameterSyntax parameterSyntax)
            {
                foreach (SyntaxToken modifier in parameterSyntax.Modifiers)
                {
                    parameterModifiers += modifier.Text + " ";
                }
            }

            string prefix = parameter.RefKind switch
            {
                RefKind.None => string.Empty,
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                _ => "in ",
            };
            string name = EscapeIdentifier(parameter.Name);
            parameters.Add(new ParameterModel(name, parameter.Type.ToDisplayString(s_typeFormat), parameterModifiers, prefix));
            // A token passed by value, in, ref or ref readonly is read on entry; an out token has no value yet.
            if (cancellationToken is null && parameter.RefKind != RefKind.Out && parameter.Type.ToDisplayString() == "System.Threading.CancellationToken")
            {
                cancellationToken = name;
            }
        }

        var constraints = new List<string>();
        foreach (ITypeParameterSymbol typeParameter in method.TypeParameters)
        {
            string? clause = ConstraintClause(typeParameter);
            if (clause is not null)
            {
                constraints.Add(clause);
            }
        }

        // The parameters are part of the signature, so overloads get their own file and helper.
        string signature = method.ToDisplayString(s_signatureFormat);
        string hash = Fnv1a(signature).ToString("x8", CultureInfo.InvariantCulture);
        string? ns = method.ContainingNamespace is { IsGlobalNamespace: false } containingNamespace
            ? containingNamespace.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty)
            : null;

        return new MethodModel(
            HintName: HintName(method, hash),
            Namespace: ns,
            ContainingTypes: new EquatableArray<ContainingTypeModel>(types.ToArray()),
            Modifiers: string.Join(" ", modifiers),
            ReturnType: method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(s_typeFormat),
            Shape: shape,
            Name: EscapeIdentifier(method.Name),
            TypeParameters: TypeParameterList(method.TypeParameters),
            Constraints: new EquatableArray<string>(constraints.ToArray()),
            Parameters: new EquatableArray<ParameterModel>(parameters.ToArray()),
            BodyName: EscapeIdentifier(bodyName),
            CancellationToken: cancellationToken,
            Registry: registry,
            Options: options,
            Resources: resources,
            HelperName: "__Sanctuary_" + method.Name + "_" + hash);
    }

    private static string TypeKeyword(INamedTypeSymbol type)
    {
        if (type.IsRecord)
        {
            return type.TypeKind == TypeKind.Struct ? "record struct" : "record";
        }

        if (type.TypeKind == TypeKind.Struct)
        {
            return type.IsRefLikeType ? "ref struct" : "struct";
        }

        return "class";
    }

    private static string TypeParameterList(ImmutableArray<ITypeParameterSymbol> typeParameters)
    {
        if (typeParameters.IsEmpty)
        {
            return string.Empty;
        }

        var names = new string[typeParameters.Length];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = EscapeIdentifier(typeParameters[i].Name);
        }

        return "<" + string.Join(", ", names) + ">";
    }

    private static string? ConstraintClause(ITypeParameterSymbol typeParameter)
    {
        var parts = new List<string>();
        if (typeParameter.HasReferenceTypeConstraint)
        {
            parts.Add(typeParameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        }
        else if (typeParameter.HasUnmanagedTypeConstraint)
        {
            parts.Add("unmanaged");
        }
        else if (typeParameter.HasValueTypeConstraint)
        {
            parts.Add("struct");
        }
        else if (typeParameter.HasNotNullConstraint)
        {
            parts.Add("notnull");
        }

        foreach (ITypeSymbol constraint in typeParameter.ConstraintTypes)
        {
            parts.Add(constraint.ToDisplayString(s_typeFormat));
        }

        if (typeParameter.HasConstructorConstraint)
        {
            parts.Add("new()");
        }

        return parts.Count == 0 ? null : "where " + EscapeIdentifier(typeParameter.Name) + " : " + string.Join(", ", parts);
    }

    private static string HintName(IMethodSymbol method, string hash)
    {
        var builder = new StringBuilder();
        string qualified = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty);
        foreach (char c in qualified + "." + method.Name)
        {
            builder.Append(char.IsLetterOrDigit(c) || c == '.' || c == '_' ? c : '_');
        }

        return builder.Append('.').Append(hash).Append(".g.cs").ToString();
    }

    internal static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
