#!/bin/sh
#
# A store configured with a "timeout" closes connections that idle that
# long.  Nothing is lost: a quiet gateway connects again at once, without
# a word in the log, keeps sharing, and never works alone for it.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis 'timeout 1'
printf '%s\n' v1@example.net v2@example.net >"$T/valid"
start_backend -u "$T/valid"
gw_body >"$T/body"
start_sharing a b <"$T/body"

conns() {
	rcli info stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'
}
gw_rcpt a v1@example.net >/dev/null || fail "a: driver exited $?"
before=$(conns)
sleep 3
# This look counts itself: 1.
after=$(conns)
[ $((after - before - 1)) -ge 2 ] ||
    fail "the store closed no idle connection ($before, then $after)"

for g in a b; do
	expect_eq "$g: nothing said" "$(grep -c 'working alone' "$(gw_log $g)")" 0
	expect_eq "$g: state" "$(gw_stat $g store.state)" up
	expect_eq "$g: errors" "$(gw_stat $g store.errors)" 0
done
gw_rcpt b v1@example.net v2@example.net >/dev/null || fail "b: driver exited $?"
expect_eq "b from the store" "$(gw_verdicts b shared)" 1
expect_eq "v2 stored" "$(rcli get scam-back:rcpt:v2@example.net)" valid
expect_eq "b: alone" "$(gw_stat b store.alone)" 0

stop_gw a
stop_gw b
stop_redis
exit 0
