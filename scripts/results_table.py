#!/usr/bin/env python3
"""Compact markdown tables from a `ccface compare` compare.json: the
methods, with the per-seed (paired) difference to proxyless at the smallest
LR size; then the paired rank-1 differences of ccface over every other
method at each size:
    python3 scripts/results_table.py ccface-compare/compare.json"""
import json, statistics, sys

data = json.load(open(sys.argv[1]))
res, per_seed = data["results"], data["per_seed"]
order = ["teacher", "ccface", "ccface-noadapt", "ccface-noacr", "proxyless", "arcface-aug", "feature-kd"]
methods = [m for m in order if m in res] + [m for m in res if m not in order]
sizes = sorted(data["config"]["eval"]["lr_sizes"], reverse=True)
small = sizes[-1]
cols = [("HR ver", "hr.verif_acc"), ("HR r1", "hr.rank1")]
cols += [(f"{s}px r1", f"lr{s}.rank1") for s in sizes]
cols += [(f"{small}px r5", f"lr{small}.rank5"), (f"{small}px mAP", f"lr{small}.map"),
         (f"HR-{small}px ver", f"hrlr{small}.verif_acc")]
key = f"lr{small}.rank1"


def paired(a, b, k):
    """Mean ± std over seeds of a's minus b's metric k, in points."""
    d = [100 * (x[k] - y[k]) for x, y in zip(per_seed[a], per_seed[b]) if k in x and k in y]
    if not d:
        return "-"
    sd = statistics.pstdev(d) if len(d) > 1 else 0.0
    return f"{statistics.mean(d):+.1f} ± {sd:.1f}"


print("| method | " + " | ".join(c for c, _ in cols) + f" | {small}px r1 vs proxyless (paired) |")
print("|---|" + "---|" * (len(cols) + 1))
for m in methods:
    row = []
    for _, k in cols:
        c = res[m].get(k, {"n": 0})
        row.append(f"{c['mean']:.1f} ± {c['std']:.1f}" if c["n"] else "-")
    diff = paired(m, "proxyless", key) if "proxyless" in per_seed and m != "proxyless" else "-"
    print(f"| {m} | " + " | ".join(row) + f" | {diff} |")

if "ccface" in per_seed:
    keys = [(f"{s} px", f"lr{s}.rank1") for s in sorted(sizes)] + [("HR", "hr.rank1")]
    print()
    print("| paired, points of rank-1 | " + " | ".join(c for c, _ in keys) + " |")
    print("|---|" + "---|" * len(keys))
    for m in methods:
        if m not in ("ccface", "teacher") and m in per_seed:
            print(f"| ccface − {m} | " + " | ".join(paired("ccface", m, k) for _, k in keys) + " |")
