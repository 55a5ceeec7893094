using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace Sanctuary.SystematicTests.ReaderWriterLock;

/// <summary>
/// The section that a reader-writer lock protects in the scenarios: counts the readers, writers and
/// upgradeable readers inside and asserts that a writer is always alone and that at most one
/// upgradeable reader is inside. Entry and exit are separated by scheduling points, so Coyote can
/// run every other task while a holder is inside.
/// </summary>
internal sealed class ReaderWriterSection
{
    public const string ExclusionViolated = "Reader-writer exclusion violated";

    private int _readers;
    private int _writers;
    private int _upgradeables;
    private int _readEntries;
    private int _writeEntries;

    public int ReadEntries => Volatile.Read(ref _readEntries);

    public int WriteEntries => Volatile.Read(ref _writeEntries);

    public void EnterRead(string who)
    {
        Interlocked.Increment(ref _readers);
        Interlocked.Increment(ref _readEntries);
        int writers = Volatile.Read(ref _writers);
        Specification.Assert(writers == 0, ExclusionViolated + ": {0} entered to read and observed {1} writer(s) inside; expected 0.", who, writers);
    }

    public void ExitRead() => Interlocked.Decrement(ref _readers);

    public void EnterUpgradeable(string who)
    {
        int upgradeables = Interlocked.Increment(ref _upgradeables);
        Specification.Assert(upgradeables == 1, ExclusionViolated + ": {0} entered as upgradeable reader and observed {1} upgradeable reader(s) inside; expected 1.", who, upgradeables);
        EnterRead(who);
    }

    public void ExitUpgradeable()
    {
        ExitRead();
        Interlocked.Decrement(ref _upgradeables);
    }

    public void EnterWrite(string who)
    {
        int writers = Interlocked.Increment(ref _writers);
        Interlocked.Increment(ref _writeEntries);
        int readers = Volatile.Read(ref _readers);
        Specification.Assert(
            writers == 1 && readers == 0,
            ExclusionViolated + ": {0} entered to write and observed {1} writer(s) and {2} reader(s) inside; expected 1 and 0.",
            who,
            writers,
            readers);
    }

    public void ExitWrite() => Interlocked.Decrement(ref _writers);

    /// <summary>Stays inside a section for a while: lets every other task run, twice.</summary>
    public static async Task StayAsync()
    {
        SchedulingPoint.Interleave();
        await Task.Yield();
        SchedulingPoint.Interleave();
    }
}
