using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;

namespace Sanctuary.Tests.Model;

/// <summary>Thrown when the lock disagrees with the sequential model.</summary>
public sealed class ModelMismatchException : Exception
{
    public ModelMismatchException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Applies a sequence of operations to a FIFO <see cref="AsyncLock"/> driven by a fake clock and to a
/// plain sequential model of it (one holder, a FIFO queue of waiters), and compares the two after every
/// step: who holds the lock, how many wait, which waiter finished and how, and which leases still hold.
/// All work happens on the calling thread. A waiter that the model expects to finish is polled with a
/// bound, so a broken lock fails the step instead of hanging it.
/// </summary>
internal sealed class LockModelRunner : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly AsyncLock _gate;
    private readonly TimeSpan _settle;
    private readonly List<Waiter> _waiters = [];
    private readonly List<GrantedLease> _leases = [];
    private readonly List<Waiter> _queue = [];
    private readonly List<string> _trace = [];
    private int? _holder;
    private bool _disposed;
    private long _now;
    private int _nextLeaseId;

    private LockModelRunner(LockFaults faults, TimeSpan settle)
    {
        _gate = new AsyncLock(new AsyncLockOptions { Name = "modelled", TimeProvider = _clock }, faults);
        _settle = settle;
    }

    private enum Outcome
    {
        Pending,
        Granted,
        TimedOut,
        Cancelled,
        Disposed,
    }

    /// <summary>Runs the sequence, then disposes the lock as a last checked step.</summary>
    public static void Run(OperationSequence sequence, LockFaults faults = LockFaults.None, TimeSpan? settle = null)
    {
        using var runner = new LockModelRunner(faults, settle ?? Eventually.DefaultTimeout);
        IEnumerable<LockOperation> steps = sequence.Operations.Append(new LockOperation(OperationKind.DisposeLock, 0, 0));
        int index = 0;
        foreach (LockOperation step in steps)
        {
            runner._trace.Add($"{index}:{step}");
            runner.Apply(step);
            runner.Check(index, step);
            index++;
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        foreach (Waiter waiter in _waiters.Where(w => !w.Observed))
        {
            if (Eventually.Holds(() => waiter.Task.IsCompleted, TimeSpan.FromMilliseconds(50)))
            {
                Waiters.Consume(waiter.Task);
            }
        }

        foreach (Waiter waiter in _waiters)
        {
            waiter.Cancellation.Dispose();
        }
    }

    private void Apply(LockOperation step)
    {
        switch (step.Kind)
        {
            case OperationKind.Acquire:
                StartWaiter(step, throwsOnTimeout: true, timeoutMs: null, token => step.Variant switch
                {
                    0 => _gate.AcquireAsync(token),
                    1 => _gate.AcquireAsync(Timeout.InfiniteTimeSpan, token),
                    2 => _gate.AcquireAsync(Timeout.Infinite, token),
                    3 => _gate.TryAcquireAsync(Timeout.InfiniteTimeSpan, token),
                    _ => _gate.TryAcquireAsync(Timeout.Infinite, token),
                });
                break;

            case OperationKind.AcquireTimed:
                StartWaiter(step, throwsOnTimeout: true, timeoutMs: step.Argument, token => step.Variant == 0
                    ? _gate.AcquireAsync(TimeSpan.FromMilliseconds(step.Argument), token)
                    : _gate.AcquireAsync(step.Argument, token));
                break;

            case OperationKind.TryAcquireTimed:
                StartWaiter(step, throwsOnTimeout: false, timeoutMs: step.Argument, token => step.Variant == 0
                    ? _gate.TryAcquireAsync(TimeSpan.FromMilliseconds(step.Argument), token)
                    : _gate.TryAcquireAsync(step.Argument, token));
                break;

            case OperationKind.TryNow:
                TryNow();
                break;

            case OperationKind.AdvanceTime:
                AdvanceTime(step.Argument);
                break;

            case OperationKind.CancelWaiter:
                CancelWaiter(step.Argument);
                break;

            case OperationKind.ReleaseLease:
                ReleaseLease(step.Argument, useDispose: step.Variant != 0);
                break;

            case OperationKind.ReleaseDefault:
                AsyncLock.Lease none = default;
                Expect(!none.Release(), "Releasing a default lease returned true.");
                none.Dispose();
                break;

            case OperationKind.AcquireCancelled:
                AcquireWithCancelledToken(step.Variant);
                break;

            case OperationKind.DisposeLock:
                _gate.Dispose();
                if (!_disposed)
                {
                    foreach (Waiter waiter in _queue)
                    {
                        waiter.Expected = Outcome.Disposed;
                    }

                    _queue.Clear();
                    _disposed = true;
                }

                break;
        }
    }

    private void StartWaiter(LockOperation step, bool throwsOnTimeout, int? timeoutMs, Func<CancellationToken, ValueTask<AsyncLock.Lease>> start)
    {
        var cancellation = new CancellationTokenSource();
        ValueTask<AsyncLock.Lease> task = Waiters.Start(() => start(cancellation.Token));
        if (_disposed)
        {
            Exception? error = Settle(task, "an acquire on the disposed lock");
            Expect(error is ObjectDisposedException, $"An acquire after Dispose ended with {Describe(error)} instead of ObjectDisposedException.");
            cancellation.Dispose();
            return;
        }

        var waiter = new Waiter(_waiters.Count, step, throwsOnTimeout, timeoutMs, cancellation, task);
        _waiters.Add(waiter);
        if (_holder is null)
        {
            Expect(_queue.Count == 0, "Model error: the lock is free while waiters queue.");
            Grant(waiter);
        }
        else if (timeoutMs == 0)
        {
            waiter.Expected = Outcome.TimedOut;
        }
        else
        {
            waiter.Deadline = timeoutMs is int ms ? _now + ms : null;
            _queue.Add(waiter);
        }
    }

    private void Grant(Waiter waiter)
    {
        waiter.Expected = Outcome.Granted;
        waiter.LeaseId = _nextLeaseId++;
        _holder = waiter.LeaseId;
    }

    private void TryNow()
    {
        if (_disposed)
        {
            Exception? error = null;
            try
            {
                _gate.TryAcquire(out AsyncLock.Lease ignored);
                ignored.Dispose();
            }
            catch (Exception thrown)
            {
                error = thrown;
            }

            Expect(error is ObjectDisposedException, $"TryAcquire after Dispose ended with {Describe(error)} instead of ObjectDisposedException.");
            return;
        }

        bool taken = _gate.TryAcquire(out AsyncLock.Lease lease);
        bool expected = _holder is null;
        Expect(taken == expected, $"TryAcquire returned {taken}; the model expected {expected}.");
        if (taken)
        {
            _holder = _nextLeaseId++;
            _leases.Add(new GrantedLease(_holder.Value, lease, "try-now"));
        }
        else
        {
            Expect(!lease.IsHeld && lease.Lock is null, "A failed TryAcquire returned a lease that is not the default one.");
            _leases.Add(new GrantedLease(-1, lease, "failed try-now"));
        }
    }

    private void AdvanceTime(int ms)
    {
        _now += ms;
        _clock.Advance(TimeSpan.FromMilliseconds(ms));
        foreach (Waiter waiter in _queue.Where(w => w.Deadline <= _now).ToList())
        {
            _queue.Remove(waiter);
            waiter.Expected = Outcome.TimedOut;
        }
    }

    private void CancelWaiter(int index)
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        Waiter waiter = _waiters[index % _waiters.Count];
        waiter.Cancellation.Cancel();
        if (_queue.Remove(waiter))
        {
            waiter.Expected = Outcome.Cancelled;
        }
    }

    private void ReleaseLease(int index, bool useDispose)
    {
        if (_leases.Count == 0)
        {
            AsyncLock.Lease none = default;
            Expect(!none.Release(), "Releasing a default lease returned true.");
            return;
        }

        GrantedLease target = _leases[index % _leases.Count];
        bool holds = _holder == target.Id;
        if (useDispose)
        {
            target.Lease.Dispose();
        }
        else
        {
            bool released = target.Lease.Release();

            // After Dispose the holder's release only clears IsHeld; its return value is not part of the contract.
            if (!(holds && _disposed))
            {
                Expect(released == holds, $"Release of lease #{target.Id} ({target.Origin}) returned {released}; the model expected {holds}.");
            }
        }

        if (!holds)
        {
            return;
        }

        _holder = null;
        if (!_disposed && _queue.Count > 0)
        {
            Waiter next = _queue[0];
            _queue.RemoveAt(0);
            Grant(next);
        }
    }

    private void AcquireWithCancelledToken(int form)
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        ValueTask<AsyncLock.Lease> task = Waiters.Start(() => form switch
        {
            0 => _gate.AcquireAsync(cancellation.Token),
            1 => _gate.TryAcquireAsync(5, cancellation.Token),
            _ => _gate.AcquireAsync(TimeSpan.FromMilliseconds(5), cancellation.Token),
        });
        Exception? error = Settle(task, "an acquire with a cancelled token");
        bool acceptable = error is OperationCanceledException || (_disposed && error is ObjectDisposedException);
        Expect(acceptable, $"An acquire with an already-cancelled token ended with {Describe(error)} instead of OperationCanceledException.");
    }

    private Exception? Settle(ValueTask<AsyncLock.Lease> task, string what)
    {
        Expect(Eventually.Holds(() => task.IsCompleted, _settle), $"{what} never completed.");
        (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(task);
        if (error is null && lease.IsHeld)
        {
            Fail($"{what} was granted the lock.");
        }

        return error;
    }

    private void Check(int index, LockOperation step)
    {
        try
        {
            CheckWaiters();
            CheckLock();
            CheckLeases();
        }
        catch (ModelMismatchException mismatch)
        {
            throw new ModelMismatchException(
                $"After step {index} ({step}): {mismatch.Message}{Environment.NewLine}Model: {DescribeModel()}{Environment.NewLine}Lock: {DescribeLock()}{Environment.NewLine}Steps: {string.Join("; ", _trace)}");
        }
    }

    private void CheckWaiters()
    {
        foreach (Waiter waiter in _waiters.Where(w => !w.Observed && w.Expected != Outcome.Pending))
        {
            Expect(Eventually.Holds(() => waiter.Task.IsCompleted, _settle), $"Waiter #{waiter.Id} ({waiter.Step}) should have {waiter.Expected} but is still pending.");
            (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(waiter.Task);
            waiter.Observed = true;
            switch (waiter.Expected)
            {
                case Outcome.Granted:
                    Expect(error is null, $"Waiter #{waiter.Id} should have been granted but ended with {Describe(error)}.");
                    Expect(ReferenceEquals(lease.Lock, _gate), $"Waiter #{waiter.Id} was granted a lease of another lock.");
                    _leases.Add(new GrantedLease(waiter.LeaseId, lease, $"waiter #{waiter.Id}"));
                    break;

                case Outcome.TimedOut when waiter.ThrowsOnTimeout:
                    Expect(
                        error is LockTimeoutException timeout && timeout.LockName == _gate.Name && timeout.Timeout == TimeSpan.FromMilliseconds(waiter.TimeoutMs ?? -1),
                        $"Waiter #{waiter.Id} should have timed out with LockTimeoutException but ended with {Describe(error)}.");
                    break;

                case Outcome.TimedOut:
                    Expect(error is null && !lease.IsHeld, $"Waiter #{waiter.Id} should have returned a lease that is not held but ended with {Describe(error, lease)}.");
                    _leases.Add(new GrantedLease(-1, lease, $"timed-out waiter #{waiter.Id}"));
                    break;

                case Outcome.Cancelled:
                    Expect(
                        error is OperationCanceledException cancelled && cancelled.CancellationToken == waiter.Cancellation.Token,
                        $"Waiter #{waiter.Id} should have been cancelled but ended with {Describe(error, lease)}.");
                    break;

                case Outcome.Disposed:
                    Expect(error is ObjectDisposedException, $"Waiter #{waiter.Id} should have failed with ObjectDisposedException but ended with {Describe(error, lease)}.");
                    break;
            }
        }

        foreach (Waiter waiter in _waiters.Where(w => !w.Observed && w.Expected == Outcome.Pending))
        {
            if (waiter.Task.IsCompleted)
            {
                (AsyncLock.Lease lease, Exception? error) = Waiters.Consume(waiter.Task);
                waiter.Observed = true;
                Fail($"Waiter #{waiter.Id} ({waiter.Step}) completed with {Describe(error, lease)} although the model still has it queued at position {_queue.IndexOf(waiter)}.");
            }
        }
    }

    private void CheckLock()
    {
        bool held = _holder is not null;
        Expect(Eventually.Holds(() => _gate.IsHeld == held, _settle), $"IsHeld is {_gate.IsHeld}; the model expected {held}.");
        Expect(Eventually.Holds(() => _gate.WaitingCount == _queue.Count, _settle), $"WaitingCount is {_gate.WaitingCount}; the model expected {_queue.Count}.");
        Expect(_gate.IsDisposed == _disposed, $"IsDisposed is {_gate.IsDisposed}; the model expected {_disposed}.");
    }

    private void CheckLeases()
    {
        int heldCount = 0;
        foreach (GrantedLease granted in _leases)
        {
            bool expected = granted.Id >= 0 && granted.Id == _holder;
            bool actual = granted.Lease.IsHeld;
            Expect(actual == expected, $"Lease #{granted.Id} ({granted.Origin}) reports IsHeld={actual}; the model expected {expected}.");
            if (actual)
            {
                heldCount++;
            }
        }

        Expect(heldCount <= 1, $"{heldCount} leases report that they hold the lock at once.");
    }

    private string DescribeModel()
    {
        string holder = _holder is int id ? $"lease #{id}" : "nobody";
        string queue = string.Join(", ", _queue.Select(w => $"#{w.Id}" + (w.Deadline is long d ? $"(until {d} ms)" : string.Empty)));
        return $"holder={holder}, queue=[{queue}], disposed={_disposed}, clock={_now} ms";
    }

    private string DescribeLock() =>
        $"IsHeld={_gate.IsHeld}, WaitingCount={_gate.WaitingCount}, IsDisposed={_gate.IsDisposed}, held leases=[{string.Join(", ", _leases.Where(l => l.Lease.IsHeld).Select(l => "#" + l.Id))}]";

    private static string Describe(Exception? error, AsyncLock.Lease lease = default)
    {
        if (error is null)
        {
            return lease.IsHeld ? "a held lease" : "a lease that is not held";
        }

        var text = new StringBuilder(error.GetType().Name);
        text.Append(" (").Append(error.Message).Append(')');
        return text.ToString();
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            Fail(message);
        }
    }

    private static void Fail(string message) => throw new ModelMismatchException(message);

    private sealed class Waiter
    {
        public Waiter(int id, LockOperation step, bool throwsOnTimeout, int? timeoutMs, CancellationTokenSource cancellation, ValueTask<AsyncLock.Lease> task)
        {
            Id = id;
            Step = step;
            ThrowsOnTimeout = throwsOnTimeout;
            TimeoutMs = timeoutMs;
            Cancellation = cancellation;
            Task = task;
        }

        public int Id { get; }

        public LockOperation Step { get; }

        public bool ThrowsOnTimeout { get; }

        public int? TimeoutMs { get; }

        public CancellationTokenSource Cancellation { get; }

        public ValueTask<AsyncLock.Lease> Task { get; }

        public Outcome Expected { get; set; }

        public int LeaseId { get; set; } = -1;

        public long? Deadline { get; set; }

        public bool Observed { get; set; }
    }

    private sealed record GrantedLease(int Id, AsyncLock.Lease Lease, string Origin);
}
