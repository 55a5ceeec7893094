using Microsoft.CodeAnalysis;

namespace Sanctuary.Analyzers;

/// <summary>
/// Every rule of this assembly. Ids group by concern: SNC1xxx lease lifetime, SNC2xxx async misuse,
/// SNC3xxx ordering and deadlock. Each id has a page docs/analyzers/SNCxxxx.md whose title and
/// severity match the descriptor (a test checks this).
/// </summary>
internal static class Descriptors
{
    public const string LifetimeCategory = "Sanctuary.Lifetime";
    public const string AsyncCategory = "Sanctuary.Async";
    public const string OrderingCategory = "Sanctuary.Ordering";

    public static readonly DiagnosticDescriptor SNC1001_LeaseNotReleased = new(
        id: "SNC1001",
        title: "Release every lease on every path",
        messageFormat: "'{0}' is not released on every path; dispose it with a using declaration",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A lease that is still held when the method returns keeps its lock until the process ends, so every later acquirer waits forever.");

    public static readonly DiagnosticDescriptor SNC1002_ProtectionStartsLate = new(
        id: "SNC1002",
        title: "Start the protecting try right after the acquire",
        messageFormat: "Code between acquiring '{0}' and the try that releases it can throw and leave the lock held; move that code into the try",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The finally block only runs for exceptions thrown inside its try. An exception thrown between the acquire and the try skips the release.");

    public static readonly DiagnosticDescriptor SNC1003_ReleasedOutsideFinally = new(
        id: "SNC1003",
        title: "Release a lease in a finally block or with using",
        messageFormat: "'{0}' is released only if nothing throws before the release; release it in a finally block or with a using declaration",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "A release written as a plain statement is skipped when an earlier statement throws, and the lock stays held.");

    public static readonly DiagnosticDescriptor SNC1004_LeaseEscapes = new(
        id: "SNC1004",
        title: "Keep a lease with one owner that releases it",
        messageFormat: "'{0}' escapes through {1}; keep the lease in one owner that releases it",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A lease stored where nobody releases it, captured by a lambda that may run after the scope ends, or copied into a box can no longer be tracked to its release.");

    public static readonly DiagnosticDescriptor SNC1005_ReleasedTwice = new(
        id: "SNC1005",
        title: "Release a lease once",
        messageFormat: "'{0}' is released twice; remove the second release",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A second release does nothing at run time, but it shows that the code has two owners for one lease and one of them probably released too early.");

    public static readonly DiagnosticDescriptor SNC1006_UsedAfterRelease = new(
        id: "SNC1006",
        title: "Do not use a lease after releasing it",
        messageFormat: "'{0}' is used after it was released; use it before the release or acquire the lock again",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Work done through a released lease runs without the lock, so another holder may run at the same time.");

    public static readonly DiagnosticDescriptor SNC1007_SanctuaryTypeNotPartial = new(
        id: "SNC1007",
        title: "Make the type of a [Sanctuary] method partial",
        messageFormat: "Make '{0}' partial so that the generator can acquire the resources of '{1}'",
        category: LifetimeCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The Sanctuary generator adds the acquisition code to the declaring type. In a type that is not partial it cannot, and the method runs without holding its resources.");

    public static readonly DiagnosticDescriptor SNC2001_AcquireNotAwaited = new(
        id: "SNC2001",
        title: "Await every async acquire",
        messageFormat: "The result of '{0}' is never awaited; await it and release the lease it returns",
        category: AsyncCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "An async acquire that nobody awaits still takes the lock once it is granted, and nobody will ever release it.");

    public static readonly DiagnosticDescriptor SNC2002_LeaseEndsBeforeTask = new(
        id: "SNC2002",
        title: "Keep the lease until the returned task completes",
        messageFormat: "'{0}' is released when this method returns, before the returned task completes; make the method async and await the task inside the lease's scope",
        category: AsyncCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A method that is not async returns the task as soon as it is created. The using or finally that releases the lease runs at that moment, so the work of the task runs without the lock.");

    public static readonly DiagnosticDescriptor SNC2003_BlockingOnAcquire = new(
        id: "SNC2003",
        title: "Do not block on an async acquire",
        messageFormat: "Await '{0}' instead of blocking on it with '{1}'{2}",
        category: AsyncCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Blocking a thread until an async acquire completes ties up a thread for the whole wait and deadlocks when the holder needs that thread to finish.");

    public static readonly DiagnosticDescriptor SNC2004_AwaitWhileHoldingSyncLock = new(
        id: "SNC2004",
        title: "Release a sync-only lock before awaiting or yielding",
        messageFormat: "Release {0} before this {1}; a sync-only lock must not be held while the flow awaits or yields",
        category: AsyncCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Sync-only locks belong to a thread. After an await the flow may continue on another thread, and while a flow is suspended the lock blocks every other thread.");

    public static readonly DiagnosticDescriptor SNC2005_MonitorOnSanctuaryLock = new(
        id: "SNC2005",
        title: "Do not use a Sanctuary lock as a Monitor lock",
        messageFormat: "Do not lock on '{0}' with {1}; acquire it through its own Acquire or AcquireAsync methods",
        category: AsyncCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A Monitor lock on a Sanctuary lock object excludes nobody who takes the lock through a lease, so both kinds of holder can run at the same time.");

    public static readonly DiagnosticDescriptor SNC3001_SelfDeadlock = new(
        id: "SNC3001",
        title: "Do not acquire a lock that the method already holds",
        messageFormat: "{0} is already held here ({1}); acquiring it again cannot succeed because Sanctuary locks are not reentrant, so it waits until its timeout, or forever without one",
        category: OrderingCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Sanctuary locks are not reentrant. A flow that acquires a lock it already holds waits for itself.");

    public static readonly DiagnosticDescriptor SNC3002_OrderInvertedInMethod = new(
        id: "SNC3002",
        title: "Take two locks in one order within a method",
        messageFormat: "{0} is acquired while {1} is held, but line {2} takes them in the opposite order; take the locks in one order",
        category: OrderingCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Two flows running the two parts of this method at once can each hold one lock and wait for the other.");

    public static readonly DiagnosticDescriptor SNC3003_LockOrderCycle = new(
        id: "SNC3003",
        title: "Take locks in one order across the compilation",
        messageFormat: "Acquiring {0} while holding {1} closes a lock-order cycle with {2}; take the locks in one order everywhere",
        category: OrderingCategory,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "When every edge of a cycle in the lock-order graph runs at once in a different flow, each flow holds one lock and waits for the next: a deadlock.",
        customTags: WellKnownDiagnosticTags.CompilationEnd);
}
