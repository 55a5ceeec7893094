using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace Sanctuary.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated source with an expected file under Baselines/. Set
/// SANCTUARY_UPDATE_BASELINES=1 to write the actual output as the new expectation, then review
/// the diff before committing it.
/// </summary>
internal static class Baseline
{
    private const string VersionToken = "{generator-version}";

    public static void AssertMatches(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        string directory = Path.Combine(FindProjectDirectory(callerPath), "Baselines");
        string path = Path.Combine(directory, name + ".txt");
        string normalized = actual.Replace(Emitter.Version, VersionToken, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("SANCTUARY_UPDATE_BASELINES") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path, normalized);
            return;
        }

        Assert.True(File.Exists(path), $"The baseline {path} does not exist. Run the tests with SANCTUARY_UPDATE_BASELINES=1 to create it, and review it.");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Equal(expected, normalized);
    }

    private static string FindProjectDirectory(string callerPath)
    {
        for (string? directory = Path.GetDirectoryName(callerPath); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Sanctuary.Generators.Tests.csproj")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException($"No test project folder was found above {callerPath}.");
    }
}
