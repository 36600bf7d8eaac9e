#!/bin/sh
#
# backoff: a host that failed to connect is skipped for its period, and a
# backend whose hosts are all skipped answers unknown at once; after the
# period the host is tried again.  backoff 0: every probe tries again.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

port=$(freeport)

# The backend comes up 0.5 s after the first probe failed; with backoff 2
# the prober ignores it until 2 s have passed.
BACKOFF=2 conf "$T/c" "host 127.0.0.1 port $port" "catchall ignore"
probe -f "$T/c" a@example.net b@example.net sleep=1300 c@example.net \
    sleep=1200 d@example.net >"$T/out" &
track $!
waitfor grep -q '^b@example.net ' "$T/out" || fail "no answer for b"
sleep 0.3
start_backend -p "$port" -U d@example.net
waitfor grep -q '^d@example.net ' "$T/out" || fail "no answer for d"
out=$(cat "$T/out")
expect_answer "$out" a@example.net unknown 0 -
expect_eq "refused" "$(text "$out" a@example.net)" \
    "connect to 127.0.0.1:$port: Connection refused"
expect_answer "$out" b@example.net unknown 0 -
expect_eq "in backoff" "$(text "$out" b@example.net)" \
    "every host of backend b is in backoff; last error: connect to 127.0.0.1:$port: Connection refused"
expect_le "answered at once (ms)" "$(ms "$out" b@example.net)" 100
# up again, but still skipped
expect_answer "$out" c@example.net unknown 0 -
expect_match "still in backoff" "$(text "$out" c@example.net)" "in backoff"
expect_le "answered at once (ms)" "$(ms "$out" c@example.net)" 100
# after the period
expect_answer "$out" d@example.net valid 250 2.1.5
expect_eq "connections" "$(backend_count '^connect ')" 1
stop_backend

# backoff 0: each probe tries the host again.
port=$(freeport)
BACKOFF=0 conf "$T/c" "host 127.0.0.1 port $port" "catchall ignore"
probe -f "$T/c" a@example.net b@example.net sleep=1000 c@example.net \
    >"$T/out" &
track $!
waitfor grep -q '^b@example.net ' "$T/out" || fail "no answer for b"
start_backend -p "$port" -U c@example.net
waitfor grep -q '^c@example.net ' "$T/out" || fail "no answer for c"
out=$(cat "$T/out")
expect_eq "refused again" "$(text "$out" b@example.net)" \
    "connect to 127.0.0.1:$port: Connection refused"
expect_answer "$out" c@example.net valid 250 2.1.5
exit 0
