#!/bin/sh
#
# A backend that greets with "421 4.3.2 Service not available" and closes,
# under load: FAULT_N (8) concurrent MTA sessions through the whole daemon.
# Every RCPT for it ends with verdict unknown within the engine's bound,
# never cached: continue with "unreachable accept", 451 4.4.3 with
# "unreachable tempfail"; verdicts for a sound backend go on meanwhile.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

fault_start "" -m 421
fault_round accept
fault_round tempfail
fault_end
[ "$(backend_count '^connect ' "$BAD_LOG")" -ge 10 ] || fail "few connections: $(cat "$BAD_LOG")"
exit 0
