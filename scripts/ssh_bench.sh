#!/usr/bin/env bash
# Training throughput of one `ccface serve` run with 0, 1 and 5 SSH clients
# connected, alternating within the same run (0,1,5 then 5,1,0, ... so a
# drift of the run's speed cancels out).
#
# Each client is the real OpenSSH client on a 160×45 pty (script(1) gives it
# the terminal; its output is discarded, so no terminal emulator's cost is
# counted, but ssh's own decryption is: the clients share this machine's
# cores with the server, which makes the numbers pessimistic).
#
# Throughput is measured from the run itself: the step of the newest point
# in events.jsonl at the start and end of each window, over the wall time.
#
# Usage: scripts/ssh_bench.sh [rounds=3] [seconds-per-window=20]
#        CCFACE=/path/to/ccface PRESET=tiny REDRAW=250ms scripts/ssh_bench.sh 4 30
# Needs: go, ssh, ssh-keygen, script (util-linux), jq.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-20}
settle=${SETTLE:-4}
preset=${PRESET:-tiny}
batch=${BATCH:-32}

work=$(mktemp -d /tmp/ccface-ssh-bench.XXXXXX)
port=${PORT:-$((20000 + RANDOM % 20000))}
pid=""
clients=()
stop_clients() { # each client is its own process group: sleep, script, ssh
	for c in "${clients[@]}"; do kill -TERM -- "-$c" 2>/dev/null || true; done
	for c in "${clients[@]}"; do wait "$c" 2>/dev/null || true; done
	clients=()
}
cleanup() {
	stop_clients
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${CCFACE:-}" ]; then
	go build -o "$work/ccface" .
	CCFACE=$work/ccface
fi
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/key"
cp "$work/key.pub" "$work/operators"

"$CCFACE" serve --preset "$preset" --set teacher.epochs=1000 --set teacher.batch="$batch" \
	--sessions "$work/sessions" --listen "127.0.0.1:$port" --authorized-keys "$work/operators" \
	--idle-timeout 0 --linger 0 --max-clients 16 ${REDRAW:+--redraw "$REDRAW"} >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 600); do grep -q "^serving on" "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
sess=$(awk '/^session /{print $2; exit}' "$work/serve.out")
echo "[127.0.0.1]:$port $(cat "$work/sessions/ssh_host_ed25519.pub")" >"$work/known_hosts"

connect() {
	local cmd="stty rows 45 cols 160; exec ssh -tt -p $port -i $work/key -o IdentitiesOnly=yes \
-o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR bench@127.0.0.1"
	# sleep holds script's stdin open: EOF would reach the TUI as a key.
	setsid bash -c "sleep 100000 | script -qfc '$cmd' /dev/null" </dev/null >/dev/null 2>&1 &
	clients+=($!)
}
step_now() {
	tail -n 200 "$sess/events.jsonl" | jq -s 'map(select(.kind == "point")) | last | .step'
}
tck=$(getconf CLK_TCK)
cpu_now() { # the server's user+system CPU seconds
	awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$pid/stat"
}

echo "warming up (${settle}s + 10s)..."
sleep $((settle + 10))
order=()
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then order+=(0 1 5); else order+=(5 1 0); fi
done
declare -A steps=() wall=() cpu=()
for n in "${order[@]}"; do
	for _ in $(seq "$n"); do connect; done
	sleep "$settle" # connect and replay the history
	s0=$(step_now)
	t0=$(date +%s.%N)
	c0=$(cpu_now)
	sleep "$secs"
	s1=$(step_now)
	t1=$(date +%s.%N)
	c1=$(cpu_now)
	live=$(($(grep -c "connected as" "$work/serve.err" || true) - $(grep -c "disconnected after" "$work/serve.err" || true)))
	stop_clients
	awk -v n="$n" -v live="$live" -v a="$s0" -v b="$s1" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v B="$batch" \
		'BEGIN{printf "clients %d (connected %d)  steps %d→%d in %.1fs  %6.1f img/s  server CPU %.1f ms/step, %.2f cores\n",
			n, live, a, b, t1-t0, (b-a)*B/(t1-t0), (c1-c0)*1000/(b-a), (c1-c0)/(t1-t0)}'
	[ "$live" = "$n" ] || echo "warning: $live clients connected, want $n (see $work/serve.err)" >&2
	steps[$n]=$((${steps[$n]:-0} + s1 - s0))
	wall[$n]=$(awk -v w="${wall[$n]:-0}" -v a="$t0" -v b="$t1" 'BEGIN{print w+b-a}')
	cpu[$n]=$(awk -v w="${cpu[$n]:-0}" -v a="$c0" -v b="$c1" 'BEGIN{print w+b-a}')
	sleep 1 # let the server tear the clients down
done
echo
base=$(awk -v s="${steps[0]}" -v w="${wall[0]}" -v B="$batch" 'BEGIN{print s*B/w}')
cbase=$(awk -v s="${steps[0]}" -v c="${cpu[0]}" 'BEGIN{print c/s}')
for n in 0 1 5; do
	awk -v n="$n" -v s="${steps[$n]}" -v w="${wall[$n]}" -v c="${cpu[$n]}" -v B="$batch" -v base="$base" -v cbase="$cbase" \
		'BEGIN{r=s*B/w; printf "%d clients: %7.1f img/s (%+5.1f%% vs 0)   server CPU %6.1f ms/step (%+5.1f%% vs 0)\n", n, r, (r/base-1)*100, c*1000/s, (c/s/cbase-1)*100}'
done
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "($(nproc) cores; preset $preset, batch $batch; redraw ${REDRAW:-default}; $rounds rounds of ${secs}s windows)"
