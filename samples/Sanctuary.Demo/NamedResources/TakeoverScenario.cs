using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Spectre.Console;

namespace Sanctuary.Demo;

/// <summary>
/// A lease owner that crashes: node-a holds a job with a time-to-live and a heartbeat, then stops
/// renewing (its connection to the store is cut). It loses the lease, and node-b, which was waiting,
/// gets it with a higher fencing token. When node-a wakes up and writes with its old token, the
/// journal, which checks tokens, rejects the stale write.
/// </summary>
/// <remarks>The two nodes are two registries on one shared store, as two processes would share a Redis server.</remarks>
internal sealed class TakeoverScenario
{
    public const string JobId = "job:invoice-run";

    private static readonly LeaseOptions s_nodeA = new()
    {
        Owner = "node-a",
        Purpose = "monthly invoice run",
        TimeToLive = TimeSpan.FromSeconds(1),
        HeartbeatInterval = TimeSpan.FromMilliseconds(250),
        MaxMissedHeartbeats = 2,
    };

    private static readonly LeaseOptions s_nodeB = new()
    {
        Owner = "node-b",
        Purpose = "monthly invoice run, taken over",
        TimeToLive = TimeSpan.FromSeconds(2),
        WaitTimeout = TimeSpan.FromSeconds(15),
    };

    private readonly List<(TimeSpan At, string Event)> _timeline = [];
    private readonly long _start = Stopwatch.GetTimestamp();

    public FencedJournal Journal { get; } = new();

    public IReadOnlyList<(TimeSpan At, string Event)> Timeline => _timeline;

    public long TokenA { get; private set; }

    public long TokenB { get; private set; }

    public LeaseState StateA { get; private set; }

    public LeaseLossReason LossReasonA { get; private set; }

    public bool LostTokenFiredA { get; private set; }

    public LeaseReleaseResult ReleaseA { get; private set; }

    public LeaseReleaseResult ReleaseB { get; private set; }

    public string ExtendAfterLossA { get; private set; } = "not tried";

    public bool ExtendedB { get; private set; }

    public bool StaleWriteRejected { get; private set; }

    public bool TookOver { get; private set; }

    public string? Failure { get; private set; }

    public async Task RunAsync(ILeaseStore sharedStore)
    {
        var linkA = new PartitionableLeaseStore(sharedStore, "node-a");
        using var nodeA = new ResourceRegistry(NodeOptions("node-a", linkA));
        using var nodeB = new ResourceRegistry(NodeOptions("node-b", sharedStore));
        try
        {
            await RunCoreAsync(nodeA, nodeB, linkA);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Failure = $"{exception.GetType().Name}: {exception.Message}";
            Log($"failed: {Failure}");
        }
        finally
        {
            linkA.Heal();
        }
    }

    private static ResourceRegistryOptions NodeOptions(string node, ILeaseStore store) => new()
    {
        Store = store,
        DefaultOwner = node,
        StoreRetryInterval = TimeSpan.FromMilliseconds(25),
    };

    private async Task RunCoreAsync(ResourceRegistry nodeA, ResourceRegistry nodeB, PartitionableLeaseStore linkA)
    {
        ResourceLease leaseA = await nodeA.AcquireAsync(JobId, s_nodeA);
        try
        {
            CancellationToken lostA = leaseA.LostToken;
            TokenA = leaseA.FencingToken;
            Log($"node-a acquired {JobId}: token {TokenA}, time-to-live 1 s, heartbeat every 250 ms");
            Write(TokenA, "node-a", "invoice run started");

            Task<ResourceLease> waitB = nodeB.AcquireAsync(JobId, s_nodeB).AsTask();
            Log("node-b waits for the job (the store rejects it while node-a holds the lease)");
            await Task.Delay(600);
            Log($"node-b {(waitB.IsCompleted ? "no longer waits (unexpected)" : "still waits")}; node-a's heartbeat renewed its lease, expiry {Until(leaseA.ExpiresAt)}");

            // The crash: node-a's process freezes mid-run and can no longer reach the store.
            linkA.Cut();
            Log("node-a freezes: its renewals stop reaching the store");

            await WaitAsync(lostA);
            StateA = leaseA.State;
            LossReasonA = leaseA.LossReason;
            LostTokenFiredA = lostA.IsCancellationRequested;
            Log(LostTokenFiredA
                ? $"node-a's registry gives the lease up ({LossReasonA}) and fires its lost token"
                : $"node-a's lease did not end: state {StateA}");

            ResourceLease leaseB = await waitB;
            try
            {
                TokenB = leaseB.FencingToken;
                TookOver = leaseB.IsHeld;
                Log($"node-b acquired {JobId}: token {TokenB} (node-a's lease ran out in the store)");
                Write(TokenB, "node-b", "invoice run taken over");

                DateTimeOffset? before = leaseB.ExpiresAt;
                DateTimeOffset? after = await leaseB.ExtendAsync(TimeSpan.FromSeconds(1));
                ExtendedB = before is not null && after > before;
                Log($"node-b extended its lease by 1 s: expiry {Until(before)} -> {Until(after)}");

                // node-a wakes up, unaware, and finishes its work with the token it had.
                StaleWriteRejected = !Write(TokenA, "node-a", "invoice run finished");
                try
                {
                    await leaseA.ExtendAsync(TimeSpan.FromSeconds(1));
                    ExtendAfterLossA = "extended (wrong)";
                }
                catch (LeaseLostException lost)
                {
                    ExtendAfterLossA = $"LeaseLostException ({lost.Reason})";
                }

                Log($"node-a resumed: its extend threw {ExtendAfterLossA}");
            }
            finally
            {
                linkA.Heal();
                ReleaseB = await leaseB.ReleaseAsync();
            }
        }
        finally
        {
            // A lost lease frees nothing: its release only reports Expired.
            ReleaseA = leaseA.Release();
        }

        Log($"node-b released: {ReleaseB}; node-a's release: {ReleaseA}; node-a's store calls that failed: {linkA.FailedCalls}");
        Log($"journal: {string.Join(" | ", Journal.Lines)}");
    }

    private static async Task WaitAsync(CancellationToken token)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(15), token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private bool Write(long token, string writer, string text)
    {
        bool accepted = Journal.TryWrite(token, writer, text);
        Log($"{writer} writes '{text}' with token {token}: {(accepted ? "accepted" : "REJECTED, the journal has seen a higher token")}");
        return accepted;
    }

    private string Until(DateTimeOffset? expiry) =>
        expiry is null ? "never" : $"in {(expiry.Value - DateTimeOffset.UtcNow).TotalMilliseconds:N0} ms";

    private void Log(string text) => _timeline.Add((Stopwatch.GetElapsedTime(_start), text));

    public Table TimelineTable()
    {
        Table table = new Table().Title("Crash and takeover").AddColumn(new TableColumn("At").RightAligned()).AddColumn("Event");
        foreach ((TimeSpan at, string text) in _timeline)
        {
            table.AddPlainRow(Format.Milliseconds(at), text);
        }

        return table;
    }

    public IEnumerable<InvariantCheck> Checks()
    {
        if (Failure is not null)
        {
            yield return InvariantCheck.Fail("Crash and takeover ran", Failure);
            yield break;
        }

        yield return InvariantCheck.That(
            "Crashed owner lost its lease",
            StateA == LeaseState.Lost && LostTokenFiredA && ReleaseA == LeaseReleaseResult.Expired,
            $"node-a: {LossReasonA}; release: {ReleaseA}",
            $"node-a: state {StateA} ({LossReasonA}), lost token fired: {LostTokenFiredA}, release: {ReleaseA}");
        yield return InvariantCheck.That(
            "Next waiter took over",
            TookOver && ReleaseB == LeaseReleaseResult.Released && ExtendedB,
            "node-b acquired, extended, released",
            $"node-b held: {TookOver}, extended: {ExtendedB}, release: {ReleaseB}");
        yield return InvariantCheck.That(
            "Fencing token grew (f2 > f1)",
            TokenB > TokenA,
            $"f1 = {TokenA}, f2 = {TokenB}",
            $"f1 = {TokenA}, f2 = {TokenB}: not greater");
        yield return InvariantCheck.That(
            "Stale write rejected",
            StaleWriteRejected && ExtendAfterLossA.StartsWith("LeaseLostException", StringComparison.Ordinal),
            $"f1 write rejected; extend: {ExtendAfterLossA}",
            $"stale write rejected: {StaleWriteRejected}; extend after loss: {ExtendAfterLossA}");
    }
}
