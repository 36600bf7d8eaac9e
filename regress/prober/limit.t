#!/bin/sh
#
# Limits: 200 probes at once never take more than `sessions' connections
# (the backend's peak), every one is answered with its own verdict, and
# transactions are reset every 50 recipients; the queue is bounded and
# what does not fit is answered unknown at once.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

addrs() {
	seq "$1" "$2" | sed 's/^/u/; s/$/@example.net/'
}

# peak: the highest "maxconn N" of the backend log
peak() {
	sed -n 's/^maxconn //p' "$BACKEND_LOG" | sort -n | tail -n 1
}

for n in 3 1; do
	start_backend -d 5 -U u7@example.net -U u150@example.net
	TR=3 conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore
sessions $n"
	out=$(probe -c 200 -f "$T/c" $(addrs 1 200)) ||
	    fail "sessions $n: probedrv exited $?"
	expect_eq "sessions $n: answers" "$(echo "$out" | grep -c '^[^ ]*@.* [0-9]*ms')" 200
	expect_eq "sessions $n: invalid" "$(echo "$out" | grep -c ' invalid 550 ')" 198
	expect_answer "$out" u7@example.net valid 250 2.1.5
	expect_answer "$out" u150@example.net valid 250 2.1.5
	expect_eq "sessions $n: peak connections" "$(peak)" $n
	expect_eq "sessions $n: RCPTs" "$(backend_count '^rcpt ')" 200
	# every session resets after 50 RCPTs
	[ "$(backend_count '^rset ')" -ge $((200 / 50 - n)) ] ||
	    fail "sessions $n: $(backend_count '^rset ') RSETs"
done

# A backend that never greets: the first 1024 probes wait for a session
# (and get its failure), the rest are refused at once.
start_backend -m nobanner
TR=2 conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore
sessions 1"
out=$(probe -c 1100 -f "$T/c" $(addrs 1 1100)) || fail "probedrv exited $?"
expect_eq "answers" "$(echo "$out" | grep -c ' unknown 0 - ')" 1100
full=$(echo "$out" | grep -c 'probes waiting already')
expect_eq "refused at once" "$full" 76
for a in u1025 u1100; do
	expect_le "$a answered in" "$(ms "$out" $a@example.net)" 500
done
expect_match "the waiting ones" "$(text "$out" u1@example.net)" \
    'no greeting reply'
expect_eq "one connection" "$(backend_count '^connect ')" 1
exit 0
