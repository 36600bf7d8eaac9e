#!/bin/sh
#
# The access rules' DNS questions in a real prober (IMSG_DNS_REQ from
# probedrv in the engine's place) against regress/tools/fakedns.py:
# each result (ok, nxdomain, nodata, nullmx, tempfail) for resolvable, mx
# and ns; smap's left-chopping with parent, down to two labels; the
# implicit MX; NS of the enclosing zone; CNAMEs; answers too long for UDP
# over TCP; the smallest TTL and the SOA's negative TTL; SERVFAIL and
# silence end as tempfail by the dns timeout, never as nxdomain.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

start_backend -U a@example.net
big=""
i=1
while [ $i -le 40 ]; do
	big="$big
big.example MX $i mx$i.a-rather-long-host-name-for-the-answer.example"
	i=$((i + 1))
done
printf '%s\n' "$big" >"$T/zone"
start_dns -n 120 -z "$T/zone" \
    "example.net 600 MX 20 mx2.example.net" \
    "example.net 600 MX 10 mx1.example.net" \
    "mx1.example.net 60 A 192.0.2.1" "mx1.example.net AAAA 2001:db8::1" \
    "mx2.example.net A 192.0.2.2" \
    "amx.example A 192.0.2.3" \
    "null.example MX 0 ." \
    "empty.example TXT hello" \
    "sf.example SERVFAIL" "slow.example TIMEOUT" \
    "example.org NS ns1.example.org" "ns1.example.org A 192.0.2.53" \
    "host.sub.example.org A 192.0.2.9" \
    "a.b.c.parent.example A 192.0.2.10" \
    "parent.example MX 10 mx1.example.net" \
    "alias.example CNAME example.net"
conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore" \
    "dns resolver 127.0.0.1 port $DNS_PORT
dns timeout 2s"

out=$(probe -c 30 -f "$T/c" \
    dns:resolvable:example.net dns:mx:example.net dns:ns:example.net \
    dns:resolvable:amx.example dns:mx:amx.example \
    dns:resolvable:nx.example dns:mx:nx.example \
    dns:resolvable:empty.example dns:mx:empty.example \
    dns:resolvable:null.example dns:mx:null.example \
    dns:resolvable:sf.example dns:mx:slow.example \
    dns:ns:example.org dns:ns:host.sub.example.org dns:ns:nx.example.org \
    dns:parent:x.y.parent.example dns:resolvable:x.y.parent.example \
    dns:parent:a.b.c.parent.example dns:parent:nothing.at.all.example \
    dns:mx:alias.example dns:mx:big.example dns:resolvable:Example.NET.) ||
    fail "probedrv exited $?: $out"

# got KIND NAME: the answer without its time
got() {
	printf '%s\n' "$out" | grep -F "dns $1 $2 " | head -n 1 |
	    sed 's/ [0-9]*ms$//; s/^dns [^ ]* [^ ]* //'
}

# MX, with the hosts in preference order; the smallest TTL of all used.
expect_eq "resolvable" "$(got resolvable example.net)" \
    "ok ttl 600 at example.net names mx1.example.net,mx2.example.net addrs -"
expect_eq "mx" "$(got mx example.net)" \
    "ok ttl 60 at example.net names mx1.example.net,mx2.example.net addrs 192.0.2.1,2001:db8::1,192.0.2.2"
expect_eq "names are asked as they are" "$(got resolvable Example.NET.)" \
    "ok ttl 600 at example.net names mx1.example.net,mx2.example.net addrs -"
# No MX: the address, and the domain as its own MX.
expect_eq "a without mx" "$(got resolvable amx.example)" \
    "ok ttl 120 at amx.example names - addrs 192.0.2.3"
expect_eq "implicit mx" "$(got mx amx.example)" \
    "ok ttl 120 at amx.example names amx.example addrs 192.0.2.3"
# The negative TTL is the SOA's (-n 120).
expect_eq "nxdomain" "$(got resolvable nx.example)" \
    "nxdomain ttl 120 at nx.example names - addrs -"
expect_eq "mx nxdomain" "$(got mx nx.example)" \
    "nxdomain ttl 120 at nx.example names - addrs -"
expect_eq "nodata" "$(got resolvable empty.example)" \
    "nodata ttl 120 at empty.example names - addrs -"
expect_eq "mx nodata" "$(got mx empty.example)" \
    "nodata ttl 120 at empty.example names - addrs -"
expect_eq "null mx" "$(got resolvable null.example)" \
    "nullmx ttl 300 at null.example names - addrs -"
expect_eq "mx null mx" "$(got mx null.example)" \
    "nullmx ttl 300 at null.example names - addrs -"
# Failures for now, by the dns timeout at the latest.
expect_eq "servfail" "$(got resolvable sf.example)" \
    "tempfail ttl 30 at sf.example names - addrs -"
expect_eq "silence" "$(got mx slow.example)" \
    "tempfail ttl 30 at slow.example names - addrs -"
ms=$(printf '%s\n' "$out" | sed -n 's/^dns mx slow.example .* \([0-9]*\)ms$/\1/p')
[ "$ms" -ge 1900 ] && [ "$ms" -le 4000 ] ||
    fail "silence answered after $ms ms, want the dns timeout (2 s)"
# NS: the domain's, or its zone's.
expect_eq "ns" "$(got ns example.org)" \
    "ok ttl 300 at example.org names ns1.example.org addrs 192.0.2.53"
expect_eq "ns of a host" "$(got ns host.sub.example.org)" \
    "ok ttl 120 at example.org names ns1.example.org addrs 192.0.2.53"
expect_eq "ns nxdomain" "$(got ns nx.example.org)" \
    "nxdomain ttl 120 at nx.example.org names - addrs -"
expect_eq "no ns" "$(got ns example.net)" \
    "nodata ttl 120 at example.net names - addrs -"
# parent: the leftmost labels go until a domain resolves, down to two.
expect_eq "parent" "$(got parent x.y.parent.example)" \
    "ok ttl 120 at parent.example names mx1.example.net addrs -"
expect_eq "without parent" "$(got resolvable x.y.parent.example)" \
    "nxdomain ttl 120 at x.y.parent.example names - addrs -"
expect_eq "parent, found at once" "$(got parent a.b.c.parent.example)" \
    "ok ttl 120 at a.b.c.parent.example names - addrs 192.0.2.10"
expect_eq "parent, nowhere" "$(got parent nothing.at.all.example)" \
    "nxdomain ttl 120 at nothing.at.all.example names - addrs -"
expect_eq "chopped down to two labels" \
    "$(dns_count ' udp (nothing.at.all.example|at.all.example|all.example) MX ')" 3
expect_eq "never one label" "$(dns_count ' udp example MX ')" 0
# Through a CNAME.
expect_eq "cname" "$(got mx alias.example)" \
    "ok ttl 60 at alias.example names mx1.example.net,mx2.example.net addrs 192.0.2.1,2001:db8::1,192.0.2.2"
# 40 MX records do not fit in 512 octets: TCP, 8 hosts kept.
expect_match "big" "$(got mx big.example)" '^ok ttl 300 at big.example names mx1\.a-rather.*,mx8\.a-rather[^,]* addrs -$'
[ "$(dns_count ' tcp big.example MX ok$')" -ge 1 ] ||
    fail "no question over TCP: $(cat "$DNS_LOG")"
exit 0
