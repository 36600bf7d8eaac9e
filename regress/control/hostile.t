#!/bin/sh
# A hostile or broken control client never harms the engine: garbage,
# bad headers, wrong sizes, unknown types, a second request, descriptor
# marks, a client that never reads a long answer, and more clients than
# the engine serves at once.  Each only loses its own connection.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
ensure_user

write_conf
now=$(date +%s)
awk -v e=$((now + 3600)) 'BEGIN {
	print "# scam-back cache v1"
	for (i = 0; i < 50000; i++)
		printf "user%05d@example.net valid %d\n", i, e
}' >"$CACHE"
start_daemon
engine=$(pgrep -P "$DPID" -xf "scam-back: milter engine")

# The message types, counted as in scam-back.h's enum imsg_type.
types=$(sed -n '/^enum imsg_type {/,/^};/p' "$TOP/scam-back/scam-back.h" |
    grep -o '^	IMSG_[A-Z_]*' | tr -d '\t' | tr '\n' ' ')

python3 - "$CTLSOCK" "$types" <<'EOP' || fail "hostile client script failed"
import socket, struct, sys, time

path, names = sys.argv[1], sys.argv[2].split()
T = {n: i for i, n in enumerate(names)}
ADDR_LEN = 256

def hdr(t, payload_len, peerid=0, pid=0, mark=0):
    return struct.pack("=IIII", t, (16 + payload_len) | mark, peerid, pid)

def msg(t, payload=b"", **kw):
    return hdr(t, len(payload), **kw) + payload

def filt(state=0, match=b""):
    return struct.pack("=i", state) + match.ljust(ADDR_LEN, b"\0")[:ADDR_LEN]

def attack(name, data, expect_closed=True):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5 if expect_closed else 1)
    s.connect(path)
    try:
        s.sendall(data)
        if name == "short header":
            s.shutdown(socket.SHUT_WR)	# a partial header, then EOF
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except socket.timeout:
        if expect_closed:
            print("FAIL: %s: connection not closed" % name)
            sys.exit(1)
    except ConnectionResetError:
        pass
    s.close()

attack("garbage", bytes(range(256)) * 8)
attack("short header", b"\x01\x02\x03")
attack("len below header", struct.pack("=IIII", T["IMSG_CTL_SHOW_STATS"], 3, 0, 0))
attack("len huge", struct.pack("=IIII", T["IMSG_CTL_SHOW_STATS"], 0x7fffffff, 0, 0))
# A descriptor mark without a descriptor: answered like any request.
attack("fd mark, no fd", msg(T["IMSG_CTL_SHOW_STATS"], mark=0x80000000),
    expect_closed=False)
attack("unknown type", msg(99999))
attack("type 0", msg(0))
attack("a reply as request", msg(T["IMSG_CTL_CACHE_ENTRY"], b"\0" * 280))
attack("internal message", msg(T["IMSG_CACHE_SAVE_FD"]))
attack("internal message 2", msg(T["IMSG_RELOAD_RESULT"], b"\0" * 1040))
attack("show cache short", msg(T["IMSG_CTL_SHOW_CACHE"], b"\0" * 10))
attack("show cache long", msg(T["IMSG_CTL_SHOW_CACHE"], filt() + b"x"))
attack("bad state", msg(T["IMSG_CTL_SHOW_CACHE"], filt(state=99)))
attack("negative state", msg(T["IMSG_CTL_SHOW_CACHE"], filt(state=-1)))
attack("unterminated match", msg(T["IMSG_CTL_FLUSH_CACHE"],
    struct.pack("=i", 0) + b"A" * ADDR_LEN))
attack("check without @", msg(T["IMSG_CTL_CHECK"], filt(match=b"nobody")))
attack("check @domain", msg(T["IMSG_CTL_CHECK"], filt(match=b"@example.net")))
attack("stats with payload", msg(T["IMSG_CTL_SHOW_STATS"], b"x"))
attack("reload with payload", msg(T["IMSG_CTL_RELOAD"], b"xxxx"))
attack("log verbose short", msg(T["IMSG_CTL_LOG_VERBOSE"], b"\1"))
attack("log verbose -1", msg(T["IMSG_CTL_LOG_VERBOSE"], struct.pack("=i", -1)))
attack("log verbose 1000", msg(T["IMSG_CTL_LOG_VERBOSE"], struct.pack("=i", 1000)))
# Two requests at once: the second is a protocol error.
attack("two requests",
    msg(T["IMSG_CTL_SHOW_CACHE"], filt()) + msg(T["IMSG_CTL_SHOW_STATS"]))
# Requests one after another, each answered at once, are fine.
attack("many requests", msg(T["IMSG_CTL_SHOW_STATS"]) * 500,
    expect_closed=False)

# A client that asks for the whole cache and never reads it, another
# that goes away in the middle: neither may hold the engine.
stuck = socket.socket(socket.AF_UNIX)
stuck.connect(path)
stuck.sendall(msg(T["IMSG_CTL_SHOW_CACHE"], filt()))
gone = socket.socket(socket.AF_UNIX)
gone.connect(path)
gone.sendall(msg(T["IMSG_CTL_SHOW_CACHE"], filt()))
gone.recv(1000)
gone.close()

# More idle clients than the engine serves: they may be closed, but the
# next real client is served.
idle = []
for i in range(64):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    idle.append(s)
time.sleep(0.5)
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(path)
s.sendall(msg(T["IMSG_CTL_SHOW_STATS"]))
got = b""
while len(got) < 16 or struct.unpack("=I", got[:4])[0] != T["IMSG_CTL_STATS"]:
    b = s.recv(65536)
    if not b:
        print("FAIL: a real client was not served among 64 idle ones")
        sys.exit(1)
    got += b
s.close()
for s in idle:
    s.close()
stuck.close()
EOP

out=$(ctl show stats) || fail "daemon not answering: $(tail -n 20 "$T/log")"
expect_match "stats" "$out" "cache entries +50000"
expect_eq "same engine" "$(pgrep -P "$DPID" -xf "scam-back: milter engine")" "$engine"
expect_eq "full list still whole" "$(ctl show cache | tail -n +2 | wc -l)" 50000
stop_daemon
exit 0
