#!/bin/sh
#
# A new configuration from the parent at any time: probes in flight are
# answered (by the sessions they were on), new probes use the new
# configuration, sessions of a changed backend are closed once idle, and
# a backend that did not change keeps its sessions.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# The slow backend answers each command 600 ms late: a probe on it is
# answered 2.4 s after it was sent (banner, EHLO, MAIL, RCPT), so a
# reload 300 ms after the probe finds it in flight even on a loaded
# machine, and closing its session (QUIT) takes 600 ms more.  Probes
# wait for 1 + 2 * 2 s.
TR=2
start_backend -d 600 -U a@example.net
slow=$BACKEND_PORT
slowlog=$BACKEND_LOG
start_backend -U a@example.net
fast=$BACKEND_PORT
fastlog=$BACKEND_LOG

# On Linux the sandbox fixes the prober's TCP ports at start: a port a
# reload moves to must be a backend's from the start.
spare() {
	cat >>"$1" <<-EOF
	backend "spare" {
		host 127.0.0.1 port $fast
	}
	EOF
}

# Unchanged but for the session limit: the same session serves on.
conf "$T/c1" "host 127.0.0.1 port $fast" "catchall ignore"
conf "$T/c2" "host 127.0.0.1 port $fast" "catchall ignore
sessions 3"
out=$(probe -f "$T/c1" -r "$T/c2" a@example.net reload sleep=200 b@example.net \
    wait backends) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_eq "one connection" "$(backend_count '^connect ' "$fastlog")" 1
expect_match "new limit" "$out" ' sessions 1/1/3 '

# Changed host while probes wait on the slow one.
: >"$fastlog"
conf "$T/c1" "host 127.0.0.1 port $slow" "catchall ignore"
spare "$T/c1"
conf "$T/c2" "host 127.0.0.1 port $fast" "catchall ignore"
out=$(probe -c 10 -f "$T/c1" -r "$T/c2" a@example.net x@example.net \
    sleep=300 reload a@example.net y@example.net wait sleep=2000 backends) ||
    fail "probedrv exited $?"
expect_eq "answers" "$(echo "$out" | grep -c '^[^ ]*@.* [0-9]*ms')" 4
expect_eq "valid" "$(echo "$out" | grep -c '^a@example.net valid 250 ')" 2
expect_answer "$out" x@example.net invalid 550 5.1.1
expect_answer "$out" y@example.net invalid 550 5.1.1
expect_eq "old probes on the old host" \
    "$(backend_count '^rcpt [0-9]+ <[ax]@example.net>' "$slowlog")" 2
expect_eq "new probes on the new host" \
    "$(backend_count '^rcpt [0-9]+ <[ay]@example.net>' "$fastlog")" 2
expect_eq "old sessions closed" "$(backend_count '^quit ' "$slowlog")" \
    "$(backend_count '^connect ' "$slowlog")"
expect_eq "figures of the new backend only" "$(echo "$out" | grep -c '^backend ')" 1
expect_match "new backend" "$out" "host 127.0.0.1 $fast up"
expect_eq "retired" "$(grep -c 'backend b: retired' "$T/prober.log")" 1

# A backend removed while its probe is in flight: answered; after the
# reload a probe for it gets "no backend".
: >"$slowlog"
conf "$T/c1" "host 127.0.0.1 port $slow" "catchall ignore"
spare "$T/c1"
cat >"$T/c2" <<EOF
backend "other" {
	host 127.0.0.1 port $fast
}
domain "example.net" backend "other"
EOF
out=$(probe -c 10 -f "$T/c1" -r "$T/c2" a@example.net sleep=300 reload \
    sleep=100 z@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" z@example.net unknown 0 -
expect_eq "no backend" "$(text "$out" z@example.net)" "no backend b"
exit 0
