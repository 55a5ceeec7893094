using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC2005_MonitorOnSanctuaryLockAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC2005_MonitorOnSanctuaryLockTests
{
    [Fact]
    public Task LockStatementAndMonitorOnSanctuaryLock_AreReported() => Verify.VerifyAsync("""
        class C
        {
            private readonly AsyncLock _gate = new();

            void M()
            {
                lock ({|SNC2005:_gate|})
                {
                }

                object sync = _gate;
                lock ({|SNC2005:sync|})
                {
                }

                Monitor.Enter({|SNC2005:_gate|});
                Monitor.Exit({|SNC2005:_gate|});
            }
        }
        """);

    [Fact]
    public Task PlainObject_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class C
        {
            private readonly object _sync = new();
            private readonly AsyncLock _gate = new();

            void M()
            {
                lock (_sync)
                {
                    Console.WriteLine(_gate.IsHeld);
                }
            }
        }
        """);
}
