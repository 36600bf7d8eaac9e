#!/bin/sh
#
# A backend that refuses every connection (RST), under load: FAULT_N (8)
# concurrent MTA sessions through the whole daemon.  Every RCPT for it
# ends with verdict unknown, never cached: continue with "unreachable
# accept", 451 4.4.3 with "unreachable tempfail"; verdicts for a sound
# backend go on meanwhile.  What is this fault's own: the refusal is seen
# at once and answers every waiting probe (no session after session until
# the probes' deadline, 3 s), the log names the refusal, and no connection
# ever reached the backend.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

fault_start "" -m refuse
fault_round accept
expect_le "round 1: slowest unknown (ms)" "$FAULT_SLOWEST" 2000
fault_round tempfail
expect_le "round 2: slowest unknown (ms)" "$FAULT_SLOWEST" 2000
grep -q "prober: backend bad: connect to 127\.0\.0\.1:$BAD_PORT: Connection refused\$" \
    "$SB_LOG" || fail "the refusal is not in the log: $(grep 'backend bad' "$SB_LOG")"
fault_end
expect_eq "connections that reached it" \
    "$(backend_count '^connect ' "$BAD_LOG")" 0
exit 0
