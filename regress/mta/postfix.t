#!/bin/sh
#
# End to end with a real Postfix on loopback, started by this test with
# its own configuration and queue: smtpd_milters points at scam-back, the
# client is swaks presenting a remote address with XCLIENT.  Valid
# recipients get 250, invalid ones 550 5.1.1 with scam-back's text, a
# domain scam-back does not verify 250 without a probe, a dead backend 250
# with "unreachable accept" and 451 4.4.3 with "unreachable tempfail";
# 20 SMTP sessions asking at once for one new address make one probe.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-postfix.sh"

start_backend -U bob@example.net -U carol@example.net
good=$BACKEND_PORT
goodlog=$BACKEND_LOG
start_backend -m refuse
down=$BACKEND_PORT
BACKEND_LOG=$goodlog

conf() {
	cat <<EOF
unreachable $1
backoff 0
timeout connect 1
timeout reply 1
backend "b" {
	host 127.0.0.1 port $good
	catchall ignore
}
backend "down" {
	host 127.0.0.1 port $down
	catchall ignore
}
domain "example.net" backend "b"
domain "down.test" backend "down"
EOF
}
conf accept >"$T/body"
start_scamback <"$T/body"

# Let "a%b@example.net" through to the milter (test 4).
pf_start "$MILTER" "example.net, other.test, down.test" \
    "allow_untrusted_routing = yes"

# 1. One session: valid, invalid, unverified domain, dead backend.
out=$(smtp 203.0.113.5 bob@example.net nobody@example.net x@other.test \
    a@down.test 'carol@EXAMPLE.net')
printf '%s\n' "$out" >"$T/o1"
cat >"$T/w1" <<'EOF'
250 2.1.5 Ok
550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
250 2.1.5 Ok
250 2.1.5 Ok
250 2.1.5 Ok
EOF
diff -u "$T/w1" "$T/o1" >&2 || fail "Postfix session 1: $(tail -20 "$PF/maillog")"
expect_eq "probes for bob" "$(rcpt_probes bob@example.net)" 1
expect_eq "probes for nobody" "$(rcpt_probes nobody@example.net)" 1
expect_eq "probes for other.test" "$(backend_count 'other\.test')" 0
grep -q 'reject to=<nobody@example.net> from=<x@remote.test> client=203.0.113.5 verdict=invalid source=probe' "$SB_LOG" ||
    fail "no verdict line for the Postfix session: $(grep to= "$SB_LOG")"
grep -q 'milter-reject: RCPT from mx.remote.test\[203.0.113.5\]: 550 5.1.1 <nobody@example.net>' "$PF/maillog" ||
    fail "Postfix did not log the milter reject"
# Postfix has a queue id once it accepted bob: the verdict line for
# nobody carries it, as Postfix's own line does.
qid=$(sed -n 's/.*reject to=<nobody@example.net> .* qid=\([0-9A-Za-z]*\)$/\1/p' "$SB_LOG")
[ -n "$qid" ] || fail "no qid on the verdict line: $(grep nobody "$SB_LOG")"
grep -q "$qid: milter-reject: RCPT from mx.remote.test\[203.0.113.5\]: 550 5.1.1 <nobody@example.net>" "$PF/maillog" ||
    fail "qid $qid is not Postfix's: $(grep milter-reject "$PF/maillog")"

# 2. The second session is answered from the cache: no new probe.
out=$(smtp 203.0.113.6 nobody@example.net bob@example.net)
expect_eq "cached replies" "$(echo "$out" | cut -c1-9 | tr '\n' ' ')" "550 5.1.1 250 2.1.5 "
expect_eq "probes after cached session" "$(backend_count '^rcpt ')" 3

# 3. Local submission (no XCLIENT, so 127.0.0.1) is not verified.
out=$(smtp local nobody-local@example.net)
expect_eq "local client" "$out" "250 2.1.5 Ok"
expect_eq "local not probed" "$(backend_count 'nobody-local')" 0

# 4. A percent sign in the address reaches the client as one percent.
out=$(smtp 203.0.113.5 'a%b@example.net')
expect_eq "percent" "$out" "550 5.1.1 <a%b@example.net>: Recipient address rejected: User unknown"

# 5. 20 sessions at once ask for one new address: one probe.
i=0
clients=""
while [ $i -lt 20 ]; do
	smtp 203.0.113.$((i + 10)) new@example.net >"$T/c$i" &
	clients="$clients $!"
	i=$((i + 1))
done
wait $clients
expect_eq "concurrent rejects" "$(cat "$T"/c* | grep -c '^550 5.1.1 <new@example.net>')" 20
expect_eq "probes for new" "$(rcpt_probes new@example.net)" 1

# 6. unreachable tempfail, after a reload: 451 4.4.3 for the dead backend.
conf tempfail >"$T/body"
{
	echo "listen on \"unix:$T/milter.sock\" mode 0666"
	echo 'cache file none'
	cat "$T/body"
} >"$T/sb.conf"
_n=$(log_count 'new configuration applied')
kill -HUP "$SB_PID"
waitfor sh -c "[ \$(grep -c 'new configuration applied' '$SB_LOG') -gt $_n ]" ||
    fail "no reload"
out=$(smtp 203.0.113.5 a@down.test bob@example.net)
printf '%s\n' "$out" >"$T/o6"
cat >"$T/w6" <<'EOF'
451 4.4.3 Recipient verification temporarily unavailable
250 2.1.5 Ok
EOF
diff -u "$T/w6" "$T/o6" >&2 || fail "unreachable tempfail through Postfix"

pf_stop
stop_scamback
stop_backend
exit 0
