#!/bin/sh
#
# scambackctl flush cache on one gateway removes the entries from the
# store too, and the other gateway flushes them from its own cache: its
# next lookup probes.  One address is one key; a domain, a state or
# everything is a SCAN over the prefix (the store refuses KEYS here), and
# nothing outside the prefix goes.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-share.sh"

start_redis 'rename-command KEYS ""'
printf '%s\n' a1@example.net a2@example.net a3@example.net \
    b1@example.org >"$T/valid"
start_backend -u "$T/valid"
gw_body >"$T/body"
start_sharing a b <"$T/body"
rcli set other:key kept >/dev/null

all="a1@example.net a2@example.net a3@example.net n1@example.net
    n2@example.net b1@example.org n3@example.org"
probes() {
	backend_count "^rcpt [0-9]+ <$1> "
}
keys() {
	rcli --scan --pattern 'scam-back:rcpt:*' | sort | tr '\n' ' '
}

# Every address probed once (by a), known to both.
# shellcheck disable=SC2086
gw_rcpt a $all >/dev/null || fail "a: driver exited $?"
# shellcheck disable=SC2086
gw_rcpt b $all >/dev/null || fail "b: driver exited $?"
expect_eq "b from the store" "$(gw_verdicts b shared)" 7
expect_eq "in the store" "$(rcli --scan --pattern 'scam-back:rcpt:*' | wc -l)" 7

# flushed: a line of b's log after the n-th flush from a.
flushed() {
	waitfor gw_logged b "$1" 'as another gateway did' ||
	    fail "b was not told of flush $1"
}

# One address.
expect_eq "flush one" "$(gw_ctl a flush cache a1@example.net)" \
    "1 cache entry flushed, 1 from the shared store"
expect_eq "a1 gone" "$(rcli exists scam-back:rcpt:a1@example.net)" 0
flushed 1
gw_rcpt b a1@example.net >/dev/null || fail "b: driver exited $?"
expect_eq "b probes a1 again" "$(probes a1@example.net)" 2

# A domain, given in capitals: the keys of the others stay.
expect_eq "flush a domain" "$(gw_ctl a flush cache @EXAMPLE.org)" \
    "2 cache entries flushed, 2 from the shared store"
expect_eq "left" "$(keys)" "scam-back:rcpt:a1@example.net \
scam-back:rcpt:a2@example.net scam-back:rcpt:a3@example.net \
scam-back:rcpt:n1@example.net scam-back:rcpt:n2@example.net "
flushed 2
gw_rcpt b n3@example.org a2@example.net >/dev/null || fail "b: driver exited $?"
expect_eq "b probes n3 again" "$(probes n3@example.org)" 2
expect_eq "but not a2" "$(probes a2@example.net)" 1

# The invalid ones, from b this time: a follows.
expect_eq "flush invalid" "$(gw_ctl b flush cache invalid)" \
    "3 cache entries flushed, 3 from the shared store"
expect_eq "left" "$(keys)" "scam-back:rcpt:a1@example.net \
scam-back:rcpt:a2@example.net scam-back:rcpt:a3@example.net "
waitfor grep -q 'as another gateway did' "$(gw_log a)" ||
    fail "a was not told of the flush"
gw_rcpt a n1@example.net >/dev/null || fail "a: driver exited $?"
expect_eq "a probes n1 again" "$(probes n1@example.net)" 2

# Everything: the prefix only.
out=$(gw_ctl a flush cache) || fail "flush exited $?"
expect_match "flush all" "$out" 'from the shared store$'
flushed 3
expect_eq "none left" "$(keys)" ""
expect_eq "not ours" "$(rcli get other:key)" kept
expect_eq "b's cache" "$(gw_stat b stats.cache_entries)" 0
expect_eq "errors" "$(gw_stat a store.errors) $(gw_stat b store.errors)" "0 0"

stop_gw a
stop_gw b
stop_redis
exit 0
