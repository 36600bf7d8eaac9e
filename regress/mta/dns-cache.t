#!/bin/sh
#
# The access rules' DNS as a busy gateway sees it, through a real Postfix
# and a fake name server (regress/tools/fakedns.py), counted both at the
# name server and in scambackctl show stats: sessions at once with the
# same MAIL FROM domain put one question to the name server (the lookup
# in flight is joined), later sessions within the TTL none (the engine's
# cache), a session after the TTL asks again; an NXDOMAIN is cached too.
# The question is put at MAIL FROM: a RCPT after its answer does not wait.
# SERVFAIL and silence, met by many sessions at once, give every one of
# them a 4xx and never a 5xx, also where set permanent (smap kill-mail)
# turns 4xx into 5xx; the failure is kept a while, not asked again for
# each session; with dns failure accept the same sessions are accepted.
# rules-dns.t covers each answer's reply one session at a time.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dnslib' 2>/dev/null ||
    skip "python3-dnslib not installed"
command -v jq >/dev/null 2>&1 || skip "jq not installed"

# slow.test answers after 600 ms (below c-ares's first retry at 1 s, so
# one lookup is one question): sessions starting meanwhile join it.
start_dns "slow.test DELAY 600" "slow.test MX 10 mx.ok.test" \
    "mx.ok.test A 192.0.2.25" "short.test 2 MX 10 mx.ok.test" \
    "broken.test SERVFAIL" "silent.test TIMEOUT" "hush.test TIMEOUT" \
    "early.test DELAY 900" "early.test MX 10 mx.ok.test"

N=6
start_backend -U bob@example.net -U later@example.net
rules() {
	cat <<EOF
dns resolver 127.0.0.1 port $DNS_PORT
dns timeout 2
dns failure $1
match from { mx.kill.test } set permanent "554 5.7.1 Rejected for good"
reject mail-from unresolvable
reject rcpt-to later@example.net "451 4.7.1 Try %T later"
EOF
}
rules tempfail | rules_conf >"$T/body"
start_scamback <"$T/body"
rules_pf "example.net"

# The dns figures of show stats, and how they moved since the last call
# to moved.
stats() {
	ctl -j show stats | jq -r '.stats.dns |
	    "\(.hits) \(.merged) \(.queries) \(.tempfail)"'
}
before=$(stats)
moved() {
	_now=$(stats)
	set -- $before $_now
	d_hits=$(($5 - $1)) d_merged=$(($6 - $2)) d_queries=$(($7 - $3))
	d_tempfail=$(($8 - $4))
	before=$_now
}

# asked what n [name]: since the last call the engine asked the prober n
# questions (show stats); with name, the name server has had n questions
# for name's MX in all.
asked() {
	moved
	expect_eq "$1: asked" "$d_queries" "$2"
	[ -z "${3:-}" ] ||
	    expect_eq "$1: questions for $3" "$(dns_count " $3 MX ")" "$2"
}

# want rcpt-reply: what a session is to get.
want() {
	printf 'MAIL 250 2.1.0 Ok\nRCPT %s\n' "$1" >"$T/want"
}

# wave name rcpt-reply [session options]: N sessions at once, one RCPT
# each for bob@example.net (or what the options name); fails unless each
# got MAIL 250 and this reply to its RCPT.
wave() {
	_w=$1
	want "$2"
	shift 2
	_i=0 _wpids=""
	while [ $_i -lt $N ]; do
		_i=$((_i + 1))
		mkdir -p "$T/$_w.$_i"
		(T=$T/$_w.$_i; session "$@" >"$T/got") &
		_wpids="$_wpids $!"
	done
	for _p in $_wpids; do
		wait "$_p"
	done
	_i=0
	while [ $_i -lt $N ]; do
		_i=$((_i + 1))
		diff -u "$T/want" "$T/$_w.$_i/got" >&2 ||
		    fail "$_w: session $_i: $(tail -3 "$PF/maillog")"
	done
}

# Sessions at once: one question.
ok="250 2.1.5 Ok"
wave merged "$ok" -f a@slow.test bob@example.net
asked "at once" 1 slow.test
[ $((d_merged + d_hits)) -ge $((N - 1)) ] ||
    fail "at once: $d_merged joined, $d_hits cached, of $N sessions"
[ "$d_merged" -ge 1 ] || fail "at once: none joined the lookup in flight"

# Within the TTL: none.
wave cached "$ok" -f b@slow.test bob@example.net
asked "cached" 0
expect_eq "cached: questions for slow.test" "$(dns_count ' slow.test MX ')" 1
[ "$d_hits" -ge "$N" ] || fail "cached: $d_hits answers from the cache"

# After the TTL (2 s): asked again.
want "$ok"
session -f a@short.test bob@example.net >"$T/got"
expect_replies "short TTL" "$T/want"
sleep 3
session -f b@short.test bob@example.net >"$T/got"
expect_replies "short TTL, expired" "$T/want"
asked "short TTL" 2 short.test

# Asked at MAIL FROM: the question reaches the name server before any
# RCPT is sent (Postfix sends the MAIL event at once only when it waits
# for a reply to it), and a RCPT after the answer (900 ms) does not wait.
/usr/bin/python3 - "$SMTP" "$DNS_LOG" >"$T/early" <<'EOF' ||
import smtplib, sys, time
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("mx.remote.test")
print("MAIL %d" % s.mail("x@early.test")[0])
t = time.monotonic()
while " early.test MX " not in open(sys.argv[2]).read():
    if time.monotonic() - t > 5:
        print("not asked at MAIL FROM")
        sys.exit(1)
    time.sleep(0.01)
time.sleep(1.2)
t = time.monotonic()
code = s.rcpt("bob@example.net")[0]
print("RCPT %d %d ms" % (code, (time.monotonic() - t) * 1000))
s.quit()
EOF
    fail "early: $(cat "$T/early")"
ms=$(sed -n 's/^RCPT 250 \([0-9]*\) ms$/\1/p' "$T/early")
[ -n "$ms" ] && [ "$ms" -lt 600 ] ||
    fail "RCPT waited for the lookup begun at MAIL FROM: $(cat "$T/early")"
asked "at MAIL FROM" 1 early.test

# A name that does not exist: 5xx, and cached like any answer.
wave nx "550 5.1.8 <a@nx.test>: Sender address rejected: Domain not found" \
    -f a@nx.test bob@example.net
asked "nxdomain" 1 nx.test

# SERVFAIL and silence: every session 4xx, from one lookup.
wave servfail \
    "450 4.1.8 <a@broken.test>: Sender address rejected: Domain not found" \
    -f a@broken.test bob@example.net
asked "SERVFAIL" 1
expect_eq "SERVFAIL: failed" "$d_tempfail" 1
n=$(dns_count ' broken.test MX ')
[ "$n" -ge 1 ] || fail "broken.test never asked"
start=$(date +%s)
wave silence \
    "450 4.1.8 <a@silent.test>: Sender address rejected: Domain not found" \
    -f a@silent.test bob@example.net
[ $(($(date +%s) - start)) -le 8 ] || fail "silence: too slow"
asked "silence" 1
expect_eq "silence: failed" "$d_tempfail" 1
[ "$d_merged" -ge 1 ] || fail "silence: none joined the lookup in flight"

# The failure is kept (at most 30 s): the next sessions ask nothing and
# still get a 4xx, also where kill-mail makes a rule's 4xx a 5xx.
wave kill \
    "450 4.1.8 <a@broken.test>: Sender address rejected: Domain not found" \
    -n mx.kill.test -f a@broken.test bob@example.net
asked "failure kept" 0
expect_eq "broken.test asked again" "$(dns_count ' broken.test MX ')" "$n"
want "554 5.7.1 Rejected for good"
session -n mx.kill.test -f a@slow.test later@example.net >"$T/got"
expect_replies "kill-mail" "$T/want"

# dns failure accept: the same failures refuse nothing.
rules accept | rules_conf >"$T/sb.body"
reload_scamback
wave accept-servfail "$ok" -n mx.kill.test -f a@broken.test bob@example.net
wave accept-silence "$ok" -f a@hush.test bob@example.net
asked "accept" 1

pf_stop
stop_scamback
stop_backend
exit 0
