using System.Collections.Immutable;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Sanctuary.Analyzers.Tests.Infrastructure;

/// <summary>Test compilations: .NET 10 reference assemblies plus the built Sanctuary.Core assembly.</summary>
internal static class TestReferences
{
    public static ReferenceAssemblies Net100 { get; } = new(
        "net10.0",
        new PackageIdentity("Microsoft.NETCore.App.Ref", "10.0.12"),
        Path.Combine("ref", "net10.0"));

    public static MetadataReference SanctuaryCore { get; } =
        MetadataReference.CreateFromFile(typeof(AsyncLock).Assembly.Location);

    /// <summary>Usings that every test source starts with, so the cases show only what matters.</summary>
    public const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using Sanctuary;

        """;

    /// <summary>
    /// Stand-ins for shapes that Sanctuary.Core does not have, declared in a namespace below Sanctuary
    /// so that the naming rules recognise them. They are a registry with a Task-returning acquire, a
    /// scope that is not a ref struct, and the ownership marker.
    /// </summary>
    public const string Stubs = """
        namespace Sanctuary.Testing
        {
            public sealed class NamedRegistry
            {
                public Task<NamedLease> AcquireAsync(string resource) => Task.FromResult(new NamedLease());

                public NamedLease Acquire(string resource) => new NamedLease();
            }

            public struct NamedLease : IDisposable
            {
                public bool IsHeld => true;

                public void Dispose()
                {
                }
            }

            public sealed class SpinGateLock
            {
                public SpinScope Acquire() => new SpinScope();
            }

            public struct SpinScope : IDisposable
            {
                public void Dispose()
                {
                }
            }
        }

        [AttributeUsage(AttributeTargets.Parameter)]
        public sealed class TransfersOwnershipAttribute : Attribute
        {
        }

        """;

    public static void Configure(SolutionState state)
    {
        state.AdditionalReferences.Add(SanctuaryCore);
    }
}

/// <summary>Runs one analyzer over a source with markup and compares the diagnostics.</summary>
internal static class AnalyzerVerifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task VerifyAsync(string source, params DiagnosticResult[] expected) =>
        VerifyAsync(source, expected, null);

    public static async Task VerifyAsync(string source, DiagnosticResult[] expected, string[]? extraSources)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = TestReferences.Usings + source,
            ReferenceAssemblies = TestReferences.Net100,
        };
        TestReferences.Configure(test.TestState);
        test.TestState.Sources.Add(("Stubs.cs", TestReferences.Usings + TestReferences.Stubs));
        foreach (string extra in extraSources ?? [])
        {
            test.TestState.Sources.Add(TestReferences.Usings + extra);
        }

        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync(CancellationToken.None);
    }

    public static DiagnosticResult Diagnostic(string id) => new DiagnosticResult(id, DiagnosticSeverity.Warning);
}

/// <summary>Runs an analyzer and a code fix, including fix-all, and compares the fixed source.</summary>
internal static class CodeFixVerifier<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public static async Task VerifyAsync(string source, string fixedSource, params DiagnosticResult[] expected)
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = TestReferences.Usings + source,
            FixedCode = TestReferences.Usings + fixedSource,
            ReferenceAssemblies = TestReferences.Net100,
        };
        TestReferences.Configure(test.TestState);
        TestReferences.Configure(test.FixedState);
        test.TestState.Sources.Add(("Stubs.cs", TestReferences.Usings + TestReferences.Stubs));
        test.FixedState.Sources.Add(("Stubs.cs", TestReferences.Usings + TestReferences.Stubs));
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync(CancellationToken.None);
    }
}
