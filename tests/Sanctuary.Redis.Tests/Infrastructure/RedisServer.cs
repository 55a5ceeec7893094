using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Sanctuary.Redis.Tests.Infrastructure;

/// <summary>
/// A redis-server process that a test starts on a free port of 127.0.0.1, with its data in a
/// temporary folder, and stops again. It can be killed and restarted on the same port and folder.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    /// <summary>What to do when redis-server is missing.</summary>
    public const string InstallHint =
        "redis-server was not found on PATH. The Redis lease store tests run against a real server: " +
        "install it with `apt-get install -y redis-server` (after `apt-get update`) and run the tests again.";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(15);

    // Servers still running, killed when the test process exits so none outlives a crashed run.
    private static readonly ConcurrentDictionary<RedisServer, bool> s_running = new();

    private readonly string _executable;
    private readonly bool _persistent;
    private readonly StringBuilder _log = new();
    private Process? _process;

    static RedisServer()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (RedisServer server in s_running.Keys)
            {
                server.KillNow();
            }
        };
    }

    private RedisServer(string executable, string directory, int port, bool persistent)
    {
        _executable = executable;
        Directory = directory;
        Port = port;
        _persistent = persistent;
    }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The data folder.</summary>
    public string Directory { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string EndPoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A configuration string for clients of this server, with short timeouts.</summary>
    public string Configuration => EndPoint + ",connectTimeout=2000,syncTimeout=3000,asyncTimeout=3000";

    /// <summary>Whether the process runs now.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Finds redis-server on the search path.
    /// </summary>
    /// <param name="searchPath">Folders separated by the path separator; the PATH variable when null.</param>
    /// <returns>The full path of the executable.</returns>
    /// <exception cref="InvalidOperationException">It is not installed; the message says how to install it.</exception>
    public static string FindExecutable(string? searchPath = null)
    {
        searchPath ??= Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string folder in searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(InstallHint);
    }

    /// <summary>Starts a server on a free port; with <paramref name="persistent"/>, with the append-only file on.</summary>
    public static async Task<RedisServer> StartAsync(bool persistent = false)
    {
        string executable = FindExecutable();
        string directory = Path.Combine(Path.GetTempPath(), "sanctuary-redis-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);

        // A free port can be taken by another process between the probe and the start; try a few.
        var failures = new List<string>();
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var server = new RedisServer(executable, directory, FreePort(), persistent);
            string? failure = await server.LaunchAsync();
            if (failure is null)
            {
                return server;
            }

            failures.Add(failure);
        }

        throw new InvalidOperationException("redis-server did not start on 127.0.0.1 in 5 attempts:" + Environment.NewLine + string.Join(Environment.NewLine, failures));
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash would, and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        Process? process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        process.Kill();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        s_running.TryRemove(this, out _);
    }

    /// <summary>Starts the process again on the same port and folder.</summary>
    public async Task RestartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The server is still running; kill it first.");
        }

        string? failure = await LaunchAsync();
        if (failure is not null)
        {
            throw new InvalidOperationException("redis-server did not restart: " + failure);
        }
    }

    /// <summary>Connects a client that may run admin commands (CLIENT KILL, FLUSHALL).</summary>
    public ConnectionMultiplexer ConnectAdmin() =>
        ConnectionMultiplexer.Connect(Configuration + ",allowAdmin=true,abortConnect=false");

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temporary folder is cleaned up by the system.
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    // Starts the process and waits for its "Ready to accept connections" line. Returns null on
    // success, else what went wrong with the server's own output.
    private async Task<string?> LaunchAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--bind", "127.0.0.1",
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--save", string.Empty,
            "--appendonly", _persistent ? "yes" : "no",
            "--dir", Directory,
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        DataReceivedEventHandler onLine = (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (_log)
            {
                // Keep the output bounded: a long-running server logs little, but never grow without limit.
                if (_log.Length < 64 * 1024)
                {
                    _log.AppendLine(line.Data);
                }
            }

            if (line.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        s_running[this] = true;

        Task exited = process.WaitForExitAsync();
        Task first = await Task.WhenAny(ready.Task, exited, Task.Delay(s_startTimeout));
        if (first == ready.Task)
        {
            return null;
        }

        KillNow();
        s_running.TryRemove(this, out _);
        string output;
        lock (_log)
        {
            output = _log.ToString();
        }

        string why = first == exited ? "it exited" : $"it was not ready within {s_startTimeout.TotalSeconds} s";
        return $"port {Port}: {why}. Output:{Environment.NewLine}{output}";
    }

    private void KillNow()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
