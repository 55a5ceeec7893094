using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Sanctuary.Tests.Infrastructure;
using Sanctuary.Tests.Model;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>
/// Applies a sequence of steps to an <see cref="AsyncReaderWriterLock"/> driven by a fake clock and
/// to a sequential model of it, and compares the two after every step: the read count, the writer
/// and upgradeable holds, the number of waiters, which waiters finished and how, and which leases
/// still hold.
/// </summary>
/// <remarks>
/// <para>
/// The model: plain readers share the lock with each other and with at most one upgradeable
/// reader; a writer holds alone. Every write grant, plain or by upgrade, starts a new write
/// generation, and a read lease holds while readers of its generation hold. Waiters queue FIFO; an
/// upgrade goes to the front. Whenever the state changes, the queue is walked from the front and
/// every waiter that fits is granted; a writer that does not fit stops the walk under writer
/// preference, and an upgrade that does not fit always stops it. New readers and upgradeable
/// readers wait while a writer or an upgrade waits (writer preference only); a new writer waits
/// while anybody waits.
/// </para>
/// <para>
/// A read lease that was released once is not released again while its generation still holds:
/// the class remarks say that such a second release frees another reader's share. Once a writer
/// has entered, a second release must do nothing, and the runner checks that.
/// </para>
/// <para>
/// All work happens on the calling thread, and the lock completes waiters synchronously (only
/// their continuations run elsewhere), so a waiter that the model expects to finish is checked
/// with a short bound and a broken lock fails the step instead of hanging it.
/// </para>
/// </remarks>
internal sealed class ReaderWriterModelRunner : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly AsyncReaderWriterLock _gate;
    private readonly bool _writerPreferred;
    private readonly TimeSpan _settle;
    private readonly List<Waiter> _waiters = [];
    private readonly List<Held> _leases = [];
    private readonly List<Waiter> _queue = [];
    private readonly List<string> _trace = [];

    // The model's state.
    private int _readCount;
    private long _generation;
    private Held? _writer;
    private Held? _upgradeable;
    private bool _disposed;
    private long _now;
    private int _nextId;

    private ReaderWriterModelRunner(ReaderWriterPreference preference, ReaderWriterLockFaults faults, TimeSpan settle)
    {
        _gate = new AsyncReaderWriterLock(
            new AsyncReaderWriterLockOptions { Name = "modelled-rw", Preference = preference, TimeProvider = _clock },
            faults);
        _writerPreferred = preference == ReaderWriterPreference.Writer;
        _settle = settle;
    }

    private enum Mode
    {
        Read,
        Write,
        Upgradeable,
    }

    private enum Outcome
    {
        Pending,
        Granted,
        TimedOut,
        Cancelled,
        Disposed,
        Invalid,
    }

    /// <summary>Runs the sequence, then disposes the lock as a last checked step.</summary>
    public static void Run(ReaderWriterSequence sequence, ReaderWriterLockFaults faults = ReaderWriterLockFaults.None, TimeSpan? settle = null)
    {
        using var runner = new ReaderWriterModelRunner(sequence.Preference, faults, settle ?? TimeSpan.FromSeconds(2));
        IEnumerable<ReaderWriterOperation> steps = sequence.Operations.Append(new ReaderWriterOperation(ReaderWriterStep.DisposeLock, 0, 0, 0));
        int index = 0;
        foreach (ReaderWriterOperation step in steps)
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
            if (Eventually.Holds(waiter.IsCompleted, TimeSpan.FromMilliseconds(50)))
            {
                waiter.Consume();
            }
        }

        foreach (Waiter waiter in _waiters)
        {
            waiter.Cancellation.Dispose();
        }
    }

    private bool WritersWaiting => _queue.Any(w => w.Mode == Mode.Write);

    private void Apply(ReaderWriterOperation step)
    {
        switch (step.Kind)
        {
            case ReaderWriterStep.AcquireRead:
                Acquire(step, Mode.Read);
                break;
            case ReaderWriterStep.AcquireWrite:
                Acquire(step, Mode.Write);
                break;
            case ReaderWriterStep.AcquireUpgradeable:
                Acquire(step, Mode.Upgradeable);
                break;
            case ReaderWriterStep.Upgrade:
                Upgrade(step);
                break;
            case ReaderWriterStep.Downgrade:
                Downgrade(step);
                break;
            case ReaderWriterStep.AdvanceTime:
                AdvanceTime(step.Milliseconds);
                break;
            case ReaderWriterStep.CancelWaiter:
                CancelWaiter(step.Index);
                break;
            case ReaderWriterStep.ReleaseLease:
                Release(step.Index, useDispose: step.Form != 0);
                break;
            case ReaderWriterStep.ReleaseDefault:
                ReleaseDefaults();
                break;
            case ReaderWriterStep.DisposeLock:
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

    // Whether a new request of the mode enters at once.
    private bool CanEnter(Mode mode) => mode switch
    {
        Mode.Read => _writer is null && (!_writerPreferred || !WritersWaiting),
        Mode.Write => _readCount == 0 && _writer is null && _upgradeable is null && _queue.Count == 0,
        _ => _writer is null && _upgradeable is null && (!_writerPreferred || !WritersWaiting),
    };

    private void Acquire(ReaderWriterOperation step, Mode mode)
    {
        var form = (AcquireForm)step.Form;
        if (form == AcquireForm.TryNow)
        {
            TryNow(mode);
            return;
        }

        int ms = step.Milliseconds;
        bool timed = ReaderWriterOperation.IsTimed(form);
        var cancellation = new CancellationTokenSource();
        if (form == AcquireForm.Cancelled)
        {
            cancellation.Cancel();
        }

        bool throwsOnTimeout = form is not (AcquireForm.TryTimedTimeSpan or AcquireForm.TryTimedMilliseconds);
        var waiter = new Waiter(_waiters.Count, step, mode, upgradeOf: null, throwsOnTimeout, timed ? ms : null, cancellation);
        _waiters.Add(waiter);
        CancellationToken token = cancellation.Token;
        TimeSpan span = TimeSpan.FromMilliseconds(ms);
        switch (mode)
        {
            case Mode.Read:
                waiter.ReadTask = ReaderWriterOutcomes.Start(() => form switch
                {
                    AcquireForm.WaitInfinite => _gate.AcquireReadAsync(Timeout.InfiniteTimeSpan, token),
                    AcquireForm.TimedTimeSpan => _gate.AcquireReadAsync(span, token),
                    AcquireForm.TimedMilliseconds => _gate.AcquireReadAsync(ms, token),
                    AcquireForm.TryTimedTimeSpan => _gate.TryAcquireReadAsync(span, token),
                    AcquireForm.TryTimedMilliseconds => _gate.TryAcquireReadAsync(ms, token),
                    _ => _gate.AcquireReadAsync(token),
                });
                break;
            case Mode.Write:
                waiter.WriteTask = ReaderWriterOutcomes.Start(() => form switch
                {
                    AcquireForm.WaitInfinite => _gate.AcquireWriteAsync(Timeout.Infinite, token),
                    AcquireForm.TimedTimeSpan => _gate.AcquireWriteAsync(span, token),
                    AcquireForm.TimedMilliseconds => _gate.AcquireWriteAsync(ms, token),
                    AcquireForm.TryTimedTimeSpan => _gate.TryAcquireWriteAsync(span, token),
                    AcquireForm.TryTimedMilliseconds => _gate.TryAcquireWriteAsync(ms, token),
                    _ => _gate.AcquireWriteAsync(token),
                });
                break;
            default:
                waiter.UpgradeableTask = ReaderWriterOutcomes.Start(() => form switch
                {
                    AcquireForm.WaitInfinite => _gate.AcquireUpgradeableReadAsync(Timeout.InfiniteTimeSpan, token),
                    AcquireForm.TimedTimeSpan => _gate.AcquireUpgradeableReadAsync(span, token),
                    AcquireForm.TimedMilliseconds => _gate.AcquireUpgradeableReadAsync(ms, token),
                    AcquireForm.TryTimedTimeSpan => _gate.TryAcquireUpgradeableReadAsync(span, token),
                    AcquireForm.TryTimedMilliseconds => _gate.TryAcquireUpgradeableReadAsync(ms, token),
                    _ => _gate.AcquireUpgradeableReadAsync(token),
                });
                break;
        }

        if (form == AcquireForm.Cancelled)
        {
            waiter.Expected = Outcome.Cancelled;
        }
        else if (_disposed)
        {
            waiter.Expected = Outcome.Disposed;
        }
        else if (CanEnter(mode))
        {
            Grant(waiter);
        }
        else if (timed && ms == 0)
        {
            waiter.Expected = Outcome.TimedOut;
        }
        else
        {
            waiter.Deadline = timed ? _now + ms : null;
            _queue.Add(waiter);
            Dispatch();
        }
    }

    private void TryNow(Mode mode)
    {
        if (_disposed)
        {
            Exception? error = ReaderWriterOutcomes.Catch(() =>
            {
                _ = mode switch
                {
                    Mode.Read => _gate.TryAcquireRead(out _),
                    Mode.Write => _gate.TryAcquireWrite(out _),
                    _ => _gate.TryAcquireUpgradeableRead(out _),
                };
            });
            Expect(error is ObjectDisposedException, $"A try-now {mode} after Dispose ended with {Describe(error)} instead of ObjectDisposedException.");
            return;
        }

        bool expected = CanEnter(mode);
        var held = new Held(NextId(), mode, $"try-now {mode}");
        bool taken = mode switch
        {
            Mode.Read => _gate.TryAcquireRead(out held.Read),
            Mode.Write => _gate.TryAcquireWrite(out held.Write),
            _ => _gate.TryAcquireUpgradeableRead(out held.Upgradeable),
        };
        Expect(taken == expected, $"A try-now {mode} returned {taken}; the model expected {expected}.");
        if (taken)
        {
            ApplyGrant(held, upgradeOf: null);
        }
        else
        {
            Expect(held.Lock is null, $"A failed try-now {mode} returned a lease of a lock instead of the default lease.");
        }

        _leases.Add(held);
    }

    private void Upgrade(ReaderWriterOperation step)
    {
        List<Held> upgradeables = _leases.Where(l => l.Mode == Mode.Upgradeable).ToList();
        Held? target = upgradeables.Count == 0 ? null : upgradeables[step.Index % upgradeables.Count];
        var form = (UpgradeForm)step.Form;
        int ms = step.Milliseconds;
        bool timed = form is UpgradeForm.Timed or UpgradeForm.TryTimed;
        var cancellation = new CancellationTokenSource();
        if (form == UpgradeForm.Cancelled)
        {
            cancellation.Cancel();
        }

        var waiter = new Waiter(_waiters.Count, step, Mode.Write, target, throwsOnTimeout: form != UpgradeForm.TryTimed, timed ? ms : null, cancellation);
        _waiters.Add(waiter);
        UpgradeableReadLease lease = target?.Upgradeable ?? default;
        CancellationToken token = cancellation.Token;
        TimeSpan span = TimeSpan.FromMilliseconds(ms);
        waiter.WriteTask = ReaderWriterOutcomes.Start(() => form switch
        {
            UpgradeForm.Timed => lease.UpgradeAsync(span, token),
            UpgradeForm.TryTimed => lease.TryUpgradeAsync(span, token),
            _ => lease.UpgradeAsync(token),
        });

        bool upgradeHeldOrPending = _writer?.UpgradeOf is not null || _queue.Any(w => w.UpgradeOf is not null);
        if (target is null || _upgradeable != target)
        {
            waiter.Expected = Outcome.Invalid;
        }
        else if (form == UpgradeForm.Cancelled)
        {
            waiter.Expected = Outcome.Cancelled;
        }
        else if (_disposed)
        {
            waiter.Expected = Outcome.Disposed;
        }
        else if (upgradeHeldOrPending)
        {
            // Documented for UpgradeAsync and TryUpgradeAsync: whatever the timeout.
            waiter.Expected = Outcome.Invalid;
        }
        else if (_readCount == 0)
        {
            Grant(waiter);
        }
        else if (timed && ms == 0)
        {
            waiter.Expected = Outcome.TimedOut;
        }
        else
        {
            waiter.Deadline = timed ? _now + ms : null;
            _queue.Insert(0, waiter);
            Dispatch();
        }
    }

    private void Downgrade(ReaderWriterOperation step)
    {
        List<Held> writes = _leases.Where(l => l.Mode == Mode.Write).ToList();
        Held? target = writes.Count == 0 ? null : writes[step.Index % writes.Count];
        WriteLease lease = target?.Write ?? default;
        bool toRead = step.Form == 0;
        bool allowed = target is not null && _writer == target && target.UpgradeOf is null;
        var result = new Held(NextId(), toRead ? Mode.Read : Mode.Upgradeable, $"downgrade of #{target?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}");
        Exception? error = ReaderWriterOutcomes.Catch(() =>
        {
            if (toRead)
            {
                result.Read = lease.DowngradeToRead();
            }
            else
            {
                result.Upgradeable = lease.DowngradeToUpgradeableRead();
            }
        });

        if (!allowed)
        {
            Expect(error is InvalidOperationException, $"Downgrading {Describe(target)} ended with {Describe(error)}; the model expected InvalidOperationException.");
            return;
        }

        Expect(error is null, $"Downgrading {Describe(target)} ended with {Describe(error)}; the model expected a {result.Mode} lease.");
        _writer = null;
        ApplyGrant(result, upgradeOf: null);
        _leases.Add(result);
        Dispatch();
    }

    private void AdvanceTime(int ms)
    {
        // One millisecond at a time, so the order of expiries and grants does not depend on how
        // the fake clock batches timers that fall due within one advance.
        for (int i = 0; i < ms; i++)
        {
            _now++;
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            List<Waiter> expired = _queue.Where(w => w.Deadline <= _now).ToList();
            foreach (Waiter waiter in expired)
            {
                _queue.Remove(waiter);
                waiter.Expected = Outcome.TimedOut;
            }

            if (expired.Count > 0)
            {
                Dispatch();
            }
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
            Dispatch();
        }
    }

    private void Release(int index, bool useDispose)
    {
        if (_leases.Count == 0)
        {
            ReleaseDefaults();
            return;
        }

        Held target = _leases[index % _leases.Count];
        bool expected;
        switch (target.Mode)
        {
            case Mode.Read:
                if (target.Granted && target.Released && target.Generation == _generation)
                {
                    // A second release inside the same generation frees another reader's share (see the remarks).
                    _trace[^1] += " (skipped: same generation)";
                    return;
                }

                expected = target.Granted && !target.Released;
                if (expected)
                {
                    Expect(target.Generation == _generation && _readCount > 0, "Model error: an unreleased read lease of an older generation.");
                }

                break;
            case Mode.Write:
                expected = _writer == target;
                break;
            default:
                expected = _upgradeable == target;
                break;
        }

        if (useDispose)
        {
            target.DisposeLease();
        }
        else
        {
            bool released = target.ReleaseLease();
            Expect(released == expected, $"Release of {Describe(target)} returned {released}; the model expected {expected}.");
        }

        if (!expected)
        {
            return;
        }

        switch (target.Mode)
        {
            case Mode.Read:
                _readCount--;
                target.Released = true;
                break;
            case Mode.Write:
                _writer = null;
                break;
            default:
                _upgradeable = null;
                if (_writer?.UpgradeOf == target)
                {
                    _writer = null;
                }

                foreach (Waiter pending in _queue.Where(w => w.UpgradeOf == target).ToList())
                {
                    _queue.Remove(pending);
                    pending.Expected = Outcome.Invalid;
                }

                break;
        }

        Dispatch();
    }

    private void ReleaseDefaults()
    {
        ReadLease read = default;
        WriteLease write = default;
        UpgradeableReadLease upgradeable = default;
        Expect(!read.Release() && !write.Release() && !upgradeable.Release(), "Releasing a default lease returned true.");
        read.Dispose();
        write.Dispose();
        upgradeable.Dispose();
        Expect(!read.IsHeld && !write.IsHeld && !upgradeable.IsHeld, "A default lease reports that it holds.");
        Expect(read.Lock is null && write.Lock is null && upgradeable.Lock is null, "A default lease names a lock.");
        Expect(ReaderWriterOutcomes.Catch(() => write.DowngradeToRead()) is InvalidOperationException, "Downgrading a default write lease did not throw InvalidOperationException.");
        Expect(ReaderWriterOutcomes.Catch(() => upgradeable.UpgradeAsync()) is InvalidOperationException, "Upgrading a default upgradeable lease did not throw InvalidOperationException.");
    }

    // Grants every queued waiter that fits, from the front.
    private void Dispatch()
    {
        if (_disposed)
        {
            return;
        }

        int i = 0;
        while (i < _queue.Count && _writer is null)
        {
            Waiter waiter = _queue[i];
            bool grant;
            bool blocksRest;
            if (waiter.UpgradeOf is not null)
            {
                grant = _readCount == 0;
                blocksRest = !grant;
            }
            else if (waiter.Mode == Mode.Write)
            {
                grant = _readCount == 0 && _upgradeable is null;
                blocksRest = !grant && _writerPreferred;
            }
            else
            {
                grant = waiter.Mode == Mode.Read || _upgradeable is null;
                blocksRest = false;
            }

            if (blocksRest)
            {
                return;
            }

            if (grant)
            {
                _queue.RemoveAt(i);
                Grant(waiter);
            }
            else
            {
                i++;
            }
        }
    }

    private void Grant(Waiter waiter)
    {
        waiter.Expected = Outcome.Granted;
        waiter.Granted = new Held(NextId(), waiter.Mode, $"waiter #{waiter.Id} ({waiter.Step})");
        ApplyGrant(waiter.Granted, waiter.UpgradeOf);
    }

    private void ApplyGrant(Held held, Held? upgradeOf)
    {
        held.Granted = true;
        held.UpgradeOf = upgradeOf;
        switch (held.Mode)
        {
            case Mode.Read:
                _readCount++;
                held.Generation = _generation;
                break;
            case Mode.Write:
                _generation++;
                held.Generation = _generation;
                _writer = held;
                break;
            default:
                _upgradeable = held;
                break;
        }
    }

    private int NextId() => _nextId++;

    private void Check(int index, ReaderWriterOperation step)
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
            Expect(Eventually.Holds(waiter.IsCompleted, _settle), $"Waiter #{waiter.Id} ({waiter.Step}) should have ended {waiter.Expected} but is still pending.");
            (Held outcome, Exception? error) = waiter.Consume();
            switch (waiter.Expected)
            {
                case Outcome.Granted:
                    Expect(error is null, $"Waiter #{waiter.Id} ({waiter.Step}) should have been granted but ended with {Describe(error)}.");
                    Held granted = waiter.Granted!;
                    granted.Read = outcome.Read;
                    granted.Write = outcome.Write;
                    granted.Upgradeable = outcome.Upgradeable;
                    Expect(ReferenceEquals(granted.Lock, _gate), $"Waiter #{waiter.Id} was granted a lease that does not name the lock.");
                    _leases.Add(granted);
                    break;

                case Outcome.TimedOut when waiter.ThrowsOnTimeout:
                    Expect(
                        error is LockTimeoutException timeout && timeout.LockName == _gate.Name && timeout.Timeout == TimeSpan.FromMilliseconds(waiter.TimeoutMs ?? -1),
                        $"Waiter #{waiter.Id} ({waiter.Step}) should have thrown LockTimeoutException but ended with {Describe(error, outcome)}.");
                    break;

                case Outcome.TimedOut:
                    Expect(error is null && outcome.Lock is null, $"Waiter #{waiter.Id} ({waiter.Step}) should have returned the default lease but ended with {Describe(error, outcome)}.");
                    outcome.Origin = $"timed-out waiter #{waiter.Id}";
                    _leases.Add(outcome);
                    break;

                case Outcome.Cancelled:
                    Expect(
                        error is OperationCanceledException cancelled && cancelled.CancellationToken == waiter.Cancellation.Token,
                        $"Waiter #{waiter.Id} ({waiter.Step}) should have been cancelled but ended with {Describe(error, outcome)}.");
                    break;

                case Outcome.Disposed:
                    Expect(error is ObjectDisposedException, $"Waiter #{waiter.Id} ({waiter.Step}) should have failed with ObjectDisposedException but ended with {Describe(error, outcome)}.");
                    break;

                case Outcome.Invalid:
                    Expect(error is InvalidOperationException and not ObjectDisposedException, $"Waiter #{waiter.Id} ({waiter.Step}) should have failed with InvalidOperationException but ended with {Describe(error, outcome)}.");
                    break;
            }
        }

        foreach (Waiter waiter in _waiters.Where(w => !w.Observed && w.Expected == Outcome.Pending))
        {
            if (waiter.IsCompleted())
            {
                (Held outcome, Exception? error) = waiter.Consume();
                Fail($"Waiter #{waiter.Id} ({waiter.Step}) ended with {Describe(error, outcome)} although the model still has it queued at position {_queue.IndexOf(waiter)}.");
            }
        }
    }

    private void CheckLock()
    {
        Expect(_gate.CurrentReadCount == _readCount, $"CurrentReadCount is {_gate.CurrentReadCount}; the model expected {_readCount}.");
        Expect(_gate.IsWriteHeld == (_writer is not null), $"IsWriteHeld is {_gate.IsWriteHeld}; the model expected {_writer is not null}.");
        Expect(_gate.IsUpgradeableReadHeld == (_upgradeable is not null), $"IsUpgradeableReadHeld is {_gate.IsUpgradeableReadHeld}; the model expected {_upgradeable is not null}.");
        Expect(_gate.WaitingCount == _queue.Count, $"WaitingCount is {_gate.WaitingCount}; the model expected {_queue.Count}.");
        Expect(_gate.IsDisposed == _disposed, $"IsDisposed is {_gate.IsDisposed}; the model expected {_disposed}.");
    }

    private void CheckLeases()
    {
        foreach (Held lease in _leases)
        {
            bool expected = lease.Granted && lease.Mode switch
            {
                Mode.Read => lease.Generation == _generation && _readCount > 0,
                Mode.Write => _writer == lease,
                _ => _upgradeable == lease,
            };
            Expect(lease.IsHeld == expected, $"{Describe(lease)} reports IsHeld={lease.IsHeld}; the model expected {expected}.");
            Expect(ReferenceEquals(lease.Lock, lease.Granted ? _gate : null), $"{Describe(lease)} names the wrong lock.");
        }
    }

    private string DescribeModel()
    {
        string queue = string.Join(", ", _queue.Select(w => $"#{w.Id} {(w.UpgradeOf is null ? w.Mode.ToString() : "Upgrade")}" + (w.Deadline is long d ? $" (until {d} ms)" : string.Empty)));
        return $"readers={_readCount}, generation={_generation}, writer={Describe(_writer)}, upgradeable={Describe(_upgradeable)}, queue=[{queue}], disposed={_disposed}, clock={_now} ms";
    }

    private string DescribeLock() =>
        $"CurrentReadCount={_gate.CurrentReadCount}, IsWriteHeld={_gate.IsWriteHeld}, IsUpgradeableReadHeld={_gate.IsUpgradeableReadHeld}, WaitingCount={_gate.WaitingCount}, IsDisposed={_gate.IsDisposed}, " +
        $"leases holding=[{string.Join(", ", _leases.Where(l => l.IsHeld).Select(l => $"#{l.Id} {l.Mode}"))}]";

    private static string Describe(Held? lease) =>
        lease is null ? "nobody" : $"lease #{lease.Id} ({lease.Mode}, {lease.Origin}{(lease.UpgradeOf is null ? string.Empty : $", upgrade of #{lease.UpgradeOf.Id}")})";

    private static string Describe(Exception? error, Held? outcome = null)
    {
        if (error is null)
        {
            return outcome is null ? "no exception" : outcome.IsHeld ? "a held lease" : "a lease that is not held";
        }

        return $"{error.GetType().Name} ({error.Message})";
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            Fail(message);
        }
    }

    private static void Fail(string message) => throw new ModelMismatchException(message);

    /// <summary>A lease the runner got from the lock, with what the model records about it.</summary>
    private sealed class Held
    {
        public ReadLease Read;
        public WriteLease Write;
        public UpgradeableReadLease Upgradeable;

        public Held(int id, Mode mode, string origin)
        {
            Id = id;
            Mode = mode;
            Origin = origin;
        }

        public int Id { get; }

        public Mode Mode { get; }

        public string Origin { get; set; }

        /// <summary>False for the default lease of a failed try.</summary>
        public bool Granted { get; set; }

        /// <summary>Write generation: of the grant for a write lease, read under for a read lease.</summary>
        public long Generation { get; set; }

        /// <summary>Read leases only: released once already.</summary>
        public bool Released { get; set; }

        /// <summary>For a write lease from an upgrade: the upgradeable lease it upgraded.</summary>
        public Held? UpgradeOf { get; set; }

        public bool IsHeld => Mode switch
        {
            Mode.Read => Read.IsHeld,
            Mode.Write => Write.IsHeld,
            _ => Upgradeable.IsHeld,
        };

        public AsyncReaderWriterLock? Lock => Mode switch
        {
            Mode.Read => Read.Lock,
            Mode.Write => Write.Lock,
            _ => Upgradeable.Lock,
        };

        public bool ReleaseLease() => Mode switch
        {
            Mode.Read => Read.Release(),
            Mode.Write => Write.Release(),
            _ => Upgradeable.Release(),
        };

        public void DisposeLease()
        {
            switch (Mode)
            {
                case Mode.Read:
                    Read.Dispose();
                    break;
                case Mode.Write:
                    Write.Dispose();
                    break;
                default:
                    Upgradeable.Dispose();
                    break;
            }
        }
    }

    /// <summary>An async acquire or upgrade the runner started, with the outcome the model expects.</summary>
    private sealed class Waiter
    {
        public ValueTask<ReadLease> ReadTask;
        public ValueTask<WriteLease> WriteTask;
        public ValueTask<UpgradeableReadLease> UpgradeableTask;

        public Waiter(int id, ReaderWriterOperation step, Mode mode, Held? upgradeOf, bool throwsOnTimeout, int? timeoutMs, CancellationTokenSource cancellation)
        {
            Id = id;
            Step = step;
            Mode = mode;
            UpgradeOf = upgradeOf;
            ThrowsOnTimeout = throwsOnTimeout;
            TimeoutMs = timeoutMs;
            Cancellation = cancellation;
        }

        public int Id { get; }

        public ReaderWriterOperation Step { get; }

        public Mode Mode { get; }

        /// <summary>For an upgrade: the upgradeable lease it upgrades.</summary>
        public Held? UpgradeOf { get; }

        public bool ThrowsOnTimeout { get; }

        public int? TimeoutMs { get; }

        public CancellationTokenSource Cancellation { get; }

        public Outcome Expected { get; set; }

        public Held? Granted { get; set; }

        public long? Deadline { get; set; }

        public bool Observed { get; private set; }

        public bool IsCompleted() => Mode switch
        {
            Mode.Read => ReadTask.IsCompleted,
            Mode.Write => WriteTask.IsCompleted,
            _ => UpgradeableTask.IsCompleted,
        };

        /// <summary>Reads the outcome once; the returned record carries the lease struct.</summary>
        public (Held Outcome, Exception? Error) Consume()
        {
            Observed = true;
            var outcome = new Held(-1, Mode, $"outcome of waiter #{Id}");
            Exception? error;
            switch (Mode)
            {
                case Mode.Read:
                    (outcome.Read, error) = ReaderWriterOutcomes.Consume(ReadTask);
                    break;
                case Mode.Write:
                    (outcome.Write, error) = ReaderWriterOutcomes.Consume(WriteTask);
                    break;
                default:
                    (outcome.Upgradeable, error) = ReaderWriterOutcomes.Consume(UpgradeableTask);
                    break;
            }

            return (outcome, error);
        }
    }
}
