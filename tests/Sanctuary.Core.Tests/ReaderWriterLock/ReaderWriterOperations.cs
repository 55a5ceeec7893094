using System.Collections.Generic;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>One kind of step that the model-based property applies to the lock and to the model.</summary>
public enum ReaderWriterStep
{
    /// <summary>A read acquire in the form <c>Form</c> (see <see cref="AcquireForm"/>).</summary>
    AcquireRead,

    /// <summary>A write acquire in the form <c>Form</c>.</summary>
    AcquireWrite,

    /// <summary>An upgradeable read acquire in the form <c>Form</c>.</summary>
    AcquireUpgradeable,

    /// <summary>Upgrades upgradeable lease number <c>Index</c>; <c>Form</c> picks the overload (see <see cref="UpgradeForm"/>).</summary>
    Upgrade,

    /// <summary>Downgrades write lease number <c>Index</c>: to read when <c>Form</c> is 0, to upgradeable read otherwise.</summary>
    Downgrade,

    /// <summary>Moves the fake clock forward by <c>Milliseconds</c>, one millisecond at a time.</summary>
    AdvanceTime,

    /// <summary>Cancels the token of waiter number <c>Index</c>.</summary>
    CancelWaiter,

    /// <summary>Releases lease number <c>Index</c> (stale ones included): <c>Release()</c> when <c>Form</c> is 0, <c>Dispose()</c> otherwise.</summary>
    ReleaseLease,

    /// <summary>Releases and inspects default leases of every mode.</summary>
    ReleaseDefault,

    /// <summary>Disposes the lock.</summary>
    DisposeLock,
}

/// <summary>The overloads an acquire step can use.</summary>
public enum AcquireForm
{
    /// <summary><c>AcquireXAsync(token)</c>, no time limit.</summary>
    Wait,

    /// <summary><c>AcquireXAsync(Timeout.InfiniteTimeSpan or -1, token)</c>.</summary>
    WaitInfinite,

    /// <summary><c>AcquireXAsync(TimeSpan, token)</c>: throws on timeout.</summary>
    TimedTimeSpan,

    /// <summary><c>AcquireXAsync(int, token)</c>: throws on timeout.</summary>
    TimedMilliseconds,

    /// <summary><c>TryAcquireXAsync(TimeSpan, token)</c>: an unheld lease on timeout.</summary>
    TryTimedTimeSpan,

    /// <summary><c>TryAcquireXAsync(int, token)</c>: an unheld lease on timeout.</summary>
    TryTimedMilliseconds,

    /// <summary><c>TryAcquireX(out lease)</c>: never waits.</summary>
    TryNow,

    /// <summary><c>AcquireXAsync(token)</c> with a token cancelled beforehand.</summary>
    Cancelled,
}

/// <summary>The overloads an upgrade step can use.</summary>
public enum UpgradeForm
{
    /// <summary><c>UpgradeAsync(token)</c>.</summary>
    Wait,

    /// <summary><c>UpgradeAsync(TimeSpan, token)</c>: throws on timeout.</summary>
    Timed,

    /// <summary><c>TryUpgradeAsync(TimeSpan, token)</c>: an unheld lease on timeout.</summary>
    TryTimed,

    /// <summary><c>UpgradeAsync(token)</c> with a token cancelled beforehand.</summary>
    Cancelled,
}

/// <summary>A step of a generated sequence.</summary>
public readonly record struct ReaderWriterOperation(ReaderWriterStep Kind, int Form, int Milliseconds, int Index)
{
    public override string ToString() => Kind switch
    {
        ReaderWriterStep.AcquireRead or ReaderWriterStep.AcquireWrite or ReaderWriterStep.AcquireUpgradeable =>
            $"{Kind}({(AcquireForm)Form}{(IsTimed((AcquireForm)Form) ? $", {Milliseconds} ms" : string.Empty)})",
        ReaderWriterStep.Upgrade => $"Upgrade(#{Index}, {(UpgradeForm)Form}{((UpgradeForm)Form is UpgradeForm.Timed or UpgradeForm.TryTimed ? $", {Milliseconds} ms" : string.Empty)})",
        ReaderWriterStep.Downgrade => $"Downgrade(#{Index} to {(Form == 0 ? "read" : "upgradeable")})",
        ReaderWriterStep.AdvanceTime => $"Advance({Milliseconds} ms)",
        ReaderWriterStep.CancelWaiter => $"Cancel(waiter #{Index})",
        ReaderWriterStep.ReleaseLease => $"{(Form == 0 ? "Release" : "Dispose")}(#{Index})",
        _ => Kind.ToString(),
    };

    internal static bool IsTimed(AcquireForm form) =>
        form is AcquireForm.TimedTimeSpan or AcquireForm.TimedMilliseconds or AcquireForm.TryTimedTimeSpan or AcquireForm.TryTimedMilliseconds;
}

/// <summary>A generated sequence of steps under one preference; printed in full in a counter-example.</summary>
public sealed class ReaderWriterSequence
{
    public ReaderWriterSequence(ReaderWriterPreference preference, IEnumerable<ReaderWriterOperation> operations)
    {
        Preference = preference;
        Operations = operations.ToArray();
    }

    public ReaderWriterPreference Preference { get; }

    public IReadOnlyList<ReaderWriterOperation> Operations { get; }

    public override string ToString() =>
        $"[{Preference} preference, {Operations.Count} steps] " + string.Join("; ", Operations.Select((op, i) => $"{i}:{op}"));
}

/// <summary>Generators and shrinking of reader-writer operation sequences.</summary>
public static class ReaderWriterOperationArbitrary
{
    private static readonly Gen<int> s_timeout = Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(1, 4)));

    private static Gen<ReaderWriterOperation> Acquire(ReaderWriterStep kind) =>
        Gen.Choose(0, 7).Zip(s_timeout, (form, ms) => new ReaderWriterOperation(kind, form, ms, 0));

    public static Gen<ReaderWriterOperation> Operation { get; } = Gen.Frequency(
        (6, Acquire(ReaderWriterStep.AcquireRead)),
        (4, Acquire(ReaderWriterStep.AcquireWrite)),
        (3, Acquire(ReaderWriterStep.AcquireUpgradeable)),
        (3, from form in Gen.Choose(0, 3)
            from ms in s_timeout
            from index in Gen.Choose(0, 63)
            select new ReaderWriterOperation(ReaderWriterStep.Upgrade, form, ms, index)),
        (2, Gen.Choose(0, 1).Zip(Gen.Choose(0, 63), (form, index) => new ReaderWriterOperation(ReaderWriterStep.Downgrade, form, 0, index))),
        (3, Gen.Choose(1, 3).Select(ms => new ReaderWriterOperation(ReaderWriterStep.AdvanceTime, 0, ms, 0))),
        (3, Gen.Choose(0, 63).Select(index => new ReaderWriterOperation(ReaderWriterStep.CancelWaiter, 0, 0, index))),
        (9, Gen.Choose(0, 1).Zip(Gen.Choose(0, 63), (form, index) => new ReaderWriterOperation(ReaderWriterStep.ReleaseLease, form, 0, index))),
        (1, Gen.Constant(new ReaderWriterOperation(ReaderWriterStep.ReleaseDefault, 0, 0, 0))));

    /// <summary>Sequences of up to about 100 steps under either preference, with a rare dispose in the middle.</summary>
    public static Gen<ReaderWriterSequence> Sequence { get; } =
        Gen.Elements(ReaderWriterPreference.Writer, ReaderWriterPreference.Reader).Zip(
            Gen.Frequency(
                    (80, Operation),
                    (1, Gen.Constant(new ReaderWriterOperation(ReaderWriterStep.DisposeLock, 0, 0, 0))))
                .ListOf(),
            (preference, ops) => new ReaderWriterSequence(preference, ops));

    /// <summary>Shrinks by dropping halves, then single steps, then by switching to writer preference.</summary>
    public static IEnumerable<ReaderWriterSequence> Shrink(ReaderWriterSequence sequence)
    {
        IReadOnlyList<ReaderWriterOperation> ops = sequence.Operations;
        int count = ops.Count;
        if (count > 1)
        {
            yield return new ReaderWriterSequence(sequence.Preference, ops.Take(count / 2));
            yield return new ReaderWriterSequence(sequence.Preference, ops.Skip(count / 2));
        }

        for (int i = count - 1; i >= 0; i--)
        {
            yield return new ReaderWriterSequence(sequence.Preference, ops.Where((_, index) => index != i));
        }

        if (sequence.Preference != ReaderWriterPreference.Writer)
        {
            yield return new ReaderWriterSequence(ReaderWriterPreference.Writer, ops);
        }
    }

    public static Arbitrary<ReaderWriterSequence> Sequences() => Arb.From(Sequence, Shrink);

    /// <summary>The same sequences without shrinking, for runs that only need to know that a failure exists.</summary>
    public static Arbitrary<ReaderWriterSequence> SequencesWithoutShrinking() => Sequence.ToArbitrary();
}
