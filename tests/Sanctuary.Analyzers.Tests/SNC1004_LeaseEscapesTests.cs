using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC1004_LeaseEscapeAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC1004_LeaseEscapesTests
{
    [Fact]
    public Task FieldNobodyReleases_IsReported() => Verify.VerifyAsync("""
        class Holder
        {
            private AsyncLock.Lease {|SNC1004:_lease|};

            public async Task EnterAsync(AsyncLock gate) => _lease = await gate.AcquireAsync();
        }
        """);

    [Fact]
    public Task FieldReleasedByDispose_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        sealed class Holder : IDisposable
        {
            private AsyncLock.Lease _lease;

            public async Task EnterAsync(AsyncLock gate) => _lease = await gate.AcquireAsync();

            public void Dispose() => _lease.Dispose();
        }
        """);

    [Fact]
    public Task LambdaThatOutlivesTheScope_IsReported() => Verify.VerifyAsync("""
        class C
        {
            private Action? _later;

            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                _ = Task.Run(() => Console.WriteLine({|SNC1004:lease|}.IsHeld));
                _later = () => Console.WriteLine({|SNC1004:lease|}.IsHeld);
            }
        }
        """);

    [Fact]
    public Task LambdaAwaitedInScopeOrTakingOwnership_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await Task.Run(() => Console.WriteLine(lease.IsHeld));
            }

            async Task N(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                _ = Task.Run(() => lease.Dispose());
            }
        }
        """);

    [Fact]
    public Task BoxedCopy_IsReported() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                object boxed = {|SNC1004:lease|};
                IDisposable disposable = {|SNC1004:lease|};
            }
        }
        """);

    [Fact]
    public Task LocalFunctionAndUsingOnLocal_ProduceNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                var lease = await gate.AcquireAsync();
                using (lease)
                {
                    Report();
                }

                void Report() => Console.WriteLine(lease.IsHeld);
            }
        }
        """);
}
