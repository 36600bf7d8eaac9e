#!/bin/sh
#
# When no backend gives an answer (SPEC sections 5 and 6): a backend that
# refuses connections, one that never sends a banner, one that greylists.
# The verdict is unknown, never cached, never a 5xx: "unreachable accept"
# lets the recipient through, "unreachable tempfail" answers 451 4.4.3.
# Every RCPT is answered within the engine's bound (connect + 2 replies +
# 1 s), whatever the backend does.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -m refuse
refuse=$BACKEND_PORT
start_backend -m nobanner
nobanner=$BACKEND_PORT
start_backend -m greylist
grey=$BACKEND_PORT
greylog=$BACKEND_LOG

conf() {
	cat <<EOF2
timeout connect 1
timeout reply 1
backoff 0
unreachable $1
backend "refuse" {
	host 127.0.0.1 port $refuse
	catchall ignore
}
backend "nobanner" {
	host 127.0.0.1 port $nobanner
	catchall ignore
}
backend "grey" {
	host 127.0.0.1 port $grey
	catchall ignore
}
domain "refuse.test" backend "refuse"
domain "nobanner.test" backend "nobanner"
domain "grey.test" backend "grey"
EOF2
}

# rcpt address want: one session, one RCPT, answered within 4 s.
rcpt() {
	start=$(date +%s%N)
	out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' "rcpt <$1>") || fail "$1: driver exited $?"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_match "$1" "$out" "rcpt <$1>: $2"
	[ "$ms" -lt 4500 ] || fail "$1 took $ms ms"
}

conf accept >"$T/body"
start_scamback <"$T/body"
for d in refuse nobanner grey; do
	rcpt "a@$d.test" 'continue$'
	rcpt "a@$d.test" 'continue$'
done
expect_eq "unknown verdicts" "$(sbstat verdicts.unknown)" 6
expect_eq "nothing cached" "$(sbstat cache_entries)" 0
expect_eq "every RCPT probed" "$(sbstat probes)" 6
expect_eq "greylisted probes" "$(backend_count '^rcpt .*a@grey.test' "$greylog")" 2
grep -q 'accept to=<a@nobanner.test> .* verdict=unknown' "$SB_LOG" ||
    fail "no unknown accept line"
stop_scamback

: >"$SB_LOG"
conf tempfail >"$T/body"
start_scamback <"$T/body"
for d in refuse nobanner grey; do
	rcpt "b@$d.test" 'tempfail 451 4.4.3 Recipient verification temporarily unavailable$'
done
grep -q 'tempfail to=<b@refuse.test> from=<x@remote.test> client=203.0.113.5 verdict=unknown source=probe why=".*" qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no tempfail line: $(grep to= "$SB_LOG")"
# A skipped recipient is never held up by an unreachable backend.
out=$(drv -s "$MILTER" 'connect local 127.0.0.1' 'mail <x@y>' 'rcpt <c@refuse.test>')
expect_match "local client" "$out" 'rcpt <c@refuse.test>: continue$'
stop_scamback
exit 0
