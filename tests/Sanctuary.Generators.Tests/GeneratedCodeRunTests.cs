using System;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Generators.Tests.Annotated;
using Sanctuary.Generators.Tests.Annotated.Block;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Generators.Tests;

/// <summary>
/// The generated code of the classes under Annotated/, built by the real compiler, run
/// concurrently against a real registry.
/// </summary>
public class GeneratedCodeRunTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConstantIds_AreTakenInOrdinalOrder()
    {
        var vault = new Vault();

        // "beta" is held elsewhere: the method must hold "alpha" (before it) and not yet "gamma" (after it).
        ResourceLease beta = await vault.Registry.AcquireAsync("beta");
        Task call = vault.TakeThreeAsync(CancellationToken.None);
        await WaitUntil(() => !IsFree(vault.Registry, "alpha"));

        Assert.True(IsFree(vault.Registry, "gamma"), "gamma was taken before beta.");
        Assert.False(call.IsCompleted);
        Assert.Equal(0, vault.Runs);

        beta.Dispose();
        await call.WaitAsync(s_deadline);
        Assert.Equal(1, vault.Runs);
        AssertAllFree(vault.Registry, "alpha", "beta", "gamma");
    }

    [Fact]
    public async Task AllResources_AreHeldWhileTheBodyRuns()
    {
        var vault = new Vault();
        bool[] heldInside = Array.Empty<bool>();
        vault.Inside = _ =>
        {
            heldInside = new[] { "alpha", "beta", "gamma" }.Select(id => !IsFree(vault.Registry, id)).ToArray();
            return Task.CompletedTask;
        };

        await vault.TakeThreeAsync(CancellationToken.None);

        Assert.Equal(new[] { true, true, true }, heldInside);
        AssertAllFree(vault.Registry, "alpha", "beta", "gamma");
    }

    [Fact]
    public async Task Timeout_ReleasesTakenResources()
    {
        var vault = new Vault();
        ResourceLease gamma = await vault.Registry.AcquireAsync("gamma");

        await Assert.ThrowsAsync<ResourceUnavailableException>(() => vault.TakeThreeWithTimeoutAsync());

        Assert.Equal(0, vault.Runs);
        AssertAllFree(vault.Registry, "alpha", "beta");
        gamma.Dispose();
    }

    [Fact]
    public async Task ExceptionInTheBody_ReleasesEveryResource()
    {
        var vault = new Vault { Inside = _ => throw new InvalidOperationException("body failed") };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => vault.TakeThreeAsync(CancellationToken.None));
        Assert.Equal("body failed", error.Message);
        Assert.Throws<InvalidOperationException>(() => vault.XThenYSync(1));

        AssertAllFree(vault.Registry, "alpha", "beta", "gamma", "x", "y");
    }

    [Fact]
    public async Task CancellationWhileWaiting_ReleasesWhatWasTaken()
    {
        var vault = new Vault();
        ResourceLease beta = await vault.Registry.AcquireAsync("beta");
        using var cancellation = new CancellationTokenSource();

        Task call = vault.TakeThreeAsync(cancellation.Token);
        await WaitUntil(() => !IsFree(vault.Registry, "alpha"));
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(s_deadline));
        Assert.Equal(0, vault.Runs);
        AssertAllFree(vault.Registry, "alpha", "gamma");
        beta.Dispose();
    }

    [Fact]
    public async Task CancellationInsideTheBody_ReleasesEveryResource()
    {
        var vault = new Vault { Inside = async token => await Task.Delay(Timeout.Infinite, token) };
        using var cancellation = new CancellationTokenSource();

        Task call = vault.TakeThreeAsync(cancellation.Token);
        await WaitUntil(() => vault.Runs == 1);
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(s_deadline));
        AssertAllFree(vault.Registry, "alpha", "beta", "gamma");
    }

    [Fact]
    public async Task OppositeOrderAttributes_NeverDeadlock()
    {
        var vault = new Vault { Inside = async _ => await Task.Yield() };
        const int Rounds = 500;

        // Async and sync callers, naming x and y in both orders, all at once.
        Task[] callers =
        {
            Task.Run(async () => { for (int i = 0; i < Rounds; i++) { await vault.XThenYAsync(); } }),
            Task.Run(async () => { for (int i = 0; i < Rounds; i++) { await vault.YThenXAsync(); } }),
            Task.Run(() => { for (int i = 0; i < Rounds; i++) { vault.XThenYSync(i); } }),
            Task.Run(() => { for (int i = 0; i < Rounds; i++) { vault.YThenXSync(); } }),
        };

        await Task.WhenAll(callers).WaitAsync(s_deadline);

        Assert.Equal(4 * Rounds, vault.Runs);
        Assert.Equal(1, vault.MostInside);
        AssertAllFree(vault.Registry, "x", "y");
    }

    [Fact]
    public async Task DuplicateConstantId_TakesItOnce()
    {
        var vault = new Vault();

        int result = await vault.SameTwiceAsync(21).WaitAsync(s_deadline);

        Assert.Equal(42, result);
        AssertAllFree(vault.Registry, "x");
    }

    [Fact]
    public async Task SameAccountTransfer_TakesOneLock()
    {
        var vault = new Vault();

        decimal moved = await vault.TransferAsync(7, 7, 10m).WaitAsync(s_deadline);

        Assert.Equal(10m, moved);
        AssertAllFree(vault.Registry, "account:7");
    }

    [Fact]
    public async Task OppositeTransfers_NeverDeadlock()
    {
        var vault = new Vault { Inside = async _ => await Task.Yield() };
        const int Rounds = 300;

        Task[] callers =
        {
            Task.Run(async () => { for (int i = 0; i < Rounds; i++) { await vault.TransferAsync(1, 2, i); } }),
            Task.Run(async () => { for (int i = 0; i < Rounds; i++) { await vault.TransferAsync(2, 1, i); } }),
            Task.Run(async () => { for (int i = 0; i < Rounds; i++) { await vault.TransferAsync(2, 2, i); } }),
        };

        await Task.WhenAll(callers).WaitAsync(s_deadline);

        Assert.Equal(3 * Rounds, vault.Runs);
        Assert.Equal(1, vault.MostInside);
        Assert.Equal(0, vault.Registry.ResourceCount);
    }

    [Fact]
    public async Task TemplateIds_TakeTheFormattedResource()
    {
        var vault = new Vault();
        ResourceLease account = await vault.Registry.AcquireAsync("account:5");
        Task<decimal> call = vault.TransferAsync(5, 6, 1m);

        await Task.Delay(100);
        Assert.False(call.IsCompleted, "The transfer ran while account:5 was held.");

        account.Dispose();
        Assert.Equal(1m, await call.WaitAsync(s_deadline));
    }

    [Fact]
    public async Task TemplateIds_AreFormattedWithTheInvariantCulture()
    {
        CultureInfo previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var vault = new Vault();
            ResourceLease price = await vault.Registry.AcquireAsync("price:1.5");

            // With a zero timeout the sync call fails at once, naming the invariant id.
            var error = Assert.Throws<ResourceUnavailableException>(() => vault.Quote(1.5m));
            Assert.Equal("price:1.5", error.ResourceId);

            price.Dispose();
            Assert.Equal(1.5m, vault.Quote(1.5m));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public async Task SyncMethod_BlocksUntilTheResourceIsFree()
    {
        var vault = new Vault();
        ResourceLease y = await vault.Registry.AcquireAsync("y");

        Task<int> call = Task.Run(() => vault.XThenYSync(1));
        await Task.Delay(100);
        Assert.False(call.IsCompleted);

        y.Dispose();
        Assert.Equal(2, await call.WaitAsync(s_deadline));
    }

    [Fact]
    public async Task ReadMode_SharesReadersExcludesWriter()
    {
        var vault = new Vault();
        using var bothInside = new Barrier(2);
        vault.Inside = _ =>
        {
            // Two readers reach the barrier only if both are inside at once.
            Assert.True(bothInside.SignalAndWait(s_deadline));
            return Task.CompletedTask;
        };

        await Task.WhenAll(Task.Run(vault.ReadReportAsync), Task.Run(vault.ReadReportAsync)).WaitAsync(s_deadline);
        Assert.Equal(2, vault.MostInside);

        vault.Inside = async _ => await Task.Delay(1);
        vault.MostInside = 0;
        await Task.WhenAll(Task.Run(vault.WriteReportAsync), Task.Run(vault.WriteReportAsync), Task.Run(vault.ReadReportAsync)).WaitAsync(s_deadline);
        Assert.Equal(1, vault.MostInside);
    }

    [Fact]
    public async Task MixedModes_ReadersShareResource()
    {
        var vault = new Vault();
        using var bothInside = new Barrier(2);
        bool[] seenInside = Array.Empty<bool>();
        vault.Inside = _ =>
        {
            // Both editors reach the barrier only if both hold "report" for reading at once.
            Assert.True(bothInside.SignalAndWait(s_deadline));
            lock (bothInside)
            {
                seenInside = new[] { IsFree(vault.Registry, "page:1"), IsFree(vault.Registry, "report", LeaseMode.Write), IsFree(vault.Registry, "report", LeaseMode.Read) };
            }

            Assert.True(bothInside.SignalAndWait(s_deadline));
            return Task.CompletedTask;
        };

        await Task.WhenAll(Task.Run(() => vault.EditPageAsync(1)), Task.Run(() => vault.EditPageAsync(2))).WaitAsync(s_deadline);

        // Inside: the page is held exclusively, "report" is shared with readers and closed to writers.
        Assert.Equal(new[] { false, false, true }, seenInside);
        Assert.Equal(2, vault.MostInside);
        AssertAllFree(vault.Registry, "page:1", "page:2");
        Assert.True(IsFree(vault.Registry, "report", LeaseMode.Write));
    }

    [Fact]
    public async Task MixedModes_WriterWaitsForReaders()
    {
        var vault = new Vault();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vault.Inside = _ => gate.Task;

        Task editing = vault.EditPageAsync(7);
        await WaitUntil(() => vault.Runs == 1);
        Task writing = vault.WriteReportAsync();
        await Task.Delay(50);

        Assert.False(writing.IsCompleted);
        Assert.Equal(1, vault.Runs);

        gate.SetResult();
        await Task.WhenAll(editing, writing).WaitAsync(s_deadline);
        Assert.Equal(2, vault.Runs);
        Assert.Equal(1, vault.MostInside);
    }

    [Fact]
    public async Task MixedModes_ConstantIdsKeepModes()
    {
        var vault = new Vault();
        bool[] seenInside = Array.Empty<bool>();
        vault.Inside = async _ =>
        {
            seenInside = new[] { IsFree(vault.Registry, "index"), IsFree(vault.Registry, "report", LeaseMode.Write), IsFree(vault.Registry, "report", LeaseMode.Read) };
            await Task.Delay(1);
        };

        await Task.WhenAll(Task.Run(vault.RebuildIndexAsync), Task.Run(vault.RebuildIndexAsync), Task.Run(vault.RebuildIndexAsync)).WaitAsync(s_deadline);

        // "index" is exclusive, so the rebuilds ran one at a time, each sharing "report" with readers only.
        Assert.Equal(new[] { false, false, true }, seenInside);
        Assert.Equal(1, vault.MostInside);
        Assert.Equal(3, vault.Runs);
        AssertAllFree(vault.Registry, "index");
        Assert.True(IsFree(vault.Registry, "report", LeaseMode.Write));
    }

    [Fact]
    public async Task SyncTemplates_BlockOnOwnThread()
    {
        var vault = new Vault();
        var writeOptions = new LeaseOptions { Mode = LeaseMode.Write };
        ResourceLease writer = await vault.Registry.AcquireAsync("report", writeOptions);

        // A dedicated thread: the blocking acquire must not need a thread-pool thread to finish.
        int result = 0;
        var thread = new Thread(() => result = vault.EditPageSync(3)) { IsBackground = true };
        thread.Start();

        // "page:3" sorts before "report", so it is held while the call waits for the writer to leave.
        await WaitUntil(() => !IsFree(vault.Registry, "page:3"));
        Assert.Equal(0, vault.Runs);
        Assert.True(thread.IsAlive);

        writer.Dispose();
        Assert.True(thread.Join(s_deadline), "The blocked call did not return after the writer left.");
        Assert.Equal(3, result);
        Assert.Equal(1, vault.Runs);
        AssertAllFree(vault.Registry, "page:3");
        Assert.True(IsFree(vault.Registry, "report", LeaseMode.Write));
    }

    [Fact]
    public async Task ExpiredEarlierLease_BodyDoesNotRun()
    {
        var time = new FakeTimeProvider();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = time });
        var vault = new Vault(registry);
        ResourceLease b = await registry.AcquireAsync("lease:b");

        // The call holds "lease:a" and waits for "lease:b" past the 200 ms time-to-live of "lease:a".
        Task call = vault.TakeExpiringAsync();
        await WaitUntil(() => !IsFree(registry, "lease:a"));
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.True(IsFree(registry, "lease:a"), "The expired lease still holds lease:a.");
        b.Dispose();

        LeaseLostException lost = await Assert.ThrowsAsync<LeaseLostException>(() => call.WaitAsync(s_deadline));
        Assert.Equal("lease:a", lost.ResourceId);
        Assert.Equal(LeaseLossReason.Expired, lost.Reason);
        Assert.Equal(0, vault.Runs);
        AssertAllFree(registry, "lease:a", "lease:b");
    }

    [Fact]
    public async Task NullRegistry_ThrowsNamingTheMember()
    {
        var vault = new Vault { Registry = null! };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => vault.TakeThreeAsync(CancellationToken.None));

        Assert.Contains("Vault.Registry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryContainingTypeShape_Runs()
    {
        Assert.Equal(42, GlobalShapes.Answer());

        var record = new Container<string>.Record("r");
        Assert.Equal("r:k:3", await record.DescribeAsync("k", 3));

        var counter = new Container<string>.Counter();
        int by = 5;
        Assert.Equal(5, counter.Increment(ref by));
        Assert.Equal(0, by);

        var pair = new Container<string>.Pair(2, 3);
        Assert.Equal(5, await pair.SumAsync());
        Assert.True(IsFree(ResourceRegistry.Shared, "pair"));
    }

    [Fact]
    public async Task UncontendedAsyncCall_AllocatesNothingForTheLocks()
    {
        var vault = new Vault();
        await vault.XThenYAsync();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ValueTask pending = vault.XThenYAsync();
            Assert.True(pending.IsCompletedSuccessfully);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static bool IsFree(ResourceRegistry registry, string id, LeaseMode mode = LeaseMode.Exclusive)
    {
        LeaseOptions? options = mode == LeaseMode.Exclusive ? null : new LeaseOptions { Mode = mode };
        if (!registry.TryAcquire(id, out ResourceLease lease, options))
        {
            return false;
        }

        lease.Dispose();
        return true;
    }

    private static void AssertAllFree(ResourceRegistry registry, params string[] ids)
    {
        foreach (string id in ids)
        {
            Assert.True(IsFree(registry, id), $"'{id}' is still held.");
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        DateTime giveUp = DateTime.UtcNow + s_deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < giveUp, "The condition did not become true in time.");
            await Task.Delay(5);
        }
    }
}
