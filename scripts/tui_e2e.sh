#!/usr/bin/env bash
# The TUI against the real engine in a real terminal (tmux):
#  1. change the margin mid-run with the keys and find the change in
#     events.jsonl at the step it was applied;
#  2. training speed with the TUI attached vs headless, alternating runs
#     (target: at least 95%).
#   bash scripts/tui_e2e.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
work=$(mktemp -d)
trap 'tmux kill-session -t ccface-e2e 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/ccface" .
sets=(--set teacher.epochs=3 --set student.epochs=0 --set ckpt.every_minutes=0)

# 1. Knob change through the keys.
tmux new-session -d -s ccface-e2e -x 120 -y 40 "$work/ccface --sessions $work/knob ${sets[*]}"
until grep -q '"kind":"point"' "$work"/knob/*/events.jsonl 2>/dev/null; do sleep 0.2; done
tmux send-keys -t ccface-e2e Down Right   # second knob (margin), one step up
sleep 2
screen=$(tmux capture-pane -t ccface-e2e -p)
echo "$screen" | grep -E "margin .*→" || { echo "no margin change on screen"; echo "$screen"; exit 1; }
tmux send-keys -t ccface-e2e q
sleep 0.5
tmux send-keys -t ccface-e2e y
for _ in $(seq 1 100); do tmux has-session -t ccface-e2e 2>/dev/null || break; sleep 0.2; done
tmux kill-session -t ccface-e2e 2>/dev/null || true
python3 - "$work"/knob/*/events.jsonl <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
hyper = [e for e in ev if e["kind"] == "hyper" and e["knob"] == "margin"]
assert hyper, "no margin change in events.jsonl"
h = hyper[0]
after = [e for e in ev if e["kind"] == "point" and e["step"] > h["step"]]
print(f'events.jsonl: margin {h["old"]} -> {h["new"]} at step {h["step"]} by {h["by"]}; {len(after)} steps trained after it')
PY

# 2. Throughput, TUI attached vs headless (median teacher img/s per run).
median() { python3 -c 'import json,sys,statistics
v=[json.loads(l)["values"]["img_per_s"] for l in open(sys.argv[1]) if "\"kind\":\"point\"" in l]
print(round(statistics.median(v[len(v)//5:])))' "$1"; }
for i in $(seq 1 "$rounds"); do
  "$work/ccface" train --headless --sessions "$work/h$i" "${sets[@]}" >/dev/null
  tmux new-session -d -s ccface-e2e -x 120 -y 40 "$work/ccface --sessions $work/t$i ${sets[*]}"
  until grep -q '"kind":"done"' "$work"/t$i/*/events.jsonl 2>/dev/null; do sleep 0.5; done
  tmux send-keys -t ccface-e2e q
  sleep 1; tmux kill-session -t ccface-e2e 2>/dev/null || true
  echo "round $i: headless $(median "$work"/h$i/*/events.jsonl) img/s, TUI $(median "$work"/t$i/*/events.jsonl) img/s"
done
