using System;

namespace Sanctuary;

/// <summary>
/// The exception thrown when a lock could not be acquired within the requested timeout.
/// </summary>
public class LockTimeoutException : TimeoutException
{
    /// <summary>
    /// Initializes a new instance with a generic message.
    /// </summary>
    public LockTimeoutException()
        : this("(unnamed)", TimeSpan.Zero, heldFor: null)
    {
    }

    /// <summary>
    /// Initializes a new instance with the given message.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    public LockTimeoutException(string message)
        : base(message)
    {
        LockName = "(unnamed)";
    }

    /// <summary>
    /// Initializes a new instance with the given message and inner exception.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public LockTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
        LockName = "(unnamed)";
    }

    /// <summary>
    /// Initializes a new instance that describes a timed-out acquire of the named lock.
    /// </summary>
    /// <param name="lockName">Name of the lock that could not be acquired.</param>
    /// <param name="timeout">Timeout that elapsed.</param>
    /// <param name="heldFor">How long the holder had held the lock when the timeout elapsed, if known.</param>
    public LockTimeoutException(string lockName, TimeSpan timeout, TimeSpan? heldFor)
        : base(FormatMessage(lockName, timeout, heldFor))
    {
        LockName = lockName;
        Timeout = timeout;
        HeldFor = heldFor;
    }

    /// <summary>
    /// Name of the lock that could not be acquired.
    /// </summary>
    public string LockName { get; }

    /// <summary>
    /// Timeout that elapsed before the lock became available.
    /// </summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// How long the holder at the moment of the timeout had held the lock, or <see langword="null"/>
    /// when nobody held it. When the holder took the lock without contention, this is a lower bound
    /// measured from the moment the first waiter queued.
    /// </summary>
    public TimeSpan? HeldFor { get; }

    private static string FormatMessage(string lockName, TimeSpan timeout, TimeSpan? heldFor)
    {
        string holder = heldFor is { } held
            ? $" The current holder has held it for at least {held.TotalMilliseconds:F0} ms."
            : string.Empty;
        return $"Timed out after {timeout.TotalMilliseconds:F0} ms waiting for lock '{lockName}'.{holder} " +
               "Increase the timeout, or shorten the work done while the lock is held.";
    }
}
