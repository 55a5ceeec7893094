using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Cancellation racing a write request, a release and an immediate grant.</summary>
[Collection(SerialCollection.Name)]
public sealed class ReaderWriterCancellationRaceTests
{
    private const int Rounds = 10_000;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    /// <summary>What a run of racing rounds saw.</summary>
    internal sealed record RaceReport(int Rounds, int Granted, int Cancelled, int OtherErrors, int FailedReleases, int SecondReleases, int NotFreeAfterRound, int Stalls, ReaderWriterProbe Probe)
    {
        public bool Clean => OtherErrors == 0 && FailedReleases == 0 && SecondReleases == 0 && NotFreeAfterRound == 0 && Stalls == 0 && Probe.Violations == 0;

        public override string ToString() =>
            $"rounds={Rounds}, granted={Granted}, cancelled={Cancelled}, other errors={OtherErrors}, failed releases={FailedReleases}, second releases that succeeded={SecondReleases}, not free after round={NotFreeAfterRound}, stalls={Stalls}; {Probe}";
    }

    /// <summary>
    /// Each round: H holds (for writing, or for reading); the requester, a canceller and H's
    /// releaser leave one barrier together; the requester requests the write lock with token T
    /// while the canceller cancels T and H releases, each after a random spin.
    /// </summary>
    internal static RaceReport CancelWriteAtRequest(AsyncReaderWriterLock gate, bool holderWrites, int rounds, TimeSpan stallBound)
    {
        var probe = new ReaderWriterProbe();
        using var barrier = new Barrier(3);
        CancellationTokenSource? cancellation = null;
        WriteLease writeHolder = default;
        ReadLease readHolder = default;
        bool stop = false;
        int granted = 0, cancelled = 0, otherErrors = 0, failedReleases = 0, secondReleases = 0, notFree = 0, stalls = 0;

        void Canceller()
        {
            var random = new Random(17);
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.SpinWait(random.Next(0, 300));
                Volatile.Read(ref cancellation)!.Cancel();
                barrier.SignalAndWait();
            }
        }

        void Releaser()
        {
            var random = new Random(29);
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                Thread.SpinWait(random.Next(0, 300));
                bool released;
                if (holderWrites)
                {
                    probe.ExitWrite();
                    released = writeHolder.Release();
                }
                else
                {
                    probe.ExitRead();
                    released = readHolder.Release();
                }

                if (!released)
                {
                    Interlocked.Increment(ref failedReleases);
                }

                barrier.SignalAndWait();
            }
        }

        var helpers = new[] { new Thread(Canceller) { IsBackground = true }, new Thread(Releaser) { IsBackground = true } };
        foreach (Thread helper in helpers)
        {
            helper.Start();
        }

        for (int round = 0; round < rounds; round++)
        {
            bool took = holderWrites ? gate.TryAcquireWrite(out writeHolder) : gate.TryAcquireRead(out readHolder);
            if (!took)
            {
                notFree++;
                break;
            }

            if (holderWrites)
            {
                probe.EnterWrite();
            }
            else
            {
                probe.EnterRead();
            }

            cancellation?.Dispose();
            Volatile.Write(ref cancellation, new CancellationTokenSource());
            barrier.SignalAndWait();

            ValueTask<WriteLease> request = ReaderWriterOutcomes.Start(() => gate.AcquireWriteAsync(cancellation.Token));
            if (!Eventually.Holds(() => request.IsCompleted, stallBound))
            {
                stalls++;
                barrier.SignalAndWait();
                break;
            }

            (WriteLease lease, Exception? error) = ReaderWriterOutcomes.Consume(request);
            if (error is OperationCanceledException)
            {
                cancelled++;
            }
            else if (error is not null)
            {
                otherErrors++;
            }
            else
            {
                granted++;
                probe.EnterWrite();
                probe.ExitWrite();
                if (!lease.Release())
                {
                    failedReleases++;
                }

                if (lease.Release())
                {
                    secondReleases++;
                }
            }

            barrier.SignalAndWait();
            if (!ReaderWriterLockAssert.LooksFree(gate))
            {
                notFree++;
                break;
            }
        }

        Volatile.Write(ref stop, true);
        barrier.SignalAndWait(TimeSpan.FromSeconds(5));
        foreach (Thread helper in helpers)
        {
            helper.Join(TimeSpan.FromSeconds(5));
        }

        cancellation?.Dispose();
        return new RaceReport(rounds, granted, cancelled, otherErrors, failedReleases, secondReleases, notFree, stalls, probe);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancelWriteAtMomentOfRequest_HolderReleasesMeanwhile_EachRoundGrantedOnceOrCancelledEmpty(bool holderWrites)
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "cancel-race" });

        RaceReport report = await Task.Run(() => CancelWriteAtRequest(gate, holderWrites, Rounds, s_bound));

        Assert.True(report.Clean, report.ToString());
        Assert.Equal(Rounds, report.Granted + report.Cancelled);
        ReaderWriterLockAssert.IsFree(gate);
        Assert.True(gate.TryAcquireWrite(out WriteLease first));
        Assert.False(gate.TryAcquireWrite(out _), "A second try-write succeeded after the race.");
        first.Dispose();
    }

    [Fact]
    public async Task CancelRightAfterImmediateWriteGrant_EitherLeaseOrFreeLockNeverAHeldLockWithAnException()
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "cancel-after-grant" });

        (int granted, int cancelled, int heldAfterException, int other, int notFree) = await Task.Run(() =>
        {
            using var barrier = new Barrier(2);
            CancellationTokenSource? cancellation = null;
            bool stop = false;
            var canceller = new Thread(() =>
            {
                while (true)
                {
                    barrier.SignalAndWait();
                    if (Volatile.Read(ref stop))
                    {
                        return;
                    }

                    Volatile.Read(ref cancellation)!.Cancel();
                    barrier.SignalAndWait();
                }
            })
            { IsBackground = true };
            canceller.Start();
            int grantedCount = 0, cancelledCount = 0, heldAfter = 0, otherCount = 0, notFreeCount = 0;
            for (int round = 0; round < Rounds; round++)
            {
                cancellation?.Dispose();
                Volatile.Write(ref cancellation, new CancellationTokenSource());
                barrier.SignalAndWait();
                ValueTask<WriteLease> request = ReaderWriterOutcomes.Start(() => gate.AcquireWriteAsync(cancellation.Token));
                bool completed = Eventually.Holds(() => request.IsCompleted, s_bound);
                barrier.SignalAndWait();
                if (!completed)
                {
                    otherCount++;
                    break;
                }

                (WriteLease lease, Exception? error) = ReaderWriterOutcomes.Consume(request);
                if (error is null)
                {
                    grantedCount++;
                    if (!lease.Release())
                    {
                        otherCount++;
                    }
                }
                else if (error is OperationCanceledException)
                {
                    cancelledCount++;
                    if (gate.IsWriteHeld)
                    {
                        heldAfter++;
                    }
                }
                else
                {
                    otherCount++;
                }

                if (!gate.TryAcquireWrite(out WriteLease probe))
                {
                    notFreeCount++;
                    break;
                }

                probe.Dispose();
            }

            Volatile.Write(ref stop, true);
            barrier.SignalAndWait(TimeSpan.FromSeconds(5));
            canceller.Join(TimeSpan.FromSeconds(5));
            cancellation?.Dispose();
            return (grantedCount, cancelledCount, heldAfter, otherCount, notFreeCount);
        });

        string summary = $"granted={granted}, cancelled={cancelled}, held after an exception={heldAfterException}, other={other}, not free={notFree}";
        Assert.True(heldAfterException == 0, summary);
        Assert.True(other == 0, summary);
        Assert.True(notFree == 0, summary);
        Assert.Equal(Rounds, granted + cancelled);
        ReaderWriterLockAssert.IsFree(gate);
    }
}
