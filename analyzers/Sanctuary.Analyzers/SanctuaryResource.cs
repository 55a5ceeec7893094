namespace Sanctuary.Analyzers;

/// <summary>A constant resource id of a [Sanctuary] method and the lease mode the method holds it in.</summary>
internal readonly struct SanctuaryResource
{
    public SanctuaryResource(string id, int mode)
    {
        Id = id;
        Mode = mode;
    }

    public string Id { get; }

    /// <summary>The value of Sanctuary.LeaseMode, merged over every listing of the id in the attribute.</summary>
    public int Mode { get; }
}

/// <summary>The values of Sanctuary.LeaseMode, which the analyzers read as integers from attribute arguments.</summary>
internal static class LeaseModes
{
    public const int Exclusive = 0;
    public const int Read = 1;
    public const int Write = 2;
    public const int UpgradeableRead = 3;

    /// <summary>
    /// Returns the mode of one lease that serves two requests for the same id, as
    /// Sanctuary.Resources.ResourceRequest.Merge does: a writing mode (Exclusive or Write) wins over
    /// UpgradeableRead, which wins over Read, and Exclusive wins over Write.
    /// </summary>
    public static int Merge(int left, int right)
    {
        if (Strength(left) >= 2 || Strength(right) >= 2)
        {
            return left == Exclusive || right == Exclusive ? Exclusive : Write;
        }

        return Strength(left) >= Strength(right) ? left : right;
    }

    // Read < UpgradeableRead < Write/Exclusive. An unknown value counts as Exclusive, as in the library.
    private static int Strength(int mode) => mode switch
    {
        Read => 0,
        UpgradeableRead => 1,
        Write => 2,
        _ => 3,
    };
}
