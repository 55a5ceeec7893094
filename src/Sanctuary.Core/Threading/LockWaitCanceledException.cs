using System;
using System.Threading;

namespace Sanctuary.Threading;

/// <summary>
/// The <see cref="OperationCanceledException"/> of a wait that was cancelled before the lock was
/// granted. Its message is formatted only when read, so a waiter that gives up allocates no
/// string it will never show.
/// </summary>
internal sealed class LockWaitCanceledException : OperationCanceledException
{
    private readonly string _lockName;
    private string? _message;

    internal LockWaitCanceledException(string lockName, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _lockName = lockName;
    }

    /// <inheritdoc/>
    public override string Message =>
        _message ??= $"The wait for lock '{_lockName}' was cancelled before the lock was granted; the lock is unchanged.";
}
