using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Sanctuary.Resources;

namespace Sanctuary.Benchmarks;

/// <summary>
/// The named-resource layer against the primitive it wraps, uncontended, one flow. Every acquire
/// here completes synchronously, so any bytes reported belong to the layer.
/// </summary>
/// <remarks>
/// Two groups, each with its own baseline. <c>Single</c>: an exclusive acquire and release of one
/// resource, through a cached handle and through a constant string id, against
/// <see cref="AsyncLock"/> directly. <c>Multi</c>: an all-or-nothing acquire of three resources
/// named out of order, against the same three acquires written by hand in sorted order.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class NamedResourceBenchmarks
{
    private const string Single = "Single";
    private const string Multi = "Multi";

    private static readonly string[] s_unsorted = { "gamma", "alpha", "beta" };

    private readonly AsyncLock _asyncLock = new();
    private readonly ResourceRegistry _registry = new();
    private ResourceHandle _handle = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _handle = _registry.GetHandle("ledger");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _asyncLock.Dispose();
        _registry.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory(Single)]
    public async ValueTask AsyncLockDirect()
    {
        using (await _asyncLock.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark, BenchmarkCategory(Single)]
    public async ValueTask NamedThroughHandle()
    {
        using (await _handle.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark, BenchmarkCategory(Single)]
    public async ValueTask NamedByConstantId()
    {
        using (await _registry.AcquireAsync("ledger-by-id"))
        {
            _counter++;
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory(Multi)]
    public async ValueTask HandWrittenSorted()
    {
        ResourceLease alpha = await _registry.AcquireAsync("alpha");
        ResourceLease beta = await _registry.AcquireAsync("beta");
        ResourceLease gamma = await _registry.AcquireAsync("gamma");
        _counter++;
        gamma.Dispose();
        beta.Dispose();
        alpha.Dispose();
    }

    [Benchmark, BenchmarkCategory(Multi)]
    public async ValueTask AcquireAllOfThree()
    {
        using (await _registry.AcquireAllAsync(s_unsorted))
        {
            _counter++;
        }
    }
}
