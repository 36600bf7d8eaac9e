#!/bin/sh
#
# Backend host names through the prober's resolver (c-ares) against
# regress/tools/fakedns.py, from inside the prober's sandbox: a name the
# hosts file does not know is asked of the configured name server (A and
# AAAA); an answer too long for UDP comes again over TCP (the Landlock
# port rule for the name server's port); SERVFAIL and a silent name server
# leave the host unresolved and the probe unknown, never invalid; a reload
# that names another name server sends the next questions there.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

start_backend -U a@example.net

# 1. UDP, both families asked.
start_dns "mailbox.test A 127.0.0.1" "v6only.test AAAA ::1"
dns1=$DNS_PORT
dnslog1=$DNS_LOG
conf "$T/c" "host \"mailbox.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $dns1"
out=$(probe -f "$T/c" a@example.net b@example.net) ||
    fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_eq "A asked once" "$(dns_count ' udp mailbox.test A ok$')" 1
expect_eq "AAAA asked once" "$(dns_count ' udp mailbox.test AAAA nodata$')" 1
grep -q 'mailbox.test is 127.0.0.1' "$T/prober.log" ||
    fail "no resolution logged: $(cat "$T/prober.log")"

# 2. Truncated over UDP: the same questions over TCP, inside the sandbox.
start_dns "big.test A 127.0.0.1" "big.test TRUNCATE"
conf "$T/c" "host \"big.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $DNS_PORT"
out=$(probe -f "$T/c" a@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_eq "UDP truncated" "$(dns_count ' udp big.test A truncated$')" 1
expect_eq "TCP answered" "$(dns_count ' tcp big.test A ok$')" 1

# 3. SERVFAIL, then silence: unresolved, the probe unknown.
start_dns "broken.test SERVFAIL" "silent.test TIMEOUT"
conf "$T/c" "host \"broken.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $DNS_PORT"
out=$(probe -f "$T/c" a@example.net) || fail "probedrv exited $?"
expect_match "servfail" "$(answer "$out" a@example.net)" \
    '^a@example.net unknown 0 - "cannot resolve broken.test'
[ "$(dns_count ' broken.test A servfail$')" -ge 1 ] ||
    fail "SERVFAIL never asked: $(cat "$DNS_LOG")"
conf "$T/c" "host \"silent.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $DNS_PORT"
out=$(PROBE_TIMEOUT=30 probe -f "$T/c" a@example.net) ||
    fail "probedrv exited $?"
expect_match "timeout" "$(answer "$out" a@example.net)" \
    '^a@example.net unknown 0 - '

# 4. A reload to another name server: the new backend's name is asked
# there, not at the first one.
start_dns "other.test A 127.0.0.1"
conf "$T/c1" "host \"mailbox.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $dns1
dns resolver 127.0.0.1 port $DNS_PORT"
conf "$T/c2" "host \"other.test\" port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $DNS_PORT"
: >"$dnslog1"
out=$(probe -f "$T/c1" -r "$T/c2" a@example.net reload sleep=300 \
    b@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_eq "old server: only the first name" \
    "$(grep -c other.test "$dnslog1")" 0
expect_eq "new server asked" "$(dns_count ' udp other.test A ok$')" 1
exit 0
