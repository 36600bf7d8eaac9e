#!/bin/sh
#
# fakebackend: each mode's behaviour on the wire and in the log, valid
# address matching, pipelining, STARTTLS, IPv6, the connection limit,
# hostile input, and a clean exit on SIGTERM.  The client is Python's
# socket and ssl modules (and openssl s_client), independent of scam-back.

. "$(dirname "$0")/../lib.sh"

[ -x "$TOOLS/fakebackend" ] || fail "$TOOLS/fakebackend not built"

cat >"$T/smtp.py" <<'EOF'
import os, socket, ssl, sys, time

class C:
    """An SMTP client that shows each reply as its lines joined by |."""
    def __init__(self, port, host="127.0.0.1", timeout=3):
        self.s = socket.create_connection((host, port), timeout)
        self.s.settimeout(timeout)
        self.buf = b""

    def send(self, *lines):
        self.s.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                try:
                    d = self.s.recv(65536)
                except socket.timeout:
                    return "|".join(lines + ["TIMEOUT"])
                except ConnectionResetError:
                    return "|".join(lines + ["RESET"])
                if not d:
                    return "|".join(lines + ["EOF"])
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "|".join(lines)

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def raw(self, seconds):
        """Every byte that arrives within the given time."""
        end = time.time() + seconds
        data = self.buf
        self.buf = b""
        while time.time() < end:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                return data + b"<RESET>"
            if not d:
                return data + b"<EOF>"
            data += d
        return data

    def starttls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s, server_hostname="localhost")

PORT = int(os.environ["PORT"])
EOF

# py code: run a Python snippet with the client class and $PORT.
py() {
	PORT=$BACKEND_PORT python3 -c "import sys; sys.path.insert(0, '$T')
from smtp import *
$1"
}

# check what got want
check() {
	[ "$2" = "$3" ] || fail "$1:
got:
$2
want:
$3"
}

# ----- normal mode: address matching, every command, the log.
printf '%s\n' '# valid list' '' 'carol@Example.NET' '  dave@example.net' >"$T/valid"
start_backend -U alice@example.net -U '@catchall.test' -u "$T/valid" -P "$T/pid"
expect_eq "pidfile" "$(cat "$T/pid")" "$BACKEND_PID"
out=$(py '
c = C(PORT)
print(c.reply())
for l in ["EHLO probe.test", "MAIL FROM:<>", "RCPT TO:<alice@example.net>",
    "RCPT TO:<alice@EXAMPLE.Net>", "RCPT TO:<Alice@example.net>",
    "RCPT TO:<carol@example.net>", "RCPT TO:<dave@example.net>",
    "RCPT TO:<anyone@CatchAll.test>", "RCPT TO:<@relay.test:alice@example.net>",
    "RCPT TO:<nobody@example.net>", "RCPT TO:bare@example.net",
    "RCPT TO:<x", "MAIL FROM:<a@b>", "RSET", "RCPT TO:<alice@example.net>",
    "DATA", "NOOP", "HELO old.test", "MAIL FROM:<> SIZE=10",
    "RCPT TO:<nobody@example.net>", "DATA", "RCPT TO:<alice@example.net>",
    "DATA"]:
    print(c.cmd(l))
c.send("Subject: x", "", "body", ".")
print(c.reply())
for l in ["VRFY x", "BOGUS", "STARTTLS", "QUIT"]:
    print(c.cmd(l))
print(c.reply())
')
check "normal mode" "$out" "220 fakebackend.test ESMTP fakebackend
250-fakebackend.test|250-PIPELINING|250-SIZE 10240000|250-ENHANCEDSTATUSCODES|250 8BITMIME
250 2.1.0 Ok
250 2.1.5 Ok
250 2.1.5 Ok
550 5.1.1 <Alice@example.net>: Recipient address rejected: User unknown in virtual mailbox table
250 2.1.5 Ok
250 2.1.5 Ok
250 2.1.5 Ok
250 2.1.5 Ok
550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table
550 5.1.1 <bare@example.net>: Recipient address rejected: User unknown in virtual mailbox table
501 5.5.4 Syntax: RCPT TO:<address>
503 5.5.1 Error: nested MAIL command
250 2.0.0 Ok
503 5.5.1 Error: need MAIL command
503 5.5.1 Error: need RCPT command
250 2.0.0 Ok
250 fakebackend.test
250 2.1.0 Ok
550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table
554 5.5.1 Error: no valid recipients
250 2.1.5 Ok
354 End data with <CR><LF>.<CR><LF>
250 2.0.0 Ok: queued as FAKE1 (discarded)
252 2.0.0 Cannot VRFY user
502 5.5.2 Error: command not recognized
502 5.5.1 Error: command not implemented
221 2.0.0 Bye
EOF"
waitfor grep -q '^close 1$' "$BACKEND_LOG" || fail "no close line"
check "normal log" "$(cat "$BACKEND_LOG")" "connect 1 from 127.0.0.1
maxconn 1
ehlo 1 probe.test
mail 1 <>
rcpt 1 <alice@example.net> 250
rcpt 1 <alice@EXAMPLE.Net> 250
rcpt 1 <Alice@example.net> 550
rcpt 1 <carol@example.net> 250
rcpt 1 <dave@example.net> 250
rcpt 1 <anyone@CatchAll.test> 250
rcpt 1 <@relay.test:alice@example.net> 250
rcpt 1 <nobody@example.net> 550
rcpt 1 <bare@example.net> 550
rcpt 1 syntax 501
mail 1 <a@b>
rset 1
rcpt 1 <alice@example.net> 503
data 1
noop 1
helo 1 old.test
mail 1 <>
rcpt 1 <nobody@example.net> 550
data 1
rcpt 1 <alice@example.net> 250
data 1
data 1 end 20
vrfy 1
unknown 1 BOGUS
starttls 1
quit 1
close 1"

# ----- pipelining: a whole probe in one write, answered in order.
: >"$BACKEND_LOG"
out=$(py '
c = C(PORT)
c.reply()
c.send("EHLO p.test", "MAIL FROM:<>", "RCPT TO:<alice@example.net>",
    "RCPT TO:<x@example.net>", "RSET", "MAIL FROM:<>",
    "RCPT TO:<carol@example.net>", "QUIT")
for i in range(8):
    print(c.reply().split("|")[-1][:12])
')
check "pipelining" "$out" "250 8BITMIME
250 2.1.0 Ok
250 2.1.5 Ok
550 5.1.1 <x
250 2.0.0 Ok
250 2.1.0 Ok
250 2.1.5 Ok
221 2.0.0 By"
expect_eq "pipelined rcpts logged" "$(backend_count '^rcpt 2 ')" 3

# ----- many concurrent connections: each served, peak logged.
out=$(py '
cs = [C(PORT) for i in range(50)]
print(sum(1 for c in cs if c.reply().startswith("220 ")))
for c in cs:
    c.send("QUIT")
print(sum(1 for c in cs if c.reply().startswith("221 ")))
')
check "50 concurrent" "$out" "50
50"
grep -q '^maxconn 50$' "$BACKEND_LOG" || fail "peak of 50 not logged"

# ----- hostile input: binary junk, NULs, an endless line.  Never a crash.
out=$(py '
c = C(PORT)
c.reply()
c.s.sendall(bytes(range(256)) * 8 + b"\r\n\x00\x00\r\nEHLO \xff\xfe\r\n")
print(c.raw(0.5).count(b"\r\n") >= 3)
c = C(PORT)
c.reply()
try:
    c.s.sendall(b"A" * (200 * 1024))
except OSError:
    pass
print(c.reply())
print(c.reply())
')
check "hostile input" "$out" "True
500 5.5.0 Error: line too long
EOF"
grep -q '^overlong ' "$BACKEND_LOG" || fail "overlong line not logged"
kill -0 "$BACKEND_PID" || fail "fakebackend died of hostile input"

# ----- SIGTERM: exits 0, says so, removes the pidfile.
kill -TERM "$BACKEND_PID"
wait "$BACKEND_PID"
expect_eq "exit status on SIGTERM" "$?" 0
[ -e "$T/pid" ] && fail "pidfile left behind"
tail -n 1 "$BACKEND_LOG" | grep -q '^exit$' || fail "no exit line"

# ----- the modes.  probe: one callout, every reply's last line.
PROBE='
c = C(PORT)
print(c.reply())
for l in ["EHLO p.test", "MAIL FROM:<>", "RCPT TO:<alice@example.net>",
    "RCPT TO:<nobody@example.net>", "QUIT"]:
    print(c.cmd(l).split("|")[-1])
'

start_backend -U alice@example.net -m greylist
check "greylist" "$(py "$PROBE")" "220 fakebackend.test ESMTP fakebackend
250 8BITMIME
250 2.1.0 Ok
451 4.7.1 <alice@example.net>: Recipient address rejected: Greylisted, try again later
451 4.7.1 <nobody@example.net>: Recipient address rejected: Greylisted, try again later
221 2.0.0 Bye"
expect_eq "greylist log" "$(backend_count '^rcpt 1 <[a-z]+@example.net> 451$')" 2
stop_backend

start_backend -U alice@example.net -m catchall
check "catchall" "$(py "$PROBE" | sed -n 4,5p)" "250 2.1.5 Ok
250 2.1.5 Ok"
stop_backend

start_backend -U alice@example.net -m mailrefuse
out=$(py "$PROBE
c = C(PORT)
c.reply()
print(c.cmd(\"MAIL FROM:<postmaster@probe.test>\"))")
check "mailrefuse" "$out" "220 fakebackend.test ESMTP fakebackend
250 8BITMIME
550 5.7.1 <>: Sender address rejected: Access denied
503 5.5.1 Error: need MAIL command
503 5.5.1 Error: need MAIL command
221 2.0.0 Bye
250 2.1.0 Ok"
stop_backend

start_backend -U alice@example.net -m 452=2
out=$(py '
c = C(PORT)
c.reply()
c.cmd("EHLO x")
c.cmd("MAIL FROM:<>")
for i in range(4):
    print(c.cmd("RCPT TO:<alice@example.net>")[:3])
c.cmd("RSET")
c.cmd("MAIL FROM:<>")
print(c.cmd("RCPT TO:<alice@example.net>")[:3])
')
check "452" "$(echo $out)" "250 250 452 452 250"
stop_backend

start_backend -U alice@example.net -m multiline
check "multiline" "$(py "$PROBE" | sed -n 1p)" \
    "220-fakebackend.test ESMTP fakebackend|220-multi-line reply|220 fakebackend.test ESMTP fakebackend"
out=$(py '
c = C(PORT)
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<>")
print(c.cmd("RCPT TO:<nobody@example.net>"))
')
check "multiline rcpt" "$out" "550-5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table|550-multi-line reply|550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table"
stop_backend

start_backend -U alice@example.net -m bareLF,multiline
out=$(py '
c = C(PORT)
print(c.raw(0.3))
c.send("EHLO x")
print(c.raw(0.3))
')
check "bareLF" "$out" "b'220-fakebackend.test ESMTP fakebackend\n220-multi-line reply\n220 fakebackend.test ESMTP fakebackend\n'
b'250-fakebackend.test\n250-PIPELINING\n250-SIZE 10240000\n250-ENHANCEDSTATUSCODES\n250 8BITMIME\n'"
stop_backend

start_backend -U alice@example.net -m garbage
out=$(py '
c = C(PORT)
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<>")
c.send("RCPT TO:<alice@example.net>")
d = c.raw(0.5)
print(b"\x00" in d, b"not an SMTP reply" in d)
print(all(len(l) < 3 or not l[:3].isdigit() or l[3:4] not in (b" ", b"") for l in d.split(b"\r\n")))
print(c.cmd("NOOP"))
')
check "garbage" "$out" "True True
True
250 2.0.0 Ok"
grep -q '^rcpt 1 <alice@example.net> garbage$' "$BACKEND_LOG" || fail "garbage log"
stop_backend

start_backend -U alice@example.net -m overlong
out=$(py '
c = C(PORT, timeout=5)
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<>")
r = c.cmd("RCPT TO:<alice@example.net>")
print(r[:12], len(r))
')
check "overlong" "$out" "250 2.1.5 xx 102410"
stop_backend

start_backend -U alice@example.net -m reset
out=$(py '
c = C(PORT)
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<>")
c.send("RCPT TO:<alice@example.net>")
print(c.raw(2))
')
# The RST may discard the half reply in the client's buffer; either way
# no complete reply arrives and the connection ends in a reset.
expect_match "reset" "$out" "^b'(250 2\.1)?<RESET>'$"
grep -q '^rcpt 1 <alice@example.net> reset$' "$BACKEND_LOG" || fail "reset log"
stop_backend

start_backend -m 421
out=$(py '
c = C(PORT)
print(c.reply())
print(c.raw(1))
')
check "421" "$out" "421 4.3.2 Service not available
b'<EOF>'"
stop_backend

start_backend -m nobanner
out=$(py '
c = C(PORT)
print(c.raw(0.6))
c.send("EHLO x")
print(c.raw(0.3))
')
check "nobanner" "$out" "b''
b''"
grep -q '^connect 1 ' "$BACKEND_LOG" || fail "nobanner connection not logged"
stop_backend

start_backend -m refuse
out=$(py '
try:
    C(PORT)
    print("connected")
except ConnectionRefusedError:
    print("refused")
')
check "refuse" "$out" "refused"
stop_backend

# drip: a byte every 100 ms, the first at once.
start_backend -m drip=100
out=$(py '
c = C(PORT)
d = c.raw(0.55)
print(d, 4 <= len(d) <= 7)
')
expect_match "drip" "$out" "^b'220 f[a-z ]*' True$"
stop_backend

# -d: every reply waits, one command at a time even when pipelined.
start_backend -d 200
out=$(py '
t = time.time()
c = C(PORT)
c.reply()
t1 = time.time() - t
c.send("NOOP", "NOOP", "NOOP")
for i in range(3):
    c.reply()
t2 = time.time() - t - t1
print(0.18 <= t1 < 1, 0.55 <= t2 < 2)
')
check "delay" "$out" "True True"
stop_backend

# -C: the third concurrent session is refused with 421.
start_backend -C 2
out=$(py '
cs = [C(PORT) for i in range(3)]
time.sleep(0.2)
print([c.reply()[:3] for c in cs])
')
check "maxconn" "$out" "['220', '220', '421']"
expect_eq "refused logged" "$(backend_count '^refused 3 from 127.0.0.1 maxconn$')" 1
expect_eq "peak logged" "$(backend_count '^maxconn 2$')" 1
stop_backend

# IPv6 on ::1
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	start_backend -6 -U alice@example.net
	out=$(py '
c = C(PORT, host="::1")
c.reply(); c.cmd("EHLO x"); c.cmd("MAIL FROM:<>")
print(c.cmd("RCPT TO:<alice@example.net>"))
')
	check "ipv6" "$out" "250 2.1.5 Ok"
	grep -q '^connect 1 from ::1$' "$BACKEND_LOG" || fail "ipv6 log"
	stop_backend
fi

# ----- STARTTLS with a certificate made now.
make_cert "$T"
start_backend -U alice@example.net -m tls -c "$T/cert.pem" -k "$T/key.pem"
out=$(py '
c = C(PORT)
c.reply()
print("STARTTLS" in c.cmd("EHLO x"))
c.send("STARTTLS", "MAIL FROM:<injected@x>")
print(c.reply())
c.buf = b""
c.starttls()
print("STARTTLS" in c.cmd("EHLO x"))
print(c.cmd("MAIL FROM:<>"))
print(c.cmd("RCPT TO:<alice@example.net>"))
print(c.cmd("RCPT TO:<bob@example.net>")[:3])
print(c.cmd("QUIT"))
')
check "tls" "$out" "True
220 2.0.0 Ready to start TLS
False
250 2.1.0 Ok
250 2.1.5 Ok
550
221 2.0.0 Bye"
grep -q '^tls 1 ok$' "$BACKEND_LOG" || fail "tls ok not logged"
grep -q 'injected' "$BACKEND_LOG" && fail "command pipelined before TLS was run"
# openssl s_client, a second independent client.
out=$( (printf 'EHLO s.test\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.net>\r\nQUIT\r\n'; sleep 1) |
    timeout 10 openssl s_client -starttls smtp -connect "127.0.0.1:$BACKEND_PORT" \
    -quiet -ign_eof 2>/dev/null | tr -d '\r' | tail -n 2)
check "s_client" "$out" "250 2.1.5 Ok
221 2.0.0 Bye"
expect_eq "two tls sessions" "$(backend_count '^tls [0-9]+ ok$')" 2
# A client that is not TLS after STARTTLS: the handshake fails, logged.
py '
c = C(PORT)
c.reply(); c.cmd("EHLO x"); c.cmd("STARTTLS")
c.s.sendall(b"EHLO this is no ClientHello\r\n" * 10)
c.raw(1)
' >/dev/null
waitfor grep -q '^tls 3 fail' "$BACKEND_LOG" || fail "failed handshake not logged"
kill -0 "$BACKEND_PID" || fail "fakebackend died of a bad handshake"
stop_backend

# tlsbroken: STARTTLS is offered and accepted, then garbage comes back.
start_backend -m tlsbroken
out=$(py '
c = C(PORT)
c.reply()
print("STARTTLS" in c.cmd("EHLO x"))
print(c.cmd("STARTTLS"))
try:
    c.starttls()
    print("handshake succeeded")
except (ssl.SSLError, OSError):
    print("handshake failed")
')
check "tlsbroken" "$out" "True
220 2.0.0 Ready to start TLS
handshake failed"
grep -q '^tls 1 fail' "$BACKEND_LOG" || fail "tlsbroken not logged"
stop_backend

# tlshang: STARTTLS accepted, then silence; the client's handshake times out.
start_backend -m tlshang
out=$(py '
c = C(PORT, timeout=0.5)
c.reply()
print("STARTTLS" in c.cmd("EHLO x"))
print(c.cmd("STARTTLS"))
t = time.time()
try:
    c.starttls()
    print("handshake succeeded")
except (ssl.SSLError, OSError):
    print("handshake failed", time.time() - t >= 0.4)
')
check "tlshang" "$out" "True
220 2.0.0 Ready to start TLS
handshake failed True"
grep -q '^tls 1 fail hang' "$BACKEND_LOG" || fail "tlshang not logged"
stop_backend

# Without a certificate, mode tls is a start-up error.
"$TOOLS/fakebackend" -m tls >/dev/null 2>&1 && fail "tls without -c/-k started"
"$TOOLS/fakebackend" -m nosuchmode >/dev/null 2>&1 && fail "unknown mode accepted"

echo "fakebackend: all checks passed"
