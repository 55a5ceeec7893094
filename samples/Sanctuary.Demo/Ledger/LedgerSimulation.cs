using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>Runs the workers and the auditor for the configured duration, then stops them and checks the ledger.</summary>
internal sealed class LedgerSimulation : IProgressSource, IDisposable
{
    private readonly LedgerSettings _settings;
    private readonly Ledger _ledger;
    private readonly TransferWorker[] _workers;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly List<Task> _tasks = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CancellationTokenRegistration _userCancellation;

    private long _startTimestamp;
    private long _stopTimestamp;
    private int _audits;
    private int _failedAudits;
    private long _longestAuditTicks;

    public LedgerSimulation(LedgerSettings settings)
    {
        _settings = settings;
        _ledger = new Ledger(settings.Accounts, settings.Fairness);
        _workers = new TransferWorker[settings.Workers];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new TransferWorker(i, _ledger, settings);
        }
    }

    public LedgerSettings Settings => _settings;

    public TimeSpan Duration => _settings.Duration;

    public string Status
    {
        get
        {
            long committed = Committed;
            return $"{committed,12:N0} transfers {Format.Rate(committed, Elapsed),10} {TimedOut,8:N0} timed out";
        }
    }

    public bool IsStopRequested => _stop.IsCancellationRequested;

    public TimeSpan Elapsed => _startTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startTimestamp);

    public long Committed => _workers.Sum(worker => worker.Committed);

    public long TimedOut => _workers.Sum(worker => worker.TimedOut);

    /// <summary>Starts the workers and the auditor and schedules the stop after the configured duration.</summary>
    public void Start(CancellationToken userCancellation)
    {
        CancellationToken stopToken = _stop.Token;
        CancellationToken abortToken = _abort.Token;

        _startTimestamp = Stopwatch.GetTimestamp();
        foreach (TransferWorker worker in _workers)
        {
            _tasks.Add(Task.Run(() => worker.RunAsync(stopToken, abortToken), CancellationToken.None));
        }

        _tasks.Add(Task.Run(() => AuditLoopAsync(stopToken, abortToken), CancellationToken.None));

        // Registered before anything can cancel, so the stop time is set before CompleteAsync resumes.
        stopToken.Register(() =>
        {
            Interlocked.CompareExchange(ref _stopTimestamp, Stopwatch.GetTimestamp(), 0);
            _stopped.TrySetResult();
        });
        _userCancellation = userCancellation.Register(static state => ((CancellationTokenSource)state!).Cancel(), _stop);
        _stop.CancelAfter(_settings.Duration);
    }

    /// <summary>Waits for every worker to finish, aborting waits that hang, and checks the invariants.</summary>
    public async Task<LedgerReport> CompleteAsync()
    {
        // Wait for the stop itself, then give the workers time to finish the transfers in flight.
        // A lost wake-up leaves a worker waiting forever, so a run that outlasts the grace period
        // is recorded as hung, its lock states captured, and its waits cancelled.
        await _stopped.Task;

        Task all = Task.WhenAll(_tasks);
        IReadOnlyList<string> hungLocks = [];
        bool hung = false;
        if (!await CompletesWithinAsync(all, LedgerSettings.ShutdownGrace))
        {
            hung = true;
            hungLocks = DescribeBusyLocks();
            await _abort.CancelAsync();
            await CompletesWithinAsync(all, LedgerSettings.ShutdownGrace);
        }

        TimeSpan runTime = Stopwatch.GetElapsedTime(_startTimestamp, Volatile.Read(ref _stopTimestamp));
        LedgerReport report = BuildReport(runTime, hung, hungLocks);
        if (_tasks.All(task => task.IsCompleted))
        {
            _ledger.DisposeLocks();
        }

        return report;
    }

    public void Dispose()
    {
        _userCancellation.Dispose();
        _stop.Dispose();
        _abort.Dispose();
    }

    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit)
    {
        Task finished = await Task.WhenAny(task, Task.Delay(limit));
        return finished == task;
    }

    private async Task AuditLoopAsync(CancellationToken stopToken, CancellationToken abortToken)
    {
        while (!stopToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(LedgerSettings.AuditInterval, stopToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await AuditOnceAsync(abortToken);
        }
    }

    /// <summary>Takes every account lock in canonical order, so the sum is a consistent snapshot, and checks it.</summary>
    private async Task AuditOnceAsync(CancellationToken abortToken)
    {
        long start = Stopwatch.GetTimestamp();
        var leases = new AsyncLock.Lease[_ledger.Count];
        int acquiredCount = 0;
        try
        {
            for (; acquiredCount < leases.Length; acquiredCount++)
            {
                leases[acquiredCount] = await _ledger[acquiredCount].Lock.AcquireAsync(abortToken);
            }

            long total = 0;
            foreach (Account account in _ledger.Accounts)
            {
                total += account.Balance;
            }

            _audits++;
            if (total != _settings.ExpectedTotal)
            {
                _failedAudits++;
            }
        }
        finally
        {
            for (int i = acquiredCount - 1; i >= 0; i--)
            {
                leases[i].Dispose();
            }

            _longestAuditTicks = Math.Max(_longestAuditTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    private List<string> DescribeBusyLocks()
    {
        var busy = new List<string>();
        foreach (Account account in _ledger.Accounts)
        {
            int waiting = account.Lock.WaitingCount;
            if (account.Lock.IsHeld || waiting > 0)
            {
                busy.Add($"{account.Lock.Name} (held: {account.Lock.IsHeld}, waiting: {waiting})");
            }
        }

        return busy;
    }

    private LedgerReport BuildReport(TimeSpan runTime, bool hung, IReadOnlyList<string> hungLocks)
    {
        var allWaits = new WaitTimeHistogram();
        var contendedWaits = new WaitTimeHistogram();
        foreach (TransferWorker worker in _workers)
        {
            allWaits.Add(worker.AllWaits);
            contendedWaits.Add(worker.ContendedWaits);
        }

        var faults = _tasks
            .Where(task => task.IsFaulted)
            .SelectMany(task => task.Exception!.InnerExceptions)
            .Select(exception => $"{exception.GetType().Name}: {exception.Message}")
            .ToList();

        return new LedgerReport
        {
            Settings = _settings,
            RunTime = runTime,
            Committed = Committed,
            Rejected = _workers.Sum(worker => worker.Rejected),
            TimedOut = TimedOut,
            AllWaits = allWaits,
            ContendedWaits = contendedWaits,
            Audits = _audits,
            LongestAudit = TimeSpan.FromSeconds(_longestAuditTicks / (double)Stopwatch.Frequency),
            Checks = LedgerChecks.Run(_ledger, _settings, _workers, _audits, _failedAudits, hung, hungLocks, faults),
        };
    }
}
