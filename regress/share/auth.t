#!/bin/sh
#
# A store that refuses the password is a clear log line, not a failure of
# mail: the gateway works alone.  A reload with the right password shares
# at once, without a restart; one that moves the store to a port the
# prober's sandbox was not started with restarts the prober.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

REDIS_PASSWORD=right
start_redis "requirepass $REDIS_PASSWORD"
printf '%s\n' p1@example.net p2@example.net >"$T/valid"
start_backend -u "$T/valid"

gw_body password '"wrong"' >"$T/a.body"
start_gw a <"$T/a.body"
gw_body password '"right"' >"$T/b.body"
start_gw b <"$T/b.body"
waitfor grep -q 'working alone' "$(gw_log a)" || fail "a: no word of the refusal"
expect_match "the line" "$(grep 'working alone' "$(gw_log a)")" \
    "shared store 127.0.0.1 port $REDIS_PORT: AUTH refused: WRONGPASS .*; working alone"
waitfor grep -q 'sharing verdicts' "$(gw_log b)" || fail "b does not share"

# Mail flows through a, alone; b shares what it probed itself.
gw_rcpt a p1@example.net q1@example.net >"$T/out" || fail "a: driver exited $?"
expect_match "valid" "$(cat "$T/out")" '^rcpt <p1@example.net>: continue'
expect_match "rejected" "$(cat "$T/out")" '^rcpt <q1@example.net>: reject 550 5.1.1'
expect_eq "a: state" "$(gw_stat a store.state)" down
expect_eq "nothing stored by a" "$(rcli --scan --pattern 'scam-back:*' | wc -l)" 0

# The right password by reload: a shares at once.
gw_body password '"right"' | gw_conf a
gw_ctl a reload >/dev/null || fail "reload exited $?"
waitfor grep -q 'sharing verdicts' "$(gw_log a)" ||
    fail "a does not share after the reload"
gw_rcpt a p2@example.net >/dev/null || fail "a: driver exited $?"
gw_rcpt b p2@example.net >/dev/null || fail "b: driver exited $?"
expect_eq "b from the store" "$(gw_verdicts b shared)" 1
expect_eq "probed once" "$(backend_count '^rcpt [0-9]+ <p2@example.net> ')" 1

# A port the prober's sandbox did not allow at its start: the reload
# restarts the prober (regress/share/restart.t shares through it); no
# store listens there, and the gateway goes on alone.
other=$(freeport)
gw_body password '"right"' | sed "s/port $REDIS_PORT/port $other/" | gw_conf a
expect_eq "reload to another port" "$(gw_ctl a reload)" \
    "configuration reloaded; the prober was restarted for port $other"
expect_match "alone" "$(gw_rcpt a p3@example.net)" 'rcpt <p3@example.net>: '

stop_gw a
stop_gw b
stop_redis
exit 0
