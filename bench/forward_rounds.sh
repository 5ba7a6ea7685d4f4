#!/bin/bash
# Interleaved rounds of the imported recogniser's forward pass: the CPU's
# FMA peak, then each ccface test binary, then PyTorch's frozen TorchScript
# path, in the same minute, so that the host's clock moves all of them
# alike. One line per round: round, time, FMA peak (GFLOP/s per core), each
# binary's img/s, PyTorch's median and best img/s.
#
#   go test -c -o /tmp/before.test ./engine/onnx/   # at the older commit
#   go test -c -o /tmp/after.test ./engine/onnx/
#   bench/forward_rounds.sh 8 /tmp/before.test /tmp/after.test
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/forward_rounds.sh ROUNDS TEST_BINARY..." >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=$1
shift
for b in "$@"; do
  [ -x "$b" ] || { echo "forward_rounds: $b is not an executable test binary (go test -c -o $b ./engine/onnx/)" >&2; exit 2; }
done
[ -f "$root/../shared/models/mobilefacenet.onnx" ] || { echo "forward_rounds: $root/../shared/models/mobilefacenet.onnx is missing" >&2; exit 2; }
peak=$(mktemp)
trap 'rm -f "$peak"' EXIT
gcc -O2 -o "$peak" "$root/bench/fma_peak.c"
for r in $(seq "$rounds"); do
  line="$r $(date -u +%H:%M) $("$peak" | cut -d' ' -f1)"
  for b in "$@"; do
    ips=$(cd "$root/engine/onnx" && "$b" -test.run '^$' -test.bench MobileFaceNetForward -test.benchtime 10x | grep -o '[0-9.]* img/s' | cut -d' ' -f1) ||
      { echo "forward_rounds: $b printed no img/s; run it from engine/onnx with -test.bench MobileFaceNetForward -test.v to see why" >&2; exit 1; }
    line="$line $ips"
  done
  torch=$(cd "$root" && OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_onnx.py ../shared/models/mobilefacenet.onnx --batch 64 --threads 2 2>/dev/null) ||
    { echo "forward_rounds: bench/torch_onnx.py failed; it needs Debian's python3-torch and python3-onnx (apt-get install python3-torch python3-onnx)" >&2; exit 1; }
  echo "$line $(echo "$torch" | sed 's/.*median \([0-9.]*\) img\/s, best \([0-9.]*\)/\1 \2/')"
done
