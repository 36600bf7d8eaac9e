#!/bin/sh
#
# Hostile MTA input never harms the engine (SPEC section 10): RCPT
# arguments with control characters, NUL bytes, no argument at all, 64 kB
# long, macros of absurd size, commands out of order, garbage packets.
# Each session at most loses itself; the same engine process then still
# gives the right verdicts, and nothing odd reached the backend.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -U bob@example.net
start_scamback <<EOF
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF
pid=$(engine_pid) || fail "no engine"

# pkt command-letter string: a milter packet in milterdrv's raw hex, the
# string NUL-terminated (\x escapes allowed).
pkt() {
	python3 -c '
import sys
cmd = sys.argv[1].encode()
data = sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1")
body = cmd + data
print("%08x %s" % (len(body), body.hex()))' "$1" "$2"
}

hostile() {
	drv -t 1 -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' "$@" >"$T/out" 2>&1
	kill -0 "$pid" 2>/dev/null || fail "engine died on: $*: $(tail -5 "$SB_LOG")"
}

long=$(python3 -c 'print("a" * 65000)')
hostile "raw $(pkt R '<a\x01b@example.net>\x00')"
hostile "raw $(pkt R '<a\r\nRCPT TO:<x@example.net>\x00')"
hostile "raw $(pkt R '\x00')"
hostile "raw $(pkt R '')"
hostile "raw $(pkt R '<\x00@example.net>\x00')"
hostile "raw $(pkt R '<bob@example.net>')"
hostile "rcpt <$long@example.net>"
hostile "rcpt <a@$long>"
hostile "rcpt <\"$long\"@example.net>"
hostile "macro R {client_addr} $long" 'rcpt <c1@example.net>'
hostile "macro R {daemon_name} $long" 'rcpt <c2@example.net>'
hostile "macro R {auth_authen} $long" 'rcpt <c3@example.net>'
hostile "macro R {rcpt_addr} $long" "raw $(pkt R '')"
hostile "raw $(pkt M '\x00')" "raw $(pkt R '<c4@example.net>\x00')"
hostile 'eom' 'eom' 'abort' 'abort' 'rcpt <c5@example.net>'
hostile 'raw 00000001 5a'
hostile 'raw 7fffffff 43'
hostile "raw $(pkt C 'x\x00')"
drv -t 1 -s "$MILTER" 'rcpt <c6@example.net>' >/dev/null 2>&1
drv -t 1 -s "$MILTER" "raw $(pkt R '<c7@example.net>\x00')" >/dev/null 2>&1
kill -0 "$pid" 2>/dev/null || fail "engine died"

# Still the same engine, still right.
expect_eq "same engine" "$(engine_pid)" "$pid"
out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <bob@example.net>' 'rcpt <nobody@example.net>')
expect_match "valid after" "$out" 'rcpt <bob@example.net>: continue'
expect_match "invalid after" "$out" 'rcpt <nobody@example.net>: reject 550 5.1.1'
# Only well-formed addresses were probed.
bad=$(grep '^rcpt ' "$BACKEND_LOG" | grep -vE '^rcpt [0-9]+ <[^<>[:cntrl:]]{1,254}> [0-9]+$' || true)
[ -z "$bad" ] || fail "odd probes reached the backend: $bad"
# In example.net they cannot be a mailbox and are refused (5.1.3);
# elsewhere, or with no domain at all, skipped.
imp=$(sbstat verdicts.impossible)
[ "$imp" -ge 3 ] || fail "impossible addresses not counted: $imp"
[ $(( imp + $(sbstat skipped.bad_address) )) -ge 6 ] ||
    fail "bad addresses not counted"
stop_scamback
stop_backend
exit 0
