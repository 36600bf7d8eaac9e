#!/bin/sh
#
# A reload that changes the store is used at once, without a restart,
# as long as the port stays (auth.t: the password; a new port needs a
# restart): the same port on another address (IPv6 here), another
# prefix, and no store at all, said once in the log; then the store
# again.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis
# A second store on the same port of ::1.
mkdir -p "$T/redis6"
printf 'port %s\nbind ::1\ndir %s\nsave ""\nappendonly no\n' \
    "$REDIS_PORT" "$T/redis6" >"$T/redis6/redis.conf"
redis-server "$T/redis6/redis.conf" >"$T/redis6/log" 2>&1 &
track $!
r6() {
	redis-cli -h ::1 -p "$REDIS_PORT" "$@"
}
r6_up() {
	[ "$(r6 ping 2>/dev/null)" = PONG ]
}
waitfor r6_up || fail "no store on ::1: $(cat "$T/redis6/log")"
printf '%s@example.net\n' v1 v2 v3 v4 v5 >"$T/valid"
start_backend -u "$T/valid"
gw_body >"$T/body"
start_sharing a <"$T/body"

gw_rcpt a v1@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "v1 on 127.0.0.1" "$(rcli get scam-back:rcpt:v1@example.net)" valid

# Another address, the same port.
sed 's/redis 127.0.0.1/redis ::1/' "$T/body" | gw_conf a
gw_ctl a reload >/dev/null || fail "reload exited $?"
waitfor grep -q "shared store ::1 port $REDIS_PORT: sharing verdicts" \
    "$(gw_log a)" || fail "a does not share through ::1"
gw_rcpt a v2@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "v2 on ::1" "$(r6 get scam-back:rcpt:v2@example.net)" valid
expect_eq "not on 127.0.0.1" "$(rcli exists scam-back:rcpt:v2@example.net)" 0
expect_eq "stats" "$(gw_stat a store.address)" ::1

# Another prefix.
sed 's/redis 127.0.0.1/redis ::1/; s/^cache share .*/& prefix "mx:"/' \
    "$T/body" | gw_conf a
gw_ctl a reload >/dev/null || fail "reload exited $?"
waitfor gw_logged a 2 "shared store ::1 port $REDIS_PORT: sharing verdicts" ||
    fail "a does not share again"
gw_rcpt a v3@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "v3 under mx:" "$(r6 get mx:rcpt:v3@example.net)" valid
expect_eq "stats" "$(gw_stat a store.prefix)" mx:

# No store: said once, nothing stored, no figures.
grep -v '^cache share' "$T/body" | gw_conf a
gw_ctl a reload >/dev/null || fail "reload exited $?"
waitfor grep -q "shared store ::1 port $REDIS_PORT: no longer in the configuration; working alone" \
    "$(gw_log a)" || fail "a did not say it stopped sharing"
gw_rcpt a v4@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "v4 nowhere" "$(rcli --scan | wc -l) $(r6 --scan | grep -c v4)" "1 0"
expect_eq "no figures" "$(gw_stat a store)" null
gw_ctl a reload >/dev/null || fail "reload exited $?"
expect_eq "said once" "$(grep -c 'no longer in the configuration' "$(gw_log a)")" 1

# And back.
gw_conf a <"$T/body"
gw_ctl a reload >/dev/null || fail "reload exited $?"
waitfor gw_logged a 2 "shared store 127.0.0.1 port $REDIS_PORT: sharing verdicts" ||
    fail "a does not share through 127.0.0.1 again"
gw_rcpt a v5@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "v5 on 127.0.0.1" "$(rcli get scam-back:rcpt:v5@example.net)" valid

stop_gw a
stop_redis
exit 0
