using System;
using Microsoft.CodeAnalysis;

namespace Sanctuary.Generators;

/// <summary>
/// Every diagnostic of the generator. Ids SNC4001 upward, apart from the analyzers' SNC1xxx to
/// SNC3xxx; each id has a page docs/generator/SNC40xx.md whose title is the descriptor's title.
/// A method with an error gets no generated code; a warning leaves the code in place.
/// </summary>
internal static class Descriptors
{
    private const string Category = "Sanctuary.Generator";

    public static readonly DiagnosticDescriptor SNC4001_TypeNotPartial = Create(
        "SNC4001",
        "Type of a [Sanctuary] method is not partial",
        "Type '{0}' contains the [Sanctuary] method '{1}' but is not partial; add the partial modifier to '{0}' so the generator can add the method's locking code",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4002_NotPartialDeclaration = Create(
        "SNC4002",
        "[Sanctuary] method is not a partial declaration",
        "Method '{0}' must be declared partial without a body; write 'partial' in its declaration, end it with ';' and move its body into '{1}'",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4003_BodyMethodMissing = Create(
        "SNC4003",
        "Body method of a [Sanctuary] method is missing",
        "Method '{0}' has no body method '{1}'; add a method '{1}' with the same type parameters, parameters and return type as '{0}', holding the code that runs while the resources are held",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4004_Iterator = Create(
        "SNC4004",
        "[Sanctuary] method is an iterator",
        "Method '{0}' is an iterator or async iterator; its caller enumerates after the method returns, when the resources are already released. Return a materialized collection, or acquire the resources inside the loop",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4005_AsyncVoid = Create(
        "SNC4005",
        "[Sanctuary] method is async void",
        "Method '{0}' is async void; nobody can await it, so the resources would be released at its first await. Return Task instead of void",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4006_UnsupportedReturnType = Create(
        "SNC4006",
        "[Sanctuary] method returns a custom awaitable type",
        "Method '{0}' returns '{1}', an awaitable type the generator does not support; return Task, Task<T>, ValueTask or ValueTask<T>",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4007_ByRefParameterOnAsync = Create(
        "SNC4007",
        "Async [Sanctuary] method has a by-reference or ref struct parameter",
        "Parameter '{1}' of the async method '{0}' is {2}, which an async method cannot take; pass it by value, or make '{0}' synchronous",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4008_RefReturn = Create(
        "SNC4008",
        "[Sanctuary] method returns by reference",
        "Method '{0}' returns by reference; the reference would outlive the resources it is guarded by. Return the value instead",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4009_NoBodyToWrap = Create(
        "SNC4009",
        "[Sanctuary] method has no body to wrap",
        "Method '{0}' is {1}, so there is no body to run while the resources are held; put [Sanctuary] on a partial method of a class, struct or record",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4010_LocalFunction = Create(
        "SNC4010",
        "[Sanctuary] on a local function or lambda",
        "[Sanctuary] on the {0} '{1}' is not supported; move the code into a partial method of the containing type and put the attribute there",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4011_NoResources = Create(
        "SNC4011",
        "[Sanctuary] names no resource",
        "[Sanctuary] on '{0}' names no resource; list at least one resource id, for example [Sanctuary(\"ledger\")]",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4012_InvalidResourceId = Create(
        "SNC4012",
        "Resource id is empty or too long",
        "Resource id {1} of '{0}' is {2}; an id has 1 to 512 characters",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4013_DuplicateResourceId = Create(
        "SNC4013",
        "Resource id is listed twice",
        "Resource id '{1}' is listed more than once on '{0}'; the method takes it once. Remove the repeated id",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor SNC4014_UnknownParameter = Create(
        "SNC4014",
        "Resource id names an unknown parameter",
        "Resource id '{1}' of '{0}' names '{2}', which is not a parameter of '{0}' that has a value on entry; use the name of a parameter that is not out",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4015_MalformedTemplate = Create(
        "SNC4015",
        "Resource id template is malformed",
        "Resource id '{1}' of '{0}' is not a valid template: {2}. Write parameters as {{name}} or {{name:format}}, and literal braces as {{{{ and }}}}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4016_WrongArgumentType = Create(
        "SNC4016",
        "[Sanctuary] argument has the wrong type",
        "Argument '{1}' of [Sanctuary] on '{0}' is of type '{2}', but {3} is expected",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4017_InvalidOptionValue = Create(
        "SNC4017",
        "[Sanctuary] option is out of range",
        "{1} of [Sanctuary] on '{0}' is {2}, but {3}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4018_AppliedTwice = Create(
        "SNC4018",
        "[Sanctuary] is applied more than once",
        "[Sanctuary] is applied {1} times to '{0}'; merge the resource ids into one attribute, listing those held in another mode in its Read or Write property",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4019_InvalidRegistryMember = Create(
        "SNC4019",
        "[SanctuaryRegistry] member cannot supply the registry",
        "Member '{1}' marked [SanctuaryRegistry] cannot supply the registry of '{0}': {2}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4020_AmbiguousRegistry = Create(
        "SNC4020",
        "More than one [SanctuaryRegistry] member",
        "Type '{1}' has more than one member marked [SanctuaryRegistry] ({2}); mark exactly one, so that '{0}' has one registry",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4021_FileLocalType = Create(
        "SNC4021",
        "Type of a [Sanctuary] method is file-local",
        "Type '{0}' contains the [Sanctuary] method '{1}' but is declared 'file', so the generated code in another file cannot extend it; remove the 'file' modifier, or make the type a nested private type",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor SNC4022_ConflictingModes = Create(
        "SNC4022",
        "Resource id is listed in two modes",
        "Resource id '{1}' is listed as {2} and as {3} on '{0}'; the method holds it once, as {4}. List it once, in the mode the method needs",
        DiagnosticSeverity.Warning);

    /// <summary>Every descriptor, in id order.</summary>
    public static readonly DiagnosticDescriptor[] All =
    {
        SNC4001_TypeNotPartial,
        SNC4002_NotPartialDeclaration,
        SNC4003_BodyMethodMissing,
        SNC4004_Iterator,
        SNC4005_AsyncVoid,
        SNC4006_UnsupportedReturnType,
        SNC4007_ByRefParameterOnAsync,
        SNC4008_RefReturn,
        SNC4009_NoBodyToWrap,
        SNC4010_LocalFunction,
        SNC4011_NoResources,
        SNC4012_InvalidResourceId,
        SNC4013_DuplicateResourceId,
        SNC4014_UnknownParameter,
        SNC4015_MalformedTemplate,
        SNC4016_WrongArgumentType,
        SNC4017_InvalidOptionValue,
        SNC4018_AppliedTwice,
        SNC4019_InvalidRegistryMember,
        SNC4020_AmbiguousRegistry,
        SNC4021_FileLocalType,
        SNC4022_ConflictingModes,
    };

    public static DiagnosticDescriptor ById(string id)
    {
        foreach (DiagnosticDescriptor descriptor in All)
        {
            if (descriptor.Id == id)
            {
                return descriptor;
            }
        }

        throw new ArgumentException($"No generator diagnostic has the id '{id}'.", nameof(id));
    }

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true);
}
