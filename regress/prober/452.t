#!/bin/sh
#
# A backend that takes 3 recipients per transaction and answers 452 to
# the 4th: the transaction is reset and the probe asked again, never
# answered unknown; a 452 to the first recipient is an answer (unknown).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

addrs() {
	seq 1 "$1" | sed 's/^/u/; s/$/@example.net/'
}

for c in 1 10; do
	start_backend -m 452=3 -U u5@example.net
	conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore
sessions 1"
	out=$(probe -c $c -f "$T/c" $(addrs 10)) || fail "probedrv exited $?"
	expect_answer "$out" u5@example.net valid 250 2.1.5
	expect_eq "-c $c: invalid" "$(echo "$out" | grep -c ' invalid 550 5.1.1 ')" 9
	expect_eq "-c $c: one connection" "$(backend_count '^connect ')" 1
	[ "$(backend_count '^rset ')" -ge 3 ] ||
	    fail "-c $c: $(backend_count '^rset ') RSETs, want 3 or more"
	# each reset follows a 452 (pipelined RCPTs may get several)
	[ "$(backend_count '^rcpt .* 452$')" -ge "$(backend_count '^rset ')" ] ||
	    fail "-c $c: more RSETs than 452 replies"
done

start_backend -m 452=0
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" a@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net unknown 452 4.5.3
exit 0
