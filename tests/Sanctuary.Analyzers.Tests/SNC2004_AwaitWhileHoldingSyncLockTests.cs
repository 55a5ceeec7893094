using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC2004_AwaitWhileHoldingSyncLockAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC2004_AwaitWhileHoldingSyncLockTests
{
    [Fact]
    public Task MonitorHeldAcrossAwait_IsReported() => Verify.VerifyAsync("""
        class C
        {
            private readonly object _sync = new();

            async Task M()
            {
                bool taken = false;
                Monitor.Enter(_sync, ref taken);
                try
                {
                    {|SNC2004:await Task.Yield()|};
                }
                finally
                {
                    if (taken)
                    {
                        Monitor.Exit(_sync);
                    }
                }
            }
        }
        """);

    [Fact]
    public Task ThreadingLockAndReaderWriterLockSlim_AreReported() => Verify.VerifyAsync("""
        class C
        {
            private readonly Lock _lock = new();
            private readonly ReaderWriterLockSlim _rw = new();

            async Task M()
            {
                _lock.Enter();
                {|SNC2004:await Task.Yield()|};
                _lock.Exit();
            }

            async Task N()
            {
                _rw.EnterReadLock();
                {|SNC2004:await Task.Yield()|};
                _rw.ExitReadLock();
            }
        }
        """);

    [Fact]
    public Task SanctuaryScopeAcrossAwaitForeachAndYield_IsReported() => Verify.VerifyAsync("""
        using System.Collections.Generic;
        using Sanctuary.Testing;

        class C
        {
            private readonly object _sync = new();

            async Task M(SpinGateLock gate, IAsyncEnumerable<int> items)
            {
                using var scope = gate.Acquire();
                {|SNC2004:await|} foreach (int item in items)
                {
                }
            }

            IEnumerable<int> N()
            {
                lock (_sync)
                {
                    {|SNC2004:yield return 1;|}
                }
            }
        }
        """);

    [Fact]
    public Task AsyncLeaseOrReleasedLock_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private readonly object _sync = new();

            async Task M(AsyncLock gate)
            {
                using var lease = await gate.AcquireAsync();
                await Task.Yield();
            }

            async Task N()
            {
                Monitor.Enter(_sync);
                Monitor.Exit(_sync);
                await Task.Yield();
                lock (_sync)
                {
                }

                await Task.Yield();
            }
        }
        """);
}
