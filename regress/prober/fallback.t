#!/bin/sh
#
# Hosts in order: a refused connection or a connect timeout on the first
# host moves the probe to the next one, within the probe's deadline; the
# failed host shows in backoff; host names are resolved (the hosts file,
# read before the sandbox) and IPv4 and IPv6 literals need no DNS.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

start_backend -U a@example.net
good=$BACKEND_PORT
dead=$(freeport)

# Refused, then the second host.
conf "$T/c" "host 127.0.0.1 port $dead
host 127.0.0.1 port $good" "catchall ignore"
out=$(probe -f "$T/c" a@example.net b@example.net wait backends) ||
    fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_le "fallback after a refusal (ms)" "$(ms "$out" a@example.net)" 500
expect_match "first host in backoff" "$out" \
    "host 127.0.0.1 $dead backoff (59|60)s \"connect to 127.0.0.1:$dead: Connection refused\""
expect_match "second host up" "$out" "host 127.0.0.1 $good up"
expect_eq "connections to the second" "$(backend_count '^connect ')" 1
expect_eq "refusal logged" \
    "$(grep -c "^prober: backend b: connect to 127.0.0.1:$dead: Connection refused; skipping 127.0.0.1 for 60 s" "$T/prober.log")" 1

# A host that never answers the SYN (its accept queue is full): the
# connect timeout, then the second host.
cat >"$T/blackhole.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(8):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.3)
print(port, flush=True)
time.sleep(60)
EOF
python3 "$T/blackhole.py" >"$T/blackhole.port" &
track $!
waitfor test -s "$T/blackhole.port" || fail "no black hole"
hole=$(cat "$T/blackhole.port")
# Without PIPELINING, b c d at once need new sessions: they skip the
# host in backoff.
conf "$T/c" "host 127.0.0.1 port $hole
host \"localhost\" port $good" "catchall ignore
protocol smtp
sessions 3"
: >"$T/prober.log"
out=$(probe -c 10 -f "$T/c" a@example.net wait b@example.net c@example.net \
    d@example.net wait backends) || fail "probedrv exited $?"
expect_answer "$out" a@example.net valid 250 2.1.5
t=$(ms "$out" a@example.net)
[ "$t" -ge 950 ] && [ "$t" -le 2500 ] ||
    fail "fallback after a connect timeout took $t ms, want about 1 s"
for a in b c d; do
	expect_answer "$out" $a@example.net invalid 550 5.1.1
done
expect_eq "the host in backoff is skipped" \
    "$(grep -c "connecting to 127.0.0.1:$hole\$" "$T/prober.log")" 1
[ "$(grep -c "connecting to 127.0.0.1:$good\$" "$T/prober.log")" -ge 2 ] ||
    fail "b c d took no new sessions"
expect_match "timed out host" "$out" \
    "host 127.0.0.1 $hole backoff [0-9]+s \"connect to 127.0.0.1:$hole: timed out\""
expect_match "named host" "$out" "host localhost $good up"

# IPv6 literals, bare and in brackets, and a name that does not resolve.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' \
    2>/dev/null; then
	start_backend -6 -U a@example.net
	conf "$T/c" "host \"nonexistent.invalid\" port 25
host \"::1\" port $BACKEND_PORT" "catchall ignore"
	out=$(probe -f "$T/c" a@example.net wait backends) || fail "probedrv exited $?"
	expect_answer "$out" a@example.net valid 250 2.1.5
	expect_match "unresolvable" "$out" \
	    'host nonexistent.invalid 25 backoff [0-9]+s "cannot resolve nonexistent.invalid'
	expect_eq "IPv6 connection" "$(backend_count '^connect 1 from ::1$')" 1
	conf "$T/c" "host \"[::1]\" port $BACKEND_PORT" "catchall ignore"
	out=$(probe -f "$T/c" b@example.net) || fail "probedrv exited $?"
	expect_answer "$out" b@example.net invalid 550 5.1.1
else
	echo "no IPv6 on loopback: IPv6 part skipped"
fi
exit 0
