#!/bin/sh
# kill -9 of either child: the parent logs which, stops the other child and
# exits non-zero within a second.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-privsep.sh"

ensure_user
for victim in "milter engine" prober; do
	start_daemon
	v=$(child_pid "$victim") || fail "no $victim"
	if [ "$victim" = prober ]; then
		other=$(child_pid "milter engine")
	else
		other=$(child_pid prober)
	fi
	kill -9 "$v"
	gone_within "$DPID" 10 || fail "parent still running 1 s after $victim was killed"
	wait "$DPID"
	rc=$?
	[ "$rc" -ne 0 ] || fail "parent exited 0 after $victim was killed"
	gone_within "$other" 10 || fail "the other child survived the $victim's death"
	grep -q "$victim (pid $v) terminated by signal 9" "$T/log" ||
	    fail "no log line naming the $victim: $(cat "$T/log")"
	rm -f "$T/milter.sock"
done
echo "ok: child death stops the daemon"
