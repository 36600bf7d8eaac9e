#!/bin/sh
#
# regress/tools/fakedns.py answers as regress/tools/README says: records
# (MX, null MX, A, AAAA, NS, CNAME), NXDOMAIN and NODATA with an SOA,
# SERVFAIL, silence, delay, truncation over UDP and the same answer over
# TCP, a zone file read again on SIGHUP, one log line per question, exit
# 0 on SIGTERM.

. "$(dirname "$0")/../lib.sh"

/usr/bin/python3 -c 'import dnslib' 2>/dev/null ||
    skip "/usr/bin/python3 has no dnslib (apt-get install python3-dnslib)"

printf 'zone.example A 192.0.2.99\n' >"$T/zone"
start_dns -n 42 -z "$T/zone" "example.net 60 MX 10 mx.example.net" \
    "mx.example.net A 192.0.2.25" "mx.example.net AAAA 2001:db8::25" \
    "null.example MX 0 ." "example.org NS ns1.example.org" \
    "alias.example CNAME mx.example.net" "sf.example SERVFAIL" \
    "quiet.example TIMEOUT" "slow.example DELAY 400" "slow.example A 192.0.2.7" \
    "tc.example TRUNCATE" "tc.example A 192.0.2.8"

# ask NAME TYPE [tcp]: "RCODE TC answers... | authority types"
ask() {
	/usr/bin/python3 - "$DNS_PORT" "$@" <<-'EOF'
	import socket, sys
	from dnslib import DNSRecord, QTYPE
	port, name, qtype = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	tcp = len(sys.argv) > 4
	q = DNSRecord.question(name, qtype)
	try:
	    a = DNSRecord.parse(q.send("127.0.0.1", port, tcp=tcp, timeout=1))
	except socket.timeout:
	    print("timeout")
	    sys.exit(0)
	print(a.header.rcode, a.header.tc,
	      " ".join("%s:%s:%d" % (QTYPE.get(r.rtype), r.rdata, r.ttl)
	               for r in a.rr), "|",
	      " ".join("%s:%d" % (QTYPE.get(r.rtype), r.ttl) for r in a.auth))
	EOF
}

expect_eq "MX" "$(ask example.net MX)" "0 0 MX:10 mx.example.net.:60 | "
expect_eq "A" "$(ask mx.example.net A)" "0 0 A:192.0.2.25:300 | "
expect_eq "AAAA" "$(ask mx.example.net AAAA)" \
    "0 0 AAAA:2001:db8::25:300 | "
expect_eq "null MX" "$(ask null.example MX)" "0 0 MX:0 .:300 | "
expect_eq "NS" "$(ask example.org NS)" "0 0 NS:ns1.example.org.:300 | "
expect_eq "CNAME" "$(ask alias.example A)" \
    "0 0 CNAME:mx.example.net.:300 A:192.0.2.25:300 | "
expect_eq "NODATA" "$(ask example.net A)" "0 0  | SOA:42"
expect_eq "NODATA above a name" "$(ask example A)" "0 0  | SOA:42"
expect_eq "NXDOMAIN" "$(ask nowhere.example.net MX)" "3 0  | SOA:42"
expect_eq "SERVFAIL below" "$(ask a.b.sf.example A)" "2 0  | "
expect_eq "timeout" "$(ask quiet.example A)" "timeout"
start=$(date +%s%N)
expect_eq "delayed" "$(ask slow.example A)" "0 0 A:192.0.2.7:300 | "
[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 400 ] || fail "no delay"
expect_eq "truncated" "$(ask tc.example A)" "0 1  | "
expect_eq "over TCP" "$(ask tc.example A tcp)" "0 0 A:192.0.2.8:300 | "
expect_eq "zone file" "$(ask zone.example A)" "0 0 A:192.0.2.99:300 | "

printf 'zone.example A 192.0.2.100\n' >"$T/zone"
kill -HUP "$DNS_PID"
waitfor sh -c "[ \$(grep -c '^reload' '$DNS_LOG') -eq 2 ]" ||
    fail "no reload on SIGHUP"
expect_eq "zone file again" "$(ask zone.example A)" \
    "0 0 A:192.0.2.100:300 | "

expect_eq "questions logged" "$(dns_count '^query ')" 16
expect_eq "one over TCP" "$(dns_count '^query [0-9]+ tcp tc.example A ok$')" 1
expect_eq "nxdomain logged" \
    "$(dns_count '^query [0-9]+ udp nowhere.example.net MX nxdomain$')" 1

kill -TERM "$DNS_PID"
wait "$DNS_PID"
expect_eq "exit status" "$?" 0
grep -q '^exit$' "$DNS_LOG" || fail "no exit line"
exit 0
