#!/bin/sh
# cache save interval: the cache is saved while the daemon runs, without
# a request; a reload changes the interval; "cache file none" refuses
# save cache with a clear message.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
ensure_user

start_backend -U alice@example.net
write_conf "cache save interval 1"
start_daemon
rcpt alice@example.net nobody@example.net >/dev/null || fail "milterdrv"
WAIT=5 waitfor test -s "$CACHE" || fail "no save within 5 s of a 1 s interval"
WAIT=5 waitfor grep -q '^nobody@example.net invalid ' "$CACHE" ||
    fail "saved file: $(cat "$CACHE")"
saves=$(ctl -j show stats | jq .stats.cache_saves)
[ "$saves" -ge 1 ] || fail "show stats counts no save: $saves"
[ "$(ctl -j show stats | jq .stats.cache_saved_at)" -gt 0 ] || fail "saved_at"

# Interval 0: no more saves until asked.
write_conf "cache save interval 0"
ctl reload >/dev/null || fail "reload"
sleep 1.2
rm -f "$CACHE"
sleep 2.2
[ -e "$CACHE" ] && fail "saved although the interval is 0"
ctl save cache >/dev/null || fail "save cache"
[ -s "$CACHE" ] || fail "save cache wrote nothing"

# A new cache file path needs a restart: said in the log, old path kept.
write_conf "cache save interval 0"
sed -i "s|cache file \".*\"|cache file \"$T/elsewhere\"|" "$T/scam-back.conf"
ctl reload >/dev/null || fail "reload 2"
grep -q "takes effect only after a restart" "$T/log" || fail "no warning"
ctl save cache >/dev/null || fail "save cache 2"
[ -e "$T/elsewhere" ] && fail "saved to the new path before a restart"
stop_daemon

# cache file none
: >"$T/log"
write_conf
sed -i 's|^cache file .*|cache file none|' "$T/scam-back.conf"
start_daemon
out=$(ctl save cache 2>&1)
expect_eq "save without a file: exit" "$?" 1
expect_eq "save without a file" "$out" \
    "scambackctl: no cache file is configured (cache file none)"
stop_daemon
stop_backend
exit 0
