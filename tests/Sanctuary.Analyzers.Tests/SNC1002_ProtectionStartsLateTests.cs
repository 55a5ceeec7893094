using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC1002_ReleaseProtectionAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC1002_MoveIntoTryCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1002_ReleaseProtectionAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1002_ProtectionStartsLateTests
{
    [Fact]
    public Task CallBetweenAcquireAndTry_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                {|SNC1002:Console.WriteLine("acquired");|}
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
        """);

    [Fact]
    public Task ThrowBetweenAcquireAndUsing_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate, int amount)
            {
                var lease = await gate.AcquireAsync();
                {|SNC1002:if (amount < 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(amount));
                }|}

                using (lease)
                {
                    await Task.Yield();
                }
            }
        }
        """);

    [Fact]
    public Task TryRightAfterAcquire_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private int _count;

            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                _count++;
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
        """);

    [Fact]
    public Task NotHeldGuardBeforeUsing_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private int _timedOut;

            async Task M(AsyncLock gate)
            {
                AsyncLock.Lease lease = await gate.TryAcquireAsync(100);
                if (!lease.IsHeld)
                {
                    _timedOut++;
                    Console.WriteLine("timed out");
                    return;
                }

                using (lease)
                {
                    await Task.Yield();
                }
            }
        }
        """);

    [Fact]
    public Task CodeFix_MovesStatementsIntoTry() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                {|SNC1002:Console.WriteLine("acquired");|}
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
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                try
                {
                    Console.WriteLine("acquired");
                    await Task.Yield();
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }
        """);
}
