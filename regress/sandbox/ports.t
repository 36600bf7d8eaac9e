#!/bin/sh
#
# The prober may connect only to the ports of the backends it started
# with (Landlock ABI >= 4).  A reload that moves a backend to a new port
# logs that a restart is needed, and probes there end unknown, refused by
# the sandbox; the ports it started with still work.  (probedrv plays the
# parent and the engine for a real prober.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
. "$(dirname "$0")/../prober/common.sh"

abi=$(landlock_abi)
[ "$abi" -ge 4 ] || skip "Landlock ABI $abi does not confine TCP ports"

start_backend -U a@example.net
old=$BACKEND_PORT
start_backend -U a@example.net
new=$BACKEND_PORT
conf "$T/c1" "host 127.0.0.1 port $old" "catchall ignore"
conf "$T/c2" "host 127.0.0.1 port $new" "catchall ignore"
out=$(probe -f "$T/c1" -r "$T/c2" a@example.net wait reload sleep=200 \
    b@example.net) || fail "probedrv exited $?"
expect_eq "before the reload" "$(echo "$out" | grep -c '^a@example.net valid 250 ')" 1
expect_match "after the reload" "$(echo "$out" | grep '^b@example.net unknown')" \
    'Permission denied'
grep -q "backend b: host 127.0.0.1 port $new: the sandbox allows only the ports of the backends at start; restart scam-back to probe it" \
    "$T/prober.log" || fail "no warning: $(cat "$T/prober.log")"
expect_eq "no connection to the new port" "$(backend_count '^connect ')" 0

# Started with the new port, the prober probes it.
out=$(probe -f "$T/c2" a@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
echo "ok: ports fixed at start, a reload says so"
