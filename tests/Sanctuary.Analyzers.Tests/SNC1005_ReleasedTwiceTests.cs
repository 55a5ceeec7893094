using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1001_LeaseFlowAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1005_ReleasedTwiceTests
{
    [Fact]
    public Task DisposeAfterRelease_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                lease.Release();
                {|SNC1005:lease.Dispose()|};
            }
        }
        """);

    [Fact]
    public Task TwoExplicitReleasesInsideUsing_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                lease.Release();
                {|SNC1005:lease.Release()|};
            }
        }
        """);

    [Fact]
    public Task EarlyReleaseBackedByUsing_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await Task.Yield();
                if (!lease.Release())
                {
                    Console.WriteLine("already released");
                }
            }
        }
        """);

    [Fact]
    public Task ReleaseOnEachBranch_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate, bool early)
            {
                var lease = await gate.AcquireAsync();
                if (early)
                {
                    lease.Dispose();
                    return;
                }

                await Task.Yield();
                lease.Dispose();
            }
        }
        """);
}
