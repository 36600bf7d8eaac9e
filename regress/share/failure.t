#!/bin/sh
#
# The store is never in the way of mail.  Killed in the middle of a run:
# no verdict is lost, none waits, each gateway logs it once and works
# alone.  Restarted: both use it again, without a restart of their own.
# Hung (SIGSTOP): a verdict waits 100 ms for it, not more, then the
# gateway works alone.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis
: >"$T/valid"
for i in $(seq 1 20); do
	echo "k$i@example.net" >>"$T/valid"
done
printf '%s\n' r1@example.net r2@example.net h1@example.net >>"$T/valid"
start_backend -u "$T/valid"
gw_body >"$T/body"
start_sharing a b <"$T/body"

# slowest FILE: the longest RCPT of a driver's output (-T), in ms.
slowest() {
	sed -n 's/^rcpt .*(\([0-9]*\) ms)$/\1/p' "$1" | sort -n | tail -n 1
}

# A stream of 40 RCPTs on a (20 valid, 20 not), 25 ms apart; the store
# is killed after about half a second.
{
	echo 'connect mx.remote.test 203.0.113.5'
	echo 'mail <x@remote.test>'
	for i in $(seq 1 20); do
		echo "rcpt <k$i@example.net>"
		echo 'sleep 25'
		echo "rcpt <z$i@example.net>"
		echo 'sleep 25'
	done
} >"$T/stream"
drv -T -s "unix:$T/gw-a/milter.sock" -f "$T/stream" >"$T/out" &
dp=$!
sleep 0.5
kill_redis
wait $dp || fail "driver exited $?"
expect_eq "valid" "$(grep -c '^rcpt <k[0-9]*@example.net>: continue' "$T/out")" 20
expect_eq "rejected" "$(grep -c '^rcpt <z[0-9]*@example.net>: reject 550 5.1.1' \
    "$T/out")" 20
expect_eq "verdicts" "$(grep -c 'verdict=valid\|verdict=invalid' "$(gw_log a)")" 40
[ "$(gw_verdicts a shared)" -eq 0 ] || fail "a had shared verdicts"
s=$(slowest "$T/out")
[ "$s" -lt 500 ] || fail "a RCPT waited $s ms with the store gone"
[ "$(gw_stat a store.alone)" -ge 1 ] || fail "no lookup went alone"
for g in a b; do
	waitfor grep -q 'working alone' "$(gw_log $g)" || fail "$g: no word"
done

# Down through a try or two: still one line each.
sleep 1.5
for g in a b; do
	expect_eq "$g: logged once" "$(grep -c 'working alone' "$(gw_log $g)")" 1
	expect_eq "$g: state" "$(gw_stat $g store.state)" down
done
expect_match "last error" "$(gw_stat a store.last_error)" 'connection lost|cannot connect'

# Back on the same port, empty: both use it again.
restart_redis
for g in a b; do
	WAIT=20 waitfor grep -q 'answering again' "$(gw_log $g)" ||
	    fail "$g did not use the store again"
	expect_eq "$g: state" "$(gw_stat $g store.state)" up
done
gw_rcpt a r1@example.net r2@example.net >/dev/null || fail "a: driver exited $?"
gw_rcpt b r1@example.net r2@example.net >/dev/null || fail "b: driver exited $?"
expect_eq "b from the store again" "$(gw_verdicts b shared)" 2
expect_eq "probed once" "$(backend_count '^rcpt [0-9]+ <r[12]@example.net> ')" 2

# Hung: the first verdict waits the bound, then a works alone.
kill -STOP "$REDIS_PID"
gw_rcpt a h1@example.net h2@example.net >"$T/hung" || fail "a: driver exited $?"
kill -CONT "$REDIS_PID"
expect_match "h1" "$(cat "$T/hung")" '^rcpt <h1@example.net>: continue'
expect_match "h2" "$(cat "$T/hung")" '^rcpt <h2@example.net>: reject 550 5.1.1'
s=$(slowest "$T/hung")
# The driver's clock starts after its write: on a loaded machine the
# gateway may have begun its 100 ms a few ms before.
[ "$s" -ge 80 ] || fail "the store was not waited for ($s ms)"
[ "$s" -lt 600 ] || fail "a RCPT waited $s ms for a hung store"
grep -q 'no answer in 100 ms; working alone' "$(gw_log a)" ||
    fail "a did not say the store hung"
WAIT=20 waitfor gw_logged a 2 'answering again' ||
    fail "a did not use the store again after it hung"

stop_gw a
stop_gw b
stop_redis
exit 0
