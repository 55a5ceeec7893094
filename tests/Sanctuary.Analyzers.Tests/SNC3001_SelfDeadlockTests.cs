using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC3001_LockOrderAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC3001_SelfDeadlockTests
{
    [Fact]
    public Task SameFieldTwice_IsReported() => Verify.VerifyAsync(
        """
        class C
        {
            private readonly AsyncLock _gate = new();

            async Task M()
            {
                using var outer = await _gate.AcquireAsync();
                using var inner = await {|#0:_gate.AcquireAsync()|};
            }
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("'_gate'", "acquired on line 11"));

    [Fact]
    public Task SanctuaryMethodCallsOverlappingSanctuaryMethod_IsReported() => Verify.VerifyAsync("""
        partial class Ledger
        {
            [Sanctuary("accounts", "audit")]
            public async Task TransferAsync()
            {
                await {|SNC3001:AuditAsync()|};
            }

            [Sanctuary("audit")]
            public Task AuditAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task SanctuaryMethodAcquiresItsOwnResource_IsReported() => Verify.VerifyAsync("""
        partial class Ledger
        {
            [Sanctuary("ledger")]
            public async Task PostAsync(Sanctuary.Testing.NamedRegistry registry)
            {
                using var lease = await {|SNC3001:registry.AcquireAsync("ledger")|};
            }
        }
        """);

    [Fact]
    public Task DifferentLocksTryFormsAndReadModes_ProduceNoDiagnostic() => Verify.VerifyAsync("""
        class Account
        {
            public AsyncLock Lock { get; } = new();
        }

        partial class C
        {
            private readonly AsyncLock _gate = new();

            async Task M(Account first, Account second)
            {
                using var a = await first.Lock.AcquireAsync();
                using var b = await second.Lock.AcquireAsync();
            }

            async Task N()
            {
                using var outer = await _gate.AcquireAsync();
                using var probe = await _gate.TryAcquireAsync(TimeSpan.Zero);
            }

            async Task O()
            {
                using (await _gate.AcquireAsync())
                {
                }

                using var again = await _gate.AcquireAsync();
            }

            [Sanctuary("report", Mode = LeaseMode.Read)]
            public Task ReadAsync() => ReadMoreAsync();

            [Sanctuary("report", Mode = LeaseMode.Read)]
            public Task ReadMoreAsync() => Task.CompletedTask;
        }
        """);
}
