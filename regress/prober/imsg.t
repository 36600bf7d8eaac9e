#!/bin/sh
#
# The prober takes each message type from one peer only (its dispatch
# switch in prober.c): a type it does not take, or one from the wrong
# peer, is fatal, and the log says which.  A prober that went on would
# trust a peer with what only the other may ask.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

start_backend -U a@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT"

# refuse TYPE@PEER LOG-LINE: the prober dies of it, saying so
refuse() {
	: >"$T/prober.log"
	probe -f "$T/c" a@example.net wait "imsg=$1" >"$T/out"
	rc=$?
	expect_eq "$1: probedrv exit" "$rc" 2
	grep -Eq "^prober: fatal in prober: (prober_dispatch_imsg: )?$2\$" \
	    "$T/prober.log" || fail "$1: no '$2' in $(cat "$T/prober.log")"
	# It served before the message: the refusal is the message's.
	expect_answer "$(cat "$T/out")" a@example.net valid 250 2.1.5
}

refuse STOP@engine 'bad IMSG_STOP'
refuse LOG_VERBOSE@engine 'bad IMSG_LOG_VERBOSE'
refuse RECONF_CONF@engine 'configuration from the engine'
refuse PROBE_REQ@parent 'bad IMSG_PROBE_REQ'
refuse PROBE_BACKENDS@parent 'bad IMSG_PROBE_BACKENDS'
refuse PROBE_RES@engine 'unexpected imsg [0-9]* from the engine'
refuse CTL_END@parent 'unexpected imsg [0-9]* from the parent'

# Control: the same run without the bad message ends cleanly.
out=$(probe -f "$T/c" a@example.net wait) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
exit 0
