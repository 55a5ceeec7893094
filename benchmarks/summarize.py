#!/usr/bin/env python3
"""Print Markdown ratio tables from BenchmarkDotNet's full JSON reports.

Usage: benchmarks/summarize.py [RESULTS_FOLDER]   (default: BenchmarkDotNet.Artifacts/results)

BenchmarkDotNet's own Ratio column is based on the mean. On a shared machine the mean also
measures other processes' load, so these tables add the ratio of medians and the ratio of
minima, each against the baseline row of the same group (same parameters, same category).
"""

import glob
import json
import os
import sys

# Baseline method of each benchmark class. The give-up class has one baseline per category,
# and its category is the suffix of the method name.
BASELINES = {
    "AsyncLockUncontendedSyncBenchmarks": {"": "InterlockedPair"},
    "AsyncLockUncontendedAsyncBenchmarks": {"": "SemaphoreSlimWaitAsync"},
    "AsyncLockContendedBenchmarks": {"": "SemaphoreSlimWaitAsync"},
    "AsyncLockGiveUpBenchmarks": {"Timeout": "SemaphoreSlimTimeout", "Token": "SemaphoreSlimToken"},
}


def category_of(type_name, method):
    if type_name != "AsyncLockGiveUpBenchmarks":
        return ""
    return "Timeout" if method.endswith("Timeout") else "Token"


def format_time(nanoseconds):
    if nanoseconds >= 1_000_000:
        return f"{nanoseconds / 1_000_000:,.2f} ms"
    if nanoseconds >= 1_000:
        return f"{nanoseconds / 1_000:,.2f} us"
    return f"{nanoseconds:,.2f} ns"


def metric(benchmark, metric_id):
    for entry in benchmark.get("Metrics") or []:
        if entry["Descriptor"]["Id"] == metric_id:
            return entry["Value"]
    return None


def print_table(type_name, group_key, rows):
    parameters, category = group_key
    baseline_name = BASELINES[type_name][category]
    baseline = next((row for row in rows if row["Method"] == baseline_name), None)
    if baseline is None:
        print(f"(no {baseline_name} row in {type_name} {parameters} {category}: ratios omitted)\n")

    title = " ".join(part for part in (parameters.replace("&", ", "), category) if part)
    if title:
        print(f"**{title}**\n")

    with_work_items = any(metric(row, "CompletedWorkItemCount") is not None for row in rows)
    header = "| Method | Mean | Median | Min | Ratio (median) | Ratio (min) | B/op |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if with_work_items:
        header += " Work items/op |"
        rule += "---:|"
    print(header)
    print(rule)

    for row in rows:
        statistics = row["Statistics"]
        if baseline is not None:
            median_ratio = f"{statistics['Median'] / baseline['Statistics']['Median']:.2f}"
            min_ratio = f"{statistics['Min'] / baseline['Statistics']['Min']:.2f}"
        else:
            median_ratio = min_ratio = "n/a"
        name = f"**{row['Method']}**" if row["Method"] == baseline_name else row["Method"]
        line = (
            f"| {name} | {format_time(statistics['Mean'])} | {format_time(statistics['Median'])} "
            f"| {format_time(statistics['Min'])} | {median_ratio} | {min_ratio} "
            f"| {row['Memory']['BytesAllocatedPerOperation']:,} |"
        )
        if with_work_items:
            work_items = metric(row, "CompletedWorkItemCount")
            line += f" {work_items:.2f} |" if work_items is not None else " |"
        print(line)
    print()


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join("BenchmarkDotNet.Artifacts", "results")
    reports = sorted(glob.glob(os.path.join(folder, "*-report-full.json")))
    if not reports:
        sys.exit(f"error: no *-report-full.json in {folder}; run benchmarks/run.sh first")

    for path in reports:
        with open(path, encoding="utf-8") as report:
            data = json.load(report)

        groups = {}
        for benchmark in data["Benchmarks"]:
            type_name = benchmark["Type"]
            if type_name not in BASELINES or "Statistics" not in benchmark or benchmark["Statistics"] is None:
                continue
            key = (benchmark["Parameters"] or "", category_of(type_name, benchmark["Method"]))
            groups.setdefault((type_name, key), []).append(benchmark)

        printed_type = None
        for (type_name, key), rows in groups.items():
            if type_name != printed_type:
                print(f"### {type_name}\n")
                printed_type = type_name
            print_table(type_name, key, rows)


if __name__ == "__main__":
    main()
