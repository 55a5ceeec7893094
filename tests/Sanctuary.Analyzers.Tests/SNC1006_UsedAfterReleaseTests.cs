using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1001_LeaseFlowAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1006_UsedAfterReleaseTests
{
    [Fact]
    public Task PassedOnAfterRelease_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                lease.Dispose();
                Audit({|SNC1006:lease|});
            }

            static void Audit(AsyncLock.Lease lease) => Console.WriteLine(lease.Lock?.Name);
        }
        """);

    [Fact]
    public Task IsHeldCheckAfterRelease_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                lease.Dispose();
                Console.WriteLine(lease.IsHeld);
            }
        }
        """);
}
