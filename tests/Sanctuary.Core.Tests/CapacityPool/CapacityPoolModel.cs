using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;

namespace Sanctuary.Tests.CapacityPools;

/// <summary>One kind of step that the model-based property applies to both the pool and the model.</summary>
public enum PoolStepKind
{
    /// <summary>An async reserve of <c>Amount</c> units at <c>Level</c> with no timeout; <c>Variant</c> picks the overload.</summary>
    Reserve,

    /// <summary><c>ReserveAsync</c> with a timeout of <c>Argument</c> ms of the fake clock; throws on timeout.</summary>
    ReserveTimed,

    /// <summary><c>TryReserveAsync</c> with a timeout of <c>Argument</c> ms; returns an unheld reservation on timeout.</summary>
    TryReserveTimed,

    /// <summary><c>TryReserve(amount, out reservation)</c>.</summary>
    TryNow,

    /// <summary>Moves the fake clock forward by <c>Argument</c> ms.</summary>
    AdvanceTime,

    /// <summary>Cancels the token of request number <c>Argument</c> (modulo the requests started so far).</summary>
    CancelWaiter,

    /// <summary>Releases reservation number <c>Argument</c> (modulo the reservations granted so far), stale ones included.</summary>
    ReleaseReservation,

    /// <summary>Releases a default reservation.</summary>
    ReleaseDefault,

    /// <summary>Reserves with a token that is already cancelled.</summary>
    ReserveCancelled,

    /// <summary>Changes the total to <c>Amount</c> units.</summary>
    Resize,

    /// <summary>Disposes the pool.</summary>
    DisposePool,
}

/// <summary>A step of a generated pool script.</summary>
public readonly record struct PoolStep(PoolStepKind Kind, int Level, long Amount, int Argument, int Variant)
{
    public override string ToString() => Kind switch
    {
        PoolStepKind.Reserve => $"Reserve({Amount}, {(LockPriority)Level}, form {Variant})",
        PoolStepKind.ReserveTimed => $"ReserveTimed({Amount}, {(LockPriority)Level}, {Argument} ms)",
        PoolStepKind.TryReserveTimed => $"TryReserveTimed({Amount}, {(LockPriority)Level}, {Argument} ms)",
        PoolStepKind.TryNow => $"TryNow({Amount})",
        PoolStepKind.AdvanceTime => $"Advance({Argument} ms)",
        PoolStepKind.CancelWaiter => $"CancelWaiter(#{Argument})",
        PoolStepKind.ReleaseReservation => $"{(Variant == 0 ? "Release" : "Dispose")}Reservation(#{Argument})",
        PoolStepKind.ReleaseDefault => "ReleaseDefault",
        PoolStepKind.ReserveCancelled => $"ReserveCancelled({Amount}, {(LockPriority)Level})",
        PoolStepKind.Resize => $"Resize({Amount})",
        PoolStepKind.DisposePool => "DisposePool",
        _ => Kind.ToString(),
    };
}

/// <summary>A generated pool script: the initial total and the steps. Printed in full for a counter-example.</summary>
public sealed class PoolScript
{
    public PoolScript(long total, IEnumerable<PoolStep> steps)
    {
        Total = total;
        Steps = steps.ToArray();
    }

    public long Total { get; }

    public IReadOnlyList<PoolStep> Steps { get; }

    public override string ToString() =>
        $"[total {Total}, {Steps.Count} steps] " + string.Join("; ", Steps.Select((step, i) => $"{i}:{step}"));
}

/// <summary>Generators of scripts for the capacity pool's model-based property.</summary>
public static class PoolScriptArbitrary
{
    private static readonly Gen<int> s_level = Gen.Choose(0, 3);

    // Mostly valid amounts, now and then zero, negative or above the total.
    private static readonly Gen<long> s_amount = Gen.Frequency(
        (20, Gen.Choose(1, 6).Select(amount => (long)amount)),
        (1, Gen.Elements(0L, -1L, 9L, 100L)));

    private static readonly Gen<(int Level, long Amount)> s_request = s_level.Zip(s_amount, (level, amount) => (level, amount));

    public static Gen<PoolStep> Step { get; } = Gen.Frequency(
        (6, s_request.Zip(Gen.Choose(0, 2), (request, form) => new PoolStep(PoolStepKind.Reserve, request.Level, request.Amount, 0, form))),
        (3, s_request.Zip(Gen.Choose(0, 6), (request, ms) => new PoolStep(PoolStepKind.ReserveTimed, request.Level, request.Amount, ms, 0))),
        (3, s_request.Zip(Gen.Choose(0, 6), (request, ms) => new PoolStep(PoolStepKind.TryReserveTimed, request.Level, request.Amount, ms, 0))),
        (3, s_amount.Select(amount => new PoolStep(PoolStepKind.TryNow, 0, amount, 0, 0))),
        (3, Gen.Choose(1, 8).Select(ms => new PoolStep(PoolStepKind.AdvanceTime, 0, 0, ms, 0))),
        (3, Gen.Choose(0, 63).Select(index => new PoolStep(PoolStepKind.CancelWaiter, 0, 0, index, 0))),
        (9, Gen.Choose(0, 63).Zip(Gen.Choose(0, 1), (index, form) => new PoolStep(PoolStepKind.ReleaseReservation, 0, 0, index, form))),
        (1, Gen.Constant(new PoolStep(PoolStepKind.ReleaseDefault, 0, 0, 0, 0))),
        (1, s_level.Zip(s_amount, (level, amount) => new PoolStep(PoolStepKind.ReserveCancelled, level, amount, 0, 0))),
        (2, Gen.Choose(1, 10).Select(total => new PoolStep(PoolStepKind.Resize, 0, total, 0, 0))));

    /// <summary>Scripts of up to about 100 steps on a pool of 1 to 8 units, with a rare dispose in the middle.</summary>
    public static Gen<PoolScript> Script { get; } =
        Gen.Frequency(
                (60, Step),
                (1, Gen.Constant(new PoolStep(PoolStepKind.DisposePool, 0, 0, 0, 0))))
            .ListOf()
            .Zip(Gen.Choose(1, 8), (steps, total) => new PoolScript(total, steps));

    /// <summary>Shrinks by dropping halves, then single steps.</summary>
    public static IEnumerable<PoolScript> Shrink(PoolScript script)
    {
        IReadOnlyList<PoolStep> steps = script.Steps;
        int count = steps.Count;
        if (count > 1)
        {
            yield return new PoolScript(script.Total, steps.Take(count / 2));
            yield return new PoolScript(script.Total, steps.Skip(count / 2));
        }

        for (int i = count - 1; i >= 0; i--)
        {
            yield return new PoolScript(script.Total, steps.Where((_, index) => index != i));
        }
    }

    public static Arbitrary<PoolScript> Scripts() => Arb.From(Script, Shrink);

    /// <summary>The same scripts without shrinking, for runs that only need to know that a failure exists.</summary>
    public static Arbitrary<PoolScript> ScriptsWithoutShrinking() => Script.ToArbitrary();
}

/// <summary>Thrown when the capacity pool disagrees with the sequential model.</summary>
public sealed class PoolModelMismatchException : Exception
{
    public PoolModelMismatchException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Applies a script to a <see cref="CapacityPool"/> driven by a fake clock and to a sequential model of
/// it (a total, the held amounts, and requests ranked by level, then arrival, granted while the first one
/// fits), and compares the two after every step: the counters, which request finished and how, and which
/// reservations still hold. Everything runs on the calling thread.
/// </summary>
/// <remarks>
/// The model runs the pool without aging: with aging, the ranking changes between events, and the pool
/// only re-checks the first request at its next event, whose timing the model would have to copy.
/// </remarks>
internal sealed class CapacityPoolModelRunner : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly CapacityPool _pool;
    private readonly List<ModelRequest> _requests = [];
    private readonly List<ModelRequest> _queue = [];
    private readonly List<ModelReservation> _reservations = [];
    private readonly List<string> _trace = [];
    private long _total;
    private long _reserved;
    private bool _disposed;
    private long _now;
    private long _nextSequence;

    private CapacityPoolModelRunner(long total, CapacityPoolFaults faults)
    {
        _total = total;
        _pool = new CapacityPool(total, new CapacityPoolOptions { Name = "modelled", TimeProvider = _clock }, faults);
    }

    private enum Outcome
    {
        Pending,
        Granted,
        TimedOut,
        Cancelled,
        Disposed,
        Rejected,
    }

    /// <summary>Runs the script, then disposes the pool as a last checked step; returns true so FsCheck counts a pass.</summary>
    public static bool Run(PoolScript script, CapacityPoolFaults faults = CapacityPoolFaults.None)
    {
        using var runner = new CapacityPoolModelRunner(script.Total, faults);
        IEnumerable<PoolStep> steps = script.Steps.Append(new PoolStep(PoolStepKind.DisposePool, 0, 0, 0, 0));
        int index = 0;
        foreach (PoolStep step in steps)
        {
            runner._trace.Add($"{index}:{step}");
            runner.Apply(step);
            runner.Check();
            index++;
        }

        return true;
    }

    public void Dispose()
    {
        _pool.Dispose();
        foreach (ModelRequest request in _requests)
        {
            if (!request.Observed && request.Task.IsCompleted)
            {
                CapacityPoolKit.Consume(request.Task);
            }

            request.Source.Dispose();
        }
    }

    private void Apply(PoolStep step)
    {
        var priority = (LockPriority)step.Level;
        switch (step.Kind)
        {
            case PoolStepKind.Reserve:
                StartRequest(step, timeout: null, throwsOnTimeout: true, token => step.Variant switch
                {
                    0 => _pool.ReserveAsync(step.Amount, priority, token),
                    1 => _pool.ReserveAsync(step.Amount, priority, Timeout.InfiniteTimeSpan, token),
                    _ => _pool.TryReserveAsync(step.Amount, priority, Timeout.Infinite, token),
                });
                break;

            case PoolStepKind.ReserveTimed:
                StartRequest(step, step.Argument, throwsOnTimeout: true, token => _pool.ReserveAsync(step.Amount, priority, TimeSpan.FromMilliseconds(step.Argument), token));
                break;

            case PoolStepKind.TryReserveTimed:
                StartRequest(step, step.Argument, throwsOnTimeout: false, token => _pool.TryReserveAsync(step.Amount, priority, step.Argument, token));
                break;

            case PoolStepKind.TryNow:
                TryNow(step.Amount);
                break;

            case PoolStepKind.AdvanceTime:
                AdvanceTime(step.Argument);
                break;

            case PoolStepKind.CancelWaiter:
                CancelRequest(step.Argument);
                break;

            case PoolStepKind.ReleaseReservation:
                ReleaseReservation(step.Argument, useDispose: step.Variant != 0);
                break;

            case PoolStepKind.ReleaseDefault:
                CapacityPool.Reservation none = default;
                Expect(!none.Release(), "releasing a default reservation returned true");
                none.Dispose();
                break;

            case PoolStepKind.ReserveCancelled:
                ReserveWithCancelledToken(step);
                break;

            case PoolStepKind.Resize:
                Resize(step.Amount);
                break;

            case PoolStepKind.DisposePool:
                DisposePool();
                break;
        }
    }

    private bool IsValidAmount(long amount) => amount >= 1 && amount <= _total;

    private void StartRequest(PoolStep step, int? timeout, bool throwsOnTimeout, Func<CancellationToken, ValueTask<CapacityPool.Reservation>> start)
    {
        var source = new CancellationTokenSource();
        ValueTask<CapacityPool.Reservation> task = CapacityPoolKit.Start(() => start(source.Token));
        var request = new ModelRequest(_requests.Count, step.Level, step.Amount, throwsOnTimeout, source, task);
        _requests.Add(request);

        if (!IsValidAmount(step.Amount))
        {
            request.Expected = Outcome.Rejected;
        }
        else if (_disposed)
        {
            request.Expected = Outcome.Disposed;
        }
        else if (_queue.Count == 0 && step.Amount <= _total - _reserved)
        {
            Grant(request);
        }
        else if (timeout == 0)
        {
            request.Expected = Outcome.TimedOut;
        }
        else
        {
            request.Sequence = ++_nextSequence;
            request.Deadline = timeout is { } milliseconds ? _now + milliseconds : long.MaxValue;
            _queue.Add(request);
            GrantWhileFirstFits();
        }
    }

    private void ReserveWithCancelledToken(PoolStep step)
    {
        var source = new CancellationTokenSource();
        source.Cancel();
        ValueTask<CapacityPool.Reservation> task = CapacityPoolKit.Start(() => _pool.ReserveAsync(step.Amount, (LockPriority)step.Level, source.Token));
        var request = new ModelRequest(_requests.Count, step.Level, step.Amount, throwsOnTimeout: true, source, task)
        {
            Expected = IsValidAmount(step.Amount) ? Outcome.Cancelled : Outcome.Rejected,
        };
        _requests.Add(request);
    }

    private void TryNow(long amount)
    {
        Exception? error = null;
        bool taken = false;
        CapacityPool.Reservation reservation = default;
        try
        {
            taken = _pool.TryReserve(amount, out reservation);
        }
        catch (Exception thrown)
        {
            error = thrown;
        }

        if (!IsValidAmount(amount))
        {
            Expect(error is ArgumentOutOfRangeException, $"TryReserve({amount}) with a total of {_total} ended with {error?.GetType().Name ?? "no exception"}; the model expected ArgumentOutOfRangeException");
            return;
        }

        if (_disposed)
        {
            Expect(error is ObjectDisposedException, $"TryReserve on a disposed pool ended with {error?.GetType().Name ?? "no exception"}; the model expected ObjectDisposedException");
            return;
        }

        bool expected = _queue.Count == 0 && amount <= _total - _reserved;
        Expect(error is null && taken == expected, $"TryReserve({amount}) returned {taken} ({error?.GetType().Name ?? "no exception"}); the model expected {expected}");
        if (taken)
        {
            AddReservation(reservation, amount, $"try-now of {amount} at step {_trace.Count - 1}");
        }
    }

    private void AdvanceTime(int milliseconds)
    {
        _now += milliseconds;
        _clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
        List<ModelRequest> expired = _queue.Where(r => r.Deadline <= _now).ToList();
        foreach (ModelRequest request in expired)
        {
            request.Expected = Outcome.TimedOut;
            _queue.Remove(request);
        }

        if (expired.Count > 0)
        {
            GrantWhileFirstFits();
        }
    }

    private void CancelRequest(int index)
    {
        if (_requests.Count == 0)
        {
            return;
        }

        ModelRequest request = _requests[index % _requests.Count];
        request.Source.Cancel();
        if (_queue.Remove(request))
        {
            request.Expected = Outcome.Cancelled;
            GrantWhileFirstFits();
        }
    }

    private void ReleaseReservation(int index, bool useDispose)
    {
        if (_reservations.Count == 0)
        {
            return;
        }

        ModelReservation reservation = _reservations[index % _reservations.Count];
        bool expected = reservation.Held;
        if (useDispose)
        {
            reservation.Reservation.Dispose();
        }
        else
        {
            bool released = reservation.Reservation.Release();
            Expect(released == expected, $"Release() of {reservation.Name} returned {released}; the model expected {expected}");
        }

        if (expected)
        {
            reservation.Held = false;
            _reserved -= reservation.Amount;
            GrantWhileFirstFits();
        }
    }

    private void Resize(long newTotal)
    {
        if (_disposed)
        {
            bool threw = false;
            try
            {
                _pool.Resize(newTotal);
            }
            catch (ObjectDisposedException)
            {
                threw = true;
            }

            Expect(threw, "Resize on a disposed pool did not throw ObjectDisposedException");
            return;
        }

        _pool.Resize(newTotal);
        _total = newTotal;
        foreach (ModelRequest request in _queue.Where(r => r.Amount > newTotal).ToList())
        {
            request.Expected = Outcome.Rejected;
            _queue.Remove(request);
        }

        GrantWhileFirstFits();
    }

    private void DisposePool()
    {
        _pool.Dispose();
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (ModelRequest request in _queue)
        {
            request.Expected = Outcome.Disposed;
        }

        _queue.Clear();
    }

    // Head-of-line blocking: grant the first request in rank order while it fits, and stop at the first that does not.
    private void GrantWhileFirstFits()
    {
        if (_disposed)
        {
            return;
        }

        while (_queue.Count > 0)
        {
            ModelRequest first = _queue.OrderByDescending(r => r.Level).ThenBy(r => r.Sequence).First();
            if (first.Amount > _total - _reserved)
            {
                return;
            }

            _queue.Remove(first);
            Grant(first);
        }
    }

    private void Grant(ModelRequest request)
    {
        request.Expected = Outcome.Granted;
        Expect(request.Task.IsCompleted, $"request {request.Id} for {request.Amount} units ({(LockPriority)request.Level}) should have been granted but is still pending");
        (CapacityPool.Reservation reservation, Exception? error) = CapacityPoolKit.Consume(request.Task);
        request.Observed = true;
        Expect(error is null, $"request {request.Id} should have been granted but failed with {error?.GetType().Name}: {error?.Message}");
        Expect(reservation.IsHeld && reservation.Amount == request.Amount, $"request {request.Id} was granted a reservation of {reservation.Amount} units, held {reservation.IsHeld}; the model expected {request.Amount} units, held");
        AddReservation(reservation, request.Amount, $"request {request.Id}");
    }

    private void AddReservation(CapacityPool.Reservation reservation, long amount, string name)
    {
        _reservations.Add(new ModelReservation(reservation, amount, name) { Held = true });
        _reserved += amount;
    }

    private void Check()
    {
        Expect(_pool.Total == _total, $"Total is {_pool.Total}; the model expected {_total}");
        Expect(_pool.Reserved == _reserved, $"Reserved is {_pool.Reserved}; the model expected {_reserved}");
        long available = Math.Max(0, _total - _reserved);
        Expect(_pool.Available == available, $"Available is {_pool.Available}; the model expected {available}");
        Expect(_pool.WaitingCount == _queue.Count, $"WaitingCount is {_pool.WaitingCount}; the model expected {_queue.Count}");
        Expect(_pool.IsDisposed == _disposed, $"IsDisposed is {_pool.IsDisposed}; the model expected {_disposed}");

        foreach (ModelRequest request in _requests.Where(r => !r.Observed))
        {
            if (request.Expected == Outcome.Pending)
            {
                Expect(!request.Task.IsCompleted, $"request {request.Id} for {request.Amount} units completed although the model expects it to wait");
                continue;
            }

            Expect(request.Task.IsCompleted, $"request {request.Id} is still pending; the model expected {request.Expected}");
            (CapacityPool.Reservation reservation, Exception? error) = CapacityPoolKit.Consume(request.Task);
            request.Observed = true;
            bool matches = request.Expected switch
            {
                Outcome.TimedOut => request.ThrowsOnTimeout ? error is CapacityPoolTimeoutException : error is null && !reservation.IsHeld,
                Outcome.Cancelled => error is OperationCanceledException,
                Outcome.Disposed => error is ObjectDisposedException,
                Outcome.Rejected => error is ArgumentOutOfRangeException,
                _ => false,
            };
            Expect(matches, $"request {request.Id} ended with {(error is null ? $"a reservation (held: {reservation.IsHeld})" : error.GetType().Name)}; the model expected {request.Expected}");
        }

        foreach (ModelReservation reservation in _reservations)
        {
            Expect(reservation.Reservation.IsHeld == reservation.Held, $"{reservation.Name} reports IsHeld {reservation.Reservation.IsHeld}; the model expected {reservation.Held}");
        }
    }

    private void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new PoolModelMismatchException($"After steps {string.Join("; ", _trace)}: {what}.");
        }
    }

    private sealed class ModelRequest(int id, int level, long amount, bool throwsOnTimeout, CancellationTokenSource source, ValueTask<CapacityPool.Reservation> task)
    {
        public int Id { get; } = id;

        public int Level { get; } = level;

        public long Amount { get; } = amount;

        public bool ThrowsOnTimeout { get; } = throwsOnTimeout;

        public CancellationTokenSource Source { get; } = source;

        public ValueTask<CapacityPool.Reservation> Task { get; } = task;

        public long Sequence { get; set; }

        public long Deadline { get; set; } = long.MaxValue;

        public Outcome Expected { get; set; }

        public bool Observed { get; set; }
    }

    private sealed class ModelReservation(CapacityPool.Reservation reservation, long amount, string name)
    {
        public CapacityPool.Reservation Reservation { get; } = reservation;

        public long Amount { get; } = amount;

        public string Name { get; } = name;

        public bool Held { get; set; }
    }
}
