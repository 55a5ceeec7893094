// The generated methods below exist only where the project runs the Sanctuary generator. The
// project defines SANCTUARY_GENERATOR next to the generator's reference; without it this file is empty.
#if SANCTUARY_GENERATOR
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Sanctuary.Resources;

namespace Sanctuary.Benchmarks;

/// <summary>
/// The code that [Sanctuary] generates for three constant ids against the same three named
/// resources taken by hand in sorted order through cached handles, uncontended, one flow.
/// </summary>
/// <remarks>
/// Both sides use the same registry and the same resources, and both release in reverse order
/// in finally blocks, so the ratio is the cost of the generated wrapper itself: the handle-cache
/// check, the registry read and the call of the body method. Every acquire completes at once,
/// so any bytes reported are the wrapper's.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public partial class GeneratedAcquirerBenchmarks
{
    private const string Async = "Async";
    private const string Sync = "Sync";

    [SanctuaryRegistry]
    private readonly ResourceRegistry _registry = new();
    private ResourceHandle _alpha = null!;
    private ResourceHandle _beta = null!;
    private ResourceHandle _gamma = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _alpha = _registry.GetHandle("alpha");
        _beta = _registry.GetHandle("beta");
        _gamma = _registry.GetHandle("gamma");
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory(Async)]
    public async ValueTask HandWrittenSortedAsync()
    {
        ResourceLease alpha = await _alpha.AcquireAsync();
        try
        {
            ResourceLease beta = await _beta.AcquireAsync();
            try
            {
                ResourceLease gamma = await _gamma.AcquireAsync();
                try
                {
                    _counter++;
                }
                finally
                {
                    gamma.Dispose();
                }
            }
            finally
            {
                beta.Dispose();
            }
        }
        finally
        {
            alpha.Dispose();
        }
    }

    [Benchmark, BenchmarkCategory(Async)]
    public ValueTask GeneratedAsync() => PostAsync();

    [Benchmark(Baseline = true), BenchmarkCategory(Sync)]
    public void HandWrittenSortedSync()
    {
        ResourceLease alpha = Wait(_alpha.AcquireAsync());
        try
        {
            ResourceLease beta = Wait(_beta.AcquireAsync());
            try
            {
                ResourceLease gamma = Wait(_gamma.AcquireAsync());
                try
                {
                    _counter++;
                }
                finally
                {
                    gamma.Dispose();
                }
            }
            finally
            {
                beta.Dispose();
            }
        }
        finally
        {
            alpha.Dispose();
        }
    }

    [Benchmark, BenchmarkCategory(Sync)]
    public void GeneratedSync() => Post();

    [Sanctuary("gamma", "alpha", "beta")]
    private partial ValueTask PostAsync();

    [Sanctuary("gamma", "alpha", "beta")]
    private partial void Post();

    private ValueTask PostAsyncCore()
    {
        _counter++;
        return default;
    }

    private void PostCore() => _counter++;

    private static ResourceLease Wait(ValueTask<ResourceLease> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
}
#endif
