#!/bin/sh
#
# milterdrv against testmilter, a libmilter milter: every reply kind, the
# negotiation, macros and symbol lists, protocol flags, concurrency, raw
# hostile input and the exit statuses.  libmilter is the reference here:
# if the driver got the wire format wrong, libmilter would not answer.

. "$(dirname "$0")/../lib.sh"

[ -x "$TOOLS/milterdrv" ] || fail "$TOOLS/milterdrv not built"
[ -x "$TOOLS/testmilter" ] || fail "$TOOLS/testmilter not built"

# start_milter name conn [testmilter options]
start_milter() {
	_n=$1 _c=$2
	shift 2
	bg "$TOOLS/testmilter" -l "$T/$_n.log" -p "$_c" "$@"
	milters="${milters:-} $!"
	waitfor grep -q '^ready' "$T/$_n.log" || fail "testmilter $_n did not start"
}

# check what want-file got-file
check() {
	diff -u "$2" "$3" >&2 || fail "$1: output differs"
}

start_milter unix "unix:$T/m.sock"
waitsock "$T/m.sock"

# 1. Every reply kind over a unix socket, with the negotiation line.
cat >"$T/s1" <<'EOF'
# a comment, then a blank line

connect mx.remote.test 203.0.113.5
helo mx.remote.test
mail <x@remote.test> SIZE=100
rcpt <bob@example.net>
rcpt <bad@example.net>
expect 550 5.1.1 <bad@example.net>
rcpt <tmp@example.net>
rcpt <rej@example.net>
rcpt <tf@example.net>
rcpt <ml@example.net>
rcpt <del@example.net>
rcpt <add@example.net>
rcpt <quar@example.net>
rcpt <hdr@example.net>
rcpt <prog@example.net>
header Subject hello
body skip the rest
body never sent
eom
expect eom: continue
mail <y@remote.test>
rcpt <dis@example.net>
rcpt <acc@example.net>
rcpt <after@example.net>
eom
quit
EOF
cat >"$T/w1" <<'EOF'
negotiate: version 6 actions 0x13d protocol 0x400 symlist R={rcpt_addr} {daemon_name}
connect mx.remote.test [203.0.113.5]: continue
helo mx.remote.test: continue
mail <x@remote.test>: continue
rcpt <bob@example.net>: continue
rcpt <bad@example.net>: reject 550 5.1.1 <bad@example.net>: Recipient address rejected: User unknown
rcpt <tmp@example.net>: tempfail 451 4.4.3 Recipient verification temporarily unavailable
rcpt <rej@example.net>: reject
rcpt <tf@example.net>: tempfail
rcpt <ml@example.net>: reject 550-5.1.1 first line\r\n550 5.1.1 second line
rcpt <del@example.net>: continue
rcpt <add@example.net>: continue
rcpt <quar@example.net>: continue
rcpt <hdr@example.net>: continue
rcpt <prog@example.net>: continue
data: continue
header Subject: continue
eoh: continue
body: skip
body: skipped (after skip)
eom: progress
eom: delrcpt <del@example.net>
eom: addrcpt <added@example.net>
eom: quarantine held by testmilter
eom: chgheader 1 Subject: changed
eom: addheader X-Testmilter: yes
eom: continue
mail <y@remote.test>: continue
rcpt <dis@example.net>: discard
rcpt <acc@example.net>: accept
rcpt <after@example.net>: skipped (after accept)
data: skipped (after accept)
eoh: skipped (after accept)
eom: skipped (after accept)
EOF
drv -s "unix:$T/m.sock" -f "$T/s1" >"$T/o1" || fail "script 1 exited $?"
check "reply kinds" "$T/w1" "$T/o1"
# The milter saw what the driver said it sent: one body chunk, no rcpt
# after the accept, the ESMTP argument.
expect_eq "body chunks seen" "$(grep -c '^body' "$T/unix.log")" 1
grep -q '^rcpt <after@' "$T/unix.log" && fail "rcpt sent after accept"
grep -q '^mail arg SIZE=100$' "$T/unix.log" || fail "ESMTP argument lost"
grep -q '^header Subject: hello$' "$T/unix.log" || fail "header value lost"

# 2. Macros: defaults, the symbol list, explicit values, a bare path spec.
out=$(drv -s "$T/m.sock" 'macro M {auth_authen} alice' \
    'connect c.test 192.0.2.7' 'mail <s@remote.test>' 'rcpt <echo@example.net>')
expect_match "default macros" "$out" \
    'rcpt <echo@example.net>: reject 550 5.7.0 rcpt_addr=echo@example.net daemon_name=scamtest client_addr=192.0.2.7 mail_addr=s@remote.test auth_authen=alice$'
out=$(drv -s "unix:$T/m.sock" 'macro C {daemon_name} MSA' \
    'connect c.test unknown' 'mail <s@r>' 'rcpt <echo@x>')
expect_match "explicit macro, unknown family" "$out" \
    'daemon_name=MSA client_addr=\(unset\)'
grep -q '^connect c.test unknown 0 ' "$T/unix.log" || fail "family unknown not sent"
# Strict: only what the milter asked for; it asked for {rcpt_addr} and
# {daemon_name} at RCPT, so those arrive and {client_addr} does not.
out=$(drv -S -s "unix:$T/m.sock" 'connect c.test 192.0.2.7' 'mail <s@r>' \
    'rcpt <echo@x>')
expect_match "strict symlist" "$out" \
    'rcpt_addr=echo@x daemon_name=scamtest client_addr=\(unset\) mail_addr=\(unset\)'

# 3. The same over inet 127.0.0.1 (and IPv6 when the host has it), and a
# second connect on one driver run is a new milter session.
port=$(freeport)
start_milter inet "inet:$port@127.0.0.1"
waitport "$port"
out=$(drv -s "inet:$port@127.0.0.1" 'connect a.test 198.51.100.1 2525' \
    'mail <a@b>' 'rcpt <bad@example.net>' 'rcpt <ok@example.net>' \
    'connect reject.test ::1' 'helo x' 'connect b.test 2001:db8::1' \
    'helo reject.test' 'helo ok.test')
cat >"$T/w3" <<'EOF'
negotiate: version 6 actions 0x13d protocol 0x400 symlist R={rcpt_addr} {daemon_name}
connect a.test [198.51.100.1]: continue
mail <a@b>: continue
rcpt <bad@example.net>: reject 550 5.1.1 <bad@example.net>: Recipient address rejected: User unknown
rcpt <ok@example.net>: continue
negotiate: version 6 actions 0x13d protocol 0x400 symlist R={rcpt_addr} {daemon_name}
connect reject.test [::1]: reject
helo x: skipped (after reject)
negotiate: version 6 actions 0x13d protocol 0x400 symlist R={rcpt_addr} {daemon_name}
connect b.test [2001:db8::1]: continue
helo reject.test: reject 550 5.7.1 HELO refused by testmilter
helo ok.test: continue
EOF
printf '%s\n' "$out" >"$T/o3"
check "inet" "$T/w3" "$T/o3"
grep -q '^connect a.test 198.51.100.1 2525 ' "$T/inet.log" || fail "inet port not sent"
grep -q '^connect b.test 2001:db8::1 ' "$T/inet.log" || fail "inet6 client not sent"
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	port6=$(freeport)
	start_milter inet6 "inet6:$port6@[::1]"
	waitfor python3 -c "import socket; socket.create_connection(('::1', $port6), 1)" ||
	    fail "inet6 milter did not start"
	drv -s "inet6:$port6@[::1]" 'connect a 1.2.3.4' 'mail <a@b>' \
	    'rcpt <tmp@x>' 'expect tempfail 451 4.4.3' >/dev/null ||
	    fail "inet6 driver run"
fi

# 4. Protocol flags the milter asks for: no headers, no reply to RCPT.
start_milter flags "unix:$T/f.sock" -f 0x8020
out=$(drv -s "unix:$T/f.sock" 'connect a 1.2.3.4' 'mail <a@b>' \
    'rcpt <bad@x>' 'header Subject x' 'eom')
expect_match "flags negotiated" "$out" 'protocol 0x8420'
expect_match "no reply to rcpt" "$out" 'rcpt <bad@x>: noreply'
expect_match "no headers" "$out" 'header Subject: skipped \(milter asked\)'
expect_match "eom after" "$out" 'eom: continue$'
grep -q '^header' "$T/flags.log" && fail "header sent despite SMFIP_NOHDRS"
# An MTA that offers fewer flags: libmilter must fall back to replies.
out=$(drv -P 0x3f -s "unix:$T/f.sock" 'connect a 1.2.3.4' 'mail <a@b>' 'rcpt <x@y>')
expect_match "small offer" "$out" 'rcpt <x@y>: continue'

# 5. -n: concurrent copies, {#}, barrier.  Each slow rcpt takes 300 ms in
# the milter; 40 of them one after another would take 12 s.
start=$(date +%s%N)
drv -n 40 -s "unix:$T/m.sock" 'connect a 10.0.0.{#}' 'mail <a@b>' barrier \
    'rcpt <slow{#}@x>' 'expect continue' >"$T/o5" || fail "-n run exited $?"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 6000 ] || fail "-n 40 took $ms ms: copies not concurrent"
expect_eq "copies answered" "$(grep -cE '^[0-9]+: rcpt <slow[0-9]+@x>: continue$' "$T/o5")" 40
for i in 0 17 39; do
	grep -q "^$i: rcpt <slow$i@x>: continue\$" "$T/o5" || fail "copy $i output"
	grep -q "^connect a 10.0.0.$i " "$T/unix.log" || fail "copy $i {#} in connect"
done

# 6. nowait and read: replies come back in order; close mid-wait.
out=$(drv -s "unix:$T/m.sock" 'connect a 1.2.3.4' 'mail <a@b>' \
    'nowait rcpt <bad@x>' 'nowait rcpt <ok@x>' read 'rcpt <tmp@x>' \
    'nowait rcpt <slow@x>' close)
expect_match "pipelined order" "$(printf '%s\n' "$out" | sed -n 4,6p | tr '\n' '|')" \
    '^rcpt <bad@x>: reject 550 .*\|rcpt <ok@x>: continue\|rcpt <tmp@x>: tempfail 451 '

# 7. Raw hostile input: the milter must survive and the driver must say
# what came back.  Unknown command 'Z': libmilter hangs up.
out=$(drv -s "unix:$T/m.sock" 'raw 00000001 5a')
expect_eq "raw unknown command" "$out" "raw: eof"
# Oversized length prefix: libmilter reads it as a command without data.
out=$(drv -s "unix:$T/m.sock" 'timeout 0.5' 'raw 7fffffff 43')
expect_eq "raw oversized" "$out" "raw: eof"
# A packet that promises more than it sends: no reply within the timeout.
out=$(drv -s "unix:$T/m.sock" 'timeout 0.5' 'raw 00000010 43 6869')
expect_eq "raw truncated" "$out" "raw: no reply"
# A connect packet without NULs after negotiation, then a hand-made OPTNEG.
out=$(drv -s "unix:$T/m.sock" negotiate 'raw 0000000b 43 41414141414141414141' \
    'close' 'raw 0000000d 4f 00000006 000001ff 001fffff')
expect_match "raw after negotiate" "$out" '^raw: (eof|no reply|continue)'
expect_match "raw optneg" "$out" 'raw: optneg version 6 actions 0x13d protocol 0x400'
printf '\000\000\000\002O\001garbage' >"$T/rawfile"
out=$(drv -s "unix:$T/m.sock" 'timeout 0.5' "rawfile $T/rawfile")
expect_match "rawfile" "$out" '^raw: (eof|no reply)$'
# Still alive and answering.
drv -s "unix:$T/m.sock" 'connect a 1.2.3.4' 'mail <a@b>' 'rcpt <bad@x>' \
    'expect reject 550 5.1.1' >/dev/null || fail "milter dead after raw input"

# 8. Exit statuses: expect failure is 1 and the run goes on; protocol and
# connection errors are 2 with a message.
drv -s "unix:$T/m.sock" 'connect a 1.2.3.4' 'expect reject' 'mail <a@b>' \
    >"$T/o8" 2>"$T/e8"
expect_eq "expect failure status" "$?" 1
grep -q 'expected "reject"' "$T/e8" || fail "expect failure message: $(cat "$T/e8")"
grep -q '^mail <a@b>: continue$' "$T/o8" || fail "script stopped after expect failure"
drv -s "unix:$T/nonexistent.sock" 'connect a 1.2.3.4' >/dev/null 2>"$T/e8"
expect_eq "connection error status" "$?" 2
grep -q 'cannot connect' "$T/e8" || fail "connection error message: $(cat "$T/e8")"
drv -s "unix:$T/m.sock" 'bogus command' >/dev/null 2>"$T/e8"
expect_eq "script error status" "$?" 2
# A listener that never answers: a timeout is a protocol error.
python3 -c "
import socket, time
s = socket.socket(socket.AF_UNIX); s.bind('$T/mute.sock'); s.listen(5)
c, _ = s.accept(); time.sleep(5)" &
track $!
waitsock "$T/mute.sock"
drv -t 0.3 -s "unix:$T/mute.sock" 'connect a 1.2.3.4' >"$T/o8" 2>"$T/e8"
expect_eq "timeout status" "$?" 2
grep -q 'negotiate: timeout' "$T/o8" || fail "timeout not printed"

# 9. A hostile milter: the driver reports bad replies and never crashes.
cat >"$T/evil.py" <<'EOF'
import os, socket, struct, sys
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
neg = struct.pack(">III", 6, 0x1ff, 0)
script = [
    # each connection: the reply to OPTNEG, then one reply per command
    [pkt(b"O", b"\0\0\0\6")],
    [pkt(b"O", neg + b"\0\0\0\3{rcpt_addr}")],
    [pkt(b"O", neg + b"\0\0\0\x63x\0\0\0\0\3{rcpt_addr}\0"),
     pkt(b"m", b"\0\1") + pkt(b"h", b"NoNul") + pkt(b"c"),
     pkt(b"i", b"\0\0\0\1Name\0Value\0extra") + pkt(b"c"),
     pkt(b"y", b"550 5.1.1 no nul"),
     b"\0\0\0\0"],
    [pkt(b"O", neg), b"\x7f\xff\xff\xffc"],
    [pkt(b"O", neg), b"\0\0\0\x10c12"],
    [pkt(b"O", neg), pkt(b"Z")],
]
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(5)
for replies in script:
    c, _ = s.accept()
    for r in replies:
        while True:
            hdr = c.recv(5, socket.MSG_WAITALL)
            if len(hdr) < 5:
                break
            n = struct.unpack(">I", hdr[:4])[0] - 1
            if n > 0:
                c.recv(n, socket.MSG_WAITALL)
            if hdr[4:5] != b"D":
                break
        c.sendall(r)
    c.close()
EOF
python3 "$T/evil.py" "$T/evil.sock" &
track $!
waitsock "$T/evil.sock"
E="drv -t 2 -s unix:$T/evil.sock"
$E 'connect a 1.2.3.4' >"$T/o9" 2>"$T/e9"
expect_eq "short optneg status" "$?" 2
grep -q '^negotiate: optneg (4 bytes)$' "$T/o9" || fail "short optneg: $(cat "$T/o9")"
$E 'connect a 1.2.3.4' >"$T/o9" 2>"$T/e9"
expect_eq "symlist without NUL status" "$?" 2
grep -q 'symbol list without NUL' "$T/o9" || fail "symlist without NUL: $(cat "$T/o9")"
$E 'connect a 1.2.3.4' 'mail <a@b>' 'rcpt <c@d>' 'rcpt <e@f>' >"$T/o9" 2>"$T/e9"
expect_eq "bad packets status" "$?" 2
cat >"$T/w9" <<'EOF'
negotiate: version 6 actions 0x1ff protocol 0x0 symlist R={rcpt_addr}
connect a [1.2.3.4]: chgheader (short, 2 bytes)
connect a [1.2.3.4]: addheader NoNul
connect a [1.2.3.4]: continue
mail <a@b>: insheader 1 Name: Value (+5 bytes)
mail <a@b>: continue
rcpt <c@d>: reject 550 5.1.1 no nul
rcpt <e@f>: bad packet
EOF
check "hostile replies" "$T/w9" "$T/o9"
grep -q 'stage 99 ignored' "$T/e9" || fail "unknown symlist stage not reported"
$E 'connect a 1.2.3.4' >"$T/o9" 2>"$T/e9"
expect_eq "oversized reply status" "$?" 2
grep -q 'connect a \[1.2.3.4\]: bad packet' "$T/o9" || fail "oversized reply: $(cat "$T/o9")"
$E 'connect a 1.2.3.4' >"$T/o9" 2>"$T/e9"
expect_eq "truncated reply status" "$?" 2
grep -q 'connect a \[1.2.3.4\]: bad packet' "$T/o9" || fail "truncated reply: $(cat "$T/o9")"
$E 'connect a 1.2.3.4' >"$T/o9" 2>"$T/e9"
expect_eq "unknown reply status" "$?" 2
grep -q 'connect a \[1.2.3.4\]: unknown reply 0x5a (0 bytes)' "$T/o9" ||
    fail "unknown reply: $(cat "$T/o9")"

# The milters lived through all of it.
for p in $milters; do
	kill -0 "$p" 2>/dev/null || fail "a milter died (pid $p)"
done
# libmilter takes seconds to notice SIGTERM; the test milters hold no state.
kill -9 $milters
echo "milterdrv: all checks passed"
