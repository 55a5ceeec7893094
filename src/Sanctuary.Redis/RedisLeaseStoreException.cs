using System;

namespace Sanctuary.Redis;

/// <summary>
/// The exception thrown when a <see cref="RedisLeaseStore"/> operation failed in Redis: the server
/// could not be reached, timed out, was still loading its data, or rejected the store's script.
/// The message names the server endpoint, the resource and the operation.
/// </summary>
/// <remarks>
/// After a failed acquire the store does not know whether the server granted the lease, so it
/// removes that lease in the background once the server responds again. A failed release is
/// retried the same way. A lease with a time-to-live also ends on its own when that runs out.
/// </remarks>
public class RedisLeaseStoreException : Exception
{
    /// <summary>Initializes a new instance with a generic message.</summary>
    public RedisLeaseStoreException()
        : this("A Redis lease store operation failed.")
    {
    }

    /// <summary>Initializes a new instance with the given message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public RedisLeaseStoreException(string message)
        : base(message)
    {
        EndPoint = string.Empty;
        ResourceId = string.Empty;
        Operation = string.Empty;
    }

    /// <summary>Initializes a new instance with the given message and inner exception.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RedisLeaseStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
        EndPoint = string.Empty;
        ResourceId = string.Empty;
        Operation = string.Empty;
    }

    /// <summary>Initializes a new instance that describes a failed operation on a resource.</summary>
    /// <param name="endPoint">The Redis endpoint or endpoints, such as <c>127.0.0.1:6379</c>.</param>
    /// <param name="resourceId">Id of the resource or pool.</param>
    /// <param name="operation">What was attempted: <c>acquire</c>, <c>extend</c>, <c>release</c> or <c>list the holders of</c>.</param>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public RedisLeaseStoreException(string endPoint, string resourceId, string operation, string message, Exception? innerException)
        : base(message, innerException)
    {
        EndPoint = endPoint;
        ResourceId = resourceId;
        Operation = operation;
    }

    /// <summary>The Redis endpoint or endpoints the store uses, such as <c>127.0.0.1:6379</c>; empty if unknown.</summary>
    public string EndPoint { get; }

    /// <summary>Id of the resource or pool the operation was on; empty if unknown.</summary>
    public string ResourceId { get; }

    /// <summary>What was attempted, such as <c>acquire</c>; empty if unknown.</summary>
    public string Operation { get; }
}
