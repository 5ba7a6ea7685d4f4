#!/usr/bin/env python3
"""Paired comparison of one method across several `ccface compare` runs
that differ in a knob (a tuning sweep): rank-1 means per run, and the
per-seed differences to the first (baseline) run, same seeds:
    python3 scripts/tune_table.py ccface BASE/compare.json lr=0.02:RUN/compare.json ..."""
import json, statistics, sys



def load(path):
    """A compare.json holding method, or exit with one line saying why."""
    try:
        with open(path) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"tune_table: {path}: {e}")
    if method not in run.get("per_seed", {}):
        sys.exit(f"tune_table: {path} has no {method} runs (it has {', '.join(run.get('per_seed', {})) or 'none'})")
    return run


if len(sys.argv) < 3 or any(":" not in a for a in sys.argv[3:]):
    sys.exit("usage: tune_table.py METHOD BASE/compare.json [LABEL:RUN/compare.json ...]")
method = sys.argv[1]
base = load(sys.argv[2])
runs = [("baseline", base)]
for arg in sys.argv[3:]:
    label, path = arg.split(":", 1)
    runs.append((label, load(path)))
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
