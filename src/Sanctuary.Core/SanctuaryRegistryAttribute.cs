using System;

namespace Sanctuary;

/// <summary>
/// Marks the field or property that supplies the <see cref="Resources.ResourceRegistry"/> to the
/// <see cref="SanctuaryAttribute"/> methods of the containing type (and of types derived from it).
/// </summary>
/// <remarks>
/// <para>
/// The member must be of type <see cref="Resources.ResourceRegistry"/>. An instance member serves
/// instance methods only; a static member serves both. Without a marked member, the generated
/// code uses <see cref="Resources.ResourceRegistry.Shared"/>.
/// </para>
/// <para>
/// The generated code reads the member on every call, and throws
/// <see cref="InvalidOperationException"/> when it is <see langword="null"/>.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class SanctuaryRegistryAttribute : Attribute
{
}
