using System;
using System.Collections.Generic;

namespace Sanctuary.Demo;

/// <summary>Options of one run of the demo, as parsed from the command line.</summary>
/// <param name="Sections">Sections to run, in catalog order.</param>
/// <param name="Duration">How long each section's timed workload runs.</param>
/// <param name="Seed">Seed of every random choice.</param>
/// <param name="Store">Where the named-resource section keeps lease state.</param>
/// <param name="Ledger">Settings of the ledger section.</param>
internal sealed record RunOptions(
    IReadOnlyList<IDemoSection> Sections,
    TimeSpan Duration,
    int Seed,
    LeaseStoreOption Store,
    LedgerSettings Ledger);
