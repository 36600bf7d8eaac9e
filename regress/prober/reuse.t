#!/bin/sh
#
# Connection reuse: one session serves probe after probe with one RCPT
# each (no new MAIL FROM, no RSET), so a probe on an open session costs
# one round trip; an idle session is closed with QUIT after a few seconds
# and the next probe opens a new one.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# Every reply of this backend takes 200 ms: the time of a probe counts
# its round trips.
start_backend -d 200 -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" first@example.net alice@example.net bob@example.net \
    carol@example.net dave@example.net) || fail "probedrv exited $?"
expect_answer "$out" first@example.net invalid 550 5.1.1
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_answer "$out" dave@example.net invalid 550 5.1.1
echo "$out"

expect_eq "connections" "$(backend_count '^connect ')" 1
expect_eq "EHLO" "$(backend_count '^ehlo ')" 1
expect_eq "MAIL FROM" "$(backend_count '^mail ')" 1
expect_eq "RSET" "$(backend_count '^rset ')" 0
expect_eq "RCPT" "$(backend_count '^rcpt 1 ')" 5
# After the greeting, nothing but RCPTs: one command per probe.
expect_eq "commands after MAIL FROM" \
    "$(sed -n '/^mail /,$p' "$BACKEND_LOG" | grep -vc -E '^(mail|rcpt|quit|close|exit) ')" 0

# The first probe waits for greeting, EHLO, MAIL FROM and RCPT; the others
# for their RCPT only.
t1=$(ms "$out" first@example.net)
[ "$t1" -ge 750 ] || fail "the first probe took $t1 ms, want four replies (800 ms)"
for a in alice bob carol dave; do
	t=$(ms "$out" $a@example.net)
	[ "$t" -ge 190 ] && [ "$t" -lt 380 ] ||
	    fail "$a on an open session took $t ms, want one round trip (200 ms)"
done

# Idle: QUIT after a few seconds, then a new session for the next probe.
start_backend -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" alice@example.net sleep=1000 bob@example.net \
    sleep=6000 backends carol@example.net) || fail "probedrv exited $?"
expect_answer "$out" carol@example.net invalid 550 5.1.1
expect_eq "QUIT when idle" "$(backend_count '^quit 1$')" 1
expect_eq "closed when idle" "$(backend_count '^close 1$')" 1
expect_eq "connections" "$(backend_count '^connect ')" 2
expect_eq "RCPTs on the first" "$(backend_count '^rcpt 1 ')" 2
expect_match "no session left open" "$(echo "$out" | grep '^backend b')" \
    ' sessions 0/0/10 '
exit 0
