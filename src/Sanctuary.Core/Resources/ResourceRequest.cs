namespace Sanctuary.Resources;

/// <summary>
/// One resource of a multi-resource acquire: its id and how it is held.
/// </summary>
/// <remarks>
/// When a set names the same id twice, the requests merge into one lease whose mode is the
/// strongest of them: any writing mode (<see cref="LeaseMode.Exclusive"/> or
/// <see cref="LeaseMode.Write"/>) wins over <see cref="LeaseMode.UpgradeableRead"/>, which wins
/// over <see cref="LeaseMode.Read"/>.
/// </remarks>
public readonly record struct ResourceRequest
{
    /// <summary>Creates a request for <paramref name="resourceId"/> in <paramref name="mode"/>.</summary>
    /// <param name="resourceId">Id of the resource, compared ordinally.</param>
    /// <param name="mode">How to hold it; the default is <see cref="LeaseMode.Exclusive"/>.</param>
    public ResourceRequest(string resourceId, LeaseMode mode = LeaseMode.Exclusive)
    {
        ResourceId = resourceId;
        Mode = mode;
    }

    /// <summary>Id of the resource.</summary>
    public string ResourceId { get; }

    /// <summary>How the resource is held.</summary>
    public LeaseMode Mode { get; }

    /// <summary>Turns an id into an exclusive request.</summary>
    /// <param name="resourceId">Id of the resource.</param>
    public static implicit operator ResourceRequest(string resourceId) => new(resourceId);

    /// <summary>Turns an id into an exclusive request.</summary>
    /// <param name="resourceId">Id of the resource.</param>
    /// <returns>An exclusive request for the id.</returns>
    public static ResourceRequest FromString(string resourceId) => new(resourceId);

    // Strength order used when duplicates merge: read < upgradeable read < write/exclusive.
    internal static int Strength(LeaseMode mode) => mode switch
    {
        LeaseMode.Read => 0,
        LeaseMode.UpgradeableRead => 1,
        LeaseMode.Write => 2,
        _ => 3,
    };

    internal static LeaseMode Merge(LeaseMode left, LeaseMode right)
    {
        if (Strength(left) >= 2 || Strength(right) >= 2)
        {
            // Two writers of one id in one set are one writer; Exclusive and Write hold alike.
            return left == LeaseMode.Exclusive || right == LeaseMode.Exclusive ? LeaseMode.Exclusive : LeaseMode.Write;
        }

        return Strength(left) >= Strength(right) ? left : right;
    }
}
