#!/bin/sh
#
# A hung backend (issue 12 part 8): it accepts TCP and never greets.  A
# reply that does not come counts as a host failure, as a refused
# connection does: the host backs off, show backends says so with the
# last error, and the next RCPT is answered at once without a new
# connection.  scambackctl flush backoff takes the host out of backoff
# by hand.  A reload that changes a backend keeps its figures (part 13).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -m nobanner
hung=$BACKEND_PORT
hunglog=$BACKEND_LOG
start_backend -U bob@example.net
good=$BACKEND_PORT
body() {
	cat <<EOF
timeout connect 1
timeout reply 1
backoff 600
backend "hung" { host 127.0.0.1 port $hung catchall ignore }
backend "good" { host 127.0.0.1 port $good catchall ignore ${1:-} }
domain "hung.test" backend "hung"
domain "example.net" backend "good"
EOF
}
body >"$T/body"
start_scamback <"$T/body"

rcpt() {
	drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' "rcpt <$1>"
}
connections() {
	backend_count '^connect ' "$hunglog"
}

# 1. The first RCPT waits for the greeting timeout; the host backs off.
rcpt a@hung.test >/dev/null || fail "milterdrv"
expect_eq "connections" "$(connections)" 1
grep -q 'to=<a@hung.test> .* verdict=unknown source=probe why=".*no greeting reply in 1 s"' "$SB_LOG" ||
    fail "no why: $(grep a@hung "$SB_LOG")"
o=$(ctl -j show backends | jq '.backends[] | select(.name == "hung") | .hosts[0]')
expect_eq "host state" "$(echo "$o" | jq -r .state)" backoff
expect_match "last error" "$(echo "$o" | jq -r .last_error)" "no greeting reply in 1 s"
expect_match "show backends text" "$(ctl show backends)" \
    "host 127.0.0.1 port $hung: backoff for .* \(last error: .*no greeting reply in 1 s\)"

# 2. The next ones are answered at once, without a new connection.
for u in b c d; do
	rcpt $u@hung.test >/dev/null || fail "milterdrv"
	grep -q "to=<$u@hung.test> .* verdict=unknown source=probe why=\".*(backoff|skipping)" "$SB_LOG" ||
	    grep -q "to=<$u@hung.test> .* verdict=unknown source=probe why=\".*in backoff" "$SB_LOG" ||
	    fail "$u: $(grep "$u@hung" "$SB_LOG")"
done
expect_eq "connections in backoff" "$(connections)" 1

# 3. By hand: out of backoff, and tried again.
out=$(ctl flush backoff hung) || fail "flush backoff: $out"
expect_eq "flush backoff" "$out" "1 host taken out of backoff"
grep -q 'backend hung: host 127.0.0.1 taken out of backoff by scambackctl' "$SB_LOG" ||
    fail "not logged"
expect_eq "state after" "$(ctl -j show backends | jq -r '.backends[] | select(.name == "hung") | .hosts[0].state')" up
expect_eq "flush backoff, none left" "$(ctl flush backoff)" "0 hosts taken out of backoff"
rcpt e@hung.test >/dev/null || fail "milterdrv"
expect_eq "connections after the flush" "$(connections)" 2
out=$(ctl -j flush backoff nosuch) || fail "flush backoff nosuch"
expect_eq "unknown backend" "$(echo "$out" | jq .result.count)" 0

# 4. A reload that changes a backend keeps its figures.
rcpt bob@example.net >/dev/null || fail "milterdrv"
before=$(ctl -j show backends | jq '.backends[] | select(.name == "good") | .probes')
[ "$before" -ge 1 ] || fail "no probe counted"
body "protocol smtp" >"$T/body"
{
	echo "listen on \"unix:$T/milter.sock\" mode 0666"
	echo 'cache file none'
	cat "$T/body"
} >"$T/sb.conf"
ctl reload >/dev/null || fail "reload"
expect_eq "probes after the reload" \
    "$(ctl -j show backends | jq '.backends[] | select(.name == "good") | .probes')" "$before"
expect_eq "verdicts after the reload" \
    "$(ctl -j show backends | jq '.backends[] | select(.name == "good") | .valid')" 1

stop_scamback
exit 0
