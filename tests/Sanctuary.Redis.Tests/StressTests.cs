using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using Sanctuary.Resources;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>
/// Eight clients, each with its own connection and registry, contend on one resource; a counter
/// of what is held at each moment never exceeds what the resource allows.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class StressTests
{
    private const int Clients = 8;
    private const int WorkersPerClient = 2;
    private readonly RedisFixture _fixture;

    public StressTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Pool_EightClients_WithinCapacity()
    {
        const long Capacity = 3;
        string prefix = UniquePrefix();
        long held = 0;
        long maxHeld = 0;
        long[] grants = new long[Clients];
        await RunClientsAsync(prefix, TimeSpan.FromSeconds(10), registry => registry.RegisterPool("slots", Capacity, "slots"), async (registry, client, random, stop) =>
        {
            long amount = random.Next(1, 3);
            ResourceLease lease = await registry.ReserveAsync("slots", amount, new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5), TimeToLive = TimeSpan.FromSeconds(30) }, stop);
            long now = Interlocked.Add(ref held, amount);
            UpdateMax(ref maxHeld, now);
            Interlocked.Increment(ref grants[client]);
            await Task.Delay(random.Next(0, 3));
            Interlocked.Add(ref held, -amount);
            await lease.ReleaseAsync();
        });

        Assert.InRange(Interlocked.Read(ref maxHeld), 1, Capacity);
        AssertEveryClientProgressed(grants);
        await using RedisLeaseStore check = Store(_fixture.Server, prefix);
        Assert.Empty(await check.GetHoldersAsync("slots", default));
    }

    [Fact]
    public async Task Exclusive_EightClients_NeverTwoHolders()
    {
        string prefix = UniquePrefix();
        long held = 0;
        long maxHeld = 0;
        long lastToken = 0;
        long tokenRegressions = 0;
        long[] grants = new long[Clients];
        await RunClientsAsync(prefix, TimeSpan.FromSeconds(3), null, async (registry, client, random, stop) =>
        {
            ResourceLease lease = await registry.AcquireAsync("ledger", new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(5), TimeToLive = TimeSpan.FromSeconds(30) }, stop);
            UpdateMax(ref maxHeld, Interlocked.Increment(ref held));
            if (lease.FencingToken <= Interlocked.Exchange(ref lastToken, lease.FencingToken))
            {
                Interlocked.Increment(ref tokenRegressions);
            }

            Interlocked.Increment(ref grants[client]);
            await Task.Delay(random.Next(0, 2));
            Interlocked.Decrement(ref held);
            await lease.ReleaseAsync();
        });

        Assert.Equal(1, Interlocked.Read(ref maxHeld));
        Assert.Equal(0, Interlocked.Read(ref tokenRegressions));
        AssertEveryClientProgressed(grants);
    }

    [Fact]
    public async Task ReaderWriter_EightClients_WritersAlone()
    {
        string prefix = UniquePrefix();
        long readers = 0;
        long writers = 0;
        long violations = 0;
        long writes = 0;
        long reads = 0;
        long[] grants = new long[Clients];
        await RunClientsAsync(prefix, TimeSpan.FromSeconds(3), null, async (registry, client, random, stop) =>
        {
            bool write = random.Next(4) == 0;
            var options = new LeaseOptions { Mode = write ? LeaseMode.Write : LeaseMode.Read, WaitTimeout = TimeSpan.FromSeconds(5), TimeToLive = TimeSpan.FromSeconds(30) };
            ResourceLease lease = await registry.AcquireAsync("catalog", options, stop);
            if (write)
            {
                if (Interlocked.Increment(ref writers) != 1 || Interlocked.Read(ref readers) != 0)
                {
                    Interlocked.Increment(ref violations);
                }

                Interlocked.Increment(ref writes);
            }
            else
            {
                Interlocked.Increment(ref readers);
                if (Interlocked.Read(ref writers) != 0)
                {
                    Interlocked.Increment(ref violations);
                }

                Interlocked.Increment(ref reads);
            }

            Interlocked.Increment(ref grants[client]);
            await Task.Delay(random.Next(0, 2));
            Interlocked.Decrement(ref write ? ref writers : ref readers);
            await lease.ReleaseAsync();
        });

        Assert.Equal(0, Interlocked.Read(ref violations));
        Assert.True(Interlocked.Read(ref writes) > 0, $"no write was granted ({reads} reads)");
        Assert.True(Interlocked.Read(ref reads) > 0, $"no read was granted ({writes} writes)");
        AssertEveryClientProgressed(grants);
    }

    private static void UpdateMax(ref long max, long value)
    {
        long seen = Interlocked.Read(ref max);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref max, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private static void AssertEveryClientProgressed(long[] grants)
    {
        for (int i = 0; i < grants.Length; i++)
        {
            Assert.True(Interlocked.Read(ref grants[i]) > 0, $"client {i} was never granted; grants per client: {string.Join(", ", grants)}");
        }
    }

    // Runs WorkersPerClient loops on each of Clients clients (each its own connection, store and
    // registry) until the duration has passed. The counter checks happen inside each hold, so a
    // hold counts only between its grant and the start of its release.
    private async Task RunClientsAsync(string prefix, TimeSpan duration, Action<ResourceRegistry>? setUp, Func<ResourceRegistry, int, Random, CancellationToken, Task> hold)
    {
        var stores = new List<RedisLeaseStore>();
        var registries = new List<ResourceRegistry>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                RedisLeaseStore store = Store(_fixture.Server, prefix);
                stores.Add(store);
                ResourceRegistry registry = Registry(store, "client-" + i, TimeSpan.FromMilliseconds(1));
                setUp?.Invoke(registry);
                registries.Add(registry);
            }

            using var stop = new CancellationTokenSource(duration);
            var workers = new List<Task>();
            for (int client = 0; client < Clients; client++)
            {
                for (int worker = 0; worker < WorkersPerClient; worker++)
                {
                    ResourceRegistry registry = registries[client];
                    int id = client;
                    var random = new Random((client * 31) + worker);
                    workers.Add(Task.Run(async () =>
                    {
                        var elapsed = Stopwatch.StartNew();

                        // Bounded by time, with a hard cap on rounds as a second guard.
                        for (int round = 0; round < 100_000 && elapsed.Elapsed < duration; round++)
                        {
                            try
                            {
                                await hold(registry, id, random, stop.Token);
                            }
                            catch (OperationCanceledException) when (stop.IsCancellationRequested)
                            {
                                return;
                            }
                        }
                    }));
                }
            }

            await Within(Task.WhenAll(workers), "the contending clients", duration + TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (ResourceRegistry registry in registries)
            {
                registry.Dispose();
            }

            foreach (RedisLeaseStore store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}
