#!/usr/bin/env bash
# Runs the benchmarks that a filter selects and fails unless they wrote results.
#
# Usage: benchmarks/run.sh FILTER [BENCHMARKDOTNET ARGUMENTS...]
#   benchmarks/run.sh 'Sanctuary.Benchmarks.AsyncLock*' --job Dry
#       smoke test: every benchmark once, about a minute, fit for CI
#   benchmarks/run.sh 'Sanctuary.Benchmarks.AsyncLock*' --warmupCount 20 --iterationCount 500 --iterationTime 2
#       the settings behind docs/benchmarks.md, about 6 minutes on 2 cores
#
# Only the first argument is a filter. BenchmarkDotNet ignores a second glob placed after it,
# so select several classes with one glob.
#
# BenchmarkDotNet exits 0 when the filter matches nothing, so this script also checks that a
# *-report.csv was written during this run. Results go to BenchmarkDotNet.Artifacts/ at the
# repository root unless BENCHMARK_ARTIFACTS names another folder.
set -euo pipefail

if [[ $# -lt 1 || -z "$1" ]]; then
    echo "usage: $0 FILTER [BENCHMARKDOTNET ARGUMENTS...], for example: $0 'Sanctuary.Benchmarks.AsyncLock*' --job Dry" >&2
    exit 2
fi

filter=$1
shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
artifacts=${BENCHMARK_ARTIFACTS:-$root/BenchmarkDotNet.Artifacts}
results=$artifacts/results
mkdir -p "$results"

# Reports older than this marker come from earlier runs and do not count.
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

dotnet run -c Release --project "$root/benchmarks/Sanctuary.Benchmarks" -- \
    --filter "$filter" --artifacts "$artifacts" "$@"

reports=$(find "$results" -name '*-report.csv' -newer "$marker" | wc -l)
if [[ $reports -eq 0 ]]; then
    echo "error: no benchmark results were written to $results. Check that the filter '$filter' matches a name in --list flat" >&2
    exit 1
fi

echo "$reports benchmark report(s) written to $results"
