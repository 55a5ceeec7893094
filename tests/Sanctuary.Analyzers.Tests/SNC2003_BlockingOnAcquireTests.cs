using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC2003_BlockingOnAcquireAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC2003_AwaitInsteadOfBlockingCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC2003_BlockingOnAcquireAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC2003_BlockingOnAcquireTests
{
    [Fact]
    public Task EveryBlockingForm_IsReported() => Verify.VerifyAsync("""
        class C
        {
            void M(AsyncLock gate)
            {
                using var first = {|SNC2003:gate.AcquireAsync().Result|};
            }

            void N(AsyncLock gate)
            {
                using var second = {|SNC2003:gate.AcquireAsync().GetAwaiter().GetResult()|};
            }

            void O(AsyncLock gate)
            {
                var pending = gate.AcquireAsync().AsTask();
                {|SNC2003:pending.Wait()|};
                {|SNC2003:pending.Result|}.Dispose();
            }
        }
        """);

    [Fact]
    public Task BlockingWhileHoldingAnotherLease_HasStrongerMessage() => Verify.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock first, AsyncLock second)
            {
                using var held = await first.AcquireAsync();
                using var inner = {|#0:second.AcquireAsync().Result|};
            }
        }
        """,
        Verify.Diagnostic("SNC2003").WithLocation(0).WithArguments(
            "AcquireAsync",
            ".Result",
            "; 'held' is held here, so this can deadlock with a flow that holds the awaited lock and waits for 'held'"));

    [Fact]
    public Task AwaitedOrUnrelatedTask_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate, Task<int> other)
            {
                using var lease = await gate.AcquireAsync();
                Console.WriteLine(other.Result);
            }
        }
        """);

    [Fact]
    public Task CodeFix_ReplacesResultWithAwait() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = {|SNC2003:gate.AcquireAsync().Result|};
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
