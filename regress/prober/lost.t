#!/bin/sh
#
# A backend closes a session that served before just as a probe is sent
# on it (its idle timeout racing ours): the probe is asked again, once,
# on a new session, instead of being answered unknown.  A probe that a
# fresh session loses is not retried (reset.t-like backends would loop).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

# Each connection answers the first RCPT and hangs up on the second.
cat >"$T/closer.py" <<'EOF'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
log = open(sys.argv[1], "a", buffering=1)
n = 0
def serve(c, n):
    f = c.makefile("rb")
    c.sendall(b"220 closer ESMTP\r\n")
    rcpts = 0
    for line in f:
        cmd = line.decode().strip()
        log.write("%d %s\n" % (n, cmd))
        verb = cmd.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            c.sendall(b"250 closer\r\n")
        elif verb == "MAIL":
            c.sendall(b"250 2.1.0 Ok\r\n")
        elif verb == "RCPT":
            rcpts += 1
            if rcpts == 2:
                break
            c.sendall(b"250 2.1.5 Ok\r\n")
        elif verb == "QUIT":
            c.sendall(b"221 Bye\r\n")
            break
        else:
            c.sendall(b"502 no\r\n")
    c.close()
while True:
    c, a = s.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
EOF
python3 "$T/closer.py" "$T/closer.log" >"$T/closer.port" &
track $!
waitfor test -s "$T/closer.port" || fail "no closing backend"
port=$(cat "$T/closer.port")

conf "$T/c" "host 127.0.0.1 port $port" "catchall ignore"
out=$(probe -f "$T/c" a@example.net b@example.net c@example.net) ||
    fail "probedrv exited $?"

# a: first RCPT of session 1.  b: lost with session 1, asked again as the
# first RCPT of session 2.  c: second RCPT of session 2, lost, asked again
# on session 3.
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net valid 250 2.1.5
expect_answer "$out" c@example.net valid 250 2.1.5
expect_eq "b asked twice" "$(grep -c 'RCPT TO:<b@example.net>' "$T/closer.log")" 2
expect_eq "sessions" "$(grep -c ' EHLO ' "$T/closer.log")" 3

# On a session that never answered a RCPT, a loss is the answer.
start_backend -m reset -U a@example.net
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore"
out=$(probe -f "$T/c" a@example.net) || fail "probedrv exited $?"
expect_answer "$out" a@example.net unknown 0 -
expect_eq "asked once" "$(backend_count '^rcpt ')" 1
exit 0
