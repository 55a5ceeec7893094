using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC1002_ReleaseProtectionAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC1002_MoveIntoTryCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1002_ReleaseProtectionAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1003_ReleasedOutsideFinallyTests
{
    private static DiagnosticResult Info(int location) =>
        new DiagnosticResult("SNC1003", DiagnosticSeverity.Info).WithLocation(location).WithArguments("lease");

    [Fact]
    public Task PlainReleaseAfterAwait_IsReported() => Verify.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                await Task.Yield();
                {|#0:lease.Dispose()|};
            }
        }
        """,
        Info(0));

    [Fact]
    public Task PlainReleaseAfterAssignmentsOnly_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private int _count;

            void M(AsyncLock gate)
            {
                var scope = gate.Acquire();
                _count++;
                scope.Dispose();
            }
        }
        """);

    [Fact]
    public Task CodeFix_WrapsInTryFinally() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                await Task.Yield();
                {|#0:lease.Dispose()|};
            }
        }
        """,
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                try
                {
                    await Task.Yield();
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }
        """,
        Info(0));
}
