#!/bin/sh
#
# cache share (SPEC section 12): two gateways, one store, one backend.
# New addresses asked through both make one probe each, also when both
# are asked for the same address at the same instant; the second gateway
# answers from the store (source=shared) and keeps the verdict for the
# time it has left there; valid, invalid and catch-all each live in the
# store for their own lifetime; catch-all checks are shared; check probes
# whatever the store says and updates it; show stats and show backends
# show the store.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis
: >"$T/valid"
for i in 0 1 2 3 4 5 6 7 8 9 10; do
	echo "u$i@example.net" >>"$T/valid"
	echo "v$i@example.net" >>"$T/valid"
done
echo "w@example.net" >>"$T/valid"
start_backend -d 50 -u "$T/valid"
main=$BACKEND_LOG
mainport=$BACKEND_PORT
start_backend -m catchall
allport=$BACKEND_PORT
start_sharing a b <<EOF
cache valid expire 1h
cache share redis 127.0.0.1 port $REDIS_PORT
backend "b" {
	host 127.0.0.1 port $mainport
}
backend "all" {
	host 127.0.0.1 port $allport
}
domain "example.net" backend "b"
domain "catchall.example" backend "all"
EOF

probes() {
	backend_count "^rcpt [0-9]+ <$1> " "$main"
}

# One after the other: 20 new addresses (10 valid, 10 not) through a,
# then through b.
addrs=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	addrs="$addrs u$i@example.net x$i@example.net"
done
# shellcheck disable=SC2086
gw_rcpt a $addrs >"$T/a1" || fail "a: driver exited $?"
# shellcheck disable=SC2086
gw_rcpt b $addrs >"$T/b1" || fail "b: driver exited $?"
for f in a1 b1; do
	expect_eq "$f: valid" "$(grep -c '^rcpt .*: continue' "$T/$f")" 10
	expect_eq "$f: rejected" "$(grep -c 'reject 550 5.1.1' "$T/$f")" 10
done
expect_eq "probes for 20 addresses" "$(probes '[ux][0-9]+@example.net')" 20
expect_eq "a probed" "$(gw_verdicts a probe)" 20
expect_eq "b from the store" "$(gw_verdicts b shared)" 20
expect_eq "b: store hits" "$(gw_stat b store.hits)" 20
expect_eq "a: store misses" "$(gw_stat a store.misses)" 20
# Each for its own lifetime: valid 1h here, invalid the default 50m.
ttl=$(rcli ttl scam-back:rcpt:u1@example.net)
[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "u1: stored for $ttl s"
ttl=$(rcli ttl scam-back:rcpt:x1@example.net)
[ "$ttl" -gt 2900 ] && [ "$ttl" -le 3000 ] ||
    fail "x1 (invalid): stored for $ttl s, not 3000"

# b keeps them: asked again, its own cache answers.
# shellcheck disable=SC2086
gw_rcpt b $addrs >/dev/null || fail "b: driver exited $?"
expect_eq "b from its cache" "$(gw_verdicts b cache)" 20
expect_eq "b: store lookups" "$(gw_stat b store.lookups)" 20

# Both at the same instant, for the same 10 new addresses: 10 sessions
# on each gateway, each driver releasing its RCPTs together; the backend
# is slow (50 ms a reply), so every pair overlaps.
both() {
	drv -n 10 -s "unix:$T/gw-$1/milter.sock" \
	    'connect mx{#}.remote.test 203.0.113.{#}' 'mail <x{#}@remote.test>' \
	    barrier 'rcpt <v{#}@example.net>' >"$T/both-$1"
}
both a &
pa=$!
both b &
pb=$!
wait $pa || fail "a: driver exited $?"
wait $pb || fail "b: driver exited $?"
expect_eq "a: answers" "$(grep -c 'rcpt <v[0-9]*@example.net>: continue' "$T/both-a")" 10
expect_eq "b: answers" "$(grep -c 'rcpt <v[0-9]*@example.net>: continue' "$T/both-b")" 10
expect_eq "probes for 10 addresses asked twice at once" \
    "$(probes 'v[0-9]+@example.net')" 10
waits=$(( $(gw_stat a store.lock_waits) + $(gw_stat b store.lock_waits) ))
[ "$waits" -ge 1 ] || fail "no gateway waited for the other's probe"

# The time left in the store is the time b keeps it.
gw_rcpt a w@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "w in the store" "$(rcli get scam-back:rcpt:w@example.net)" valid
ttl=$(rcli ttl scam-back:rcpt:w@example.net)
[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "w: stored for $ttl s"
rcli pexpire scam-back:rcpt:w@example.net 600000 >/dev/null
gw_rcpt b w@example.net >/dev/null || fail "b: driver exited $?"
left=$(gw_ctl b -j show cache w@example.net | jq -r '.cache[0].expires_in')
[ "$left" -gt 590 ] && [ "$left" -le 600 ] ||
    fail "b keeps w for $left s, not the 600 s left in the store"

# Catch-all: a checks the new domain; b learns it from the store and asks
# its backend nothing.
gw_rcpt a one@catchall.example >/dev/null || fail "a: driver exited $?"
expect_eq "catch-all check and probe" "$(backend_count '^rcpt ' "$BACKEND_LOG")" 2
expect_eq "domain in the store" "$(rcli get scam-back:domain:catchall.example)" catchall
ttl=$(rcli ttl scam-back:domain:catchall.example)
[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "catch-all: stored for $ttl s"
gw_rcpt b two@catchall.example >"$T/ca" || fail "b: driver exited $?"
expect_match "b: valid" "$(cat "$T/ca")" 'rcpt <two@catchall.example>: continue'
expect_eq "b asked no backend" "$(backend_count '^rcpt ' "$BACKEND_LOG")" 2
expect_eq "b: catch-all hits" "$(gw_stat b store.catchall_hits)" 1
expect_match "b: source" "$(tail -n 1 "$(gw_log b)")" \
    'to=<two@catchall.example> .* verdict=valid source=shared( |$)'

# check: probes whatever the store holds, and stores it anew.
rcli pexpire scam-back:rcpt:u1@example.net 5000 >/dev/null
gw_ctl b check u1@example.net >"$T/check" || fail "check exited $?"
expect_match "check" "$(cat "$T/check")" '^u1@example.net: valid'
expect_eq "probes for u1" "$(probes u1@example.net)" 2
ttl=$(rcli ttl scam-back:rcpt:u1@example.net)
[ "$ttl" -gt 3500 ] || fail "check did not store u1 anew (ttl $ttl)"

# The figures.
gw_ctl a show stats >"$T/stats" || fail "show stats exited $?"
expect_match "stats" "$(cat "$T/stats")" \
    "^shared store 127.0.0.1 port $REDIS_PORT prefix \"scam-back:\": up for "
expect_match "stats figures" "$(cat "$T/stats")" '^  lookups [0-9]+: '
gw_ctl b show backends >"$T/backends" || fail "show backends exited $?"
expect_match "backends" "$(cat "$T/backends")" \
    "^shared store 127.0.0.1 port $REDIS_PORT prefix \"scam-back:\": up for "
expect_eq "backends json" "$(gw_ctl b -j show backends |
    jq -r '[.backends[0].name, .store.state, .store.errors] | join(" ")')" "b up 0"
expect_eq "stats json" "$(gw_ctl a -j show stats | jq -r '.store.port')" \
    "$REDIS_PORT"

stop_gw a
stop_gw b
stop_redis
exit 0
