namespace Sanctuary.Demo;

internal enum CheckStatus
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>Outcome of one invariant check, with a detail line that shows the observed and expected values.</summary>
internal sealed record InvariantCheck(string Name, CheckStatus Status, string Detail)
{
    public static InvariantCheck Pass(string name, string detail) => new(name, CheckStatus.Passed, detail);

    public static InvariantCheck Fail(string name, string detail) => new(name, CheckStatus.Failed, detail);

    public static InvariantCheck Skip(string name, string detail) => new(name, CheckStatus.Skipped, detail);

    /// <summary>Creates a passed check with the detail <paramref name="passed"/> when <paramref name="condition"/> is true, else a failed one with <paramref name="failed"/>.</summary>
    public static InvariantCheck That(string name, bool condition, string passed, string failed) =>
        condition ? Pass(name, passed) : Fail(name, failed);
}
