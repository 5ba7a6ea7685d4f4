#!/usr/bin/env bash
# Side-by-side training-step speed: ccface (engine/nn BenchmarkTrainStep) and
# the PyTorch mirror of the same network (bench/torch_peer.py), alternating,
# RUNS rounds; prints each round and the median img/s ratio ccface/PyTorch.
#
#   bench/compare.sh                       # width 16, 2 replicas vs 2 threads, 5 rounds
#   WIDTH=8 RUNS=7 bench/compare.sh
#   TAGS=openblas OPENBLAS_NUM_THREADS=1 bench/compare.sh
#
# Needs Go and Debian's python3-torch (apt-get install -y python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."

WIDTH=${WIDTH:-16}
DEPTH=1 # BenchmarkTrainStep's architecture: HR 32, depth 1, embed 128, 300 classes
RUNS=${RUNS:-5}
REPLICAS=${REPLICAS:-2}
THREADS=${THREADS:-2}
STEPS=${STEPS:-30}
TAGS=${TAGS:-}
PY=${PY:-/usr/bin/python3}

bin=$(mktemp -d)/nn.test
go test -c ${TAGS:+-tags "$TAGS"} -o "$bin" ./engine/nn
echo "ccface: $(go version | cut -d' ' -f3), tags='${TAGS}', width $WIDTH, $REPLICAS replicas; PyTorch: $THREADS threads; load average $(cut -d' ' -f1-3 /proc/loadavg)"

ours=() theirs=()
for r in $(seq "$RUNS"); do
  line=$("$bin" -test.run XXX -test.bench "TrainStep/width${WIDTH}/replicas${REPLICAS}\$" \
    -test.benchtime "${STEPS}x" -test.benchmem | grep '^BenchmarkTrainStep')
  o=$(awk '{for (i = 2; i <= NF; i++) if ($i == "img/s") print $(i-1)}' <<<"$line")
  rss=$(awk '{for (i = 2; i <= NF; i++) if ($i == "peak-RSS-MiB") print $(i-1)}' <<<"$line")
  bop=$(awk '{for (i = 2; i <= NF; i++) if ($i == "B/op") print $(i-1)}' <<<"$line")
  gf=$(awk '{for (i = 2; i <= NF; i++) if ($i == "GFLOP/s") print $(i-1)}' <<<"$line")
  cpu=$(awk '{for (i = 2; i <= NF; i++) if ($i == "cpu-ms/step") print $(i-1)}' <<<"$line")
  t=$(OMP_NUM_THREADS=$THREADS "$PY" bench/torch_peer.py --threads "$THREADS" --width "$WIDTH" \
    --depth "$DEPTH" --steps "$STEPS" 2>/dev/null | grep '^RESULT')
  p=$(sed -n 's/.* img\/s=\([0-9.]*\).*/\1/p' <<<"$t")
  prss=$(sed -n 's/.* peakRSS=\([0-9]*\)MiB.*/\1/p' <<<"$t")
  pcpu=$(sed -n 's/.* cpu-ms\/step=\([0-9.]*\).*/\1/p' <<<"$t")
  ours+=("$o") theirs+=("$p")
  printf 'round %d: ccface %7.1f img/s (%s cpu-ms/step, %s GFLOP/s, %s B/step, peak RSS %s MiB)  PyTorch %7.1f img/s (%s cpu-ms/step, peak RSS %s MiB)\n' \
    "$r" "$o" "$cpu" "$gf" "$bop" "$rss" "$p" "$pcpu" "$prss"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
mo=$(median "${ours[@]}")
mt=$(median "${theirs[@]}")
awk -v o="$mo" -v t="$mt" 'BEGIN {printf "median: ccface %.1f img/s, PyTorch %.1f img/s, ratio ccface/PyTorch %.2fx\n", o, t, o / t}'
