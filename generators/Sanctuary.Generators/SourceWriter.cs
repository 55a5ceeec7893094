using System;
using System.Text;

namespace Sanctuary.Generators;

/// <summary>
/// Writes C# source line by line at the current indentation: four spaces per level, braces that
/// open and close a level, and one newline style whatever the host.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";

    private readonly StringBuilder _text = new();
    private int _level;

    /// <summary>Writes one line at the current indentation; an empty line carries no spaces.</summary>
    public SourceWriter Line(string line = "")
    {
        if (line.Length != 0)
        {
            for (int i = 0; i < _level; i++)
            {
                _text.Append(IndentUnit);
            }

            _text.Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="line"/> (if any), then an opening brace, and indents.</summary>
    public SourceWriter Open(string? line = null)
    {
        if (line is not null)
        {
            Line(line);
        }

        Line("{");
        _level++;
        return this;
    }

    /// <summary>Outdents and writes a closing brace followed by <paramref name="suffix"/>.</summary>
    public SourceWriter Close(string suffix = "")
    {
        if (_level == 0)
        {
            throw new InvalidOperationException("Close was called more often than Open.");
        }

        _level--;
        return Line("}" + suffix);
    }

    public override string ToString()
    {
        if (_level != 0)
        {
            throw new InvalidOperationException($"{_level} block(s) were opened and never closed.");
        }

        return _text.ToString();
    }
}
