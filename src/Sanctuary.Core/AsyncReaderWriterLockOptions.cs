using System;

namespace Sanctuary;

/// <summary>
/// Which side of an <see cref="AsyncReaderWriterLock"/> goes first when readers and writers contend.
/// </summary>
public enum ReaderWriterPreference
{
    /// <summary>
    /// Once a writer waits, new readers queue behind it, so writers cannot starve. The default.
    /// </summary>
    Writer = 0,

    /// <summary>
    /// Readers enter whenever no writer holds the lock, even if writers wait; a steady stream of
    /// readers can delay writers indefinitely.
    /// </summary>
    Reader = 1,
}

/// <summary>
/// Settings of an <see cref="AsyncReaderWriterLock"/>, fixed when the lock is created.
/// </summary>
public sealed class AsyncReaderWriterLockOptions
{
    private TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>
    /// Name of the lock, shown in exception messages and in the debugger. When <see langword="null"/>,
    /// the lock gets a generated name such as <c>AsyncReaderWriterLock#3</c>.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Which side goes first under contention. The default is <see cref="ReaderWriterPreference.Writer"/>.
    /// </summary>
    public ReaderWriterPreference Preference { get; init; } = ReaderWriterPreference.Writer;

    /// <summary>
    /// Clock that measures wait timeouts and fires them. The default is <see cref="TimeProvider.System"/>.
    /// </summary>
    /// <remarks>
    /// With <see cref="TimeProvider.System"/>, a thread waiting in a blocking acquire with a timeout
    /// ends its own wait at the deadline, so its timeout needs no free thread-pool thread. With any
    /// other provider, only the provider's timer, whose callback usually runs on the thread pool,
    /// ends a wait.
    /// </remarks>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider), "TimeProvider cannot be null. Use TimeProvider.System for the real clock.");
    }
}
