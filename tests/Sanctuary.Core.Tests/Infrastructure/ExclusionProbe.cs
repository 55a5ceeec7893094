using System.Threading;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Counts the flows inside a protected section. Every flow calls <see cref="Enter"/> right after it
/// is granted the lock and <see cref="Exit"/> right before it releases; more than
/// <c>capacity</c> flows inside at once is a mutual-exclusion violation.
/// </summary>
internal sealed class ExclusionProbe
{
    private readonly int _capacity;
    private int _inside;
    private int _maxInside;
    private int _violations;
    private long _entries;

    public ExclusionProbe(int capacity = 1)
    {
        _capacity = capacity;
    }

    public int Capacity => _capacity;

    public int Inside => Volatile.Read(ref _inside);

    public int MaxInside => Volatile.Read(ref _maxInside);

    public int Violations => Volatile.Read(ref _violations);

    public long Entries => Interlocked.Read(ref _entries);

    public void Enter()
    {
        int now = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _entries);
        if (now > _capacity)
        {
            Interlocked.Increment(ref _violations);
        }

        int seen = Volatile.Read(ref _maxInside);
        while (now > seen)
        {
            int previous = Interlocked.CompareExchange(ref _maxInside, now, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    public void Exit()
    {
        Interlocked.Decrement(ref _inside);
    }

    public override string ToString() =>
        $"entries={Entries}, inside={Inside}, max inside={MaxInside}, violations={Violations}, capacity={_capacity}";
}
