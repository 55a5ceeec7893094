using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;

namespace Sanctuary.Tests.PriorityLocks;

/// <summary>One kind of step that the model-based property applies to both the lock and the model.</summary>
public enum PriorityStepKind
{
    /// <summary>An async acquire at <c>Level</c> with no timeout; <c>Variant</c> picks the overload.</summary>
    Acquire,

    /// <summary><c>AcquireAsync</c> at <c>Level</c> with a timeout of <c>Argument</c> ms of the fake clock; throws on timeout.</summary>
    AcquireTimed,

    /// <summary><c>TryAcquireAsync</c> at <c>Level</c> with a timeout of <c>Argument</c> ms; returns an unheld lease on timeout.</summary>
    TryAcquireTimed,

    /// <summary><c>TryAcquire(out lease)</c>.</summary>
    TryNow,

    /// <summary>Moves the fake clock forward by <c>Argument</c> ms.</summary>
    AdvanceTime,

    /// <summary>Cancels the token of waiter number <c>Argument</c> (modulo the waiters started so far).</summary>
    CancelWaiter,

    /// <summary>Releases lease number <c>Argument</c> (modulo the leases granted so far), stale ones included.</summary>
    ReleaseLease,

    /// <summary>Releases a default lease.</summary>
    ReleaseDefault,

    /// <summary>Acquires at <c>Level</c> with a token that is already cancelled.</summary>
    AcquireCancelled,

    /// <summary>Disposes the lock.</summary>
    DisposeLock,
}

/// <summary>A step of a generated script.</summary>
public readonly record struct PriorityStep(PriorityStepKind Kind, int Level, int Argument, int Variant)
{
    public override string ToString() => Kind switch
    {
        PriorityStepKind.Acquire => $"Acquire({(LockPriority)Level}, form {Variant})",
        PriorityStepKind.AcquireTimed => $"AcquireTimed({(LockPriority)Level}, {Argument} ms)",
        PriorityStepKind.TryAcquireTimed => $"TryAcquireTimed({(LockPriority)Level}, {Argument} ms)",
        PriorityStepKind.TryNow => "TryNow",
        PriorityStepKind.AdvanceTime => $"Advance({Argument} ms)",
        PriorityStepKind.CancelWaiter => $"CancelWaiter(#{Argument})",
        PriorityStepKind.ReleaseLease => $"{(Variant == 0 ? "Release" : "Dispose")}Lease(#{Argument})",
        PriorityStepKind.ReleaseDefault => "ReleaseDefault",
        PriorityStepKind.AcquireCancelled => $"AcquireCancelled({(LockPriority)Level})",
        PriorityStepKind.DisposeLock => "DisposeLock",
        _ => Kind.ToString(),
    };
}

/// <summary>A generated script: whether the lock ages waiters, and the steps. Printed in full for a counter-example.</summary>
public sealed class PriorityScript
{
    public PriorityScript(bool aging, IEnumerable<PriorityStep> steps)
    {
        Aging = aging;
        Steps = steps.ToArray();
    }

    public bool Aging { get; }

    public IReadOnlyList<PriorityStep> Steps { get; }

    public override string ToString() =>
        $"[aging {(Aging ? "on" : "off")}, {Steps.Count} steps] " + string.Join("; ", Steps.Select((step, i) => $"{i}:{step}"));
}

/// <summary>Generators of scripts for the priority lock's model-based property.</summary>
public static class PriorityScriptArbitrary
{
    private static readonly Gen<int> s_level = Gen.Choose(0, 3);

    public static Gen<PriorityStep> Step { get; } = Gen.Frequency(
        (6, s_level.Zip(Gen.Choose(0, 2), (level, form) => new PriorityStep(PriorityStepKind.Acquire, level, 0, form))),
        (3, s_level.Zip(Gen.Choose(0, 6), (level, ms) => new PriorityStep(PriorityStepKind.AcquireTimed, level, ms, 0))),
        (3, s_level.Zip(Gen.Choose(0, 6), (level, ms) => new PriorityStep(PriorityStepKind.TryAcquireTimed, level, ms, 0))),
        (2, Gen.Constant(new PriorityStep(PriorityStepKind.TryNow, 0, 0, 0))),
        (4, Gen.Choose(1, 8).Select(ms => new PriorityStep(PriorityStepKind.AdvanceTime, 0, ms, 0))),
        (3, Gen.Choose(0, 63).Select(index => new PriorityStep(PriorityStepKind.CancelWaiter, 0, index, 0))),
        (8, Gen.Choose(0, 63).Zip(Gen.Choose(0, 1), (index, form) => new PriorityStep(PriorityStepKind.ReleaseLease, 0, index, form))),
        (1, Gen.Constant(new PriorityStep(PriorityStepKind.ReleaseDefault, 0, 0, 0))),
        (1, s_level.Select(level => new PriorityStep(PriorityStepKind.AcquireCancelled, level, 0, 0))));

    /// <summary>Scripts of up to about 100 steps, half of them with aging, with a rare dispose in the middle.</summary>
    public static Gen<PriorityScript> Script { get; } =
        Gen.Frequency(
                (60, Step),
                (1, Gen.Constant(new PriorityStep(PriorityStepKind.DisposeLock, 0, 0, 0))))
            .ListOf()
            .Zip(ArbMap.Default.GeneratorFor<bool>(), (steps, aging) => new PriorityScript(aging, steps));

    /// <summary>Shrinks by dropping halves, then single steps, then aging.</summary>
    public static IEnumerable<PriorityScript> Shrink(PriorityScript script)
    {
        IReadOnlyList<PriorityStep> steps = script.Steps;
        int count = steps.Count;
        if (count > 1)
        {
            yield return new PriorityScript(script.Aging, steps.Take(count / 2));
            yield return new PriorityScript(script.Aging, steps.Skip(count / 2));
        }

        for (int i = count - 1; i >= 0; i--)
        {
            yield return new PriorityScript(script.Aging, steps.Where((_, index) => index != i));
        }

        if (script.Aging)
        {
            yield return new PriorityScript(aging: false, steps);
        }
    }

    public static Arbitrary<PriorityScript> Scripts() => Arb.From(Script, Shrink);

    /// <summary>The same scripts without shrinking, for runs that only need to know that a failure exists.</summary>
    public static Arbitrary<PriorityScript> ScriptsWithoutShrinking() => Script.ToArbitrary();

    /// <summary>Scripts that always age, for faults that only aging reveals.</summary>
    public static Arbitrary<PriorityScript> AgingScriptsWithoutShrinking() =>
        Script.Select(script => new PriorityScript(aging: true, script.Steps)).ToArbitrary();
}

/// <summary>Thrown when the priority lock disagrees with the sequential model.</summary>
public sealed class PriorityModelMismatchException : Exception
{
    public PriorityModelMismatchException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Applies a script to a <see cref="PriorityLock"/> driven by a fake clock and to a sequential model of
/// it (one holder; waiters ranked by level after aging, then by the time they reached that level, then by
/// arrival), and compares the two after every step: who holds, how many wait, which waiter finished and
/// how, and which leases still hold. Everything runs on the calling thread: a hand-off, a cancellation
/// callback and a fake-clock timer all complete their waiter before the call that caused them returns.
/// </summary>
internal sealed class PriorityLockModelRunner : IDisposable
{
    private const int AgingMilliseconds = 5;

    private readonly FakeTimeProvider _clock = new();
    private readonly PriorityLock _gate;
    private readonly bool _aging;
    private readonly List<ModelWaiter> _waiters = [];
    private readonly List<ModelWaiter> _queue = [];
    private readonly List<ModelLease> _leases = [];
    private readonly List<string> _trace = [];
    private ModelLease? _holder;
    private bool _disposed;
    private long _now;
    private long _nextSequence;

    private PriorityLockModelRunner(bool aging, PriorityLockFaults faults)
    {
        _aging = aging;
        var options = new PriorityLockOptions
        {
            Name = "modelled",
            TimeProvider = _clock,
            AgingInterval = aging ? TimeSpan.FromMilliseconds(AgingMilliseconds) : Timeout.InfiniteTimeSpan,
        };
        _gate = new PriorityLock(options, faults);
    }

    private enum Outcome
    {
        Pending,
        Granted,
        TimedOut,
        Cancelled,
        Disposed,
    }

    /// <summary>Runs the script, then disposes the lock as a last checked step; returns true so FsCheck counts a pass.</summary>
    public static bool Run(PriorityScript script, PriorityLockFaults faults = PriorityLockFaults.None)
    {
        using var runner = new PriorityLockModelRunner(script.Aging, faults);
        IEnumerable<PriorityStep> steps = script.Steps.Append(new PriorityStep(PriorityStepKind.DisposeLock, 0, 0, 0));
        int index = 0;
        foreach (PriorityStep step in steps)
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
        _gate.Dispose();
        foreach (ModelWaiter waiter in _waiters)
        {
            if (!waiter.Observed && waiter.Task.IsCompleted)
            {
                PriorityLockKit.Consume(waiter.Task);
            }

            waiter.Source.Dispose();
        }
    }

    private void Apply(PriorityStep step)
    {
        switch (step.Kind)
        {
            case PriorityStepKind.Acquire:
                StartWaiter(step.Level, timeout: null, throwsOnTimeout: true, token => step.Variant switch
                {
                    0 => _gate.AcquireAsync((LockPriority)step.Level, token),
                    1 => _gate.AcquireAsync((LockPriority)step.Level, Timeout.InfiniteTimeSpan, token),
                    _ => _gate.TryAcquireAsync((LockPriority)step.Level, Timeout.Infinite, token),
                });
                break;

            case PriorityStepKind.AcquireTimed:
                StartWaiter(step.Level, step.Argument, throwsOnTimeout: true, token => _gate.AcquireAsync((LockPriority)step.Level, TimeSpan.FromMilliseconds(step.Argument), token));
                break;

            case PriorityStepKind.TryAcquireTimed:
                StartWaiter(step.Level, step.Argument, throwsOnTimeout: false, token => _gate.TryAcquireAsync((LockPriority)step.Level, step.Argument, token));
                break;

            case PriorityStepKind.TryNow:
                TryNow();
                break;

            case PriorityStepKind.AdvanceTime:
                AdvanceTime(step.Argument);
                break;

            case PriorityStepKind.CancelWaiter:
                CancelWaiter(step.Argument);
                break;

            case PriorityStepKind.ReleaseLease:
                ReleaseLease(step.Argument, useDispose: step.Variant != 0);
                break;

            case PriorityStepKind.ReleaseDefault:
                PriorityLock.Lease none = default;
                Expect(!none.Release(), "releasing a default lease returned true");
                none.Dispose();
                break;

            case PriorityStepKind.AcquireCancelled:
                AcquireWithCancelledToken(step.Level);
                break;

            case PriorityStepKind.DisposeLock:
                DisposeLock();
                break;
        }
    }

    private void StartWaiter(int level, int? timeout, bool throwsOnTimeout, Func<CancellationToken, ValueTask<PriorityLock.Lease>> start)
    {
        var source = new CancellationTokenSource();
        ValueTask<PriorityLock.Lease> task = PriorityLockKit.Start(() => start(source.Token));
        var waiter = new ModelWaiter(_waiters.Count, level, throwsOnTimeout, source, task);
        _waiters.Add(waiter);

        bool free = _holder is null && _queue.Count == 0;
        if (_disposed)
        {
            waiter.Expected = Outcome.Disposed;
        }
        else if (free)
        {
            Grant(waiter);
        }
        else if (timeout == 0)
        {
            waiter.Expected = Outcome.TimedOut;
        }
        else
        {
            waiter.Sequence = ++_nextSequence;
            waiter.EnqueuedAt = _now;
            waiter.Deadline = timeout is { } milliseconds ? _now + milliseconds : long.MaxValue;
            _queue.Add(waiter);
        }
    }

    private void AcquireWithCancelledToken(int level)
    {
        var source = new CancellationTokenSource();
        source.Cancel();
        ValueTask<PriorityLock.Lease> task = PriorityLockKit.Start(() => _gate.AcquireAsync((LockPriority)level, source.Token));
        var waiter = new ModelWaiter(_waiters.Count, level, throwsOnTimeout: true, source, task) { Expected = Outcome.Cancelled };
        _waiters.Add(waiter);
    }

    private void TryNow()
    {
        if (_disposed)
        {
            bool threw = false;
            try
            {
                _gate.TryAcquire(out _);
            }
            catch (ObjectDisposedException)
            {
                threw = true;
            }

            Expect(threw, "TryAcquire on a disposed lock did not throw ObjectDisposedException");
            return;
        }

        bool expected = _holder is null && _queue.Count == 0;
        bool taken = _gate.TryAcquire(out PriorityLock.Lease lease);
        Expect(taken == expected, $"TryAcquire returned {taken}; the model expected {expected}");
        if (taken)
        {
            _holder = AddLease(lease, $"try-now at step {_trace.Count - 1}");
        }
    }

    private void AdvanceTime(int milliseconds)
    {
        _now += milliseconds;
        _clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
        foreach (ModelWaiter waiter in _queue.Where(w => w.Deadline <= _now).ToList())
        {
            waiter.Expected = Outcome.TimedOut;
            _queue.Remove(waiter);
        }
    }

    private void CancelWaiter(int index)
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        ModelWaiter waiter = _waiters[index % _waiters.Count];
        waiter.Source.Cancel();
        if (_queue.Remove(waiter))
        {
            waiter.Expected = Outcome.Cancelled;
        }
    }

    private void ReleaseLease(int index, bool useDispose)
    {
        if (_leases.Count == 0)
        {
            return;
        }

        ModelLease lease = _leases[index % _leases.Count];
        bool expected = lease.Held;
        if (useDispose)
        {
            lease.Lease.Dispose();
        }
        else
        {
            bool released = lease.Lease.Release();
            Expect(released == expected, $"Release() of lease {lease.Name} returned {released}; the model expected {expected}");
        }

        if (!expected)
        {
            return;
        }

        lease.Held = false;
        _holder = null;
        if (!_disposed && PickNext() is { } next)
        {
            _queue.Remove(next);
            Grant(next);
        }
    }

    private void DisposeLock()
    {
        if (_disposed)
        {
            _gate.Dispose();
            return;
        }

        _gate.Dispose();
        _disposed = true;
        foreach (ModelWaiter waiter in _queue)
        {
            waiter.Expected = Outcome.Disposed;
        }

        _queue.Clear();
    }

    // The model's ranking: highest level after aging, then earliest time at that level, then arrival.
    private ModelWaiter? PickNext()
    {
        ModelWaiter? best = null;
        (int Level, long Since, long Sequence) bestKey = default;
        foreach (ModelWaiter waiter in _queue)
        {
            (int Level, long Since, long Sequence) key = RankOf(waiter);
            bool better = best is null
                || key.Level > bestKey.Level
                || (key.Level == bestKey.Level && (key.Since < bestKey.Since || (key.Since == bestKey.Since && key.Sequence < bestKey.Sequence)));
            if (better)
            {
                best = waiter;
                bestKey = key;
            }
        }

        return best;
    }

    private (int Level, long Since, long Sequence) RankOf(ModelWaiter waiter)
    {
        if (!_aging)
        {
            return (waiter.Level, 0, waiter.Sequence);
        }

        long steps = Math.Min((_now - waiter.EnqueuedAt) / AgingMilliseconds, 3 - waiter.Level);
        return (waiter.Level + (int)steps, waiter.EnqueuedAt + (steps * AgingMilliseconds), waiter.Sequence);
    }

    // The model grants a waiter: its task must be complete now with a held lease, which becomes the holder.
    private void Grant(ModelWaiter waiter)
    {
        waiter.Expected = Outcome.Granted;
        Expect(waiter.Task.IsCompleted, $"waiter {waiter.Id} ({(LockPriority)waiter.Level}) should have been granted the lock but is still pending");
        (PriorityLock.Lease lease, Exception? error) = PriorityLockKit.Consume(waiter.Task);
        waiter.Observed = true;
        Expect(error is null, $"waiter {waiter.Id} should have been granted the lock but failed with {error?.GetType().Name}: {error?.Message}");
        Expect(lease.IsHeld, $"waiter {waiter.Id} was granted a lease that is not held");
        _holder = AddLease(lease, $"waiter {waiter.Id}");
    }

    private ModelLease AddLease(PriorityLock.Lease lease, string name)
    {
        var model = new ModelLease(lease, name) { Held = true };
        _leases.Add(model);
        return model;
    }

    private void Check()
    {
        Expect(_gate.IsHeld == (_holder is not null), $"IsHeld is {_gate.IsHeld}; the model expected {_holder is not null}");
        Expect(_gate.WaitingCount == _queue.Count, $"WaitingCount is {_gate.WaitingCount}; the model expected {_queue.Count}");
        Expect(_gate.IsDisposed == _disposed, $"IsDisposed is {_gate.IsDisposed}; the model expected {_disposed}");

        foreach (ModelWaiter waiter in _waiters.Where(w => !w.Observed))
        {
            if (waiter.Expected == Outcome.Pending)
            {
                Expect(!waiter.Task.IsCompleted, $"waiter {waiter.Id} ({(LockPriority)waiter.Level}) completed although the model expects it to wait");
                continue;
            }

            Expect(waiter.Task.IsCompleted, $"waiter {waiter.Id} is still pending; the model expected {waiter.Expected}");
            (PriorityLock.Lease lease, Exception? error) = PriorityLockKit.Consume(waiter.Task);
            waiter.Observed = true;
            bool matches = waiter.Expected switch
            {
                Outcome.TimedOut => waiter.ThrowsOnTimeout ? error is LockTimeoutException : error is null && !lease.IsHeld,
                Outcome.Cancelled => error is OperationCanceledException,
                Outcome.Disposed => error is ObjectDisposedException,
                _ => false,
            };
            Expect(matches, $"waiter {waiter.Id} ended with {(error is null ? $"a lease (held: {lease.IsHeld})" : error.GetType().Name)}; the model expected {waiter.Expected}");
        }

        foreach (ModelLease lease in _leases)
        {
            Expect(lease.Lease.IsHeld == lease.Held, $"lease {lease.Name} reports IsHeld {lease.Lease.IsHeld}; the model expected {lease.Held}");
        }
    }

    private void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new PriorityModelMismatchException($"After steps {string.Join("; ", _trace)}: {what}.");
        }
    }

    private sealed class ModelWaiter(int id, int level, bool throwsOnTimeout, CancellationTokenSource source, ValueTask<PriorityLock.Lease> task)
    {
        public int Id { get; } = id;

        public int Level { get; } = level;

        public bool ThrowsOnTimeout { get; } = throwsOnTimeout;

        public CancellationTokenSource Source { get; } = source;

        public ValueTask<PriorityLock.Lease> Task { get; } = task;

        public long Sequence { get; set; }

        public long EnqueuedAt { get; set; }

        public long Deadline { get; set; } = long.MaxValue;

        public Outcome Expected { get; set; }

        public bool Observed { get; set; }
    }

    private sealed class ModelLease(PriorityLock.Lease lease, string name)
    {
        public PriorityLock.Lease Lease { get; } = lease;

        public string Name { get; } = name;

        public bool Held { get; set; }
    }
}
