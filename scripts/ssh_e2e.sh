#!/usr/bin/env bash
# End-to-end check of `ccface serve` with the real OpenSSH client in tmux,
# against a real (tiny, lengthened) training run:
#
#   1. an operator (alice) and a viewer (bob) connect with ssh -t;
#   2. alice raises the margin (↓ →); bob's screen shows the change and who
#      made it; bob's own attempt is refused on his screen;
#   3. an unknown key and a password login are refused;
#   4. both detach with q; training goes on (events.jsonl keeps growing)
#      and the hyper event in events.jsonl carries alice's fingerprint;
#   5. SIGTERM with a client connected stops the server cleanly: the client
#      is told and gets a farewell; final checkpoint, done event, exit 0.
#
# Usage: scripts/ssh_e2e.sh            (builds ./ccface into a temp dir)
#        CCFACE=/path/to/ccface scripts/ssh_e2e.sh
# Needs: go, tmux, ssh, ssh-keygen, jq (apt-get install -y tmux openssh-client jq).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in tmux ssh ssh-keygen jq; do
	command -v "$tool" >/dev/null || { echo "ssh_e2e: needs $tool (apt-get install -y tmux openssh-client jq)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ccface-ssh-e2e.XXXXXX)
port=${PORT:-$((20000 + RANDOM % 20000))}
tm="tmux -L ccface-e2e-$$"
pid=""
cleanup() {
	$tm kill-server 2>/dev/null || true
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	echo "--- server stdout (tail)" >&2; tail -20 "$work/serve.out" >&2 || true
	echo "--- server log" >&2; cat "$work/serve.err" >&2 || true
	for p in alice bob carol; do
		echo "--- $p's screen" >&2; $tm capture-pane -p -t "$p" 2>/dev/null >&2 || true
	done
	exit 1
}
pass() { echo "ok   $*"; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local secs=$1 what=$2
	shift 2
	for _ in $(seq $((secs * 5))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	fail "timed out after ${secs}s waiting for $what"
}
screen_has() { $tm capture-pane -p -t "$1" | grep -qF -- "$2"; }
pane_dead() { [ "$($tm display-message -p -t "$1" '#{pane_dead}')" = 1 ]; }

if [ -z "${CCFACE:-}" ]; then
	echo "building ccface..."
	go build -o "$work/ccface" .
	CCFACE=$work/ccface
fi

ssh-keygen -q -t ed25519 -N '' -C alice -f "$work/alice"
ssh-keygen -q -t ed25519 -N '' -C bob -f "$work/bob"
ssh-keygen -q -t ed25519 -N '' -C mallory -f "$work/mallory"
cp "$work/alice.pub" "$work/operators"
cp "$work/bob.pub" "$work/viewers"
alice_fp=$(ssh-keygen -lf "$work/alice.pub" | awk '{print substr($2, 1, 15)}') # SHA256:xxxxxxxx

# A tiny run made long enough to outlive the check (it is stopped at the end).
"$CCFACE" serve --preset tiny --set teacher.epochs=200 --sessions "$work/sessions" \
	--listen "127.0.0.1:$port" --authorized-keys "$work/operators" --viewers "$work/viewers" \
	--linger 0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
wait_for 120 "the server to listen" grep -q "^serving on" "$work/serve.out"
sess=$(awk '/^session /{print $2; exit}' "$work/serve.out")
[ -d "$sess" ] || fail "no session directory in the server's output"
mode=$(stat -c %a "$work/sessions/ssh_host_ed25519")
[ "$mode" = 600 ] || fail "host key mode $mode, want 600"
pass "server up on port $port, session $sess, host key created 0600"

# Pin the host key: the clients check it strictly.
echo "[127.0.0.1]:$port $(cat "$work/sessions/ssh_host_ed25519.pub")" >"$work/known_hosts"
sshopts=(-p "$port" -o IdentitiesOnly=yes -o UserKnownHostsFile="$work/known_hosts"
	-o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR)

# Refusals first (plain ssh, no tmux needed).
if out=$(ssh "${sshopts[@]}" -i "$work/mallory" -tt tester@127.0.0.1 2>&1 </dev/null); then fail "unknown key got in: $out"; fi
grep -q "Permission denied (publickey)" <<<"$out" || fail "unknown key: $out"
pass "unknown key refused: $(tr -d '\r' <<<"$out" | tail -1)"
if out=$(ssh "${sshopts[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
	tester@127.0.0.1 2>&1 </dev/null); then fail "password login got in: $out"; fi
grep -q "Permission denied (publickey)" <<<"$out" || fail "password: $out"
pass "password / keyboard-interactive not offered: $(tr -d '\r' <<<"$out" | tail -1)"

# Two real clients in tmux: alice operates, bob watches.
$tm new-session -d -s alice -x 160 -y 45 "ssh ${sshopts[*]} -i $work/alice -t alice@127.0.0.1"
$tm set-option -g remain-on-exit on
$tm new-session -d -s bob -x 130 -y 40 "ssh ${sshopts[*]} -i $work/bob -t bob@127.0.0.1"
wait_for 30 "alice's TUI" screen_has alice "▶ running"
wait_for 30 "bob's TUI" screen_has bob "read-only"
pass "alice (operator) and bob (viewer) connected"

$tm send-keys -t alice Down Right # head → margin, 0.4 + 0.05
wait_for 30 "bob to see alice's margin change" screen_has bob "margin 0.4→0.45"
screen_has bob "by alice@$alice_fp" || fail "bob's log line does not name alice@$alice_fp"
pass "bob sees: $($tm capture-pane -p -t bob | grep -F 'margin 0.4→0.45' | head -1 | sed 's/^ *//')"

$tm send-keys -t bob Right
wait_for 10 "bob's refusal" screen_has bob "read-only viewer: knobs and controls are disabled"
pass "bob's knob key refused on his screen"

# Both detach; the run must go on without them.
$tm send-keys -t alice q
$tm send-keys -t bob q
wait_for 15 "alice's ssh to end" pane_dead alice
wait_for 15 "bob's ssh to end" pane_dead bob
kill -0 "$pid" || fail "the server exited when the clients detached"
wait_for 15 "the server to log both disconnects" test "$(grep -c 'disconnected after' "$work/serve.err")" -ge 2
n1=$(wc -l <"$sess/events.jsonl")
sleep 4
n2=$(wc -l <"$sess/events.jsonl")
[ "$n2" -gt "$n1" ] || fail "events.jsonl stopped growing after the clients left ($n1 → $n2 lines)"
s2=$(jq -s 'map(select(.kind == "point")) | last | .step' "$sess/events.jsonl")
pass "both detached; training goes on: events.jsonl $n1 → $n2 lines, now at step $s2"

hyper=$(jq -c 'select(.kind == "hyper" and .knob == "margin")' "$sess/events.jsonl")
grep -qF "\"by\":\"alice@$alice_fp\"" <<<"$hyper" || fail "no margin hyper event by alice@$alice_fp in events.jsonl: $hyper"
pass "events.jsonl: $hyper"
grep -q "alice@$alice_fp: set margin=0.45" "$sess/serve.log" || fail "serve.log lacks alice's action"
pass "serve.log: $(grep -F "set margin" "$sess/serve.log" | head -1)"

# SIGTERM with a client connected: it is told, the run checkpoints and
# ends, the client gets a farewell, the server exits 0.
$tm new-session -d -s carol -x 130 -y 40 "ssh ${sshopts[*]} -i $work/bob -t bob@127.0.0.1"
wait_for 30 "a third client's TUI" screen_has carol "read-only"
kill -TERM "$pid"
wait_for 60 "the connected client's farewell" screen_has carol "ccface: the server has closed: the run ended at step"
pass "connected client told: $($tm capture-pane -p -t carol | grep -F 'ccface: the server has closed' | head -1)"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null && fail "server still running 60s after SIGTERM"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "server exited with $rc after SIGTERM"
tail=$(jq -r 'select(.kind == "checkpoint" or .kind == "done") | "\(.kind) @\(.step) \(.message // "")"' "$sess/events.jsonl" | tail -2 | paste -sd ';')
grep -q "checkpoint @.* stop;done @.* stopped at step" <<<"$tail" || fail "no final checkpoint + done after SIGTERM: $tail"
pass "SIGTERM: $tail; exit 0"
echo "PASS ssh_e2e"
