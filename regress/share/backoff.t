#!/bin/sh
#
# A store that is not there when the gateway starts: mail flows at once,
# alone; the gateway says so once and tries again after 1 s, then 2, 4
# (doubling, up to 30); a store that comes up later is used at the next
# try, without a restart.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

REDIS_PORT=$(freeport)
printf '%s\n' v1@example.net >"$T/valid"
start_backend -u "$T/valid"
gw_body >"$T/body"
start_gw a <"$T/body"
waitfor grep -q 'working alone, trying again in 1 s' "$(gw_log a)" ||
    fail "a: no word of the missing store"

gw_rcpt a v1@example.net x1@example.net >"$T/out" || fail "a: driver exited $?"
expect_match "valid" "$(cat "$T/out")" '^rcpt <v1@example.net>: continue'
expect_match "rejected" "$(cat "$T/out")" '^rcpt <x1@example.net>: reject 550 5.1.1'

# Three tries (0, 1 and 3 s): the next is 4 s after the third.
tries() {
	[ "$(gw_stat a store.errors)" -ge "$1" ]
}
waitfor tries 3 || fail "a did not try three times"
left=$(gw_ctl a -j show stats | jq '.store.retry_at - now | floor')
[ "$left" -ge 2 ] || fail "the next try is in $left s: no backoff"
expect_eq "logged once" "$(grep -c 'working alone' "$(gw_log a)")" 1
expect_eq "state" "$(gw_stat a store.state)" down

# The store comes up: the next try finds it.
start_redis
WAIT=15 waitfor grep -q 'answering again; sharing verdicts' "$(gw_log a)" ||
    fail "a did not use the store that came up"
gw_rcpt a v1@example.net x2@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "x2 stored" "$(rcli get scam-back:rcpt:x2@example.net)" invalid

stop_gw a
stop_redis
exit 0
