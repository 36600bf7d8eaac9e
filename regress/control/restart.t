#!/bin/sh
# A restart keeps what the daemon learnt: the cache is saved on SIGTERM
# and loaded at start, so the backend sees no second probe for the same
# recipients.  The file is then the v1 format of SPEC section 7.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
ensure_user

start_backend -U alice@example.net
write_conf "cache save interval 0"
start_daemon

out=$(rcpt alice@example.net nobody@example.net) || fail "milterdrv: $out"
expect_match "valid" "$out" "rcpt <alice@example.net>: continue"
expect_match "invalid" "$out" "rcpt <nobody@example.net>: reject 550 5.1.1"
expect_eq "probes before restart" "$(backend_count '^rcpt [0-9]+ <(alice|nobody)@')" 2
# (and perhaps one for catch-all detection, of a random local part)
probes=$(backend_count '^rcpt ')

[ -e "$CACHE" ] && fail "cache file written before the stop"
stop_daemon
grep -q "cache saved: 2 entries" "$T/log" || fail "no save on SIGTERM: $(tail "$T/log")"
expect_eq "header" "$(head -n 1 "$CACHE")" "# scam-back cache v1"
now=$(date +%s)
awk -v now="$now" '
	/^#/ { next }
	$1 == "alice@example.net" && $2 == "valid" && $3 > now + 80000 { a++; next }
	$1 == "nobody@example.net" && $2 == "invalid" && $3 > now + 2900 { n++; next }
	{ bad++ }
	END { exit !(a == 1 && n == 1 && bad == 0) }' "$CACHE" ||
    fail "cache file: $(cat "$CACHE")"
expect_eq "mode" "$(stat -c %a "$CACHE")" 600

start_daemon
grep -q "cache file: 2 entries loaded" "$T/log" || fail "not loaded: $(tail "$T/log")"
out=$(rcpt alice@example.net nobody@example.net) || fail "milterdrv: $out"
expect_match "valid from cache" "$out" "rcpt <alice@example.net>: continue"
expect_match "invalid from cache" "$out" "rcpt <nobody@example.net>: reject 550 5.1.1"
expect_eq "no second probe" "$(backend_count '^rcpt [0-9]+ <(alice|nobody)@')" 2
expect_eq "no probe at all" "$(backend_count '^rcpt ')" "$probes"
expect_eq "hits" "$(ctl -j show cache | jq '[.cache[].hits] | add')" 2

# Twice more: nothing is lost or duplicated by a save of a loaded cache.
stop_daemon
start_daemon
stop_daemon
expect_eq "entries after two more restarts" "$(cache_lines "$CACHE")" 2
ls "$T" | grep -q '^cache\.tmp\.' && fail "temporary file left: $(ls "$T")"
stop_backend
exit 0
