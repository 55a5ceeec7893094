using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Tests.Resources;

/// <summary>One step of a random registry scenario.</summary>
public enum RegistryStepKind
{
    /// <summary>Try to acquire a resource without waiting (never expires).</summary>
    Acquire,

    /// <summary>Try to acquire with a time-to-live of <c>Amount</c> × 100 ms.</summary>
    AcquireWithTimeToLive,

    /// <summary>Try to acquire with a one-second time-to-live renewed by a 300 ms heartbeat.</summary>
    AcquireWithHeartbeat,

    /// <summary>Release the lease at <c>Target</c> (released and lost leases included).</summary>
    Release,

    /// <summary>Extend the lease at <c>Target</c> by <c>Amount</c> × 100 ms.</summary>
    Extend,

    /// <summary>Move the clock <c>Amount</c> × 100 ms.</summary>
    Advance,
}

/// <summary>A step: what, on which resource (0-2) or lease, and how much.</summary>
public sealed record RegistryStep(RegistryStepKind Kind, int Resource, int Target, int Amount)
{
    public override string ToString() => $"{Kind}(resource {Resource}, lease {Target}, amount {Amount})";
}

/// <summary>Generates step sequences for the registry model property.</summary>
public static class RegistryStepArbitraries
{
    public static Arbitrary<RegistryStep[]> Steps()
    {
        Gen<RegistryStep> step =
            from kind in Gen.Frequency(
                (4, Gen.Constant(RegistryStepKind.Acquire)),
                (3, Gen.Constant(RegistryStepKind.AcquireWithTimeToLive)),
                (2, Gen.Constant(RegistryStepKind.AcquireWithHeartbeat)),
                (4, Gen.Constant(RegistryStepKind.Release)),
                (2, Gen.Constant(RegistryStepKind.Extend)),
                (3, Gen.Constant(RegistryStepKind.Advance)))
            from resource in Gen.Choose(0, 2)
            from target in Gen.Choose(0, 15)
            from amount in Gen.Choose(1, 12)
            select new RegistryStep(kind, resource, target, amount);
        return Gen.ArrayOf(step).ToArbitrary();
    }
}

/// <summary>
/// Random sequences of acquires (plain, with time-to-live, with heartbeat), releases (stale
/// and repeated ones included), extensions and clock advances, checked after every step against
/// a sequential model of exclusive leases with expiry.
/// </summary>
public sealed class RegistryModelProperties
{
    private static readonly string[] s_ids = { "a", "b", "c" };
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(100);

    [Property(MaxTest = 300, Arbitrary = new[] { typeof(RegistryStepArbitraries) })]
    public void RandomSteps_Registry_MatchesSequentialModel(RegistryStep[] steps)
    {
        Run(steps);
    }

    [Fact]
    public void HandWrittenSteps_MatchModel()
    {
        Run(new RegistryStep[]
        {
            new(RegistryStepKind.AcquireWithTimeToLive, 0, 0, 3),
            new(RegistryStepKind.Acquire, 0, 0, 1),
            new(RegistryStepKind.AcquireWithHeartbeat, 1, 0, 1),
            new(RegistryStepKind.Advance, 0, 0, 2),
            new(RegistryStepKind.Extend, 0, 0, 2),
            new(RegistryStepKind.Advance, 0, 0, 4),
            new(RegistryStepKind.Release, 0, 0, 1),
            new(RegistryStepKind.Release, 0, 0, 1),
            new(RegistryStepKind.Acquire, 0, 0, 1),
            new(RegistryStepKind.Advance, 0, 0, 12),
            new(RegistryStepKind.Extend, 0, 1, 1),
            new(RegistryStepKind.Release, 0, 1, 1),
            new(RegistryStepKind.Release, 0, 2, 1),
            new(RegistryStepKind.Release, 0, 3, 1),
        });
    }

    private static void Run(RegistryStep[] steps)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock });
        var leases = new List<(ResourceLease Lease, CancellationToken Lost)>();
        var model = new List<ModelLease>();
        var holder = new int?[s_ids.Length];
        long now = 0;
        long lastFencing = 0;

        for (int index = 0; index < steps.Length; index++)
        {
            RegistryStep step = steps[index];
            string at = $"step {index} {step}";
            switch (step.Kind)
            {
                case RegistryStepKind.Acquire:
                case RegistryStepKind.AcquireWithTimeToLive:
                case RegistryStepKind.AcquireWithHeartbeat:
                {
                    LeaseOptions options = step.Kind switch
                    {
                        RegistryStepKind.Acquire => LeaseOptions.Default,
                        RegistryStepKind.AcquireWithTimeToLive => new LeaseOptions { TimeToLive = s_step * step.Amount },
                        _ => new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(300) },
                    };
                    bool acquired = registry.TryAcquire(s_ids[step.Resource], out ResourceLease lease, options);
                    Assert.True(acquired == (holder[step.Resource] is null), $"{at}: TryAcquire returned {acquired} but the model says the resource is {(holder[step.Resource] is null ? "free" : "held")}.");
                    if (acquired)
                    {
                        Assert.True(lease.FencingToken > lastFencing, $"{at}: fencing token {lease.FencingToken} is not above {lastFencing}.");
                        lastFencing = lease.FencingToken;
                        long expires = step.Kind switch
                        {
                            RegistryStepKind.Acquire => long.MaxValue,
                            RegistryStepKind.AcquireWithTimeToLive => now + (step.Amount * 100),
                            _ => long.MaxValue,
                        };
                        holder[step.Resource] = model.Count;
                        model.Add(new ModelLease(step.Resource, expires, step.Kind == RegistryStepKind.AcquireWithTimeToLive));
                        leases.Add((lease, lease.LostToken));
                    }

                    break;
                }

                case RegistryStepKind.Release when leases.Count > 0:
                {
                    int target = step.Target % leases.Count;
                    ModelLease expected = model[target];
                    LeaseReleaseResult result = leases[target].Lease.Release();
                    LeaseReleaseResult wanted = expected.State switch
                    {
                        ModelState.Held => LeaseReleaseResult.Released,
                        ModelState.Lost => LeaseReleaseResult.Expired,
                        _ => LeaseReleaseResult.AlreadyReleased,
                    };
                    Assert.True(result == wanted, $"{at}: release returned {result}; the model expected {wanted}.");
                    if (expected.State == ModelState.Held)
                    {
                        holder[expected.Resource] = null;
                    }

                    expected.State = ModelState.Released;
                    break;
                }

                case RegistryStepKind.Extend when leases.Count > 0:
                {
                    int target = step.Target % leases.Count;
                    ModelLease expected = model[target];
                    try
                    {
                        DateTimeOffset? until = leases[target].Lease.ExtendAsync(s_step * step.Amount).GetAwaiter().GetResult();
                        Assert.True(expected.State == ModelState.Held, $"{at}: extending a lease the model has {expected.State} succeeded.");
                        if (expected.Expires)
                        {
                            expected.ExpiresAt += step.Amount * 100;
                            Assert.Equal(clock.Start + TimeSpan.FromMilliseconds(expected.ExpiresAt), until);
                        }
                    }
                    catch (LeaseLostException)
                    {
                        Assert.True(expected.State == ModelState.Lost, $"{at}: extend said lost; the model has {expected.State}.");
                    }
                    catch (InvalidOperationException)
                    {
                        Assert.True(expected.State == ModelState.Released, $"{at}: extend said released; the model has {expected.State}.");
                    }

                    break;
                }

                case RegistryStepKind.Advance:
                {
                    now += step.Amount * 100;
                    clock.Advance(s_step * step.Amount);
                    foreach (ModelLease lease in model)
                    {
                        if (lease.State == ModelState.Held && lease.ExpiresAt <= now)
                        {
                            lease.State = ModelState.Lost;
                            holder[lease.Resource] = null;
                        }
                    }

                    break;
                }
            }

            // After every step: each lease's state and token, each resource's holder, the entry count.
            for (int i = 0; i < leases.Count; i++)
            {
                ModelState state = model[i].State;
                LeaseState observed = leases[i].Lease.State;
                LeaseState wanted = state switch { ModelState.Held => LeaseState.Held, ModelState.Lost => LeaseState.Lost, _ => LeaseState.Released };
                Assert.True(observed == wanted, $"{at}: lease {i} is {observed}; the model has {state}.");
                Assert.True(leases[i].Lost.IsCancellationRequested == (state == ModelState.Lost || (state == ModelState.Released && model[i].WasLost)), $"{at}: lease {i}'s lost token is {leases[i].Lost.IsCancellationRequested}; the model has {state}.");
                if (state == ModelState.Lost)
                {
                    model[i].WasLost = true;
                }
            }

            RegistrySnapshot snapshot = registry.GetSnapshot();
            int held = holder.Count(h => h is not null);
            Assert.True(registry.ResourceCount == held, $"{at}: the registry has {registry.ResourceCount} entries; the model holds {held} resources.");
            for (int r = 0; r < s_ids.Length; r++)
            {
                ResourceSnapshot? resource = snapshot.Resources.FirstOrDefault(s => s.ResourceId == s_ids[r]);
                if (holder[r] is int owner)
                {
                    Assert.True(resource is not null, $"{at}: the snapshot does not list '{s_ids[r]}', which lease {owner} holds.");
                    Assert.True(resource!.Holders.Count == 1, $"{at}: the snapshot of '{s_ids[r]}' lists {resource.Holders.Count} holders; expected 1.");
                    Assert.True(resource.Holders[0].LeaseId == leases[owner].Lease.LeaseId, $"{at}: the snapshot of '{s_ids[r]}' does not show lease {owner} as its holder.");
                }
                else
                {
                    Assert.True(resource is null, $"{at}: the snapshot lists '{s_ids[r]}', which the model has free.");
                }
            }
        }

        // When every lease is released, nothing is left: no entries, no timers.
        foreach ((ResourceLease lease, _) in leases)
        {
            lease.Release();
        }

        Assert.Equal(0, registry.ResourceCount);
        Assert.Equal(0, registry.Scheduler.Count);
    }

    private enum ModelState
    {
        Held,
        Lost,
        Released,
    }

    private sealed class ModelLease
    {
        public ModelLease(int resource, long expiresAt, bool expires)
        {
            Resource = resource;
            ExpiresAt = expiresAt;
            Expires = expires;
        }

        public int Resource { get; }

        public bool Expires { get; }

        public long ExpiresAt { get; set; }

        public ModelState State { get; set; }

        public bool WasLost { get; set; }
    }
}
