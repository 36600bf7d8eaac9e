#!/bin/sh
#
# A reload that moves the shared store to another port restarts the
# prober (SPEC section 3), whose sandbox allowed the first port only:
# the gateway then shares through the new store.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"

start_redis
first=$REDIS_PORT
start_backend -U a@example.net -U b@example.net
gw_body >"$T/body"
start_sharing a <"$T/body"
expect_match "first store" "$(gw_rcpt a a@example.net)" 'rcpt <a@example.net>: continue'
waitfor sh -c "[ \"\$(redis-cli -p $first --scan | grep -c a@example.net)\" -ge 1 ]" ||
    fail "nothing in the first store: $(redis-cli -p "$first" --scan)"

# Another store on another port, and the gateway told of it.
REDIS_DIR=$T/redis2
REDIS_PORT=""
start_redis
second=$REDIS_PORT
[ "$second" != "$first" ] || fail "the same port twice"
gw_body >"$T/body"
gw_conf a <"$T/body"
reply=$(gw_ctl a reload) || fail "reload: $reply"
expect_eq "reply" "$reply" \
    "configuration reloaded; the prober was restarted for port $second"
waitfor gw_logged a 1 "^parent: restarting the prober for port $second: pid [0-9]+ replaces [0-9]+\$" ||
    fail "no restart logged: $(tail -5 "$(gw_log a)")"
waitfor gw_logged a 2 'sharing verdicts' ||
    fail "not sharing after the reload: $(tail -5 "$(gw_log a)")"
expect_match "second store" "$(gw_rcpt a b@example.net)" 'rcpt <b@example.net>: continue'
waitfor sh -c "[ \"\$(redis-cli -p $second --scan | grep -c b@example.net)\" -ge 1 ]" ||
    fail "nothing in the second store: $(redis-cli -p "$second" --scan) $(tail -5 "$(gw_log a)")"
! gw_logged a 1 'Permission denied|port .*: the sandbox allows' ||
    fail "the new port was refused: $(grep -E 'Permission denied|sandbox allows' "$(gw_log a)")"
stop_gw a
exit 0
