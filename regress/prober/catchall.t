#!/bin/sh
#
# catchall detect: before the first probe of a domain, a random local
# part; a domain that accepts it answers valid (catchall) without asking
# the backend again until the valid lifetime passes, and is logged once.
# bypass (scambackctl check) always asks.  A normal domain is checked once
# and answers per address; catchall ignore never checks.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

random_rcpts() {
	backend_count '^rcpt [0-9]+ <scamback-[a-z0-9]{12}@'
}

# A catch-all backend.
start_backend -m catchall
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall detect"
out=$(probe -f "$T/c" a@example.net b@example.net +c@example.net \
    D@Example.NET wait backends) || fail "probedrv exited $?"
expect_match "first" "$(answer "$out" a@example.net)" \
    ' valid 250 2\.1\.5 "Ok" [0-9]+ms catchall$'
expect_match "second" "$(answer "$out" b@example.net)" \
    ' valid 250 2\.1\.5 "domain example\.net accepts any recipient" [0-9]+ms catchall$'
expect_match "bypass" "$(answer "$out" c@example.net)" \
    ' valid 250 2\.1\.5 "Ok" [0-9]+ms$'
expect_match "domain case" "$(answer "$out" D@Example.NET)" ' catchall$'
expect_eq "random local parts" "$(random_rcpts)" 1
expect_eq "the random one first" "$(grep '^rcpt ' "$BACKEND_LOG" | head -n 1 |
    grep -Ec '<scamback-[a-z0-9]{12}@example.net>')" 1
expect_eq "addresses asked" "$(backend_count '^rcpt [0-9]+ <[abc]@example.net>')" 2
expect_eq "logged once" \
    "$(grep -c '^prober: backend b: domain example.net accepts any recipient' "$T/prober.log")" 1
# Two asked (a, and b while the domain was being checked), two known.
expect_match "counted" "$out" ' probes 2 shortcuts 2 valid 4 invalid 0 unknown 0 '

# Several probes at once for a new domain: one check.
start_backend -m catchall
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT"
out=$(probe -c 10 -f "$T/c" a@example.net b@example.net c@example.net \
    d@example.net e@example.net) || fail "probedrv exited $?"
expect_eq "all catch-all" "$(echo "$out" | grep -c ' valid .* catchall$')" 5
expect_eq "one check" "$(random_rcpts)" 1

# The lifetime: checked again after it, logged once.
: >"$T/prober.log"
start_backend -m catchall
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "" "cache valid expire 2"
out=$(probe -f "$T/c" a@example.net b@example.net sleep=2200 \
    c@example.net d@example.net) || fail "probedrv exited $?"
expect_eq "all catch-all" "$(echo "$out" | grep -c ' valid .* catchall$')" 4
expect_eq "checks" "$(random_rcpts)" 2
expect_eq "addresses asked" "$(backend_count '^rcpt [0-9]+ <[a-d]@example.net>')" 2
expect_eq "logged once" \
    "$(grep -c '^prober: backend b: domain example.net accepts any recipient' "$T/prober.log")" 1

# A normal backend: one check per domain, then per-address answers.
start_backend -U a@example.net -U x@example.org
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT"
out=$(probe -f "$T/c" a@example.net b@example.net x@example.org \
    y@EXAMPLE.org) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_answer "$out" x@example.org valid 250 2.1.5
expect_answer "$out" y@EXAMPLE.org invalid 550 5.1.1
expect_eq "no catch-all flag" "$(echo "$out" | grep -c 'catchall$')" 0
expect_eq "checks" "$(random_rcpts)" 2
expect_eq "addresses asked" "$(backend_count '^rcpt [0-9]+ <[abxy]@')" 4

# catchall ignore: never.
start_backend -m catchall
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" a@example.net b@example.net) || fail "probedrv exited $?"
expect_eq "no catch-all flag" "$(echo "$out" | grep -c 'catchall$')" 0
expect_eq "no check" "$(random_rcpts)" 0
exit 0
