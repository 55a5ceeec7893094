using System;

namespace Sanctuary;

/// <summary>
/// The exception thrown when a <see cref="CapacityPool"/> could not grant a request within its
/// timeout. It derives from <see cref="LockTimeoutException"/>, whose <see cref="LockTimeoutException.LockName"/>
/// is the pool's name, so one handler can catch the timeouts of every Sanctuary primitive.
/// </summary>
public class CapacityPoolTimeoutException : LockTimeoutException
{
    private readonly string? _message;

    /// <summary>
    /// Initializes a new instance with a generic message.
    /// </summary>
    public CapacityPoolTimeoutException()
    {
    }

    /// <summary>
    /// Initializes a new instance with the given message.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    public CapacityPoolTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>
    /// Initializes a new instance with the given message and inner exception.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CapacityPoolTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Initializes a new instance that describes a timed-out request of the named pool.
    /// </summary>
    /// <param name="poolName">Name of the pool.</param>
    /// <param name="amount">Units the request asked for.</param>
    /// <param name="timeout">Timeout that elapsed.</param>
    /// <param name="total">Total units of the pool when the timeout elapsed.</param>
    /// <param name="available">Units that no reservation had when the timeout elapsed.</param>
    public CapacityPoolTimeoutException(string poolName, long amount, TimeSpan timeout, long total, long available)
        : base(poolName, timeout, heldFor: null)
    {
        Amount = amount;
        Total = total;
        Available = available;
        _message = $"Timed out after {timeout.TotalMilliseconds:F0} ms waiting for {amount} units of pool '{poolName}'; "
            + $"{available} of its {total} units were available at that moment. "
            + "Increase the timeout, request fewer units, or release reservations sooner.";
    }

    /// <summary>Units the timed-out request asked for.</summary>
    public long Amount { get; }

    /// <summary>Total units of the pool when the timeout elapsed.</summary>
    public long Total { get; }

    /// <summary>Units that no reservation had when the timeout elapsed.</summary>
    public long Available { get; }

    /// <inheritdoc/>
    public override string Message => _message ?? base.Message;
}
