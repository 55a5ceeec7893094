using System.Threading.Tasks;
using Xunit;
using Fix = Sanctuary.Analyzers.Tests.Infrastructure.CodeFixVerifier<Sanctuary.Analyzers.SNC1001_LeaseFlowAnalyzer, Sanctuary.Analyzers.CodeFixes.SNC1001_AddUsingCodeFix>;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1001_LeaseFlowAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1001_LeaseNotReleasedTests
{
    [Fact]
    public Task LeaseNeverReleased_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = {|SNC1001:await gate.AcquireAsync()|};
                await Task.Yield();
            }
        }
        """);

    [Fact]
    public Task SyncScopeNeverReleased_IsReported() => Verify.VerifyAsync("""
        class C
        {
            void M(AsyncLock gate)
            {
                var scope = {|SNC1001:gate.Acquire()|};
            }
        }
        """);

    [Fact]
    public Task EarlyReturnBeforeRelease_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task<int> M(AsyncLock gate, bool skip)
            {
                var lease = {|SNC1001:await gate.AcquireAsync()|};
                if (skip)
                {
                    return 0;
                }

                lease.Dispose();
                return 1;
            }
        }
        """);

    [Fact]
    public Task TryAcquireThenReturnWhileHeld_IsReported() => Verify.VerifyAsync("""
        class C
        {
            bool M(AsyncLock gate, bool done)
            {
                if ({|SNC1001:gate.TryAcquire(out AsyncLock.Lease lease)|})
                {
                    if (done)
                    {
                        return true;
                    }

                    lease.Dispose();
                }

                return false;
            }
        }
        """);

    [Fact]
    public Task TimedTryAcquireHeldBranchReturns_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task<bool> M(AsyncLock gate)
            {
                var lease = {|SNC1001:await gate.TryAcquireAsync(100)|};
                if (lease.IsHeld)
                {
                    return true;
                }

                return false;
            }
        }
        """);

    [Fact]
    public Task LeasePassedToBorrowingMethod_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = {|SNC1001:await gate.AcquireAsync()|};
                Inspect(lease);
            }

            static void Inspect(AsyncLock.Lease lease) => Console.WriteLine(lease.IsHeld);
        }
        """);

    [Fact]
    public Task LeaseLostInLoopBreak_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate, int[] items)
            {
                foreach (int item in items)
                {
                    var lease = {|SNC1001:await gate.AcquireAsync()|};
                    if (item < 0)
                    {
                        break;
                    }

                    lease.Dispose();
                }
            }
        }
        """);

    [Fact]
    public Task UsingDeclaration_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await Task.Yield();
            }
        }
        """);

    [Fact]
    public Task TryFinallyRelease_ProducesNoDiagnostic() => Verify.VerifyAsync("""
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
        """);

    [Fact]
    public Task FailedTryReturnsEarly_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task<bool> M(AsyncLock gate)
            {
                AsyncLock.Lease lease = await gate.TryAcquireAsync(100);
                if (!lease.IsHeld)
                {
                    return false;
                }

                using (lease)
                {
                    await Task.Yield();
                }

                return true;
            }

            bool N(AsyncLock gate)
            {
                if (!gate.TryAcquire(out AsyncLock.Lease lease))
                {
                    return false;
                }

                lease.Dispose();
                return true;
            }
        }
        """);

    [Fact]
    public Task LeaseReturnedToCaller_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async ValueTask<AsyncLock.Lease> Direct(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                return lease;
            }

            ValueTask<AsyncLock.Lease> Wrapped(AsyncLock gate)
            {
                if (gate.TryAcquire(out AsyncLock.Lease lease))
                {
                    return new ValueTask<AsyncLock.Lease>(lease);
                }

                return default;
            }

            ValueTask<AsyncLock.Lease> FromResult(AsyncLock gate)
            {
                gate.TryAcquire(out AsyncLock.Lease lease);
                return ValueTask.FromResult(lease);
            }

            ValueTask<AsyncLock.Lease> TargetTyped(AsyncLock gate)
            {
                gate.TryAcquire(out AsyncLock.Lease lease);
                return new(lease);
            }
        }
        """);

    [Fact]
    public Task LeaseHandedToOwner_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private AsyncLock.Lease _held;

            async Task Marked(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                Keep(lease);
            }

            async Task ReleasedByCallee(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                Finish(lease);
            }

            async Task StoredInField(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                _held = lease;
            }

            void Keep([TransfersOwnership] AsyncLock.Lease lease) => _held = lease;

            static void Finish(AsyncLock.Lease lease) => lease.Dispose();

            public void Dispose() => _held.Dispose();
        }
        """);

    [Fact]
    public Task AssertedTry_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        static class Assert
        {
            public static void True(bool condition) { }
            public static void False(bool condition) { }
        }

        class C
        {
            void M(AsyncLock gate)
            {
                Assert.True(gate.TryAcquire(out AsyncLock.Lease holder));
                Assert.False(gate.TryAcquire(out AsyncLock.Lease refused));
                holder.Dispose();
            }
        }
        """);

    [Fact]
    public Task NotHeldLeaseFromTimedScope_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            void M(AsyncLock gate)
            {
                using var scope = gate.TryAcquire(TimeSpan.FromSeconds(1));
                if (!scope.IsHeld)
                {
                    return;
                }
            }
        }
        """);

    [Fact]
    public Task CodeFix_TurnsDeclarationIntoUsing() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock gate, bool skip)
            {
                var lease = {|SNC1001:await gate.AcquireAsync()|};
                if (skip)
                {
                    return;
                }

                lease.Dispose();
            }
        }
        """,
        """
        class C
        {
            async Task M(AsyncLock gate, bool skip)
            {
                using var lease = await gate.AcquireAsync();
                if (skip)
                {
                    return;
                }
            }
        }
        """);

    [Fact]
    public Task CodeFix_FixAllInDocument() => Fix.VerifyAsync(
        """
        class C
        {
            async Task M(AsyncLock first, AsyncLock second)
            {
                var a = {|SNC1001:await first.AcquireAsync()|};
                var b = {|SNC1001:await second.AcquireAsync()|};
                await Task.Yield();
            }
        }
        """,
        """
        class C
        {
            async Task M(AsyncLock first, AsyncLock second)
            {
                using var a = await first.AcquireAsync();
                using var b = await second.AcquireAsync();
                await Task.Yield();
            }
        }
        """);
}
