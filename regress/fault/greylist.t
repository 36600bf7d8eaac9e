#!/bin/sh
#
# A backend that greylists every RCPT (451 4.7.1),
# under load: FAULT_N (8) concurrent MTA sessions through the whole daemon.
# Every RCPT for it ends with verdict unknown within the engine's bound,
# never cached: continue with "unreachable accept", 451 4.4.3 with
# "unreachable tempfail"; verdicts for a sound backend go on meanwhile.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

fault_start "" -m greylist
fault_round accept
fault_round tempfail
fault_end
expect_eq "greylisted RCPTs" "$(backend_count '^rcpt [0-9]+ <u[0-9]+r[0-9]@bad.test> 451$' "$BAD_LOG")" $((2 * FAULT_N))
exit 0
