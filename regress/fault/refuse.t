#!/bin/sh
#
# A backend that refuses every connection (RST),
# under load: 20 concurrent MTA sessions through the whole daemon.
# Every RCPT for it ends with verdict unknown within the engine's bound,
# never cached: continue with "unreachable accept", 451 4.4.3 with
# "unreachable tempfail"; verdicts for a sound backend go on meanwhile.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

fault_start "" -m refuse
fault_round accept
fault_round tempfail
fault_end
exit 0
