#!/bin/sh
#
# Hostile milter traffic through milterdrv's raw mode, while ten honest
# MTA sessions ask for verdicts all along: random bytes before and after
# negotiation, length prefixes from 0 to 4 GB (some followed by that much
# data), packets of every command without their NULs or cut short,
# macros by the thousand, a 1 MB address, NULs inside MAIL and RCPT
# addresses, ESMTP arguments by the thousand.  Each hostile session at
# most loses itself: the engine process stays the same, the honest
# sessions get every verdict right, and only well-formed addresses reach
# the backend.  (Single cases of this kind: regress/milter/hostile.t.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

start_backend -U bob@example.net
start_scamback <<EOF2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2
pid=$(engine_pid) || fail "no engine"

# The hostile packets, one file each: "pre-" files are sent on a bare
# socket, the others after connect, helo and mail.
mkdir "$T/h"
python3 - "$T/h" <<'EOP' || fail "cannot make the packets"
import os, random, struct, sys

d = sys.argv[1]
rnd = random.Random(int(os.environ.get("SEED", "8")))
n = 0

def put(name, data):
    global n
    n += 1
    with open(os.path.join(d, "%03d-%s" % (n, name)), "wb") as f:
        f.write(data)

def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

for i in range(6):
    put("pre-random", bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))))
    put("random", bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))))
# Random bodies behind well-formed headers of every command letter.
for c in b"ABCDEHKLMNOQRSTU":
    body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
    put("random-" + chr(c), pkt(bytes([c]), body))
# Length prefixes.
for v in (0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x100001):
    put("len-%x" % v, struct.pack(">I", v) + b"R<a@example.net>\0")
put("len-1M-data", struct.pack(">I", 0x100001) + b"R" + b"a" * 0x100000)
put("pre-len-huge", struct.pack(">I", 0xfffffff0) + b"O")
put("cut-header", b"\0\0")
put("cut-body", struct.pack(">I", 100) + b"R<a@exa")
# No NULs where strings end, and strings cut short.
for c, body in ((b"C", b"host"), (b"C", b"host\0"), (b"C", b"host\x004"),
                (b"C", b"host\x004\x00\x19"), (b"H", b"helo.name"),
                (b"M", b"<x@remote.test>"), (b"R", b"<bob@example.net>"),
                (b"R", b"<bob@example.net>\0SIZE=1"), (b"D", b"R"),
                (b"D", b"R{rcpt_addr}"), (b"D", b"R{rcpt_addr}\0value"),
                (b"D", b"Rname\0"), (b"D", b""), (b"L", b"Subject"),
                (b"L", b"Subject\0x"), (b"U", b"GARBAGE"), (b"O", b"\0\0\0"),
                (b"O", b"\0\0\0\x06\xff\xff\xff\xff")):
    put("nonul-" + c.decode(), pkt(c, body))
# Negotiation with odd versions and flags, twice in a session.
for ver in (0, 1, 2, 255, 0xffffffff):
    put("pre-optneg-%x" % ver, pkt(b"O", struct.pack(">III", ver, 0x1ff, 0x1fffff)))
put("optneg-again", pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
# Addresses: overlong, NULs inside, no brackets, odd bytes.
put("rcpt-1M", pkt(b"R", b"<" + b"a" * 0x100000 + b"@example.net>\0"))
put("rcpt-nul", pkt(b"R", b"<bo\0b@example.net>\0"))
put("rcpt-nul-domain", pkt(b"R", b"<bob@exa\0mple.net>\0"))
put("mail-nul", pkt(b"M", b"<x\0@remote.test>\0") + pkt(b"R", b"<c1@example.net>\0"))
put("rcpt-8bit", pkt(b"R", b"<\xff\xfe@example.net>\0"))
put("rcpt-route", pkt(b"R", b"<@a,@b,@c:" + b"@x," * 5000 + b"d@example.net>\0"))
put("rcpt-nobrackets", pkt(b"R", b"bob@example.net\0"))
put("rcpt-brackets", pkt(b"R", b"<<<<<<>>>>>>\0"))
put("rcpt-args", pkt(b"R", b"<c2@example.net>\0" + b"X=1\0" * 20000))
put("rcpt-empty-args", pkt(b"R", b"<c3@example.net>\0" + b"\0" * 20000))
# Macros by the thousand, names without braces, binary values.
put("macros", pkt(b"D", b"R" + b"".join(b"{m%d}\0v\0" % i for i in range(5000)))
    + pkt(b"R", b"<c4@example.net>\0"))
put("macro-binary", pkt(b"D", b"R{rcpt_addr}\0\xff\x01\x02\0{client_addr}\0" + bytes(range(1, 256)) + b"\0")
    + pkt(b"R", b"<c5@example.net>\0"))
put("macro-stage", pkt(b"D", b"\xff{x}\0y\0") + pkt(b"D", b"\0{x}\0y\0"))
# Commands out of order, repeated.
put("eom-first", pkt(b"E") + pkt(b"E") + pkt(b"A") + pkt(b"R", b"<c6@example.net>\0"))
put("body-first", pkt(b"B", b"x" * 70000) + pkt(b"R", b"<c7@example.net>\0"))
put("quit-then", pkt(b"Q") + pkt(b"R", b"<c8@example.net>\0"))
put("many-rcpts", b"".join(pkt(b"R", b"<z%d@example.net>\0" % (i % 7)) for i in range(300)))
print(n)
EOP
files=$(ls "$T"/h/*)
inputs=$(echo "$files" | wc -l)

# Ten honest sessions, every 100 ms until told to stop.
touch "$T/go"
honest() {
	r=0
	while [ -e "$T/go" ]; do
		r=$((r + 1))
		drv -n 10 -s "$MILTER" 'connect mx.remote.test 203.0.113.{#}' \
		    'mail <x@remote.test>' 'rcpt <bob@example.net>' \
		    "rcpt <nobody{#}r$r@example.net>" 'rcpt <bob@example.net>' \
		    >>"$T/honest" 2>&1
		echo "$r" >"$T/rounds"
		sleep 0.1
	done
}
honest &
hpid=$!
track $hpid

# hit file: one hostile session; its output goes to the file's .out
hit() {
	_t0=$(date +%s%N)
	case $(basename "$1") in
	*-pre-*)
		drv -t 0.5 -s "$MILTER" open "rawfile $1" read read ;;
	*)
		drv -t 0.5 -s "$MILTER" 'connect mx.remote.test 203.0.113.99' \
		    'helo mx.remote.test' 'mail <x@remote.test>' "rawfile $1" \
		    read 'rcpt <bob@example.net>' ;;
	esac >"$1.out" 2>&1
	echo "$(ms_since "$_t0") ms" >>"$1.out"
	return 0
}

# Eight at a time.
set --
for f in $files; do
	hit "$f" &
	set -- "$@" $!
	if [ $# -ge 8 ]; then
		wait "$@"
		set --
	fi
	kill -0 "$pid" 2>/dev/null || fail "engine died on $f: $(tail -5 "$SB_LOG")"
	hostile 1
done
# (A bare wait would wait for the daemon too.)
[ $# -eq 0 ] || wait "$@"
rm "$T/go"
wait $hpid
rounds=$(cat "$T/rounds")

# Every honest verdict arrived and was right.
right=$(grep -cE 'rcpt <bob@example.net>: continue$|rcpt <nobody[0-9]+r[0-9]+@example.net>: reject 550 5\.1\.1 ' "$T/honest")
want=$((rounds * 30))
echo "$inputs hostile inputs; $rounds honest rounds, $right of $want verdicts right"
if [ "$right" -ne "$want" ]; then
	lost $((want - right))
	fail "honest verdicts lost: $(grep -vE ': continue$|reject 550|negotiate' "$T/honest" | head)"
fi
[ "$rounds" -ge 2 ] || fail "only $rounds honest rounds"
echo "slowest hostile sessions:"
for f in $files; do
	echo "$(tail -n 1 "$f.out") $(basename "$f")"
done | sort -n | tail -n 3

expect_eq "same engine" "$(engine_pid)" "$pid"
out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <bob@example.net>' 'rcpt <nobody@example.net>')
expect_match "valid after" "$out" 'rcpt <bob@example.net>: continue'
expect_match "invalid after" "$out" 'rcpt <nobody@example.net>: reject 550 5.1.1'
# (8-bit addresses may be probed: SMTPUTF8.)
bad=$(grep -a '^rcpt ' "$BACKEND_LOG" |
    LC_ALL=C grep -avE '^rcpt [0-9]+ <[^<>[:cntrl:][:space:]]{1,254}> [0-9]+$' || true)
[ -z "$bad" ] || fail "odd probes reached the backend: $(echo "$bad" | head -c 500)"
stop_scamback
stop_backend
exit 0
