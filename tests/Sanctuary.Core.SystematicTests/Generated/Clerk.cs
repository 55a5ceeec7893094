// This scenario needs the Sanctuary generator. The project defines SANCTUARY_GENERATOR next to
// the generator's reference; without it this file is empty.
#if SANCTUARY_GENERATOR
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Sanctuary.Resources;

namespace Sanctuary.SystematicTests.Generated;

/// <summary>Annotated methods that write one of x and y and read the other, and the scenario that runs them.</summary>
internal sealed partial class Clerk
{
    [SanctuaryRegistry]
    private readonly ResourceRegistry _registry;
    private readonly Sharing _x = new("x");
    private readonly Sharing _y = new("y");

    private Clerk(ResourceRegistry registry)
    {
        _registry = registry;
    }

    /// <summary>Two tasks each write one resource and read the other, twice each.</summary>
    public static async Task OppositeRolesAsync(bool generated)
    {
        using var registry = new ResourceRegistry(new ResourceRegistryOptions
        {
            TimeProvider = new ManualTimeProvider(),
            DefaultOwner = "systematic",
            KindSelector = static _ => ResourceKind.ReaderWriter,
        });
        var clerk = new Clerk(registry);
        Task a = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await (generated ? clerk.WriteXReadYAsync() : clerk.InWrittenOrderAsync("x", "y"));
            }
        });
        Task b = Task.Run(async () =>
        {
            for (int round = 0; round < 2; round++)
            {
                await (generated ? clerk.WriteYReadXAsync() : clerk.InWrittenOrderAsync("y", "x"));
            }
        });
        await Task.WhenAll(new[] { a, b });

        Specification.Assert(clerk._x.Writes == 2 && clerk._y.Writes == 2, "Expected 2 writes of each resource, observed x {0} and y {1}.", clerk._x.Writes, clerk._y.Writes);
        foreach (string id in new[] { "x", "y" })
        {
            bool free = registry.TryAcquire(id, out ResourceLease lease, new LeaseOptions { Mode = LeaseMode.Write });
            lease.Dispose();
            Specification.Assert(free, "'{0}' is still held after every task finished; expected it free.", id);
        }
    }

    [Sanctuary("x", Read = new[] { "y" })]
    private partial Task WriteXReadYAsync();

    [Sanctuary(Write = new[] { "y" }, Read = new[] { "x" })]
    private partial Task WriteYReadXAsync();

    private Task WriteXReadYAsyncCore() => HoldAsync(_x, _y);

    private Task WriteYReadXAsyncCore() => HoldAsync(_y, _x);

    // What the attributes would do without the generator's sort: take the written one, then the read one.
    private async Task InWrittenOrderAsync(string written, string read)
    {
        ResourceLease writeLease = await _registry.AcquireAsync(written, new LeaseOptions { Mode = LeaseMode.Write });
        try
        {
            ResourceLease readLease = await _registry.AcquireAsync(read, new LeaseOptions { Mode = LeaseMode.Read });
            try
            {
                await HoldAsync(written == "x" ? _x : _y, written == "x" ? _y : _x);
            }
            finally
            {
                readLease.Dispose();
            }
        }
        finally
        {
            writeLease.Dispose();
        }
    }

    private static async Task HoldAsync(Sharing written, Sharing read)
    {
        written.EnterWriter();
        read.EnterReader();
        SchedulingPoint.Interleave();
        await Task.Yield();
        read.ExitReader();
        written.ExitWriter();
    }

    /// <summary>Counts writers and readers of one resource and asserts they never meet.</summary>
    private sealed class Sharing
    {
        private readonly string _resource;
        private int _writers;
        private int _readers;
        private int _writes;

        public Sharing(string resource)
        {
            _resource = resource;
        }

        public int Writes => Volatile.Read(ref _writes);

        public void EnterWriter()
        {
            int writers = Interlocked.Increment(ref _writers);
            Interlocked.Increment(ref _writes);
            int readers = Volatile.Read(ref _readers);
            Specification.Assert(writers == 1 && readers == 0, "A writer entered '{0}' beside {1} writers and {2} readers; expected it alone.", _resource, writers - 1, readers);
        }

        public void ExitWriter() => Interlocked.Decrement(ref _writers);

        public void EnterReader()
        {
            Interlocked.Increment(ref _readers);
            int writers = Volatile.Read(ref _writers);
            Specification.Assert(writers == 0, "A reader entered '{0}' beside {1} writers; expected none.", _resource, writers);
        }

        public void ExitReader() => Interlocked.Decrement(ref _readers);
    }
}
#endif
