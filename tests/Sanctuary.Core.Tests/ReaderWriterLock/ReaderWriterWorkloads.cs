using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ReadLease = Sanctuary.AsyncReaderWriterLock.ReadLease;
using UpgradeableReadLease = Sanctuary.AsyncReaderWriterLock.UpgradeableReadLease;
using WriteLease = Sanctuary.AsyncReaderWriterLock.WriteLease;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>
/// Workloads that drive a reader-writer lock and report what they observed instead of asserting, so
/// the same code proves a correct lock clean and a deliberately broken one guilty.
/// </summary>
internal static class ReaderWriterWorkloads
{
    /// <summary>What a mixed workload saw.</summary>
    internal sealed record Report(ReaderWriterProbe Probe, int FinishedWorkers, int Workers, int FailedReleases, IReadOnlyList<Exception> Errors, bool EndedFree)
    {
        public bool Clean => Probe.Violations == 0 && FinishedWorkers == Workers && FailedReleases == 0 && Errors.Count == 0 && EndedFree;

        public override string ToString() =>
            $"{Probe}; finished workers={FinishedWorkers}/{Workers}; failed releases={FailedReleases}; errors={Errors.Count} ({string.Join(" | ", Errors.Take(3).Select(e => e.GetType().Name + ": " + e.Message))}); ended free={EndedFree}";
    }

    /// <summary>
    /// Workers on the thread pool take the lock in every mode and form: async read and write, timed
    /// try-write, try-now read, upgradeable read with an upgrade, write with a downgrade, and blocking
    /// read and write; a probe checks the protected section.
    /// </summary>
    public static async Task<Report> MixedAsync(AsyncReaderWriterLock gate, int workers, int iterations, TimeSpan deadline)
    {
        var probe = new ReaderWriterProbe();
        var errors = new ConcurrentQueue<Exception>();
        int failedReleases = 0;
        int finished = 0;
        using var stop = new CancellationTokenSource(deadline);

        void Count(bool released)
        {
            if (!released)
            {
                Interlocked.Increment(ref failedReleases);
            }
        }

        async Task Pause(Random random)
        {
            if (random.Next(6) == 0)
            {
                await Task.Yield();
            }
            else
            {
                Thread.SpinWait(random.Next(1, 40));
            }
        }

        async Task WorkerAsync(int worker)
        {
            var random = new Random(worker * 7919);
            try
            {
                for (int i = 0; i < iterations; i++)
                {
                    switch (random.Next(8))
                    {
                        case 0:
                        {
                            ReadLease read = await gate.AcquireReadAsync(stop.Token);
                            probe.EnterRead();
                            await Pause(random);
                            probe.ExitRead();
                            Count(read.Release());
                            break;
                        }

                        case 1:
                        {
                            WriteLease write = await gate.AcquireWriteAsync(stop.Token);
                            probe.EnterWrite();
                            await Pause(random);
                            probe.ExitWrite();
                            Count(write.Release());
                            break;
                        }

                        case 2:
                        {
                            WriteLease write = await gate.TryAcquireWriteAsync(TimeSpan.FromMilliseconds(1), stop.Token);
                            if (write.IsHeld)
                            {
                                probe.EnterWrite();
                                probe.ExitWrite();
                                Count(write.Release());
                            }

                            break;
                        }

                        case 3:
                        {
                            var spinner = default(SpinWait);
                            ReadLease read;
                            while (!gate.TryAcquireRead(out read))
                            {
                                stop.Token.ThrowIfCancellationRequested();
                                spinner.SpinOnce();
                            }

                            probe.EnterRead();
                            probe.ExitRead();
                            Count(read.Release());
                            break;
                        }

                        case 4:
                        {
                            UpgradeableReadLease upgradeable = await gate.AcquireUpgradeableReadAsync(stop.Token);
                            probe.EnterUpgradeable();
                            await Pause(random);
                            probe.ExitUpgradeable();
                            WriteLease write = await upgradeable.UpgradeAsync(stop.Token);
                            probe.EnterWrite();
                            await Pause(random);
                            probe.ExitWrite();
                            Count(write.Release());
                            probe.EnterUpgradeable();
                            probe.ExitUpgradeable();
                            Count(upgradeable.Release());
                            break;
                        }

                        case 5:
                        {
                            WriteLease write = await gate.AcquireWriteAsync(stop.Token);
                            probe.EnterWrite();
                            probe.ExitWrite();
                            if (random.Next(2) == 0)
                            {
                                ReadLease read = write.DowngradeToRead();
                                probe.EnterRead();
                                await Pause(random);
                                probe.ExitRead();
                                Count(read.Release());
                            }
                            else
                            {
                                UpgradeableReadLease upgradeable = write.DowngradeToUpgradeableRead();
                                probe.EnterUpgradeable();
                                await Pause(random);
                                probe.ExitUpgradeable();
                                Count(upgradeable.Release());
                            }

                            break;
                        }

                        case 6:
                        {
                            // Released once, without a using: a read scope that is released and then
                            // disposed in the same write generation frees another reader's share.
                            AsyncReaderWriterLock.ReadScope scope = gate.AcquireRead(stop.Token);
                            probe.EnterRead();
                            Thread.SpinWait(random.Next(1, 40));
                            probe.ExitRead();
                            Count(scope.Release());
                            break;
                        }

                        default:
                        {
                            AsyncReaderWriterLock.WriteScope scope = gate.AcquireWrite(stop.Token);
                            probe.EnterWrite();
                            Thread.SpinWait(random.Next(1, 40));
                            probe.ExitWrite();
                            Count(scope.Release());
                            break;
                        }
                    }
                }

                Interlocked.Increment(ref finished);
            }
            catch (Exception error)
            {
                errors.Enqueue(error);
            }
        }

        Task[] tasks = Enumerable.Range(0, workers).Select(worker => Task.Run(() => WorkerAsync(worker))).ToArray();
        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(deadline + TimeSpan.FromSeconds(5)));
        bool endedFree = tasks.All(t => t.IsCompleted) && ReaderWriterLockAssert.LooksFree(gate);
        return new Report(probe, Volatile.Read(ref finished), workers, Volatile.Read(ref failedReleases), errors.ToArray(), endedFree);
    }
}
