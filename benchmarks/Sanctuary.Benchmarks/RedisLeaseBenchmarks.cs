using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Medallion.Threading.Redis;
using Sanctuary.Redis;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Benchmarks;

/// <summary>
/// An uncontended acquire and release of one resource through Redis, side by side with
/// DistributedLock.Redis on the same kind of local server. Each side costs two round trips (one
/// to acquire, one to release), so the ratio shows the client-side cost around them.
/// </summary>
/// <remarks>
/// <para>
/// Every benchmark process starts its own redis-server on a free port of 127.0.0.1 (persistence
/// off, data in a temporary folder) and stops it in cleanup, so nothing outside this machine is
/// touched. redis-server must be on PATH (<c>apt-get install -y redis-server</c>).
/// </para>
/// <para>
/// Both sides use a 30 s expiry renewed in the background every 10 s, DistributedLock's defaults:
/// <c>RegistryOnRedis</c> through a <see cref="ResourceRegistry"/> with a time-to-live and a
/// heartbeat, waiting for the release's reply like DistributedLock's <c>DisposeAsync</c>;
/// <c>StoreDirect</c> through the <see cref="ILeaseStore"/> calls alone;
/// <c>RegistryOnRedisReleaseInBackground</c> with the registry's synchronous dispose, which does
/// not wait for the release's reply.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class RedisLeaseBenchmarks
{
    private static readonly LeaseOptions s_leaseOptions = new()
    {
        TimeToLive = TimeSpan.FromSeconds(30),
        HeartbeatInterval = TimeSpan.FromSeconds(10),
    };

    private Process? _server;
    private string _directory = string.Empty;
    private ConnectionMultiplexer _peerConnection = null!;
    private RedisDistributedLock _peerLock = null!;
    private RedisLeaseStore _store = null!;
    private ResourceRegistry _registry = null!;
    private ulong _sequence;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        int port = StartServer();
        string endPoint = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

        // Each side has a connection of its own, so neither waits behind the other's traffic.
        _peerConnection = ConnectionMultiplexer.Connect(endPoint);
        _peerLock = new RedisDistributedLock("bench-peer", _peerConnection.GetDatabase());
        _store = RedisLeaseStore.Connect(endPoint, new RedisLeaseStoreOptions { KeyPrefix = "bench:" });
        _registry = new ResourceRegistry(new ResourceRegistryOptions { Store = _store, DefaultOwner = "benchmark" });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        _store.Dispose();
        _peerConnection.Dispose();
        if (_server is { HasExited: false } server)
        {
            server.Kill();
            server.WaitForExit(5000);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleanup.
        }
    }

    [Benchmark(Baseline = true)]
    public async Task DistributedLockRedis()
    {
        await using (await _peerLock.AcquireAsync())
        {
            _counter++;
        }
    }

    [Benchmark]
    public async Task RegistryOnRedis()
    {
        await using (await _registry.AcquireAsync("bench-registry", s_leaseOptions))
        {
            _counter++;
        }
    }

    // Dispose (not DisposeAsync) frees the lease locally and sends the release without waiting for
    // its reply; the next acquire follows it on the same connection, so Redis runs them in order.
    // DistributedLock has no such mode, so this row is not a like-for-like comparison.
    [Benchmark]
    public async Task RegistryOnRedisReleaseInBackground()
    {
        using (await _registry.AcquireAsync("bench-background", s_leaseOptions))
        {
            _counter++;
        }
    }

    [Benchmark]
    public async Task StoreDirect()
    {
        var leaseId = new LeaseId(1, ++_sequence);
        var request = new LeaseStoreRequest("bench-store", leaseId, "benchmark", LeaseMode.Exclusive, TimeSpan.FromSeconds(30), 0, 0, null);
        LeaseStoreAcquireResult result = await _store.TryAcquireAsync(request, CancellationToken.None);
        if (!result.Acquired)
        {
            throw new InvalidOperationException("The uncontended benchmark resource was not granted; another run may be using the same server.");
        }

        _counter++;
        await _store.ReleaseAsync(new LeaseStoreRelease("bench-store", leaseId, "benchmark"), CancellationToken.None);
    }

    // Starts redis-server on a free loopback port and waits until it accepts connections.
    private int StartServer()
    {
        string executable = FindRedisServer();
        _directory = Path.Combine(Path.GetTempPath(), "sanctuary-redis-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[] { "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", string.Empty, "--appendonly", "no", "--dir", _directory })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");

        // Read the log until the server is ready, at most 10 s; then keep draining it so the pipe never fills.
        var ready = Stopwatch.StartNew();
        Task<string?> line = _server.StandardOutput.ReadLineAsync();
        while (ready.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (!line.Wait(TimeSpan.FromSeconds(10) - ready.Elapsed) || line.Result is null)
            {
                break;
            }

            if (line.Result.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                _ = _server.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                return port;
            }

            line = _server.StandardOutput.ReadLineAsync();
        }

        throw new InvalidOperationException($"redis-server did not become ready on 127.0.0.1:{port} within 10 s.");
    }

    private static string FindRedisServer()
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("redis-server was not found on PATH. Install it with `apt-get install -y redis-server` to run the Redis benchmarks.");
    }
}
