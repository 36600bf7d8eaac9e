#!/bin/sh
#
# A backend that sends half a RCPT reply, then resets the connection,
# under load: FAULT_N (8) concurrent MTA sessions through the whole daemon.
# Every RCPT for it ends with verdict unknown within the engine's bound,
# never cached: continue with "unreachable accept", 451 4.4.3 with
# "unreachable tempfail"; verdicts for a sound backend go on meanwhile.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

fault_start "" -m reset
fault_round accept
fault_round tempfail
fault_end
# A reset session takes the probes queued on it along: at least one per
# round met the reset itself.
for r in 1 2; do
	[ "$(backend_count "^rcpt [0-9]+ <u[0-9]+r$r@bad.test> reset\$" "$BAD_LOG")" -ge 1 ] ||
	    fail "round $r: no RCPT was reset: $(cat "$BAD_LOG")"
done
exit 0
