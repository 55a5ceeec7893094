using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Sanctuary.Redis.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using static Sanctuary.Redis.Tests.Infrastructure.TestSupport;

namespace Sanctuary.Redis.Tests;

/// <summary>Two operating-system processes contend on one resource through Redis.</summary>
[Collection(RedisCollection.Name)]
public sealed class TwoProcessTests
{
    private const int Iterations = 40;
    private readonly RedisFixture _fixture;

    public TwoProcessTests(RedisFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task TwoProcesses_ExcludeEachOther()
    {
        string prefix = UniquePrefix();
        string counterKey = prefix + "counter";
        string[] arguments = { _fixture.Server.EndPoint, prefix, "shared-file", Iterations.ToString(CultureInfo.InvariantCulture), counterKey };

        // Each process increments the counter with a separate read and write while it holds the
        // resource, so any overlap of two holds loses an increment.
        Task<(int ExitCode, string Output, string Errors)> first = RunHelperAsync(arguments);
        Task<(int ExitCode, string Output, string Errors)> second = RunHelperAsync(arguments);
        var results = await Within(Task.WhenAll(first, second), "the two helper processes", TimeSpan.FromSeconds(90));

        var tokens = new HashSet<long>();
        foreach ((int exitCode, string output, string errors) in results)
        {
            Assert.True(exitCode == 0, $"The helper exited with {exitCode}: {errors}");
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Assert.StartsWith("token ", line);
                Assert.True(tokens.Add(long.Parse(line["token ".Length..], CultureInfo.InvariantCulture)), $"fencing token {line} was issued twice");
            }
        }

        Assert.Equal(2 * Iterations, tokens.Count);
        Assert.Equal(2 * Iterations, (long)await _fixture.Admin.GetDatabase().StringGetAsync(counterKey));
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunHelperAsync(string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HelperAssembly());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("The helper process did not start.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(80));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw;
        }

        return (process.ExitCode, await output, await errors);
    }

    // The helper is built next to this project, with the same configuration: bin/<configuration>/net10.0.
    private static string HelperAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name;
        string configuration = output.Parent!.Name;
        DirectoryInfo tests = output.Parent!.Parent!.Parent!.Parent!;
        string path = Path.Combine(tests.FullName, "Sanctuary.Redis.ProcessHelper", "bin", configuration, framework, "Sanctuary.Redis.ProcessHelper.dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The helper process was not built at {path}. Build tests/Sanctuary.Redis.ProcessHelper with the same configuration.", path);
        }

        return path;
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return "dotnet";
    }
}
