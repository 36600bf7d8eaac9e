#!/usr/bin/python3
#
# Copyright (c) 2026 The scam-back developers
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.

"""fakedns - a DNS server for the tests, on loopback, UDP and TCP.

    fakedns.py [-6] [-b addr] [-d ms] [-l logfile] [-n negttl] [-p port]
               [-z zonefile] [record ...]

Records are zone-file lines ("example.net 60 MX 10 mx.example.net"; TTL
300 unless given) or behaviours for a name and every name below it:

    NAME SERVFAIL        answer SERVFAIL
    NAME REFUSED         answer REFUSED
    NAME TIMEOUT         never answer
    NAME DELAY ms        answer after ms milliseconds
    NAME TRUNCATE        over UDP answer with TC set and nothing else

A name with records, or with records below it, exists: a question for a
type it has not is NODATA (NOERROR, no answer); any other name is
NXDOMAIN.  Both carry an SOA in the authority section whose TTL and
minimum are the negative TTL (-n, default 60).  The zone file (-z) holds
the same lines, # starts a comment; it is read again on SIGHUP.

Prints "port N" on stdout once listening (UDP and TCP on the same port),
logs one line per question ("query N udp|tcp NAME TYPE RESULT"), serves
until SIGTERM or SIGINT, then exits 0.
"""

import getopt
import heapq
import selectors
import signal
import socket
import sys
import time

from dnslib import DNSRecord, DNSLabel, QTYPE, RCODE, RR, SOA

BEHAVIOURS = ("SERVFAIL", "REFUSED", "TIMEOUT", "DELAY", "TRUNCATE")


def usage():
    sys.stderr.write("usage: fakedns.py [-6] [-b addr] [-d ms] [-l logfile] "
                     "[-n negttl] [-p port] [-z zonefile] [record ...]\n")
    sys.exit(2)


class Zone:
    def __init__(self, lines):
        self.records = []       # dnslib RRs
        self.behaviour = {}     # DNSLabel -> (what, arg)
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) >= 2 and words[1].upper() in BEHAVIOURS:
                what = words[1].upper()
                arg = int(words[2]) if what == "DELAY" else 0
                self.behaviour[DNSLabel(words[0])] = (what, arg)
                continue
            self.records.extend(RR.fromZone("$TTL 300\n" + line))

    def behaviour_of(self, qname):
        """The behaviour of the closest name at or above qname."""
        found = None
        for name, b in self.behaviour.items():
            if qname.matchSuffix(name):
                if found is None or len(name.label) > len(found[0].label):
                    found = (name, b)
        return found[1] if found else None

    def exists(self, qname):
        return any(rr.rname.matchSuffix(qname) for rr in self.records)

    def answer(self, qname, qtype):
        """Records of the name and type, following CNAMEs."""
        out, seen = [], set()
        while qname not in seen:
            seen.add(qname)
            rrs = [rr for rr in self.records if rr.rname == qname]
            hit = [rr for rr in rrs if qtype in (rr.rtype, QTYPE.ANY)]
            if hit:
                return out + hit
            cname = [rr for rr in rrs if rr.rtype == QTYPE.CNAME]
            if not cname:
                break
            out.append(cname[0])
            qname = cname[0].rdata.label
        return out


class Server:
    def __init__(self, zone, zonefile, args, negttl, delay, log):
        self.zone = zone
        self.zonefile = zonefile
        self.args = args
        self.negttl = negttl
        self.delay = delay
        self.log = log
        self.count = 0
        self.timers = []        # (when, seq, callable)
        self.seq = 0

    def reload(self):
        lines = list(self.args)
        if self.zonefile:
            with open(self.zonefile) as f:
                lines.extend(f.read().splitlines())
        self.zone = Zone(lines)
        self.logline("reload")

    def logline(self, text):
        if self.log:
            self.log.write(text + "\n")
            self.log.flush()

    def soa(self, qname):
        labels = qname.label[-2:] if len(qname.label) >= 2 else qname.label
        apex = DNSLabel(labels)
        return RR(apex, QTYPE.SOA, ttl=self.negttl,
                  rdata=SOA("ns.fakedns.test", "hostmaster.fakedns.test",
                            (1, 3600, 600, 86400, self.negttl)))

    def respond(self, data, proto):
        """The reply to a query (bytes), or None to stay silent, and the
        delay in milliseconds."""
        try:
            q = DNSRecord.parse(data)
        except Exception:
            self.logline("garbage %s %d bytes" % (proto, len(data)))
            return None, 0
        if q.header.qr or not q.questions:
            return None, 0
        self.count += 1
        qname = q.q.qname
        qtype = q.q.qtype
        r = q.reply()
        b = self.zone.behaviour_of(qname)
        delay = self.delay
        what = None
        if b is not None:
            what, arg = b
            if what == "DELAY":
                delay = arg
                what = None
        if what == "TIMEOUT":
            result = "timeout"
        elif what in ("SERVFAIL", "REFUSED"):
            r.header.rcode = getattr(RCODE, what)
            result = what.lower()
        elif what == "TRUNCATE" and proto == "udp":
            r.header.tc = 1
            result = "truncated"
        else:
            rrs = self.zone.answer(qname, qtype)
            for rr in rrs:
                r.add_answer(rr)
            if any(rr.rtype == qtype or qtype == QTYPE.ANY for rr in rrs):
                result = "ok"
            elif self.zone.exists(qname) or rrs:
                r.add_auth(self.soa(qname))
                result = "nodata"
            else:
                r.header.rcode = RCODE.NXDOMAIN
                r.add_auth(self.soa(qname))
                result = "nxdomain"
        self.logline("query %d %s %s %s %s" % (self.count, proto,
                     str(qname).rstrip(".") or ".", QTYPE.get(qtype),
                     result))
        if what == "TIMEOUT":
            return None, 0
        out = r.pack()
        if proto == "udp" and len(out) > 512:
            r = q.reply()
            r.header.tc = 1
            out = r.pack()
        return out, delay

    def later(self, ms, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + ms / 1000.0,
                                     self.seq, fn))

    def run_timers(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            heapq.heappop(self.timers)[2]()
        if self.timers:
            return max(0.0, self.timers[0][0] - now)
        return None


class TCPConn:
    def __init__(self, server, sel, sock):
        self.server = server
        self.sel = sel
        self.sock = sock
        self.inbuf = b""
        self.outbuf = b""
        self.closed = False
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, self)

    def on_event(self, mask):
        if mask & selectors.EVENT_READ:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.close()
                return
            if data:
                self.inbuf += data
                self.parse()
        if mask & selectors.EVENT_WRITE:
            self.flush()

    def parse(self):
        while len(self.inbuf) >= 2:
            n = int.from_bytes(self.inbuf[:2], "big")
            if len(self.inbuf) < 2 + n:
                break
            msg, self.inbuf = self.inbuf[2:2 + n], self.inbuf[2 + n:]
            out, delay = self.server.respond(msg, "tcp")
            if out is None:
                continue
            framed = len(out).to_bytes(2, "big") + out
            if delay:
                self.server.later(delay, lambda f=framed: self.send(f))
            else:
                self.send(framed)

    def send(self, data):
        if self.closed:
            return
        self.outbuf += data
        self.flush()

    def flush(self):
        if self.outbuf:
            try:
                n = self.sock.send(self.outbuf)
                self.outbuf = self.outbuf[n:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.close()
                return
        events = selectors.EVENT_READ
        if self.outbuf:
            events |= selectors.EVENT_WRITE
        self.sel.modify(self.sock, events, self)

    def close(self):
        if not self.closed:
            self.closed = True
            self.sel.unregister(self.sock)
            self.sock.close()


def main():
    try:
        opts, args = getopt.getopt(sys.argv[1:], "6b:d:l:n:p:z:")
    except getopt.GetoptError:
        usage()
    family, addr, port, delay, negttl = socket.AF_INET, None, 0, 0, 60
    logfile = zonefile = None
    for o, a in opts:
        if o == "-6":
            family = socket.AF_INET6
        elif o == "-b":
            addr = a
        elif o == "-d":
            delay = int(a)
        elif o == "-l":
            logfile = a
        elif o == "-n":
            negttl = int(a)
        elif o == "-p":
            port = int(a)
        elif o == "-z":
            zonefile = a
    if addr is None:
        addr = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    if ":" in addr:
        family = socket.AF_INET6

    log = open(logfile, "a") if logfile else None
    server = Server(None, zonefile, args, negttl, delay, log)
    try:
        server.reload()
    except Exception as e:
        sys.stderr.write("fakedns: %s\n" % e)
        sys.exit(1)

    # The same port for both: the first free UDP port whose TCP twin is
    # free too.
    for _ in range(100):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((addr, port))
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((addr, udp.getsockname()[1]))
            break
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
    else:
        sys.stderr.write("fakedns: no port free for UDP and TCP\n")
        sys.exit(1)
    tcp.listen(64)
    udp.setblocking(False)
    tcp.setblocking(False)

    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "listen")

    # Signals wake the select() through a socket pair at once.
    stop = []
    hup = []
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    signal.signal(signal.SIGINT, lambda s, f: stop.append(s))
    signal.signal(signal.SIGHUP, lambda s, f: hup.append(s))

    print("port %d" % udp.getsockname()[1], flush=True)

    def udp_send(out, peer):
        try:
            udp.sendto(out, peer)
        except OSError:
            pass

    while not stop:
        if hup:
            del hup[:]
            try:
                server.reload()
            except Exception as e:
                server.logline("reload failed: %s" % e)
        timeout = server.run_timers()
        try:
            events = sel.select(timeout if timeout is not None else 1.0)
        except InterruptedError:
            continue
        for key, mask in events:
            if key.data == "wake":
                try:
                    wake_r.recv(64)
                except OSError:
                    pass
            elif key.data == "udp":
                while True:
                    try:
                        data, peer = udp.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    out, ms = server.respond(data, "udp")
                    if out is None:
                        continue
                    if ms:
                        server.later(ms, lambda o=out, p=peer:
                                     udp_send(o, p))
                    else:
                        udp_send(out, peer)
            elif key.data == "listen":
                try:
                    conn, _ = tcp.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                TCPConn(server, sel, conn)
            else:
                key.data.on_event(mask)
    server.logline("exit")
    sys.exit(0)


if __name__ == "__main__":
    main()
