#!/bin/sh
#
# SIGHUP with a broken configuration keeps the running one and logs every
# error with its file and line; scambackctl reload replies with them.
# The children are not restarted and the milter socket stays.  A good
# file then reloads; a changed listen on or user is said, in the log and
# in the reply, to need a restart.  Runs the daemon as root (-d).

. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
ensure_user

conf="$T/scam-back.conf"
log="$T/log"

# good domain: a configuration that verifies that domain
good() {
	cat >"$conf" <<-EOC
	listen on "unix:$T/milter.sock"
	cache file none
	include "$T/backends.conf"
	domain "$1" backend "mailbox"
	EOC
	cat >"$T/backends.conf" <<-EOC
	backend "mailbox" {
		host 127.0.0.1 port 2525
	}
	EOC
}

# count pattern: how many log lines match
count() {
	grep -c -- "$1" "$log"
}

# hup: send SIGHUP and wait until the log has one more line matching $1
hup() {
	_before=$(count "$1")
	kill -HUP "$DPID"
	waitfor sh -c "[ \$(grep -c -- '$1' '$log') -gt $_before ]" ||
	    fail "no '$1' after SIGHUP: $(cat "$log")"
}

good example.net
"$SCAMBACK" -d -v -f "$conf" -s "$T/ctl.sock" >"$log" 2>&1 &
DPID=$!
track $DPID
waitsock "$T/milter.sock"
waitfor pgrep -P "$DPID" -f "scam-back: prober" ||
    fail "children did not start: $(cat "$log")"
engine=$(pgrep -P "$DPID" -xf "scam-back: milter engine")
prober=$(pgrep -P "$DPID" -xf "scam-back: prober")

applied=$(count "milter engine: new configuration applied")

# 1. Broken: errors in the file and in the included file, all logged.
cat >"$conf" <<EOC
listen on "unix:$T/milter.sock"
cache file none
timeout connect 0
include "$T/backends.conf"
domain "example.net" backend "nosuch"
EOC
cat >"$T/backends.conf" <<EOC
backend "mailbox" {
	host 999.0.0.1
}
EOC
hup "keeping the running configuration"
grep -q "$conf:3: timeout connect must be between 1s and 60s" "$log" ||
    fail "error of line 3 not logged: $(cat "$log")"
grep -q "$T/backends.conf:2: host \"999.0.0.1\" is neither" "$log" ||
    fail "error in the included file not logged with its name: $(cat "$log")"
grep -q "$conf:5: domain example.net: backend \"nosuch\" is not defined" \
    "$log" || fail "late error not logged: $(cat "$log")"
kill -0 "$DPID" 2>/dev/null || fail "daemon died on a broken reload"
expect_eq "engine pid" "$(pgrep -P "$DPID" -xf "scam-back: milter engine")" \
    "$engine"
expect_eq "prober pid" "$(pgrep -P "$DPID" -xf "scam-back: prober")" "$prober"
[ -S "$T/milter.sock" ] || fail "milter socket gone after a broken reload"
grep -q "configuration reloaded" "$log" &&
    fail "a broken file was reported as reloaded"
expect_eq "configurations applied" \
    "$(count "milter engine: new configuration applied")" "$applied"
# scambackctl reload says the same, every error with its file and line.
out=$("$SCAMBACKCTL" -s "$T/ctl.sock" reload 2>&1) && fail "reload of a broken file succeeded"
expect_eq "reload reply" "$out" "scambackctl: configuration has errors; the running one is kept:
$conf:3: timeout connect must be between 1s and 60s
$T/backends.conf:2: host \"999.0.0.1\" is neither an address nor a host name
$conf:5: domain example.net: backend \"nosuch\" is not defined"

# 2. Good again, with a change: reloaded, same children.
good example.org
hup "configuration reloaded"
waitfor sh -c "[ \$(grep -c 'milter engine: new configuration applied' \
    '$log') -gt $applied ]" || fail "the engine did not get the new configuration"
kill -0 "$DPID" 2>/dev/null || fail "daemon died on a reload"
expect_eq "engine pid" "$(pgrep -P "$DPID" -xf "scam-back: milter engine")" \
    "$engine"

# 3. A new listen on and a new user need a restart: said, in the log and
# to scambackctl reload, and the old socket stays.
sed -i "s|unix:$T/milter.sock|unix:$T/other.sock|" "$conf"
hup "only a restart changes listen on: the running values are kept"
echo 'user "nobody"' >>"$conf"
out=$("$SCAMBACKCTL" -s "$T/ctl.sock" reload) || fail "reload: $out"
expect_eq "reload reply" "$out" "configuration reloaded; only a restart changes listen on, user: the running values are kept"
[ -S "$T/milter.sock" ] || fail "milter socket gone after listen on changed"
[ -e "$T/other.sock" ] && fail "listen on changed without a restart"

kill -TERM "$DPID"
n=0
while kill -0 "$DPID" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill -0 "$DPID" 2>/dev/null && fail "daemon did not stop"
wait "$DPID"
expect_eq "exit status" "$?" 0
