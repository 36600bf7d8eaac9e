#!/bin/sh
#
# A backend that answers but never reads costs that backend only.  With
# PIPELINING it reads EHLO and MAIL, then answers eight RCPTs every 60 ms
# (and RSET and MAIL after fifty, as the prober sends them) without
# reading another byte: our commands fill its socket, then the prober's
# output buffer.  The prober used to take that for a bug of its
# own and exit, and the whole daemon with it.  Now the session whose
# output does not drain gets no more RCPTs, ends after the reply
# timeout, counts as its host's failure and answers its probes unknown,
# while an honest backend keeps answering for its domain, and every MTA
# RCPT gets its verdict in time from the same three processes.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

# The hostile backend: small receive buffer, reads nothing after MAIL.
cat >"$T/nodrain.py" <<'EOP'
import socket, sys, threading, time

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print("port", srv.getsockname()[1], flush=True)
log = open(sys.argv[1], "a", buffering=1)

def session(c, n):
    f = c.makefile("rb")
    try:
        c.sendall(b"220 nodrain ESMTP\r\n")
        seen = 0
        while seen < 2:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                c.sendall(b"250-nodrain\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n")
                seen = 1
            elif verb == b"MAIL":
                c.sendall(b"250 2.1.0 Ok\r\n")
                seen = 2
        log.write("session %d: reading no more\n" % n)
        # Blind replies, in the order the prober sends its commands
        # (eight RCPTs in flight, a RSET and a MAIL after fifty), each
        # burst 60 ms after the last so that the commands it answers
        # have been sent, though never read.
        while True:
            for i in range(0, 50, 8):
                time.sleep(0.06)
                c.sendall(b"250 2.1.5 Ok\r\n" * min(8, 50 - i))
            time.sleep(0.06)
            c.sendall(b"250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n")
    except OSError as e:
        log.write("session %d: %s\n" % (n, e))
    finally:
        c.close()

n = 0
while True:
    c, _ = srv.accept()
    n += 1
    threading.Thread(target=session, args=(c, n), daemon=True).start()
EOP
python3 "$T/nodrain.py" "$T/nodrain.log" >"$T/nodrain.out" 2>&1 &
track $!
waitfor grep -q '^port ' "$T/nodrain.out" || fail "no hostile backend"
BAD_PORT=$(sed -n 's/^port //p' "$T/nodrain.out")

start_backend -U ok@good.test
start_scamback <<EOF2
timeout connect 1
timeout reply 2
backoff 30
backend "bad" {
	host 127.0.0.1 port $BAD_PORT
	catchall ignore
	sessions 1
}
backend "good" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "bad.test" backend "bad"
domain "good.test" backend "good"
EOF2
pids() {
	echo "$SB_PID $(cat /proc/"$SB_PID"/task/*/children 2>/dev/null)"
}
before=$(pids)

# round n: 64 MTA sessions, 12 long new addresses each for the hostile
# backend, with a valid and an invalid one for the honest backend after
# each.
long=$(printf 'x%.0s' $(seq 1 200))
round() {
	{
		echo 'connect mx.remote.test 203.0.113.{#}'
		echo 'mail <x@remote.test>'
		for i in $(seq $(($1 * 100 + 1)) $(($1 * 100 + 12))); do
			echo "rcpt <$long.{#}.$i@bad.test>"
			echo "rcpt <ok@good.test>"
			echo "rcpt <no{#}.$i@good.test>"
		done
	} >"$T/script"
	DRV_TIMEOUT=15 drv -T -n 64 -s "$MILTER" -f "$T/script" >"$T/out" 2>&1 ||
	    fail "driver: $(tail -5 "$T/out")"
	hostile $((64 * 12))

	alive || fail "the daemon died: $(tail -5 "$SB_LOG")"
	expect_eq "the same three processes" "$(pids)" "$before"

	# Every RCPT answered, in time, and right for the honest backend.
	awk -v lim=$((2 * 2000 + 1000 + 1500)) '
	/rcpt <x+\.[0-9]+\.[0-9]+@bad\.test>: / {
		t = $NF; sub(/^\(/, "", t); sub(/ ms\)$/, "", t)
		if ($0 ~ /: continue \(/ && t + 0 <= lim) bad++; else print "bad: " $0
	}
	/rcpt <ok@good\.test>: / { if ($0 ~ /: continue \(/) ok++; else print "ok: " $0 }
	/rcpt <no[0-9]+\.[0-9]+@good\.test>: / {
		if ($0 ~ /reject 550 5\.1\.1/) no++; else print "no: " $0
	}
	END { printf "%d %d %d\n", bad, ok, no }' "$T/out" >"$T/counts"
	sed -n '$p' "$T/counts" | {
		read -r bad ok no
		echo "round $1 answered: $bad hostile-backend RCPTs, $ok valid and $no invalid honest ones"
		lostn=$((3 * 64 * 12 - bad - ok - no))
		[ "$lostn" -eq 0 ] || {
			echo "lost $lostn" >"$T/lost"
			head -20 "$T/counts"
		}
	}
	[ ! -e "$T/lost" ] || { lost "$(sed 's/lost //' "$T/lost")"; fail "verdicts lost or wrong"; }
}

# The blind replies may outrun the commands of a session that has fewer
# than eight RCPTs in flight (a slow start); the prober then ends it for
# an unexpected reply before its output stalls.  A second round, only
# then, so that a stalled output is met at least once.
round 1
grep -q 'output to 127.0.0.1:[0-9]* not draining' "$SB_LOG" || round 2

# The session was ended as the host's failure, and said why.
grep -q 'output to 127.0.0.1:[0-9]* not draining' "$SB_LOG" ||
    fail "no line for the stalled session: $(grep prober: "$SB_LOG" | tail -5)"
ctl -j show backends | jq -e '.backends[] | select(.name == "bad") |
    .hosts[0].last_error | test("not draining")' >/dev/null ||
    fail "show backends: $(ctl show backends)"
echo "ok: $(grep -c 'not draining' "$SB_LOG") session(s) ended for not draining"
stop_scamback
