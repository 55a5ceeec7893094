using System.Threading;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>
/// Counts the readers and writers inside a section that a reader-writer lock protects. A writer
/// inside together with anyone else, or two upgradeable readers inside at once, is a violation.
/// The counts live in one word, changed with one interlocked operation, so every check reads a
/// consistent pair.
/// </summary>
internal sealed class ReaderWriterProbe
{
    private const long WriterOne = 1L << 32;

    private long _inside;
    private int _upgradeable;
    private int _violations;
    private int _maxReaders;
    private long _readEntries;
    private long _writeEntries;

    public int Violations => Volatile.Read(ref _violations);

    public int MaxReaders => Volatile.Read(ref _maxReaders);

    public long ReadEntries => Interlocked.Read(ref _readEntries);

    public long WriteEntries => Interlocked.Read(ref _writeEntries);

    public int Readers => (int)(Interlocked.Read(ref _inside) & 0xFFFF_FFFF);

    public int Writers => (int)(Interlocked.Read(ref _inside) >> 32);

    public void EnterRead()
    {
        long now = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _readEntries);
        if ((now >> 32) != 0)
        {
            Interlocked.Increment(ref _violations);
        }

        int readers = (int)(now & 0xFFFF_FFFF);
        int seen = Volatile.Read(ref _maxReaders);
        while (readers > seen)
        {
            int previous = Interlocked.CompareExchange(ref _maxReaders, readers, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    public void ExitRead() => Interlocked.Decrement(ref _inside);

    public void EnterWrite()
    {
        long now = Interlocked.Add(ref _inside, WriterOne);
        Interlocked.Increment(ref _writeEntries);
        if (now != WriterOne)
        {
            Interlocked.Increment(ref _violations);
        }
    }

    public void ExitWrite() => Interlocked.Add(ref _inside, -WriterOne);

    /// <summary>An upgradeable reader enters: a reader that must also be the only upgradeable one.</summary>
    public void EnterUpgradeable()
    {
        if (Interlocked.Increment(ref _upgradeable) != 1)
        {
            Interlocked.Increment(ref _violations);
        }

        EnterRead();
    }

    public void ExitUpgradeable()
    {
        ExitRead();
        Interlocked.Decrement(ref _upgradeable);
    }

    public override string ToString() =>
        $"read entries={ReadEntries}, write entries={WriteEntries}, readers inside={Readers}, writers inside={Writers}, max readers={MaxReaders}, violations={Violations}";
}
