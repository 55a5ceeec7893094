using System;
using System.Threading;

namespace Sanctuary.Tests.Infrastructure;

/// <summary>
/// Marks the stack of the current thread while it is inside a Release call, so code that runs as a
/// waiter's continuation can tell whether a releaser invoked it inline.
/// </summary>
internal static class ReleaseTracker
{
    [ThreadStatic]
    private static int t_depth;

    /// <summary>True when the current thread is inside <see cref="Release(AsyncLock.Lease)"/>.</summary>
    public static bool InsideRelease => t_depth > 0;

    public static bool Release(AsyncLock.Lease lease)
    {
        t_depth++;
        try
        {
            return lease.Release();
        }
        finally
        {
            t_depth--;
        }
    }

    public static bool Release(ref AsyncLock.Scope scope)
    {
        t_depth++;
        try
        {
            return scope.Release();
        }
        finally
        {
            t_depth--;
        }
    }
}
