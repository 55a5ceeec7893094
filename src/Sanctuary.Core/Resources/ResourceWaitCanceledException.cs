using System;

namespace Sanctuary.Resources;

/// <summary>
/// The <see cref="OperationCanceledException"/> of a cancelled wait for a named resource, with the
/// resource id in its message. The primitive's own exception names only the primitive, which
/// pooled entries share between ids. The message is formatted only when read.
/// </summary>
internal sealed class ResourceWaitCanceledException : OperationCanceledException
{
    private readonly string _resourceId;
    private string? _message;

    internal ResourceWaitCanceledException(string resourceId, OperationCanceledException inner)
        : base(null, inner, inner.CancellationToken)
    {
        _resourceId = resourceId;
    }

    /// <inheritdoc/>
    public override string Message =>
        _message ??= $"The wait for resource '{_resourceId}' was cancelled before a lease was granted; the resource is unchanged.";
}
