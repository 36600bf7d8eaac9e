#!/bin/sh
#
# Without -n, user, owner and group must exist: every missing one is an
# error with its line, and the daemon does not start.  With -n they are
# not looked up (configtest on another machine).

. "$(dirname "$0")/../lib.sh"

cat >"$T/u.conf" <<EOC
listen on "unix:$T/m.sock" owner "nosuchuser-sb" group "nosuchgroup-sb"
user "nosuchuser-sb2"
EOC
timeout 10 "$SCAMBACK" -d -f "$T/u.conf" -s "$T/ctl.sock" >"$T/out" 2>&1
rc=$?
expect_eq "exit status" "$rc" 1
grep -q "u.conf:1: owner \"nosuchuser-sb\" does not exist" "$T/out" ||
    fail "missing owner: $(cat "$T/out")"
grep -q "u.conf:1: group \"nosuchgroup-sb\" does not exist" "$T/out" ||
    fail "missing group: $(cat "$T/out")"
grep -q "u.conf:2: user \"nosuchuser-sb2\" does not exist" "$T/out" ||
    fail "missing user: $(cat "$T/out")"
[ -e "$T/m.sock" ] && fail "the daemon started"

"$SCAMBACK" -n -f "$T/u.conf" 2>"$T/err" || fail "-n looked users up: $(cat "$T/err")"

# Existing ones pass: only the deliberate error below is reported.
cat >"$T/e.conf" <<EOC
listen on "unix:$T/m.sock" owner "root" group "$(id -gn 0)"
user "root"
timeout connect 0
EOC
timeout 10 "$SCAMBACK" -d -f "$T/e.conf" -s "$T/ctl.sock" >"$T/out" 2>&1
expect_eq "exit status" "$?" 1
expect_eq "errors" "$(grep -c 'e.conf:' "$T/out")" 1
grep -q "e.conf:3: timeout connect" "$T/out" || fail "$(cat "$T/out")"
exit 0
