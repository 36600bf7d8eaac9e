#!/bin/sh
#
# Backends that misbehave: refused connections, no banner, 1 byte/s drip,
# 421, a reset in the middle of a reply, MAIL FROM refused, garbage,
# overlong lines, replies too slow for the probe's deadline.  Each probe
# ends with verdict unknown within its bound (timeout connect + 2 *
# timeout reply = 3 s here) and says why; refusals are logged once per
# backend, not once per probe.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# Deadline of every probe here: 1 + 2 * 1 s; a little slack for ASan.
LIMIT=3500

# hostile MODE TEXT-PATTERN [MAX-MS]: three probes, all unknown, in time.
hostile() {
	start_backend -m "$1" -U a@example.net -U b@example.net -U c@example.net
	BACKOFF=0 conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" \
	    "catchall ignore"
	: >"$T/prober.log"
	out=$(probe -f "$T/c" a@example.net b@example.net c@example.net) ||
	    fail "$1: probedrv exited $?"
	for a in a b c; do
		expect_answer "$out" $a@example.net unknown 0 -
		expect_match "$1: $a text" "$(text "$out" $a@example.net)" "$2"
		expect_le "$1: $a ms" "$(ms "$out" $a@example.net)" \
		    "${3:-$LIMIT}"
	done
}

# A refusal or a broken reply answers at once, not at a timeout (1 s): a
# bound below it, with room for a loaded machine.
hostile refuse 'connect to 127\.0\.0\.1:[0-9]+: Connection refused' 900
hostile nobanner 'no greeting reply in 1 s' 1500
hostile drip 'no greeting reply in 1 s' 1500
hostile 421 'greeting: 421 4\.3\.2 Service not available' 900
expect_eq "421 logged once" "$(grep -c '^prober: backend b: .*421 4.3.2' "$T/prober.log")" 1
hostile reset '(closed the connection|Connection reset)' 1000
hostile mailrefuse 'MAIL FROM: 550 5\.7\.1 <>: Sender address rejected' 900
expect_eq "MAIL FROM refusal logged once" \
    "$(grep -c '^prober: backend b: .*MAIL FROM: 550' "$T/prober.log")" 1
hostile garbage 'malformed reply line' 900
hostile overlong 'reply line longer than 1024 octets' 900

# Every reply in time, but all of them together not: the probe's own
# deadline answers (the engine waits no longer).
start_backend -d 900 -U a@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" a@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net unknown 0 -
expect_match "deadline text" "$(text "$out" a@example.net)" 'in time'
t=$(ms "$out" a@example.net)
[ "$t" -ge 2900 ] && [ "$t" -le $LIMIT ] || fail "deadline after $t ms"

exit 0
