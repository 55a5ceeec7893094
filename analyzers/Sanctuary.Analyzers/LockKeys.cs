using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Sanctuary.Analyzers;

/// <summary>
/// Names for the lock behind an expression. A local key distinguishes two expressions of one method
/// body, so <c>first.Lock</c> and <c>second.Lock</c> differ. A global key names a lock across the
/// compilation and exists only for fields, properties and constant resource ids.
/// </summary>
internal static class LockKeys
{
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    break;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    break;
                case IDeclarationExpressionOperation declaration:
                    operation = declaration.Expression;
                    break;
                default:
                    return operation;
            }
        }
    }

    /// <summary>A key for the storage an expression reads, or null when it is not a plain chain of names.</summary>
    public static string? LocalKey(IOperation? operation)
    {
        operation = Unwrap(operation);
        switch (operation)
        {
            case ILocalReferenceOperation local:
                // Two locals of one name in different scopes are different storage.
                int start = local.Local.Locations.Length > 0 ? local.Local.Locations[0].SourceSpan.Start : -1;
                return "L:" + local.Local.Name + "@" + start.ToString(CultureInfo.InvariantCulture);
            case IParameterReferenceOperation parameter:
                return "P:" + parameter.Parameter.Name;
            case IInstanceReferenceOperation:
                return "this";
            case IFieldReferenceOperation field:
                return MemberKey(field.Field, field.Instance);
            case IPropertyReferenceOperation { Arguments.Length: 0 } property:
                return MemberKey(property.Property, property.Instance);
            default:
                return null;
        }

        static string? MemberKey(ISymbol member, IOperation? instance)
        {
            string name = member.OriginalDefinition.ToDisplayString();
            if (member.IsStatic)
            {
                return "S:" + name;
            }

            string? receiver = LocalKey(instance);
            return receiver is null ? null : receiver + "/" + name;
        }
    }

    /// <summary>
    /// The field or property that stores the lock, whatever the receiver: all instances of one field
    /// share a key, which is how lock-order analysis names locks across methods.
    /// </summary>
    public static string? GlobalKey(IOperation? operation, out string? display)
    {
        display = null;
        ISymbol? member = Unwrap(operation) switch
        {
            IFieldReferenceOperation field => field.Field,
            IPropertyReferenceOperation { Arguments.Length: 0 } property => property.Property,
            _ => null,
        };

        if (member is null)
        {
            return null;
        }

        display = "'" + member.ContainingType.Name + "." + member.Name + "'";
        return "M:" + member.OriginalDefinition.ToDisplayString();
    }

    public static string ResourceKey(string id) => "R:" + id;

    public static string ResourceDisplay(string id) => "resource '" + id + "'";

    /// <summary>The constant resource id of an acquire on a registry, such as <c>registry.AcquireAsync("ledger")</c>.</summary>
    public static string? ResourceId(IInvocationOperation invocation)
    {
        if (!SanctuaryModel.IsRegistryType(invocation.TargetMethod.ContainingType))
        {
            return null;
        }

        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            if (argument.Parameter?.Type.SpecialType == SpecialType.System_String)
            {
                return argument.Value.ConstantValue is { HasValue: true, Value: string id } ? id : null;
            }
        }

        return null;
    }

    public static string Text(IOperation operation) => operation.Syntax.ToString();
}
