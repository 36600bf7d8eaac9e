#!/bin/sh
#
# invalid discard (SPEC section 5): invalid recipients are accepted at
# RCPT and removed with smfi_delrcpt at end of message, exactly those;
# a message whose recipients are all invalid is discarded whole; an
# aborted transaction forgets its recipients.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -U bob@example.net -U carol@example.net
start_scamback <<EOF2
invalid discard
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
    'mail <x@remote.test>' 'rcpt <bob@example.net>' 'rcpt <nobody@example.net>' \
    'rcpt <carol@example.net>' 'rcpt <nobody2@example.net>' \
    'rcpt <someone@other.test>' 'header Subject hi' 'eom' \
    'mail <y@remote.test>' 'rcpt <nobody@example.net>' 'rcpt <nobody2@example.net>' \
    'eom' \
    'mail <z@remote.test>' 'rcpt <nobody@example.net>' 'abort' \
    'mail <z@remote.test>' 'rcpt <bob@example.net>' 'eom' \
    >"$T/o" || fail "driver exited $?"
cat >"$T/w" <<'EOF2'
negotiate: version 6 actions 0x108 protocol 0x5372 symlist R=i {rcpt_addr} {daemon_name} {auth_authen} {client_addr}
connect mx.remote.test [203.0.113.5]: noreply
mail <x@remote.test>: noreply
rcpt <bob@example.net>: continue
rcpt <nobody@example.net>: continue
rcpt <carol@example.net>: continue
rcpt <nobody2@example.net>: continue
rcpt <someone@other.test>: continue
data: skipped (milter asked)
header Subject: skipped (milter asked)
eoh: skipped (milter asked)
eom: delrcpt <nobody@example.net>
eom: delrcpt <nobody2@example.net>
eom: continue
mail <y@remote.test>: noreply
rcpt <nobody@example.net>: continue
rcpt <nobody2@example.net>: continue
data: skipped (milter asked)
eoh: skipped (milter asked)
eom: discard
mail <z@remote.test>: noreply
rcpt <nobody@example.net>: continue
mail <z@remote.test>: noreply
rcpt <bob@example.net>: continue
data: skipped (milter asked)
eoh: skipped (milter asked)
eom: continue
EOF2
diff -u "$T/w" "$T/o" >&2 || fail "discard mode replies"

grep -q '^milter engine: discard to=<nobody@example.net> from=<x@remote.test> client=203.0.113.5 verdict=invalid source=probe qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no discard line"
expect_eq "discard lines" "$(log_count ' discard to=')" 5
expect_eq "invalid verdicts" "$(sbstat verdicts.invalid)" 5

stop_scamback
stop_backend
exit 0
