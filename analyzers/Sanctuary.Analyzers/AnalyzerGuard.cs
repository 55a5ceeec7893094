using System;
using Microsoft.CodeAnalysis;

namespace Sanctuary.Analyzers;

/// <summary>
/// Runs an analyzer callback so that a crash names the file, line and syntax it was looking at.
/// The compiler turns the exception into an AD0001 warning that carries this message.
/// </summary>
internal static class AnalyzerGuard
{
    public static void Run<TState>(SyntaxNode? node, TState state, Action<TState> action)
    {
        try
        {
            action(state);
        }
        catch (Exception error) when (error is not OperationCanceledException && node is not null)
        {
            FileLinePositionSpan span = node.GetLocation().GetLineSpan();
            throw new InvalidOperationException(
                $"A Sanctuary analyzer failed at {span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}) on {node.GetType().Name} '{Shorten(node.ToString())}': {error.Message}",
                error);
        }
    }

    private static string Shorten(string text)
    {
        text = text.Replace("\r", " ").Replace("\n", " ");
        return text.Length <= 80 ? text : text.Substring(0, 77) + "...";
    }
}
