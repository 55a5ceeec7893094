using System.Threading.Tasks;
using Xunit;
using Verify = Sanctuary.Analyzers.Tests.Infrastructure.AnalyzerVerifier<Sanctuary.Analyzers.SNC3001_LockOrderAnalyzer>;

namespace Sanctuary.Analyzers.Tests;

public sealed class SNC3003_LockOrderCycleTests
{
    [Fact]
    public Task TwoMethodsOppositeOrders_AreReportedAtEachEdge() => Verify.VerifyAsync(
        """
        class Bank
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task TransferAsync()
            {
                using var a = await _a.AcquireAsync();
                using var b = await {|#0:_b.AcquireAsync()|};
            }

            async Task RefundAsync()
            {
                using var b = await _b.AcquireAsync();
                using var a = await {|#1:_a.AcquireAsync()|};
            }
        }
        """,
        Verify.Diagnostic("SNC3003").WithLocation(0).WithArguments("'Bank._b'", "'Bank._a'", "'Bank._a' taken while holding 'Bank._b' in 'Bank.RefundAsync'"),
        Verify.Diagnostic("SNC3003").WithLocation(1).WithArguments("'Bank._a'", "'Bank._b'", "'Bank._b' taken while holding 'Bank._a' in 'Bank.TransferAsync'"));

    [Fact]
    public Task ThreeLockCycle_NamesTheOtherEdges() => Verify.VerifyAsync(
        """
        class Shop
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();
            private readonly AsyncLock _c = new();

            async Task One()
            {
                using var a = await _a.AcquireAsync();
                using var b = await {|#0:_b.AcquireAsync()|};
            }

            async Task Two()
            {
                using var b = await _b.AcquireAsync();
                using var c = await {|#1:_c.AcquireAsync()|};
            }

            async Task Three()
            {
                using var c = await _c.AcquireAsync();
                using var a = await {|#2:_a.AcquireAsync()|};
            }
        }
        """,
        Verify.Diagnostic("SNC3003").WithLocation(0).WithArguments("'Shop._b'", "'Shop._a'", "'Shop._c' taken while holding 'Shop._b' in 'Shop.Two'; 'Shop._a' taken while holding 'Shop._c' in 'Shop.Three'"),
        Verify.Diagnostic("SNC3003").WithLocation(1).WithArguments("'Shop._c'", "'Shop._b'", "'Shop._a' taken while holding 'Shop._c' in 'Shop.Three'; 'Shop._b' taken while holding 'Shop._a' in 'Shop.One'"),
        Verify.Diagnostic("SNC3003").WithLocation(2).WithArguments("'Shop._a'", "'Shop._c'", "'Shop._b' taken while holding 'Shop._a' in 'Shop.One'; 'Shop._c' taken while holding 'Shop._b' in 'Shop.Two'"));

    [Fact]
    public Task CycleThroughCallAndSanctuaryAttribute_IsReported() => Verify.VerifyAsync(
        """
        partial class Ledger
        {
            private readonly AsyncLock _journal = new();

            [Sanctuary("accounts")]
            public async Task PostAsync()
            {
                using var journal = await {|#0:_journal.AcquireAsync()|};
            }

            public async Task CloseAsync()
            {
                using var journal = await _journal.AcquireAsync();
                await {|#1:PostAsync()|};
            }
        }
        """,
        Verify.Diagnostic("SNC3003").WithLocation(0).WithArguments("'Ledger._journal'", "resource 'accounts'", "resource 'accounts' taken while holding 'Ledger._journal' in 'Ledger.CloseAsync'"),
        Verify.Diagnostic("SNC3003").WithLocation(1).WithArguments("resource 'accounts'", "'Ledger._journal'", "'Ledger._journal' taken while holding resource 'accounts' in 'Ledger.PostAsync'"));

    [Fact]
    public Task CycleThroughReadResource_IsReported() => Verify.VerifyAsync(
        """
        partial class Ledger
        {
            // One acquisition whatever the modes: "accounts" and then "journal", in ordinal order.
            [{|#0:Sanctuary("accounts", Read = new[] { "journal" })|}]
            public Task PostAsync() => Task.CompletedTask;

            [Sanctuary("journal")]
            public async Task CloseAsync(Sanctuary.Testing.NamedRegistry registry)
            {
                using var accounts = await {|#1:registry.AcquireAsync("accounts")|};
            }
        }
        """,
        Verify.Diagnostic("SNC3003").WithLocation(0).WithArguments("resource 'journal'", "resource 'accounts'", "resource 'accounts' taken while holding resource 'journal' in 'Ledger.CloseAsync'"),
        Verify.Diagnostic("SNC3003").WithLocation(1).WithArguments("resource 'accounts'", "resource 'journal'", "resource 'journal' taken while holding resource 'accounts' in 'Ledger.PostAsync'"));

    [Fact]
    public Task CycleThroughPlainCall_IsReported() => Verify.VerifyAsync(
        """
        class Bank
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task TransferAsync()
            {
                using var a = await _a.AcquireAsync();
                await {|#0:CreditAsync()|};
            }

            async Task CreditAsync()
            {
                using var b = await _b.AcquireAsync();
            }

            async Task RefundAsync()
            {
                using var b = await _b.AcquireAsync();
                using var a = await {|#1:_a.AcquireAsync()|};
            }
        }
        """,
        Verify.Diagnostic("SNC3003").WithLocation(0).WithArguments("'Bank._b' (through 'CreditAsync')", "'Bank._a'", "'Bank._a' taken while holding 'Bank._b' in 'Bank.RefundAsync'"),
        Verify.Diagnostic("SNC3003").WithLocation(1).WithArguments("'Bank._a'", "'Bank._b'", "'Bank._b' taken while holding 'Bank._a' in 'Bank.TransferAsync' through 'CreditAsync'"));

    [Fact]
    public Task ConsistentOrderAcrossMethods_ProducesNoDiagnostic() => Verify.VerifyAsync("""
        class Bank
        {
            private readonly AsyncLock _a = new();
            private readonly AsyncLock _b = new();

            async Task TransferAsync()
            {
                using var a = await _a.AcquireAsync();
                await RefundAsync();
            }

            async Task RefundAsync()
            {
                using var b = await _b.AcquireAsync();
            }

            async Task AuditAsync()
            {
                using var a = await _a.AcquireAsync();
                using var b = await _b.AcquireAsync();
            }
        }
        """);
}
