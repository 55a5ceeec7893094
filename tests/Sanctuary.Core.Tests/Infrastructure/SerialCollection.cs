using Xunit;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Tests that measure time, threads, heap size or unobserved exceptions, or that load every core,
/// run alone so other tests neither disturb their numbers nor get starved by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial measurements and stress";
}
