#!/usr/bin/env python3
"""Paired comparison of one method across several `ccface compare` runs
that differ in a knob (a tuning sweep): rank-1 means per run, and the
per-seed differences to the first (baseline) run, same seeds:
    python3 scripts/tune_table.py ccface BASE/compare.json lr=0.02:RUN/compare.json ..."""
import json, statistics, sys

method, base = sys.argv[1], json.load(open(sys.argv[2]))
runs = [("baseline", base)]
for arg in sys.argv[3:]:
    label, path = arg.split(":", 1)
    runs.append((label, json.load(open(path))))
sizes = sorted(base["config"]["eval"]["lr_sizes"], reverse=True)
keys = [("HR", "hr.rank1")] + [(f"{s}px", f"lr{s}.rank1") for s in sizes]


def seeds(run):  # per_seed lists seed, seed+1, ... in order
    first = run["config"]["seed"]
    return {first + i: r for i, r in enumerate(run["per_seed"][method])}


b = seeds(base)
print("| setting | " + " | ".join(f"{n} r1" for n, _ in keys) + " | " + " | ".join(f"{n} r1 − baseline (paired)" for n, _ in keys) + " |")
print("|---|" + "---|" * (2 * len(keys)))
for label, run in runs:
    s = seeds(run)
    common = [k for k in s if k in b]
    means, diffs = [], []
    for _, k in keys:
        v = [100 * s[x][k] for x in s]
        means.append(f"{statistics.mean(v):.1f} ± {statistics.pstdev(v):.1f}")
        d = [100 * (s[x][k] - b[x][k]) for x in common]
        diffs.append("-" if run is base or not d else f"{statistics.mean(d):+.1f} ± {statistics.pstdev(d):.1f}")
    print(f"| {label} | " + " | ".join(means) + " | " + " | ".join(diffs) + " |")
