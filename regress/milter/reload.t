#!/bin/sh
#
# Reload (SIGHUP) while MTA sessions are open: the session in progress
# goes on and its next RCPT follows the new domains, skips and policies;
# cached verdicts for domains no longer verified are dropped, the others
# kept; a smaller cache size evicts at once.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -U bob@example.net
start_scamback <<EOF2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
domain "other.test" backend "b"
EOF2

# newconf: what the file says after the edit.
newconf() {
	cat >"$T/sb.conf" <<EOF2
listen on "unix:$T/milter.sock" mode 0666
cache file none
cache size $1
unreachable tempfail
skip from 198.51.100.0/24
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
domain "new.test" backend "b"
EOF2
}

# hup: SIGHUP the parent, wait for the engine to apply the new file.
hup() {
	_n=$(log_count 'new configuration applied')
	kill -HUP "$SB_PID"
	waitfor sh -c "[ \$(grep -c 'new configuration applied' '$SB_LOG') -gt $_n ]" ||
	    fail "no reload: $(tail -5 "$SB_LOG")"
}

out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <nobody@other.test>' 'rcpt <nobody@example.net>' 'rcpt <bob@example.net>')
expect_match "before" "$out" 'rcpt <nobody@other.test>: reject 550 5.1.1'
expect_eq "cached before" "$(sbstat cache_entries)" 3

# A session that spans the reload.
drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <nobody@example.net>' 'sleep 2500' 'rcpt <x@other.test>' \
    'rcpt <nobody@new.test>' 'rcpt <bob@example.net>' >"$T/long" 2>&1 &
long=$!
track $long
sleep 0.5
newconf 100
hup
grep -q 'new configuration applied; 1 cached verdicts dropped' "$SB_LOG" ||
    fail "drop not logged: $(grep 'configuration' "$SB_LOG")"
wait $long || fail "the session across the reload failed: $(cat "$T/long")"
cat >"$T/w" <<'EOF2'
negotiate: version 6 actions 0x108 protocol 0x5372 symlist R=i {rcpt_addr} {daemon_name} {auth_authen} {client_addr}
connect mx.remote.test [203.0.113.5]: noreply
mail <x@remote.test>: noreply
rcpt <nobody@example.net>: reject 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
rcpt <x@other.test>: continue
rcpt <nobody@new.test>: reject 550 5.1.1 <nobody@new.test>: Recipient address rejected: User unknown
rcpt <bob@example.net>: continue
EOF2
diff -u "$T/w" "$T/long" >&2 || fail "session across the reload"

# The dropped domain's entry is gone, the others stayed (no new probe).
expect_eq "other.test dropped" "$(ctl -j show cache @other.test | jq '.cache | length')" 0
expect_eq "example.net kept" "$(ctl -j show cache @example.net | jq '.cache | length')" 2
expect_eq "example.net probes" "$(backend_count '^rcpt .*@example.net')" 2
expect_eq "other.test probes" "$(backend_count '^rcpt .*@other.test')" 1

# New skips and policies apply to new sessions.
out=$(drv -s "$MILTER" 'connect c 198.51.100.7' 'mail <x@y>' 'rcpt <z@example.net>')
expect_match "new skip from" "$out" 'rcpt <z@example.net>: continue$'
expect_eq "skipped, not probed" "$(backend_count '<z@example\.net>')" 0

# A smaller cache evicts at once.
newconf 1
hup
expect_eq "cache size" "$(sbstat cache_size)" 1
expect_eq "entries after shrink" "$(sbstat cache_entries)" 1

stop_scamback
stop_backend
exit 0
