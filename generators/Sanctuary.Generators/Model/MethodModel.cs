using System.Collections.Generic;

namespace Sanctuary.Generators.Model;

/// <summary>How the annotated method returns, which decides the shape of the wrapper.</summary>
internal enum ReturnShape
{
    /// <summary>A sync method without a result.</summary>
    Void,

    /// <summary>A sync method with a result.</summary>
    Value,

    /// <summary>An async method returning Task or ValueTask.</summary>
    Awaitable,

    /// <summary>An async method returning Task&lt;T&gt; or ValueTask&lt;T&gt;.</summary>
    AwaitableOfT,
}

/// <summary>Where the generated code gets its registry from.</summary>
/// <param name="Expression">C# expression that yields the registry, fully qualified.</param>
/// <param name="Description">What the expression names, for the message when it yields null.</param>
/// <param name="MayBeNull">Whether the expression can yield null, so the code must check it.</param>
internal sealed record RegistryModel(string Expression, string Description, bool MayBeNull);

/// <summary>One type that contains the annotated method, as its partial declaration is written.</summary>
/// <param name="Keyword">class, struct, record, record struct or ref struct (with partial added by the emitter).</param>
/// <param name="Name">Name with its type parameter list, escaped where it is a keyword.</param>
internal sealed record ContainingTypeModel(string Keyword, string Name);

/// <summary>One parameter of the annotated method.</summary>
/// <param name="Name">Name, escaped where it is a keyword.</param>
/// <param name="Type">Fully qualified type with nullable annotations.</param>
/// <param name="Modifiers">Declaration modifiers such as <c>ref</c>, <c>params</c> or <c>this</c>, each followed by a space.</param>
/// <param name="ArgumentPrefix"><c>ref </c>, <c>out </c>, <c>in </c> or empty: how it is passed on.</param>
internal sealed record ParameterModel(string Name, string Type, string Modifiers, string ArgumentPrefix);

/// <summary>One resource id of the attribute.</summary>
/// <param name="Constant">The id when it is a constant; null for a template.</param>
/// <param name="Interpolation">For a template, the body of the interpolated string that formats it.</param>
/// <param name="Mode">How it is held, as the value of LeaseMode.</param>
internal sealed record ResourceIdModel(string? Constant, string? Interpolation, int Mode)
{
    /// <summary>
    /// Whether its handle can be created without a mode and priority: an exclusive lock at normal
    /// priority is what the registry creates by default.
    /// </summary>
    public bool UsesDefaultHandle(OptionsModel options) => Mode == 0 && options.Priority == 1;
}

/// <summary>The method-wide lease settings of the attributes, in the units of LeaseOptions.</summary>
internal sealed record OptionsModel(int Priority, int TimeoutMilliseconds, int TimeToLiveMilliseconds, int HeartbeatMilliseconds);

/// <summary>Everything the emitter needs for one annotated method: strings, numbers and arrays of them.</summary>
internal sealed record MethodModel(
    string HintName,
    string? Namespace,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    string Modifiers,
    string ReturnType,
    ReturnShape Shape,
    string Name,
    string TypeParameters,
    EquatableArray<string> Constraints,
    EquatableArray<ParameterModel> Parameters,
    string BodyName,
    string? CancellationToken,
    RegistryModel Registry,
    OptionsModel Options,
    EquatableArray<ResourceIdModel> Resources,
    string HelperName)
{
    /// <summary>Whether every id is a constant, sorted and de-duplicated at compile time.</summary>
    public bool AllConstant
    {
        get
        {
            foreach (ResourceIdModel id in Resources)
            {
                if (id.Constant is null)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Whether the constant ids are acquired through cached handles: always, when every id is
    /// constant. Each handle is created with its id's mode and the method's priority, so the registry picks
    /// the primitive that an acquire by id would pick.
    /// </summary>
    public bool UsesHandles => AllConstant;

    /// <summary>The modes the method holds its resources in, each once, in the order of LeaseMode's values.</summary>
    public IReadOnlyList<int> Modes
    {
        get
        {
            var modes = new List<int>();
            for (int mode = 0; mode <= 3; mode++)
            {
                foreach (ResourceIdModel id in Resources)
                {
                    if (id.Mode == mode)
                    {
                        modes.Add(mode);
                        break;
                    }
                }
            }

            return modes;
        }
    }
}
