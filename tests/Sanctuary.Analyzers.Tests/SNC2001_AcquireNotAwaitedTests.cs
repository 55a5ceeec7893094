using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC2001_AcquireNotAwaitedAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC2001_AddAwaitCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC2001_AcquireNotAwaitedAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC2001_AcquireNotAwaitedTests
{
    [Fact]
    public Task DiscardedAndUnderscoreAssigned_AreReported() => Verify.VerifyAsync("""
        class C
        {
            void M(AsyncLock gate)
            {
                {|SNC2001:gate.AcquireAsync()|};
                _ = {|SNC2001:gate.TryAcquireAsync(100)|};
            }
        }
        """);

    [Fact]
    public Task StoredAndNeverAwaited_IsReported() => Verify.VerifyAsync("""
        class C
        {
            bool M(AsyncLock gate)
            {
                var pending = {|SNC2001:gate.AcquireAsync()|};
                return pending.IsCompleted;
            }
        }
        """);

    [Fact]
    public Task TaskUsedDirectlyInUsing_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(Sanctuary.Testing.NamedRegistry registry)
            {
                using ({|SNC2001:registry.AcquireAsync("ledger")|})
                {
                    await Task.Yield();
                }
            }
        }
        """);

    [Fact]
    public Task AwaitedPassedOnOrReturned_ProduceNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var pending = gate.AcquireAsync();
                using var lease = await pending;
                await Consume(gate.AcquireAsync());
            }

            ValueTask<AsyncLock.Lease> Forward(AsyncLock gate) => gate.AcquireAsync();

            static async Task Consume(ValueTask<AsyncLock.Lease> pending) => (await pending).Dispose();
        }
        """);

    [Fact]
    public Task CodeFix_AwaitsUsingResource() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(Sanctuary.Testing.NamedRegistry registry)
            {
                using ({|SNC2001:registry.AcquireAsync("ledger")|})
                {
                    await Task.Yield();
                }
            }
        }
        """,
        """
        class C
        {
            async Task M(Sanctuary.Testing.NamedRegistry registry)
            {
                using (await registry.AcquireAsync("ledger"))
                {
                    await Task.Yield();
                }
            }
        }
        """);

    [Fact]
    public Task CodeFix_HoldsDiscardedAcquire() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                {|SNC2001:gate.AcquireAsync()|};
                await Task.Yield();
            }
        }
        """,
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await Task.Yield();
            }
        }
        """);
}
