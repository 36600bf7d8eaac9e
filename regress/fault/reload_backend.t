#!/bin/sh
#
# A reload that moves a backend to another port (127.0.0.1 port A -> B)
# retires the old backend's sessions and frees it while the daemon keeps
# answering: with an idle session open, with probes in flight, with a
# catch-all check held for a domain, and back and forth under load.  The
# prober once crashed here, right after "configuration changed, retiring
# sessions"; the parent then exits, so every step checks that it lives.
# Both ports are in the configuration from the start (backend "spare"):
# where Landlock restricts TCP ports, the prober may connect only to the
# ports it was started with.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

start_backend -d 100 -U a@example.net -U @all.test
porta=$BACKEND_PORT
loga=$BACKEND_LOG
start_backend -U a@example.net -U @all.test
portb=$BACKEND_PORT
logb=$BACKEND_LOG

# body port [catchall]: the configuration with backend "b" on that port
body() {
	cat <<EOF2
timeout connect 1
timeout reply 2
backend "b" {
	host 127.0.0.1 port $1
	catchall ${2:-ignore}
}
backend "spare" {
	host 127.0.0.1 port $portb
	catchall ignore
}
domain "example.net" backend "b"
domain "all.test" backend "b"
domain "spare.test" backend "spare"
EOF2
}

# reload port [catchall]: rewrite the file for that port and SIGHUP
reload() {
	{
		echo "listen on \"unix:$T/milter.sock\" mode 0666"
		echo 'cache file none'
		body "$@"
	} >"$T/sb.conf"
	hup_daemon
	faults 1
}

# rcpt address want: one session, one RCPT; the parent must survive it
rcpt() {
	out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' "rcpt <$1>") || fail "$1: driver exited $?"
	printf '%s\n' "$out" | grep -Eq "rcpt <$1>: $2" || {
		lost 1
		fail "$1: '$out' does not match '$2'"
	}
	alive || fail "daemon died: $(tail -5 "$SB_LOG")"
}

body "$porta" >"$T/body0"
start_scamback -v <"$T/body0"

# 1. An idle session to A is open when A goes away from the file.
rcpt a@example.net 'continue$'
expect_eq "one session to A" "$(backend_count '^connect ' "$loga")" 1
reload "$portb"
grep -q 'backend b: configuration changed, retiring sessions' "$SB_LOG" ||
    fail "not retired: $(tail -5 "$SB_LOG")"
sleep 0.3
alive || fail "daemon died after the reload: $(tail -5 "$SB_LOG")"
rcpt nobody@example.net 'reject 550 5.1.1'
expect_eq "new probe on B" "$(backend_count '^rcpt [0-9]+ <nobody@example.net>' "$logb")" 1
WAIT=5 waitfor grep -q 'backend b: retired' "$SB_LOG" ||
    fail "old backend not freed: $(tail -5 "$SB_LOG")"
expect_eq "A's session closed" "$(backend_count '^close ' "$loga")" 1

# 2. Probes in flight on A (its replies take 100 ms) when B replaces it.
reload "$porta"
drv -n 10 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
    'mail <x@remote.test>' 'rcpt <f{#}@example.net>' >"$T/flight" 2>&1 &
dpid=$!
sleep 0.3
reload "$portb"
wait $dpid || fail "sessions across the reload: $(cat "$T/flight")"
n=$(grep -c 'rcpt <f[0-9]*@example.net>: reject 550 5.1.1' "$T/flight")
[ "$n" -eq 10 ] || { lost $((10 - n)); fail "in flight: $(cat "$T/flight")"; }
alive || fail "daemon died: $(tail -5 "$SB_LOG")"
rcpt a@example.net 'continue$'

# 3. A catch-all check held for a domain when the backend is replaced.
reload "$porta" detect
drv -n 5 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
    'mail <x@remote.test>' 'rcpt <c{#}@all.test>' >"$T/held" 2>&1 &
dpid=$!
sleep 0.1
reload "$portb" detect
wait $dpid || fail "held probes across the reload: $(cat "$T/held")"
n=$(grep -c 'rcpt <c[0-9]*@all.test>: continue$' "$T/held")
[ "$n" -eq 5 ] || { lost $((5 - n)); fail "held: $(cat "$T/held")"; }
rcpt d@all.test 'continue$'

# 4. Back and forth under load, six times.
i=0
while [ $i -lt 6 ]; do
	drv -n 10 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
	    'mail <x@remote.test>' "rcpt <l{#}r$i@example.net>" \
	    "rcpt <a@example.net>" >"$T/load$i" 2>&1 &
	dpid=$!
	sleep 0.1
	if [ $((i % 2)) -eq 0 ]; then
		reload "$porta" detect
	else
		reload "$portb"
	fi
	wait $dpid || fail "round $i: $(cat "$T/load$i")"
	n=$(grep -Ec 'rcpt <l[0-9]+r[0-9]+@example.net>: reject 550 5.1.1|rcpt <a@example.net>: continue$' "$T/load$i")
	[ "$n" -eq 20 ] || { lost $((20 - n)); fail "round $i: $(cat "$T/load$i")"; }
	alive || fail "round $i: daemon died: $(tail -5 "$SB_LOG")"
	i=$((i + 1))
done
sleep 0.5
alive || fail "daemon died: $(tail -5 "$SB_LOG")"
grep -q 'terminated by signal' "$SB_LOG" && fail "a child died: $(grep signal "$SB_LOG")"
stop_scamback
stop_backend
exit 0
