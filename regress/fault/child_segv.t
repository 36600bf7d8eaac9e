#!/bin/sh
#
# kill -SEGV of either child while MTA sessions wait for probes: the
# parent logs which child died and of what signal, stops the other child
# and exits non-zero within a second or two; the waiting MTA sessions see
# their connection end at once instead of hanging to their own timeout.
# (kill -9 of a child: regress/privsep/childdeath.t; of the parent:
# regress/privsep/parentdeath.t.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

# AddressSanitizer would catch the signal and report a crash, and die of
# the sandbox while it does: let the signal do what it does.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
export ASAN_OPTIONS

# Replies take 500 ms: a probe on a new session about 2 s.
start_backend -d 500 -U a@example.net
cat >"$T/body" <<EOF2
timeout connect 2
timeout reply 2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

# child name: the pid of the parent's child with that title
child() {
	for _p in $(cat /proc/"$SB_PID"/task/*/children 2>/dev/null); do
		[ "$(tr -d '\0' <"/proc/$_p/cmdline" 2>/dev/null)" = "scam-back: $1" ] &&
		    echo "$_p" && return 0
	done
	return 1
}

# gone pid deciseconds: the process exited (a zombie counts) in time
gone() {
	_n=$2
	while [ "$_n" -gt 0 ]; do
		case "$(ps -o stat= -p "$1" 2>/dev/null)" in
		""|Z*)	return 0 ;;
		esac
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

for victim in "milter engine" prober; do
	: >"$T/sb.log"
	start_scamback <"$T/body"
	v=$(child "$victim") || fail "no $victim"
	if [ "$victim" = prober ]; then
		other=$(child "milter engine")
	else
		other=$(child prober)
	fi
	[ -n "$other" ] || fail "no other child"

	# Ten MTA sessions wait for their probes.
	start=$(date +%s%N)
	drv -t 8 -n 10 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
	    'mail <x@remote.test>' "rcpt <w{#}@example.net>" >"$T/mta" 2>&1 &
	mta=$!
	sleep 0.5
	kill -SEGV "$v"
	faults 1
	gone "$SB_PID" 20 || fail "parent still running 2 s after the $victim's SEGV"
	wait "$SB_PID"
	rc=$?
	[ "$rc" -ne 0 ] || fail "parent exited 0 after the $victim's SEGV"
	gone "$other" 10 || fail "the other child survived the $victim's death"
	grep -q "$victim (pid $v) terminated by signal 11" "$SB_LOG" ||
	    fail "no log line naming the $victim: $(cat "$SB_LOG")"
	wait "$mta"
	ms=$(ms_since "$start")
	echo "$victim: parent exited $rc, MTA sessions ended after $ms ms"
	[ "$ms" -lt 4000 ] || fail "MTA sessions hung for $ms ms"
	grep -q 'rcpt <w[0-9]*@example.net>: continue' "$T/mta" &&
	    [ "$victim" = "milter engine" ] &&
	    fail "a verdict from a dead engine: $(cat "$T/mta")"
done
stop_backend
exit 0
