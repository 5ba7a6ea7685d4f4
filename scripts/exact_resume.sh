#!/usr/bin/env bash
# Exact resume at the default size: a run of 2N steps, and a run killed
# with SIGKILL after step N and resumed, must end with bit-identical weights
# and identical recorded metrics (same seed, same thread count).
#   bash scripts/exact_resume.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/ccface" .
sets=(--set teacher.epochs=2 --set student.epochs=1 --set ckpt.every_steps=50 --set ckpt.every_minutes=0 --set ckpt.keep=100)

echo "full run..."
"$work/ccface" train --headless --sessions "$work/a" "${sets[@]}" >"$work/a.log"
a=$(ls "$work/a")

echo "run to be killed..."
"$work/ccface" train --headless --sessions "$work/b" "${sets[@]}" >"$work/b.log" &
pid=$!
b=""
until [ -n "$b" ] && ls "$work/b/$b"/ckpt-0000000001[5-9]0.ccf >/dev/null 2>&1; do
  sleep 0.2
  b=$(ls "$work/b" 2>/dev/null | head -1 || true)
  kill -0 $pid 2>/dev/null || { echo "run ended before it could be killed"; exit 1; }
done
sleep 1.5 # past the checkpoint, so the kill loses recorded steps
kill -9 $pid
wait $pid 2>/dev/null || true
echo "killed at $(grep -c '"kind":"point"' "$work/b/$b/events.jsonl") recorded steps; resuming..."
"$work/ccface" resume "$b" --headless --sessions "$work/b" >"$work/b2.log"
grep -m1 resuming "$work/b2.log"

last() { ls "$1"/ckpt-*.ccf | tail -1; }
go run ./scripts/ckptdiff "$(last "$work/a/$a")" "$(last "$work/b/$b")"

# Metrics: the resumed session's timeline (latest record of each step)
# must equal the full run's, apart from wall-clock throughput.
python3 - "$work/a/$a/events.jsonl" "$work/b/$b/events.jsonl" <<'PY'
import json, sys
def points(path):
    out = {}
    for line in open(path):
        try:
            e = json.loads(line)
        except ValueError:
            continue  # a torn last line from the kill
        if e["kind"] == "point":
            v = dict(e["values"]); v.pop("img_per_s", None)
            out[e["step"]] = v
    return out
a, b = points(sys.argv[1]), points(sys.argv[2])
assert a.keys() == b.keys(), f"steps differ: {len(a)} vs {len(b)}"
bad = [s for s in a if a[s] != b[s]]
assert not bad, f"metrics differ at steps {bad[:5]}"
print(f"identical metrics at all {len(a)} steps")
PY
