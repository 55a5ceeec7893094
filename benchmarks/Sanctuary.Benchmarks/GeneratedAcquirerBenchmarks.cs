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
/// resources taken by hand in sorted order through cached handles, uncontended, one flow. Two
/// more pairs cover a method that reads one of its resources, and a sync method with templated ids
/// against a hand-written call of the blocking <see cref="ResourceRegistry.AcquireAll(System.Collections.Generic.IEnumerable{ResourceRequest}, MultiAcquireOptions?, System.Threading.CancellationToken)"/>.
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
    private const string MixedModes = "MixedModes";
    private const string SyncTemplates = "SyncTemplates";
    private static readonly LeaseOptions s_read = new() { Mode = LeaseMode.Read };

    [SanctuaryRegistry]
    private readonly ResourceRegistry _registry = new();
    private ResourceHandle _alpha = null!;
    private ResourceHandle _beta = null!;
    private ResourceHandle _gamma = null!;
    private ResourceHandle _readOnly = null!;
    private int _from = 1;
    private int _to = 2;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        _alpha = _registry.GetHandle("alpha");
        _beta = _registry.GetHandle("beta");
        _gamma = _registry.GetHandle("gamma");
        _readOnly = _registry.GetHandle("read-only", LeaseMode.Read);
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

    [Benchmark(Baseline = true), BenchmarkCategory(MixedModes)]
    public async ValueTask HandWrittenMixedModesAsync()
    {
        ResourceLease alpha = await _alpha.AcquireAsync();
        try
        {
            ResourceLease beta = await _beta.AcquireAsync();
            try
            {
                ResourceLease readOnly = await _readOnly.AcquireAsync(s_read);
                try
                {
                    _counter++;
                }
                finally
                {
                    readOnly.Dispose();
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

    [Benchmark, BenchmarkCategory(MixedModes)]
    public ValueTask GeneratedMixedModesAsync() => PostMixedAsync();

    [Benchmark(Baseline = true), BenchmarkCategory(SyncTemplates)]
    public void HandWrittenAcquireAll()
    {
        var requests = new ResourceRequest[]
        {
            new(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"account:{_from}")),
            new(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"account:{_to}")),
        };
        ResourceLeaseSet leases = _registry.AcquireAll(requests);
        try
        {
            _counter += _from + _to;
        }
        finally
        {
            leases.Dispose();
        }
    }

    [Benchmark, BenchmarkCategory(SyncTemplates)]
    public void GeneratedSyncTemplates() => Move(_from, _to);

    [Sanctuary("gamma", "alpha", "beta")]
    private partial ValueTask PostAsync();

    [Sanctuary("beta", "alpha", Read = new[] { "read-only" })]
    private partial ValueTask PostMixedAsync();

    [Sanctuary("account:{from}", "account:{to}")]
    private partial void Move(int from, int to);

    [Sanctuary("gamma", "alpha", "beta")]
    private partial void Post();

    private ValueTask PostAsyncCore()
    {
        _counter++;
        return default;
    }

    private void PostCore() => _counter++;

    private ValueTask PostMixedAsyncCore()
    {
        _counter++;
        return default;
    }

    private void MoveCore(int from, int to) => _counter += from + to;

    private static ResourceLease Wait(ValueTask<ResourceLease> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
}
#endif
