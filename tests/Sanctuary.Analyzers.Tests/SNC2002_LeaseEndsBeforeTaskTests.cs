using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC2002_LeaseEndsBeforeTaskAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC2002_LeaseEndsBeforeTaskTests
{
    [Fact]
    public Task UsingDeclarationThenReturnTask_IsReported() => Verify.VerifyAsync("""
        class C
        {
            Task M(AsyncLock gate)
            {
                using var lease = gate.Acquire();
                {|SNC2002:return DoWorkAsync();|}
            }

            static Task DoWorkAsync() => Task.Delay(1);
        }
        """);

    [Fact]
    public Task UsingBlockThenReturnTask_IsReported() => Verify.VerifyAsync("""
        class C
        {
            Task M(AsyncLock gate)
            {
                using (gate.Acquire())
                {
                    {|SNC2002:return DoWorkAsync();|}
                }
            }

            static Task DoWorkAsync() => Task.Delay(1);
        }
        """);

    [Fact]
    public Task ReturnValueTaskOfInt_IsReported() => Verify.VerifyAsync("""
        class C
        {
            ValueTask<int> M(AsyncLock gate)
            {
                using var lease = gate.Acquire();
                {|SNC2002:return CountAsync();|}
            }

            static ValueTask<int> CountAsync() => new(Task.FromResult(1));
        }
        """);

    [Fact]
    public Task FinallyReleaseThenReturnTask_IsReported() => Verify.VerifyAsync("""
        class C
        {
            Task M(AsyncLock gate)
            {
                gate.TryAcquire(out AsyncLock.Lease lease);
                try
                {
                    {|SNC2002:return DoWorkAsync();|}
                }
                finally
                {
                    lease.Dispose();
                }
            }

            static Task DoWorkAsync() => Task.Delay(1);
        }
        """);

    [Fact]
    public Task AsyncMethodAwaitsInsideUsing_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await DoWorkAsync();
            }

            static Task DoWorkAsync() => Task.Delay(1);
        }
        """);

    [Fact]
    public Task CompletedTaskUnderLease_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private int _count;

            Task<int> M(AsyncLock gate)
            {
                using var lease = gate.Acquire();
                _count++;
                return Task.FromResult(_count);
            }

            ValueTask<int> N(AsyncLock gate)
            {
                using var lease = gate.Acquire();
                return new ValueTask<int>(++_count);
            }
        }
        """);
}
