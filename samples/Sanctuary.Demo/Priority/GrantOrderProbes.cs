using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>
/// Deterministic checks of who goes first. Each probe queues waiters in a known arrival order on
/// a fresh primitive (aging off, so levels are strict), releases step by step and looks at which
/// waits completed. A release grants synchronously, so no timing is involved.
/// </summary>
internal static class GrantOrderProbes
{
    // A probe that goes wrong must not hang the demo: every wait gives up after this long.
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(20);

    /// <summary>Queues six waiters of four levels on a held <see cref="PriorityLock"/> and checks that the highest level goes first, in arrival order within a level.</summary>
    public static async Task<InvariantCheck> PriorityLockAsync()
    {
        const string Name = "Lock grant order by priority";
        (string Label, LockPriority Priority)[] arrivals =
        [
            ("L1", LockPriority.Low),
            ("L2", LockPriority.Low),
            ("N1", LockPriority.Normal),
            ("N2", LockPriority.Normal),
            ("H1", LockPriority.High),
            ("C1", LockPriority.Critical),
        ];
        string expected = "C1 H1 N1 N2 L1 L2";

        using var probe = new PriorityLock(new PriorityLockOptions { Name = "order probe" });
        ValueTask<PriorityLock.Lease>[] waits;
        int queued;
        using (PriorityLock.Lease holder = await probe.AcquireAsync())
        {
            waits = arrivals.Select(arrival => probe.TryAcquireAsync(arrival.Priority, s_probeTimeout)).ToArray();
            queued = probe.WaitingCount;
        }

        // Each release (the holder's above, then each granted waiter's) hands the lock to exactly one waiter.
        var order = new List<string>();
        var consumed = new bool[waits.Length];
        for (int step = 0; step < waits.Length; step++)
        {
            int next = await WaitForOneAsync(waits, consumed);
            if (next < 0)
            {
                return InvariantCheck.Fail(Name, $"after {order.Count} grants ({string.Join(" ", order)}) a release granted {(next == -1 ? "no" : "several")} waiters");
            }

            consumed[next] = true;
            using PriorityLock.Lease granted = waits[next].Result;
            order.Add(granted.IsHeld ? arrivals[next].Label : arrivals[next].Label + "(timed out)");
        }

        string grantOrder = string.Join(" ", order);
        string arrived = string.Join(" ", arrivals.Select(arrival => arrival.Label));
        return InvariantCheck.That(
            Name,
            queued == arrivals.Length && grantOrder == expected,
            $"{arrived} -> {grantOrder}",
            $"arrived {arrived} ({queued} queued), granted {grantOrder}, expected {expected}");
    }

    /// <summary>
    /// Queues requests of three levels on a full <see cref="CapacityPool"/> and checks that the higher
    /// levels are served before an earlier low request, and that a small request that fits still
    /// waits behind the large request at the head of its level.
    /// </summary>
    public static async Task<IReadOnlyList<InvariantCheck>> CapacityPoolAsync()
    {
        const string PriorityName = "Pool grant order by priority";
        const string HeadName = "Large request not overtaken";
        using var pool = new CapacityPool(10, new CapacityPoolOptions { Name = "order probe" });
        ValueTask<CapacityPool.Reservation> low8, normal2, normal1, critical4;
        int queued;
        using (CapacityPool.Reservation everything = await pool.ReserveAsync(10))
        {
            // Arrival order: a large low request first, then normal and critical ones.
            low8 = pool.TryReserveAsync(8, LockPriority.Low, s_probeTimeout);
            normal2 = pool.TryReserveAsync(2, LockPriority.Normal, s_probeTimeout);
            normal1 = pool.TryReserveAsync(1, LockPriority.Normal, s_probeTimeout);
            critical4 = pool.TryReserveAsync(4, LockPriority.Critical, s_probeTimeout);
            queued = pool.WaitingCount;
        }

        // Ten units came free. Critical 4, normal 2 and normal 1 fit (7 units), so low 8 must wait.
        await WaitUntilAsync(() => critical4.IsCompleted && normal2.IsCompleted && normal1.IsCompleted);
        await Task.Delay(s_settle);
        bool byPriority = queued == 4 && critical4.IsCompleted && normal2.IsCompleted && normal1.IsCompleted && !low8.IsCompleted;
        string priorityDetail =
            $"L8 N2 N1 C4 -> {Granted(("C4", critical4), ("N2", normal2), ("N1", normal1), ("L8", low8))}";

        // Three units are free. A low request for 1 fits, but arrived after low 8, which is first in line.
        ValueTask<CapacityPool.Reservation> low1 = pool.TryReserveAsync(1, LockPriority.Low, s_probeTimeout);
        await Task.Delay(s_settle);
        bool smallWaited = !low1.IsCompleted && !low8.IsCompleted;

        // Release the rest: low 8 goes first, then low 1 fits beside it.
        ReleaseIfGranted(critical4);
        ReleaseIfGranted(normal2);
        ReleaseIfGranted(normal1);
        await WaitUntilAsync(() => low8.IsCompleted && low1.IsCompleted);
        bool bothGranted = low8.IsCompleted && low1.IsCompleted;
        long reservedBoth = pool.Reserved;
        ReleaseIfGranted(low8);
        ReleaseIfGranted(low1);
        bool drained = pool.Reserved == 0 && pool.WaitingCount == 0;

        return
        [
            InvariantCheck.That(PriorityName, byPriority, priorityDetail, priorityDetail + ", expected C4 N2 N1 with L8 waiting"),
            InvariantCheck.That(
                HeadName,
                smallWaited && bothGranted && reservedBoth == 9 && drained,
                "L1 fit, but waited behind L8",
                $"L1 waited: {smallWaited}, both granted later: {bothGranted} ({reservedBoth} reserved), drained: {drained}"),
        ];
    }

    /// <summary>Checks that a request for more than the total fails at once, not after its timeout.</summary>
    public static async Task<InvariantCheck> OversizedRequestAsync(CapacityPool pool)
    {
        const string Name = "Oversized request fails at once";
        long amount = pool.Total + 1;
        long start = Stopwatch.GetTimestamp();
        try
        {
            using CapacityPool.Reservation reservation = await pool.ReserveAsync(amount, LockPriority.Critical, TimeSpan.FromSeconds(5));
            return InvariantCheck.Fail(Name, $"{amount} of {pool.Total} units were granted");
        }
        catch (ArgumentOutOfRangeException)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            return InvariantCheck.That(
                Name,
                elapsed < TimeSpan.FromSeconds(1),
                $"{amount} of {pool.Total}: rejected in {Format.Duration(elapsed)}",
                $"{amount} of {pool.Total} units: ArgumentOutOfRangeException only after {Format.Duration(elapsed)}");
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            return InvariantCheck.Fail(Name, $"{amount} of {pool.Total} units: {exception.GetType().Name} instead of ArgumentOutOfRangeException");
        }
    }

    // Returns the index of the one wait that completed and was not consumed yet, -1 if none did
    // within the probe timeout, or -2 if several did (the lock was granted twice).
    private static async Task<int> WaitForOneAsync(ValueTask<PriorityLock.Lease>[] waits, bool[] consumed)
    {
        await WaitUntilAsync(() => Completed(waits, consumed).Any());
        await Task.Delay(s_settle);
        int[] completed = Completed(waits, consumed).ToArray();
        return completed.Length switch
        {
            0 => -1,
            1 => completed[0],
            _ => -2,
        };
    }

    private static IEnumerable<int> Completed(ValueTask<PriorityLock.Lease>[] waits, bool[] consumed) =>
        Enumerable.Range(0, waits.Length).Where(i => !consumed[i] && waits[i].IsCompleted);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition() && Stopwatch.GetElapsedTime(start) < s_probeTimeout)
        {
            await Task.Delay(1);
        }
    }

    private static string Granted(params (string Label, ValueTask<CapacityPool.Reservation> Wait)[] requests)
    {
        string[] granted = requests.Where(request => request.Wait.IsCompleted).Select(request => request.Label).ToArray();
        string[] waiting = requests.Where(request => !request.Wait.IsCompleted).Select(request => request.Label).ToArray();
        return string.Join(" ", granted) + (waiting.Length > 0 ? $", {string.Join(" ", waiting)} waiting" : string.Empty);
    }

    // Consumes each ValueTask once, here. A request still waiting is left to time out with the pool.
    private static void ReleaseIfGranted(ValueTask<CapacityPool.Reservation> wait)
    {
        if (wait.IsCompleted)
        {
            wait.Result.Dispose();
        }
    }
}
