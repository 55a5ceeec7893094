using System;
using System.Collections.Generic;
using System.Linq;

namespace Sanctuary.Demo;

/// <summary>Every section the demo can run, in the order they run.</summary>
internal static class SectionCatalog
{
    /// <summary>The sections in running order. A new workflow is one more entry here.</summary>
    public static IReadOnlyList<IDemoSection> All { get; } =
    [
        new LedgerSection(),
        new ReadWriteSection(),
        new PrioritySection(),
        new NamedResourcesSection(),
    ];

    /// <summary>Keys of every section, as <c>--sections</c> accepts them (it also accepts <c>all</c>).</summary>
    public static IEnumerable<string> Keys => All.Select(section => section.Key);

    public static IDemoSection? Find(string key) =>
        All.FirstOrDefault(section => string.Equals(section.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>Returns the named sections in catalog order, each once, or every section for an empty list or <c>all</c>.</summary>
    public static IReadOnlyList<IDemoSection> Select(IReadOnlyCollection<string> keys)
    {
        if (keys.Count == 0 || keys.Any(key => string.Equals(key, "all", StringComparison.OrdinalIgnoreCase)))
        {
            return All;
        }

        return All.Where(section => keys.Contains(section.Key, StringComparer.OrdinalIgnoreCase)).ToList();
    }
}
