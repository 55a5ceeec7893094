using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Sanctuary.Analyzers.Tests.Infrastructure;

/// <summary>
/// The repository's own code that uses Sanctuary.Core, compiled the way its projects compile it, for
/// the false-positive check. Each project under samples/ and tests/ that references Sanctuary.Core
/// is one compilation of all its .cs files. This test project is left out because its cases are strings.
/// </summary>
internal static class RepositoryCorpus
{
    public static string Root { get; } = FindRoot();

    /// <summary>Project folders whose .csproj references src/Sanctuary.Core, except this one.</summary>
    public static IReadOnlyList<string> Projects()
    {
        var projects = new List<string>();
        foreach (string folder in new[] { "samples", "tests" })
        {
            string path = Path.Combine(Root, folder);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (string project in Directory.EnumerateFiles(path, "*.csproj", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string directory = Path.GetDirectoryName(project)!;
                if (Path.GetFileName(directory) != "Sanctuary.Analyzers.Tests"
                    && File.ReadAllText(project).Contains("Sanctuary.Core.csproj", StringComparison.Ordinal))
                {
                    projects.Add(directory);
                }
            }
        }

        return projects;
    }

    public static CSharpCompilation Compile(string projectDirectory)
    {
        var trees = Directory.EnumerateFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(file => !IsBuildOutput(projectDirectory, file))
            .Order(StringComparer.Ordinal)
            .Select(file => CSharpSyntaxTree.ParseText(File.ReadAllText(file), new CSharpParseOptions(LanguageVersion.Preview), file))
            .ToList();
        return CSharpCompilation.Create(
            Path.GetFileName(projectDirectory),
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
    }

    /// <summary>Every analyzer of the Sanctuary.Analyzers assembly.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers() =>
        typeof(SNC1001_LeaseFlowAnalyzer).Assembly.GetTypes()
            .Where(type => !type.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(type) && type.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(type => (DiagnosticAnalyzer)Activator.CreateInstance(type)!)
            .ToImmutableArray();

    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(CSharpCompilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false);
        CompilationWithAnalyzers withAnalyzers = compilation.WithAnalyzers(Analyzers(), options);
        ImmutableArray<Diagnostic> all = await withAnalyzers.GetAllDiagnosticsAsync(CancellationToken.None);

        // Analyzer results, plus AD0001 when an analyzer threw.
        return all.Where(d => d.Id.StartsWith("SNC", StringComparison.Ordinal) || d.Id == "AD0001").ToImmutableArray();
    }

    private static readonly Lazy<List<MetadataReference>> References = new(() =>
    {
        // The running .NET, then the libraries copied next to the tests that it does not already have.
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var references = new List<MetadataReference>();
        foreach (string file in Directory.EnumerateFiles(runtime, "*.dll").Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")))
        {
            if (names.Add(Path.GetFileName(file)) && IsManagedAssembly(file))
            {
                references.Add(MetadataReference.CreateFromFile(file));
            }
        }

        return references;
    });

    private static bool IsManagedAssembly(string file)
    {
        try
        {
            AssemblyName.GetAssemblyName(file);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static bool IsBuildOutput(string projectDirectory, string file)
    {
        string relative = Path.GetRelativePath(projectDirectory, file);
        string first = relative.Split(Path.DirectorySeparatorChar)[0];
        return first is "bin" or "obj";
    }

    private static string FindRoot()
    {
        for (string? directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Sanctuary.Core.sln")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("The repository root (the folder of Sanctuary.Core.sln) was not found above " + AppContext.BaseDirectory);
    }
}
