using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Diagnostics;
using Sanctuary.Resources;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using static Sanctuary.Tests.Resources.ResourceTestSupport;

namespace Sanctuary.Tests.Resources;

/// <summary>The "Sanctuary" meter and activity source, observed with real listeners.</summary>
[Collection(SerialCollection.Name)]
public sealed class TelemetryTests
{
    [Fact]
    public async Task Counters_EveryOutcome_IsCountedWithResourceTagWhenOptedIn()
    {
        using var recorder = new MeasurementRecorder();
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, TagMetricsWithResourceId = true });
        string id = "telemetry-" + Guid.NewGuid().ToString("N");

        ResourceLease held = await registry.AcquireAsync(id);
        await Assert.ThrowsAsync<ResourceUnavailableException>(async () => await registry.AcquireAsync(id, new LeaseOptions { WaitTimeout = TimeSpan.Zero }));
        using (var cancellation = new CancellationTokenSource())
        {
            ValueTask<ResourceLease> cancelled = registry.AcquireAsync(id, cancellationToken: cancellation.Token);
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        }

        clock.Advance(TimeSpan.FromSeconds(2));
        held.Dispose();
        ResourceLease expiring = await registry.AcquireAsync(id, new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1) });
        clock.Advance(TimeSpan.FromSeconds(1));
        expiring.Dispose();

        Assert.Equal(2, recorder.Count(SanctuaryDiagnostics.AcquiredCounter, id));
        Assert.Equal(1, recorder.Count(SanctuaryDiagnostics.ReleasedCounter, id));
        Assert.Equal(1, recorder.Count(SanctuaryDiagnostics.TimedOutCounter, id));
        Assert.Equal(1, recorder.Count(SanctuaryDiagnostics.CancelledCounter, id));
        Assert.Equal(1, recorder.Count(SanctuaryDiagnostics.ExpiredCounter, id));
        double[] holds = recorder.Values(SanctuaryDiagnostics.HoldTimeHistogram, id);
        Assert.Equal(new[] { 2.0, 1.0 }, holds);
        Assert.Equal(new[] { 0.0, 0.0 }, recorder.Values(SanctuaryDiagnostics.WaitTimeHistogram, id));
        Assert.All(recorder.Tags(id), tags => Assert.Equal("Exclusive", tags[SanctuaryDiagnostics.ModeTag]));
    }

    [Fact]
    public async Task Counters_MissedHeartbeats_CountAsLost()
    {
        using var recorder = new MeasurementRecorder();
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        var store = new DelayingStore(new InMemoryLeaseStore(clock), clock) { FailExtends = true };
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, Store = store, TagMetricsWithResourceId = true });
        string id = "lost-" + Guid.NewGuid().ToString("N");
        ResourceLease lease = await registry.AcquireAsync(id, new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(10), HeartbeatInterval = TimeSpan.FromSeconds(1), MaxMissedHeartbeats = 1 });
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Eventually.Holds(() => lease.State == LeaseState.Lost));
        Assert.Equal(1, recorder.Count(SanctuaryDiagnostics.LostCounter, id));
    }

    [Fact]
    public async Task Measurements_ByDefault_CarryNoResourceId()
    {
        using var recorder = new MeasurementRecorder();
        using var registry = new ResourceRegistry();
        string id = "secret-" + Guid.NewGuid().ToString("N");
        (await registry.AcquireAsync(id)).Dispose();
        Assert.True(recorder.Total(SanctuaryDiagnostics.AcquiredCounter) >= 1);
        Assert.DoesNotContain(recorder.AllTags(), tags => tags.ContainsKey(SanctuaryDiagnostics.ResourceTag) && Equals(tags[SanctuaryDiagnostics.ResourceTag], id));
    }

    [Fact]
    public async Task WaitTime_ContendedAcquire_RecordsTheWaitAndOneActivity()
    {
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SanctuaryDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var recorder = new MeasurementRecorder();
        var (probe, clock) = CreateWithFakeClock();
        probe.Dispose();
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { TimeProvider = clock, TagMetricsWithResourceId = true });
        string id = "wait-" + Guid.NewGuid().ToString("N");

        ResourceLease first = await registry.AcquireAsync(id);
        ValueTask<ResourceLease> second = registry.AcquireAsync(id);
        clock.Advance(TimeSpan.FromMilliseconds(250));
        first.Dispose();
        (await Within(second.AsTask(), "the waiter")).Dispose();

        Assert.Equal(new[] { 0.0, 0.25 }, recorder.Values(SanctuaryDiagnostics.WaitTimeHistogram, id));
        Activity waited = Assert.Single(activities, activity => Equals(activity.GetTagItem(SanctuaryDiagnostics.ResourceTag), id));
        Assert.Equal(SanctuaryDiagnostics.WaitActivityName, waited.OperationName);
        Assert.Equal("acquired", waited.GetTagItem(SanctuaryDiagnostics.OutcomeTag));
    }

    [Fact]
    public void NoListener_HandlePath_AllocatesNothing()
    {
        using var registry = new ResourceRegistry();
        ResourceHandle handle = registry.GetHandle("quiet");
        static void Loop(ResourceHandle handle)
        {
            for (int i = 0; i < 10_000; i++)
            {
                handle.AcquireAsync().GetAwaiter().GetResult().Dispose();
            }
        }

        Loop(handle);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Loop(handle);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Collects every measurement of the Sanctuary meter while it is alive.</summary>
    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

        public MeasurementRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SanctuaryDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public int Count(string instrument, string resourceId) => (int)Values(instrument, resourceId).Sum();

        public double Total(string instrument) => _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        public double[] Values(string instrument, string resourceId) =>
            _measurements.Where(m => m.Instrument == instrument && Equals(m.Tags.GetValueOrDefault(SanctuaryDiagnostics.ResourceTag), resourceId)).Select(m => m.Value).ToArray();

        public IEnumerable<Dictionary<string, object?>> Tags(string resourceId) =>
            _measurements.Where(m => Equals(m.Tags.GetValueOrDefault(SanctuaryDiagnostics.ResourceTag), resourceId)).Select(m => m.Tags);

        public IEnumerable<Dictionary<string, object?>> AllTags() => _measurements.Select(m => m.Tags);

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            _measurements.Enqueue((instrument.Name, value, copy));
        }
    }
}
