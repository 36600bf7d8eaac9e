#!/bin/sh
#
# The lock one gateway takes in the store while it probes lasts no longer
# than a RCPT waits for its verdict (SPEC 6: connect + replies + margin,
# at most 9 s), however long the timeouts; an unknown verdict is never
# stored, and it frees the lock at once: the gateway that waited on it
# probes by itself then, it does not wait for the lock to expire.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis
# Every RCPT is greylisted (unknown), each reply 300 ms late: a new
# session's probe takes about 1.2 s.
start_backend -m greylist -d 300
{
	echo 'timeout connect 10'
	echo 'timeout reply 10'
	gw_body
} >"$T/body"
start_sharing a b <"$T/body"

gw_rcpt a g@example.net >"$T/a" &
pa=$!
locked() {
	[ "$(rcli exists scam-back:rcpt-lock:g@example.net)" = 1 ]
}
waitfor locked || fail "a took no lock"
ms=$(rcli pttl scam-back:rcpt-lock:g@example.net)
[ "$ms" -gt 0 ] && [ "$ms" -le 9000 ] ||
    fail "the lock lasts $ms ms, longer than a RCPT waits (9000 ms)"

gw_rcpt b g@example.net >"$T/b" || fail "b: driver exited $?"
wait $pa || fail "a: driver exited $?"
for g in a b; do
	expect_match "$g: unknown is let through" "$(cat "$T/$g")" \
	    '^rcpt <g@example.net>: continue'
	expect_match "$g: verdict" "$(grep 'to=<g@example.net>' "$(gw_log $g)")" \
	    'verdict=unknown source=probe'
done
expect_eq "b waited for a" "$(gw_stat b store.lock_waits)" 1
s=$(sed -n 's/^rcpt .*(\([0-9]*\) ms)$/\1/p' "$T/b")
[ "$s" -lt 5000 ] || fail "b waited $s ms: the unknown verdict kept the lock"
expect_eq "probes" "$(backend_count '^rcpt [0-9]+ <g@example.net> ')" 2
expect_eq "nothing stored" "$(rcli --scan --pattern 'scam-back:*' | wc -l)" 0

stop_gw a
stop_gw b
stop_redis
exit 0
