using System;
using System.Collections.Generic;
using System.Linq;

namespace Sanctuary.Demo;

/// <summary>Measurements and invariant checks of one finished ledger run.</summary>
internal sealed class LedgerReport
{
    public required LedgerSettings Settings { get; init; }

    /// <summary>Time from the start of the workers until the stop.</summary>
    public required TimeSpan RunTime { get; init; }

    public required long Committed { get; init; }

    public required long Rejected { get; init; }

    public required long TimedOut { get; init; }

    public required WaitTimeHistogram AllWaits { get; init; }

    public required WaitTimeHistogram ContendedWaits { get; init; }

    public required int Audits { get; init; }

    public required TimeSpan LongestAudit { get; init; }

    public required IReadOnlyList<InvariantCheck> Checks { get; init; }

    public double TransfersPerSecond => RunTime > TimeSpan.Zero ? Committed / RunTime.TotalSeconds : 0;

    public bool Passed => Checks.All(check => check.Status != CheckStatus.Failed);
}
