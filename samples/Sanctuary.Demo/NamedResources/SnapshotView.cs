using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Sanctuary.Resources;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Sanctuary.Demo;

/// <summary>Prints a <see cref="RegistrySnapshot"/>: resources with their holders, waiters, pools and one owner's view.</summary>
internal static class SnapshotView
{
    private const int MaxResourceRows = 10;
    private const int MaxWaiterRows = 8;

    // Resources shown first when present. Accounts follow, busiest first.
    private static readonly string[] s_featured = [NamedBank.PayrollId, HeartbeatScenario.ResourceId, NamedBank.SettlementId, NamedBank.BooksId, NamedBank.RatesId];

    public static IEnumerable<IRenderable> Tables(RegistrySnapshot snapshot, TimeSpan takenAt, string owner)
    {
        List<ResourceSnapshot> rows = snapshot.Resources
            .OrderBy(resource => Array.IndexOf(s_featured, resource.ResourceId) is int i && i >= 0 ? i : s_featured.Length)
            .ThenByDescending(resource => resource.Waiters.Count)
            .ThenBy(resource => resource.ResourceId, StringComparer.Ordinal)
            .ToList();
        Table resources = new Table()
            .Title(Markup.Escape($"Registry snapshot at {takenAt.TotalSeconds:N1} s, mid-run: {snapshot.Resources.Count} resources in use"))
            .AddColumn("Resource")
            .AddColumn("Kind")
            .AddColumn("Held by")
            .AddColumn(new TableColumn("Token").RightAligned())
            .AddColumn(new TableColumn("Expires").RightAligned())
            .AddColumn(new TableColumn("Waits").RightAligned());
        foreach (ResourceSnapshot resource in rows.Take(MaxResourceRows))
        {
            LeaseHolder? first = resource.Holders.FirstOrDefault();
            resources.AddPlainRow(
                resource.ResourceId,
                resource.Kind.ToString(),
                HeldBy(resource.Holders),
                first is null ? "-" : first.FencingToken.ToString(CultureInfo.InvariantCulture),
                ExpiresIn(first?.ExpiresAt, snapshot.TakenAt),
                $"{resource.Waiters.Count}");
        }

        if (rows.Count > MaxResourceRows)
        {
            resources.AddPlainRow($"+{rows.Count - MaxResourceRows} more", string.Empty, string.Empty, string.Empty, string.Empty, string.Empty);
        }

        OwnerSnapshot view = snapshot.ForOwner(owner);
        string leases = view.Leases.Count == 0
            ? "nothing"
            : string.Join("; ", view.Leases.Select(lease => $"{lease.ResourceId} ({lease.Mode}, token {lease.FencingToken}, expires in {ExpiresIn(lease.ExpiresAt, snapshot.TakenAt)})"));
        resources.Caption(Markup.Escape($"Owner view of '{owner}': holds {leases}, waits for {view.Waiting.Count}."));
        yield return resources;

        List<WaiterSnapshot> waiters = snapshot.Resources
            .SelectMany(resource => resource.Waiters)
            .OrderBy(waiter => waiter.ResourceId == NamedBank.PayrollId ? 0 : 1)
            .ThenByDescending(waiter => waiter.Priority)
            .ThenByDescending(waiter => waiter.Waited)
            .ToList();
        Table waiting = new Table()
            .Title("Waiters in the snapshot, by priority")
            .AddColumn("Resource")
            .AddColumn("Owner")
            .AddColumn("Mode")
            .AddColumn("Priority")
            .AddColumn(new TableColumn("Waited").RightAligned());
        foreach (WaiterSnapshot waiter in waiters.Take(MaxWaiterRows))
        {
            // The registry's clock counts whole milliseconds (or coarser), so short waits read 0 ms.
            waiting.AddPlainRow(waiter.ResourceId, waiter.Owner, waiter.Mode.ToString(), waiter.Priority.ToString(), Format.Milliseconds(waiter.Waited));
        }

        if (waiters.Count > MaxWaiterRows)
        {
            waiting.AddPlainRow($"+{waiters.Count - MaxWaiterRows} more", string.Empty, string.Empty, string.Empty, string.Empty);
        }

        yield return waiting;

        Table pools = new Table()
            .Title("Pools in the snapshot")
            .AddColumn("Pool")
            .AddColumn(new TableColumn("Reserved").RightAligned())
            .AddColumn(new TableColumn("Free").RightAligned())
            .AddColumn(new TableColumn("Used").RightAligned())
            .AddColumn("Held by (units)")
            .AddColumn(new TableColumn("Waits").RightAligned());
        foreach (PoolSnapshot pool in snapshot.Pools)
        {
            string reservations = string.Join(", ", pool.Reservations.Select(reservation => $"{reservation.Owner} ({reservation.Units})"));
            pools.AddPlainRow(
                pool.PoolId,
                $"{pool.Reserved}/{pool.Total} {pool.Unit}",
                $"{pool.Available}",
                Format.Percent(pool.Utilization),
                reservations.Length == 0 ? "-" : reservations,
                $"{pool.Waiters.Count}");
        }

        yield return pools;
    }

    private static string ExpiresIn(DateTimeOffset? expiresAt, DateTimeOffset now) =>
        expiresAt is null ? "never" : Format.Seconds(expiresAt.Value - now);

    // Formats the first holder, its mode when it shares, and how many more share with it.
    private static string HeldBy(IReadOnlyList<LeaseHolder> holders)
    {
        if (holders.Count == 0)
        {
            return "-";
        }

        LeaseHolder first = holders[0];
        string mode = first.Mode is LeaseMode.Exclusive or LeaseMode.Write ? string.Empty : $" ({first.Mode})";
        string more = holders.Count > 1 ? $" +{holders.Count - 1}" : string.Empty;
        return first.Owner + mode + more;
    }
}
