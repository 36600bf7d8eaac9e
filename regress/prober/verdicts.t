#!/bin/sh
#
# The verdicts of SPEC section 6 from real backend replies: 2xx valid,
# 550 5.1.1 invalid, greylisting unknown; multi-line and bare-LF replies;
# the reply text and enhanced code passed on; EHLO, HELO with protocol
# smtp and as fallback; hostname and probe sender on the wire; addresses
# that must not reach a backend.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# Plain backend, every verdict.
start_backend -U alice@example.net -U Carol@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore" \
    'hostname "gw.test"
probe sender "probe@gw.test"'
out=$(probe -f "$T/c" alice@example.net bob@example.net Carol@example.net \
    carol@example.net noatsign 'a@example.net@') ||
    fail "probedrv exited $?: $out"
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_eq "valid text" "$(text "$out" alice@example.net)" "Ok"
expect_answer "$out" bob@example.net invalid 550 5.1.1
expect_eq "invalid text" "$(text "$out" bob@example.net)" \
    "<bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table"
expect_answer "$out" Carol@example.net valid 250 2.1.5
# local parts keep their case: the backend decides
expect_answer "$out" carol@example.net invalid 550 5.1.1
expect_answer "$out" noatsign unknown 0 -
expect_answer "$out" 'a@example.net@' unknown 0 -
expect_match "bad address text" "$(text "$out" noatsign)" "not probed"
expect_eq "ehlo name" "$(backend_count '^ehlo 1 gw.test$')" 1
expect_eq "sender" "$(backend_count '^mail 1 <probe@gw.test>$')" 1
expect_eq "rcpts" "$(backend_count '^rcpt ')" 4

# Multi-line replies and bare LF line ends.
start_backend -m multiline -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" alice@example.net bob@example.net) ||
    fail "probedrv exited $?"
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_answer "$out" bob@example.net invalid 550 5.1.1
expect_match "multi-line text joined" "$(text "$out" alice@example.net)" \
    '^Ok .*Ok$'

start_backend -m bareLF -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" alice@example.net bob@example.net) ||
    fail "probedrv exited $?"
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_answer "$out" bob@example.net invalid 550 5.1.1

# Greylisting: unknown, never invalid.
start_backend -m greylist -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" alice@example.net bob@example.net) ||
    fail "probedrv exited $?"
expect_answer "$out" alice@example.net unknown 451 4.7.1
expect_answer "$out" bob@example.net unknown 451 4.7.1
expect_match "greylist text" "$(text "$out" bob@example.net)" "Greylisted"

# protocol smtp: HELO.
start_backend -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore
protocol smtp"
out=$(probe -f "$T/c" alice@example.net) || fail "probedrv exited $?"
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_eq "HELO sent" "$(backend_count '^helo 1 ')" 1
expect_eq "no EHLO" "$(backend_count '^ehlo ')" 0

# A backend that does not know EHLO gets HELO on the same connection.
start_backend -m noehlo -U alice@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" alice@example.net) || fail "probedrv exited $?"
expect_answer "$out" alice@example.net valid 250 2.1.5
expect_eq "HELO after EHLO" "$(backend_count '^helo 1 ')" 1
expect_eq "one connection" "$(backend_count '^connect ')" 1
exit 0
