#!/bin/sh
#
# Log lines a postmaster can use (issue 12 part 11): an unknown verdict
# says why (the backend's 4xx reply, a refused connection, a backoff, a
# timeout); the MTA's queue id is on the verdict line where the MTA
# gives it at RCPT; a catch-all shortcut is logged (source=catchall) and
# counted as such, not as a probe, by the engine and in show backends;
# scambackctl check results are logged.  (to= and from= are made
# printable: hostile/address_forms.t; which process wrote a line in
# syslog: privsep/syslog.t.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -m greylist
grey=$BACKEND_PORT
start_backend -m refuse
refused=$BACKEND_PORT
start_backend -m catchall
all=$BACKEND_PORT
allog=$BACKEND_LOG
start_backend -d 5000 -U slow@slow.test
slow=$BACKEND_PORT
start_scamback <<EOF
timeout connect 2
timeout reply 2
backoff 60
backend "grey" { host 127.0.0.1 port $grey catchall ignore }
backend "refused" { host 127.0.0.1 port $refused catchall ignore }
backend "all" { host 127.0.0.1 port $all }
backend "slow" { host 127.0.0.1 port $slow catchall ignore }
domain "grey.test" backend "grey"
domain "refused.test" backend "refused"
domain "all.test" backend "all"
domain "slow.test" backend "slow"
EOF

drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <a@grey.test>' 'rcpt <a@refused.test>' 'rcpt <b@refused.test>' \
    'rcpt <a@slow.test>' 'rcpt <a@all.test>' 'rcpt <b@all.test>' \
    >"$T/out" 2>&1 || fail "milterdrv: $(cat "$T/out")"
qid=$(sed -n 's/.*{i}=\([0-9A-F]*\).*/\1/p' "$T/out" | head -1)

line() {	# line address: its verdict line
	grep -F " to=<$1> " "$SB_LOG" | grep ' verdict=' | tail -1
}
expect_match "4xx reply" "$(line a@grey.test)" \
    'verdict=unknown source=probe why="45[0-9] 4\.[0-9.]+ .*[Gg]reylist'
expect_match "refused" "$(line a@refused.test)" \
    'verdict=unknown source=probe why="connect to 127\.0\.0\.1:'"$refused"': Connection refused'
expect_match "backoff" "$(line b@refused.test)" \
    'verdict=unknown source=probe why=".*(backoff|backed off|skipping)'
expect_match "timeout" "$(line a@slow.test)" \
    'verdict=unknown source=(probe|timeout) why="(no answer within [0-9]+ ms|.*no (greeting|RCPT TO) reply in 2 s|.*no reply to RCPT TO in time)'
expect_match "catch-all detected" "$(line a@all.test)" 'verdict=valid source=probe'
expect_match "catch-all shortcut" "$(line b@all.test)" 'verdict=valid source=catchall( |$)'
grep ' verdict=valid ' "$SB_LOG" | grep -q ' why=' && fail "why= on a valid verdict"

# The queue id milterdrv gives as the MTA would, on every verdict line.
expect_eq "verdict lines with the queue id" \
    "$(grep -c " verdict=.* qid=4D0000" "$SB_LOG")" 6

# Counted as such: one shortcut, no probe for it, here and per backend.
expect_eq "shortcuts" "$(sbstat catchall_shortcuts)" 1
expect_eq "backend rcpts for b@all.test" "$(backend_count '<b@all\.test>' "$allog")" 0
o=$(ctl -j show backends | jq '.backends[] | select(.name == "all")')
# a@all.test was probed (after the catch-all check, not counted).
expect_eq "backend all: probes" "$(echo "$o" | jq .probes)" 1
expect_eq "backend all: shortcuts" "$(echo "$o" | jq .catchall_shortcuts)" 1
expect_match "show backends text" "$(ctl show backends)" \
    "probes 1, catch-all shortcuts 1: 2 valid"

# scambackctl check: logged like a verdict.
ctl check c@grey.test >/dev/null
WAIT=5 waitfor grep -q 'check to=<c@grey.test> verdict=unknown backend=grey reply="45' "$SB_LOG" ||
    fail "check not logged: $(grep check "$SB_LOG")"
ctl check x@nowhere.test >/dev/null
grep -q 'check to=<x@nowhere.test> verdict=unknown why="domain not verified' "$SB_LOG" ||
    fail "check of an unverified domain not logged"

stop_scamback
exit 0
