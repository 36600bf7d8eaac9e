#!/bin/sh
#
# MTA sessions that hang up while their RCPT waits for a probe leave
# nothing behind: after 1000 of them the engine holds as many descriptors
# as before, its memory has not grown beyond the new cache entries, every
# probe was answered and none is left pending, and the engine still gives
# verdicts.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -d 500 -U ok0@example.net
start_scamback <<EOF2
timeout connect 1
timeout reply 3
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
	sessions 250
}
domain "example.net" backend "b"
EOF2
pid=$(engine_pid) || fail "no engine process"

# round n: 100 concurrent sessions, each sends a RCPT for a new address
# and closes the connection without waiting for the answer, which takes
# the backend at least a second (500 ms for each of MAIL and RCPT).  The
# half second's sleep lets libmilter read the RCPT: it drops a command
# that arrives together with the hang-up.  (At 100 ms, a slow machine
# running the sanitizer build read only half of them.)
round() {
	drv -n 100 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
	    'mail <x@remote.test>' barrier "nowait rcpt <n{#}r$1@example.net>" \
	    'sleep 500' close >/dev/null 2>&1 || fail "round $1: driver exited $?"
}

# settled: every lookup has its verdict (no RCPT thread still waits) and
# no probe is in flight (each miss was probed and answered).
settled() {
	s=$(ctl -j show stats) || return 1
	[ "$(echo "$s" | jq '.stats.lookups == .stats.verdicts.valid +
	    .stats.verdicts.invalid + .stats.verdicts.unknown and
	    .stats.lookups == .stats.probes and
	    .stats.cache_entries + .stats.verdicts.unknown == .stats.probes and
	    (.stats.probes_pending // 0) == 0')" = true ]
}

fds() {
	ls "/proc/$pid/fd" | wc -l
}

rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"
}

# Warm up: threads, arenas and buffers reach their working size.
round 0
round 1
WAIT=30 waitfor settled || fail "warm-up did not settle: $(ctl show stats)"
sleep 0.5
fd0=$(fds)
rss0=$(rss)
n0=$(sbstat lookups)

r=2
while [ $r -lt 12 ]; do
	round $r
	r=$((r + 1))
done
WAIT=60 waitfor settled || fail "1000 sessions did not settle: $(ctl show stats)"
sleep 0.5
fd1=$(fds)
rss1=$(rss)
echo "engine: $fd0 -> $fd1 descriptors, $rss0 -> $rss1 kB resident"

expect_eq "descriptors after 1000 hang-ups" "$fd1" "$fd0"
# 1000 new cache entries take about 100 kB; the rest is libmilter's
# threads coming and going.  AddressSanitizer keeps freed memory in
# quarantine: there only the leak checks below count.
if grep -q __asan_init "$SCAMBACK"; then
	echo "AddressSanitizer build: resident memory not compared"
else
	[ $((rss1 - rss0)) -lt 3072 ] || fail "memory grew from $rss0 to $rss1 kB"
fi
n=$(( $(sbstat lookups) - n0 ))
echo "$n of 1000 RCPTs reached the engine before their session hung up"
[ "$n" -ge 500 ] || fail "only $n RCPTs reached the engine"

# Still answering.
out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <n5r7@example.net>' 'rcpt <ok0@example.net>')
expect_match "cached verdict" "$out" 'rcpt <n5r7@example.net>: (reject 550 5.1.1|continue)'
expect_match "new verdict" "$out" 'rcpt <ok0@example.net>: continue'

stop_scamback
stop_backend
exit 0
