using System.Threading.Tasks;
using Sanctuary;
using Sanctuary.Resources;

// Containing types of every supported kind, in the global namespace and in block namespaces.

public static partial class GlobalShapes
{
    [SanctuaryRegistry]
    public static ResourceRegistry Registry { get; set; } = new();

    [Sanctuary("global")]
    public static partial int Answer();

    private static int AnswerCore() => 42;
}

namespace Sanctuary.Generators.Tests.Annotated.Block
{
    public partial class Container<TKey>
        where TKey : notnull
    {
        public partial record Record(string Name)
        {
            [Sanctuary("record:{key}")]
            public partial ValueTask<string> DescribeAsync<TValue>(TKey key, TValue value)
                where TValue : struct;

            private ValueTask<string> DescribeAsyncCore<TValue>(TKey key, TValue value)
                where TValue : struct => new($"{Name}:{key}:{value}");
        }

        public partial struct Counter
        {
            public int Value;

            [Sanctuary("counter")]
            public partial int Increment(ref int by);

            private int IncrementCore(ref int by)
            {
                Value += by;
                by = 0;
                return Value;
            }
        }

        public partial record struct Pair(int Left, int Right)
        {
            [Sanctuary("pair")]
            public readonly partial Task<int> SumAsync();

            private readonly Task<int> SumAsyncCore() => Task.FromResult(Left + Right);
        }
    }
}
