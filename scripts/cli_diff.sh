#!/usr/bin/env bash
# A refactor that should change no behaviour, checked as a user sees it:
# runs the same ccface commands (training, eval, export, data, model,
# sweep, compare, bad input, and the signal paths: serve + SIGINT, a sweep
# trial + USR1, compare + SIGINT, headless + SIGINT twice) with two
# binaries, and diffs what they print and write, with session IDs, paths,
# timings and the step a signal happened to land on masked out. Then
# compares the seeded runs' final checkpoints bit for bit. ~3 minutes per
# binary on 2 cores.
#   git archive BASE | tar -x -C /tmp/before && (cd /tmp/before && go build -o /tmp/ccface-before .)
#   go build -o /tmp/ccface-after . && bash scripts/cli_diff.sh /tmp/ccface-before /tmp/ccface-after
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
data=$repo/../shared/data
models=$repo/../shared/models
old=$(realpath "$1")
new=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# waitfor FILE REGEX: until a line of FILE matches (60 s at most).
waitfor() {
  for _ in $(seq 1 600); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "TIMEOUT waiting for $2" >>"$1"
}

# commands BIN OUT: every command's output in OUT/NN.txt, files under OUT/work.
commands() {
  local bin=$1 out=$2 n=0 w=$2/work
  mkdir -p "$w/home"
  export HOME=$w/home # no ~/.ssh/authorized_keys, no default sessions of the user's
  cd "$w" || exit
  c() {
    n=$((n + 1))
    local f
    f=$(printf "%s/%02d.txt" "$out" $n)
    echo "\$ $*" >"$f"
    "$@" >>"$f" 2>&1
    echo "exit $?" >>"$f"
  }
  local s=$w/sessions
  c "$bin" help
  c "$bin" knobs --preset tiny
  c "$bin" train --headless --preset tiny --sessions "$s" --name first --set teacher.epochs=2 --set student.epochs=1
  local id
  id=$(ls "$s" | head -1)
  c "$bin" sessions --sessions "$s"
  c "$bin" eval "$id" --sessions "$s" --data synth --model teacher
  c "$bin" eval "$id" --sessions "$s" --data synth --at 5
  c "$bin" eval "$id" --sessions "$s" --data synth --model bad
  c "$bin" eval "$id" --sessions "$s" --data synth --at x
  c "$bin" eval --sessions "$s"
  c "$bin" model inspect
  c "$bin" model export "$id" --sessions "$s" --onnx "$w/x.onnx"
  c "$bin" data preview --preset tiny --out "$w/preview.png"
  c "$bin" fork "$id" --sessions "$s" --at 60 --set margin=0.3 --headless --name forked
  c "$bin" fork "$id" --sessions "$s" --at x
  c "$bin" resume "$id" --sessions "$s" --headless
  c "$bin" resume --sessions "$s"
  c "$bin" export "$id" --sessions "$s" --out "$w/figs" --only loss,eval
  c "$bin" export $(ls "$s") --sessions "$s" --out "$w/figs2" --only loss
  if [ -d "$data/orl" ] && [ -f "$models/mobilefacenet.onnx" ]; then
    c "$bin" eval "$id" --sessions "$s" --data "$data/orl"
    c "$bin" eval "$models/mobilefacenet.onnx" --data "$data/orl" --set eval.lr_sizes=16
    c "$bin" model inspect "$models/mobilefacenet.onnx"
    c "$bin" data inspect "$data/orl" --out "$w/inspect.png"
    c "$bin" data preview --data "$data/orl" --preset real --out "$w/preview2.png" -n 3
  fi
  printf 'name: sw\npreset: tiny\nset:\n  teacher.epochs: 1\n  student.epochs: 1\ngrid:\n  margin: [0.3, 0.5]\nseeds: [1]\n' >"$w/sw.yaml"
  c "$bin" sweep plan "$w/sw.yaml"
  c "$bin" sweep plan "$w/sw.yaml"
  c "$bin" sweep slurm "$w/sw" --ccface /opt/ccface --max-array-size 1001
  c "$bin" sweep k8s "$w/sw" --image img:1
  c "$bin" sweep status "$w/sw"
  c "$bin" sweep status
  c "$bin" sweep
  c "$bin" train --headless --sweep "$w/sw" --index 0
  c "$bin" train --headless --sweep "$w/sw" --index 0
  c "$bin" train --headless --sweep "$w/sw" --index 0 --preset tiny
  c "$bin" sweep status "$w/sw"
  c "$bin" compare --sweep "$w/sw"
  c "$bin" compare --sweep "$w/sw" --seeds 2
  c "$bin" compare --baseline ccface
  c "$bin" compare --methods ccface,bogus --sessions "$s"
  c "$bin" sessions --sessions "$w/empty"
  c "$bin" nosuch

  # The signal paths.
  ssh-keygen -q -t ed25519 -f "$w/key" -N "" -C tester
  local p
  "$bin" serve --sessions "$w/s1" --listen 127.0.0.1:0 --authorized-keys "$w/key.pub" --linger 0 --preset tiny --set teacher.epochs=30 >"$out/serve.out" 2>"$out/serve.err" &
  p=$!
  waitfor "$out/serve.out" 'step [0-9]+/'
  kill -INT $p
  wait $p
  echo "exit $?" >>"$out/serve.out"
  cat "$w"/s1/*/serve.log >"$out/serve.log"
  "$bin" serve --sessions "$w/s2" --listen 127.0.0.1:0 --authorized-keys "$w/key.pub" --linger 1m --preset tiny --set teacher.epochs=1 --set student.epochs=1 >"$out/linger.out" 2>"$out/linger.err" &
  p=$!
  waitfor "$out/linger.out" 'serving its final screen'
  kill -INT $p
  wait $p
  echo "exit $?" >>"$out/linger.out"
  printf 'name: long\npreset: tiny\nset:\n  teacher.epochs: 30\n  ckpt.every_minutes: 0\ngrid:\n  margin: [0.3]\nseeds: [1]\n' >"$w/long.yaml"
  "$bin" sweep plan "$w/long.yaml" >/dev/null
  "$bin" train --headless --sweep "$w/long" --index 0 >"$out/usr1.out" 2>&1 &
  p=$!
  waitfor "$out/usr1.out" 'step [0-9]+/'
  kill -USR1 $p
  wait $p
  echo "exit $?" >>"$out/usr1.out"
  timeout -s TERM 3 "$bin" train --headless --sweep "$w/long" --index 0 >"$out/requeued.out" 2>&1
  echo "exit $?" >>"$out/requeued.out"
  "$bin" compare --preset tiny --set teacher.epochs=30 --methods ccface --seeds 1 --sessions "$w/s3" --out "$w/cmp" >"$out/compare.out" 2>&1 &
  p=$!
  waitfor "$out/compare.out" 'teacher step'
  kill -INT $p
  wait $p
  echo "exit $?" >>"$out/compare.out"
  "$bin" train --headless --preset tiny --set teacher.epochs=30 --sessions "$w/s4" >"$out/twice.out" 2>&1 &
  p=$!
  waitfor "$out/twice.out" 'step [0-9]+/'
  kill -INT $p
  sleep 0.3
  kill -INT $p # within a second: the same request, so still a clean stop
  wait $p
  echo "exit $?" >>"$out/twice.out"
}

# mask: what differs between two runs of the same binary.
mask() {
  sed -E -e "s#$work/(old|new)#W#g" -e "s#$old|$new#BIN#g" \
    -e 's#[0-9]{8}-[0-9]{6}-[0-9a-f]{4}#SID#g' -e 's#[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5,8}#TIME#g' \
    -e 's#[0-9.]+ (img/s|ms|s)\b#N \1#g' -e 's#[0-9.]+s\)#Ns)#g' -e 's#ETA [0-9hms.]+#ETA T#g' -e 's#[0-9]{2}:[0-9]{2}:[0-9]{2}#HH:MM:SS#g' \
    -e 's#(127\.0\.0\.1:|-p )[0-9]+#\1PORT#g' -e 's#SHA256:[A-Za-z0-9+/]+#FP#g' "$@"
}
# maskStop: also the step a signal landed on, and that step's progress line.
maskStop() {
  mask "$@" | sed -E -e 's#(step |ckpt-0*)[0-9]+#\1N#g' -e 's#^teacher  *ep.*#PROGRESS#' -e 's#(teacher step) N .*#\1 N ...#'
}

# In subshells: commands sets HOME and changes directory for ccface only.
echo "old: $old"
(commands "$old" "$work/old") >/dev/null 2>&1
echo "new: $new"
(commands "$new" "$work/new") >/dev/null 2>&1
status=0
for f in "$work"/old/*.txt; do
  b=$(basename "$f")
  diff <(mask "$f") <(mask "$work/new/$b") >"$work/d" || { echo "DIFFERS: $(head -1 "$f")"; cat "$work/d"; status=1; }
done
for b in serve.out serve.err serve.log linger.out linger.err usr1.out requeued.out compare.out twice.out; do
  diff <(maskStop "$work/old/$b") <(maskStop "$work/new/$b") >"$work/d" || { echo "DIFFERS: $b"; cat "$work/d"; status=1; }
done
for f in preview.png preview2.png inspect.png figs/loss.csv figs/eval.csv figs2/loss.csv sw/slurm/sweep.sbatch sw/k8s/job.yaml sw/k8s/pvc.yaml sw/trials.tsv sw/sweep.json sw/compare/compare.md sw/compare/compare.csv; do
  [ -e "$work/old/work/$f" ] || continue
  cmp -s <(mask "$work/old/work/$f") <(mask "$work/new/work/$f") || { echo "DIFFERS: $f"; status=1; }
done
ckpts=()
for side in old new; do # the first session (the seeded run), and a sweep trial's
  first=$(ls -d "$work/$side"/work/sessions/* | head -1)
  ckpts[${#ckpts[@]}]=$(ls "$first"/ckpt-*.ccf | tail -1)
  ckpts[${#ckpts[@]}]=$(ls "$work/$side"/work/sw/trials/t0000/ckpt-*.ccf | tail -1)
done
go run ./scripts/ckptdiff "${ckpts[0]}" "${ckpts[2]}" || status=1
go run ./scripts/ckptdiff "${ckpts[1]}" "${ckpts[3]}" || status=1
[ $status = 0 ] && echo "no difference"
exit $status
