using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC3001_LockOrderAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC3002_ReorderAcquisitionsCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC3001_LockOrderAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC3002_OrderInvertedInMethodTests
{
    [Fact]
    public Task BothOrdersInOneMethod_IsReportedOnTheNonCanonicalOne() => Verify.VerifyAsync(
        """
        class C
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task M(bool refund)
            {
                if (refund)
                {
                    using var b = await _b.AcquireAsync();
                    using var a = await {|#0:_a.AcquireAsync()|};
                }
                else
                {
                    using var a = await _a.AcquireAsync();
                    using var b = await _b.AcquireAsync();
                }
            }
        }
        """,
        Verify.Diagnostic("SNC3002").WithLocation(0).WithArguments("'_a'", "'_b'", "20"));

    [Fact]
    public Task OneOrder_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task M()
            {
                using (await _a.AcquireAsync())
                {
                    using var b = await _b.AcquireAsync();
                }

                using var a = await _a.AcquireAsync();
                using var b2 = await _b.AcquireAsync();
            }
        }
        """);

    [Fact]
    public Task CodeFix_SwapsIntoCanonicalOrder() => Fix.VerifyAsync(
        """
        class C
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task M(bool refund)
            {
                if (refund)
                {
                    using var b = await _b.AcquireAsync();
                    using var a = await {|SNC3002:_a.AcquireAsync()|};
                    await Task.Yield();
                }
                else
                {
                    using var a = await _a.AcquireAsync();
                    using var b = await _b.AcquireAsync();
                }
            }
        }
        """,
        """
        class C
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task M(bool refund)
            {
                if (refund)
                {
                    using var a = await _a.AcquireAsync();
                    using var b = await _b.AcquireAsync();
                    await Task.Yield();
                }
                else
                {
                    using var a = await _a.AcquireAsync();
                    using var b = await _b.AcquireAsync();
                }
            }
        }
        """);
}
