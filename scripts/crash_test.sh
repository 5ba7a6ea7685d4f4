#!/usr/bin/env bash
# Crash safety: SIGKILL a training process at 20 random moments (some land
# mid-checkpoint, with checkpoints every 3 steps). After every kill the
# session must still list, resume from a good checkpoint and say from which
# step; at the end the run finishes and its timeline holds every step once.
#   bash scripts/crash_test.sh [kills]
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/ccface" .
root="$work/sessions"
sets=(--preset tiny --set teacher.epochs=30 --set ckpt.every_steps=3 --set ckpt.every_minutes=0)

"$work/ccface" train --headless --sessions "$root" "${sets[@]}" >"$work/run.log" 2>&1 &
pid=$!
for i in $(seq 1 "$kills"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.0, 4.0), 2))')"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  id=$(ls "$root" | head -1)
  "$work/ccface" sessions --sessions "$root" | grep -q "$id" || { echo "kill $i: session does not list"; exit 1; }
  # Emptied before the start: a background child's own `>` may truncate
  # the log after the wait below has read the previous run's "resuming".
  : >"$work/run.log"
  "$work/ccface" resume "$id" --headless --sessions "$root" >>"$work/run.log" 2>&1 &
  pid=$!
  # Up to a minute: on a busy machine loading the data alone can take
  # more than the 10 s this once allowed (the flaky failures).
  for _ in $(seq 1 600); do grep -q "resuming\|Error\|ccface:" "$work/run.log" && break; sleep 0.1; done
  line=$(grep -m1 "resuming\|ccface:" "$work/run.log" || true)
  case "$line" in
    resuming*) echo "kill $i: $line" ;;
    *) echo "kill $i: resume failed: $line"; cat "$work/run.log"; exit 1 ;;
  esac
done
wait $pid
grep -q "finished" "$work/run.log" || { echo "the run did not finish"; tail "$work/run.log"; exit 1; }
python3 - "$root/$(ls "$root" | head -1)/events.jsonl" <<'PY'
import json, sys
# The timeline: a start event at step S supersedes earlier records after S.
kept = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e["kind"] == "start":
        kept = {s: v for s, v in kept.items() if s <= e["step"]}
    if e["kind"] == "point":
        kept[e["step"]] = e
steps = sorted(kept)
assert steps == list(range(1, steps[-1] + 1)), "missing steps in the timeline"
print(f"finished after {len(steps)} steps, every step recorded once in the timeline")
PY
