#!/bin/sh
#
# Idle MTA connections cannot exhaust the engine's descriptors.  Any local
# user can connect to an inet milter socket and say nothing.  The daemon
# raises its descriptor limit to the hard limit at start, so 600 idle
# connections under a soft limit of 256 leave verdicts and cache saves
# as they were.  Under a hard limit of 256, libmilter is kept out of the
# last descriptors: connections beyond that are closed at once (never a
# hang, no core spinning on accept), logged once with what to do, and
# the cache save and scambackctl go on working.  libmilter's own idle
# timeout ends connections that say nothing (not waited for here).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

ensure_user
start_backend -U ok@example.net

# The idle connections: opened and held by one process until killed.
idle() {
	python3 - "$1" "$2" >"$T/idle.out" 2>&1 <<'EOP' &
import resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
held = []
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        print("connect %d: %s" % (i, e), flush=True)
        break
    held.append(s)
print("holding", len(held), flush=True)
time.sleep(600)
EOP
	IDLE_PID=$!
	track $IDLE_PID
	waitfor grep -q '^holding' "$T/idle.out" || fail "idle: $(cat "$T/idle.out")"
}

# daemon LIMITS: scam-back on an inet socket with a cache file, started
# under these ulimit options.
daemon() {
	MPORT=$(freeport)
	rm -f "$T/cache"
	SB_ULIMIT=$1 start_scamback <<EOF2
listen on "inet:$MPORT@127.0.0.1"
cache file "$T/cache"
skip local no
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2
}

# honest N: N MTA sessions at once, each a valid and an invalid RCPT;
# prints how many got both verdicts right, how many were closed at once.
honest() {
	DRV_TIMEOUT=5 drv -n "$1" -s "$MILTER" 'connect mx.remote.test 198.51.100.{#}' \
	    'mail <x@remote.test>' 'rcpt <ok@example.net>' \
	    'rcpt <no{#}@example.net>' >"$T/honest" 2>&1
	awk '/rcpt <ok@example.net>: continue$/ { ok++ }
	    /rcpt <no[0-9]+@example.net>: reject 550 5\.1\.1/ { no++ }
	    END { printf "%d %d\n", ok, no }' "$T/honest"
}

engine_cpu() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# 1. Soft 256, hard as it is: raised at start; 600 idle connections
# change nothing.
daemon "-Sn 256"
idle "$MPORT" 600
hostile 600
grep -q "holding 600" "$T/idle.out" || fail "idle: $(cat "$T/idle.out")"
set -- $(honest 20)
expect_eq "valid verdicts beside 600 idle connections" "$1" 20
expect_eq "invalid verdicts beside 600 idle connections" "$2" 20
ctl save cache >"$T/save" 2>&1 || fail "save: $(cat "$T/save")"
expect_match "save" "$(cat "$T/save")" 'cache saved: 21 entries'
alive || fail "daemon died: $(tail -5 "$SB_LOG")"
echo "ok: 600 idle connections under a soft limit of 256"
kill "$IDLE_PID"
stop_scamback

# 2. Hard 256: what does not fit is closed at once, the rest goes on.
daemon "-n 256"
pid=$(engine_pid) || fail "no engine"
idle "$MPORT" 600
hostile 600
t0=$(engine_cpu "$pid")
start=$(date +%s%N)
set -- $(honest 20)
ms=$(ms_since "$start")
echo "honest sessions beside 600 idle ones under 256 descriptors: $1 valid, $2 invalid, the rest closed, in $ms ms"
[ "$ms" -lt 5000 ] || fail "honest sessions hung: $(head "$T/honest")"
grep -Eq 'rcpt|eof|closed' "$T/honest" || fail "$(head "$T/honest")"
ctl save cache >"$T/save" 2>&1 || fail "save: $(cat "$T/save")"
expect_match "save under the limit" "$(cat "$T/save")" 'cache saved'
ctl show stats >/dev/null || fail "control socket lost"
sleep 2
t1=$(engine_cpu "$pid")
# Clock ticks (100 a second): spinning on accept would burn ~300+.
[ $((t1 - t0)) -lt 150 ] || fail "the engine spins: $((t1 - t0)) ticks in $((ms / 1000 + 2)) s"
expect_eq "the descriptor line, once" \
    "$(grep -c 'out of descriptors' "$SB_LOG")" 1
grep 'out of descriptors' "$SB_LOG"
alive || fail "daemon died: $(tail -5 "$SB_LOG")"
kill "$IDLE_PID"
stop_scamback
