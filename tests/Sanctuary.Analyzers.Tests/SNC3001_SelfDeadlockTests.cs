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

    [Fact]
    public Task ReadModeFromSecondAttribute_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        partial class Reports
        {
            // Both sides hold "report" in Read mode, which SNC3001 leaves unreported.
            [Sanctuary("ledger")]
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public async Task ReadAsync()
            {
                await ReadMoreAsync();
                await ReadOnceMoreAsync();
            }

            // Each callee's other resource sorts after "report", so the calls close no lock-order cycle.
            [Sanctuary("summary")]
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public Task ReadMoreAsync() => Task.CompletedTask;

            [Sanctuary("report", Mode = LeaseMode.Read)]
            [Sanctuary("report", "tally", Mode = LeaseMode.Read)]
            public Task ReadOnceMoreAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task ExclusiveModeFromSecondAttribute_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary("ledger")]
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public async Task ReadAsync()
            {
                await {|#0:RewriteAsync()|};
            }

            [Sanctuary("summary", Mode = LeaseMode.Read)]
            [Sanctuary("report")]
            public Task RewriteAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'RewriteAsync' declares it too"));

    [Fact]
    public Task SameIdReadAndExclusive_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public async Task ReadAsync()
            {
                await {|#0:RewriteReadFirstAsync()|};
                await {|#1:RewriteExclusiveFirstAsync()|};
            }

            // Callees: "report" in a Read and an Exclusive attribute, in both orders.
            [Sanctuary("report", Mode = LeaseMode.Read)]
            [Sanctuary("report")]
            public Task RewriteReadFirstAsync() => Task.CompletedTask;

            [Sanctuary("report")]
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public Task RewriteExclusiveFirstAsync() => Task.CompletedTask;

            // Caller: the merged hold of "summary" is Exclusive, so even a Read callee waits for it.
            [Sanctuary("summary", Mode = LeaseMode.Read)]
            [Sanctuary("summary")]
            public async Task SummarizeAsync()
            {
                await {|#2:ReadSummaryAsync()|};
            }

            [Sanctuary("summary", Mode = LeaseMode.Read)]
            public Task ReadSummaryAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'RewriteReadFirstAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(1).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'RewriteExclusiveFirstAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(2).WithArguments("resource 'summary'", "declared by the [Sanctuary] attribute of 'Reports.SummarizeAsync', and 'ReadSummaryAsync' declares it too"));

    [Fact]
    public Task MergedUpgradeableOrWrite_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary("report", Mode = LeaseMode.Read)]
            public async Task ReadAsync()
            {
                await {|#0:UpgradeAsync()|};
                await {|#1:WriteAsync()|};
            }

            [Sanctuary("report", Mode = LeaseMode.Read)]
            [Sanctuary("report", Mode = LeaseMode.UpgradeableRead)]
            public Task UpgradeAsync() => Task.CompletedTask;

            [Sanctuary("report", Mode = LeaseMode.UpgradeableRead)]
            [Sanctuary("report", Mode = LeaseMode.Write)]
            public Task WriteAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'UpgradeAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(1).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'WriteAsync' declares it too"));
}
