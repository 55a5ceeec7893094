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
    public Task ReadListedIds_ProduceNoDiagnostic() => Verify.VerifyAsync("""
        partial class Reports
        {
            // Every side holds "report" in Read mode, which SNC3001 leaves unreported.
            [Sanctuary("ledger", Read = new[] { "report" })]
            public async Task ReadAsync()
            {
                await ReadMoreAsync();
                await ReadOnceMoreAsync();
                await ReadOnlyAsync();
            }

            // Each callee's other resource sorts after "report", so the calls close no lock-order cycle.
            [Sanctuary("summary", Read = new[] { "report" })]
            public Task ReadMoreAsync() => Task.CompletedTask;

            // "report" is listed twice, both times in Read mode.
            [Sanctuary("report", "tally", Mode = LeaseMode.Read, Read = new[] { "report" })]
            public Task ReadOnceMoreAsync() => Task.CompletedTask;

            [Sanctuary(Read = new[] { "report" })]
            public Task ReadOnlyAsync() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task ReadCalleeUnderOptionsLease_NoDiagnostic() => Verify.VerifyAsync("""
        partial class Quotes
        {
            // The options may ask for a shared (read) lease, so a read-only callee may not wait.
            public void Price(Sanctuary.Resources.ResourceRegistry registry)
            {
                using Sanctuary.Resources.ResourceLease reader = registry.Acquire("rates", new Sanctuary.Resources.LeaseOptions { Mode = LeaseMode.Read });
                Quote();
            }

            [Sanctuary(Read = new[] { "rates" })]
            public void Quote() { }
        }
        """);

    [Fact]
    public Task ExclusiveCalleeOfReadId_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary("ledger", Read = new[] { "report" })]
            public async Task ReadAsync()
            {
                await {|#0:RewriteAsync()|};
            }

            [Sanctuary("report", Read = new[] { "summary" })]
            public Task RewriteAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'RewriteAsync' declares it too"));

    [Fact]
    public Task IdInReadAndPositional_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary(Read = new[] { "report" })]
            public async Task ReadAsync()
            {
                await {|#0:RewriteAsync()|};
            }

            // Callee: "report" positional (Exclusive) and in Read, so it is held Exclusive.
            [Sanctuary("report", Read = new[] { "report" })]
            public Task RewriteAsync() => Task.CompletedTask;

            // Caller: the merged hold of "summary" is Exclusive, so even a Read callee waits for it.
            [Sanctuary("summary", Read = new[] { "summary" })]
            public async Task SummarizeAsync()
            {
                await {|#1:ReadSummaryAsync()|};
            }

            [Sanctuary(Read = new[] { "summary" })]
            public Task ReadSummaryAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'RewriteAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(1).WithArguments("resource 'summary'", "declared by the [Sanctuary] attribute of 'Reports.SummarizeAsync', and 'ReadSummaryAsync' declares it too"));

    [Fact]
    public Task UpgradeableOrWriteCallee_IsReported() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            [Sanctuary(Read = new[] { "report" })]
            public async Task ReadAsync()
            {
                await {|#0:UpgradeAsync()|};
                await {|#1:WriteAsync()|};
                await {|#2:WriteOnlyAsync()|};
            }

            // Read merged with UpgradeableRead is UpgradeableRead.
            [Sanctuary("report", Mode = LeaseMode.UpgradeableRead, Read = new[] { "report" })]
            public Task UpgradeAsync() => Task.CompletedTask;

            // UpgradeableRead merged with Write is Write.
            [Sanctuary("report", Mode = LeaseMode.UpgradeableRead, Write = new[] { "report" })]
            public Task WriteAsync() => Task.CompletedTask;

            // Read merged with Write is Write.
            [Sanctuary(Read = new[] { "report" }, Write = new[] { "report" })]
            public Task WriteOnlyAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'UpgradeAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(1).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'WriteAsync' declares it too"),
        Verify.Diagnostic("SNC3001").WithLocation(2).WithArguments("resource 'report'", "declared by the [Sanctuary] attribute of 'Reports.ReadAsync', and 'WriteOnlyAsync' declares it too"));

    [Fact]
    public Task CollectionExpressionModes_ReadAsArrays() => Verify.VerifyAsync(
        """
        partial class Reports
        {
            // Collection expressions (C# 12) in Read and Write are read as array creations are.
            [Sanctuary("ledger", Read = ["report"])]
            public async Task ReadAsync()
            {
                await ReadMoreAsync();
            }

            [Sanctuary(Read = ["report"])]
            public Task ReadMoreAsync() => Task.CompletedTask;

            [Sanctuary(Write = ["summary"])]
            public async Task WriteAsync()
            {
                await {|#0:SummarizeAsync()|};
            }

            [Sanctuary(Read = ["summary"])]
            public Task SummarizeAsync() => Task.CompletedTask;
        }
        """,
        Verify.Diagnostic("SNC3001").WithLocation(0).WithArguments("resource 'summary'", "declared by the [Sanctuary] attribute of 'Reports.WriteAsync', and 'SummarizeAsync' declares it too"));
}
