#!/bin/sh
#
# Concurrent misses are coalesced (SPEC section 3): 100 MTA sessions ask
# for one new address at the same moment and the backend sees one probe;
# every session gets the verdict; the next wave is answered from the cache
# with no probe at all.  The backend answers slowly (1 s per reply) so
# that nearly all 100 RCPTs arrive while the probe is in flight; those
# that come later find the answer in the cache.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -d 1000 -U bob@example.net
start_scamback <<EOF2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

# wave address expected-reply: 100 concurrent sessions, one RCPT each.
wave() {
	drv -n 100 -s "$MILTER" 'connect mx{#}.remote.test 203.0.113.{#}' \
	    'mail <x{#}@remote.test>' barrier "rcpt <$1>" >"$T/wave" ||
	    fail "wave for $1: driver exited $?: $(grep -v "$2" "$T/wave" | head -3)"
	expect_eq "answers for $1" \
	    "$(grep -c "^[0-9]*: rcpt <$1>: $2" "$T/wave")" 100
}

wave nobody@example.net 'reject 550 5.1.1 <nobody@example.net>'
expect_eq "probes for nobody" "$(rcpt_probes nobody@example.net)" 1
expect_eq "coalesced or cached" \
    "$(( $(sbstat coalesced) + $(sbstat hits_invalid) ))" 99
# Proof that RCPTs overlapped the probe (a loaded machine may delay some).
[ "$(sbstat coalesced)" -ge 1 ] || fail "no RCPT joined the probe"
wave bob@example.net continue
expect_eq "probes for bob" "$(rcpt_probes bob@example.net)" 1
expect_eq "probes" "$(sbstat probes)" 2

# The second waves: all from the cache.
wave nobody@example.net 'reject 550 5.1.1 <nobody@example.net>'
wave bob@example.net continue
expect_eq "probes after cached waves" "$(backend_count '^rcpt ')" 2
expect_eq "misses" "$(sbstat misses)" "$(( 2 + $(sbstat coalesced) ))"
expect_eq "lookups" "$(sbstat lookups)" 400
expect_eq "waits timed out" "$(sbstat waits_timed_out)" 0

stop_scamback
stop_backend
exit 0
