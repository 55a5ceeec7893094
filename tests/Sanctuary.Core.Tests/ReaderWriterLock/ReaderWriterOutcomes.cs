using System;
using System.Threading.Tasks;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Starts reader-writer acquires and reads their outcomes exactly once.</summary>
internal static class ReaderWriterOutcomes
{
    /// <summary>Starts an acquire, turning a synchronous throw into a faulted value task.</summary>
    public static ValueTask<T> Start<T>(Func<ValueTask<T>> start)
    {
        try
        {
            return start();
        }
        catch (Exception error)
        {
            return ValueTask.FromException<T>(error);
        }
    }

    /// <summary>Reads the outcome of a completed value task once: the lease, or the exception it threw.</summary>
    public static (T Lease, Exception? Error) Consume<T>(ValueTask<T> completed)
    {
        try
        {
            return (completed.GetAwaiter().GetResult(), null);
        }
        catch (Exception error)
        {
            return (default!, error);
        }
    }

    /// <summary>Runs an action and returns what it threw, or null.</summary>
    public static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}
