namespace Sanctuary;

/// <summary>
/// How a lease holds a named resource.
/// </summary>
public enum LeaseMode
{
    /// <summary>Alone: no other lease of any mode holds the resource at the same time.</summary>
    Exclusive = 0,

    /// <summary>Shared with other readers and at most one upgradeable reader; excludes writers.</summary>
    Read = 1,

    /// <summary>Alone, like <see cref="Exclusive"/>, on a resource that also admits readers.</summary>
    Write = 2,

    /// <summary>Shared with plain readers; at most one upgradeable reader at a time, which may upgrade to write.</summary>
    UpgradeableRead = 3,
}
