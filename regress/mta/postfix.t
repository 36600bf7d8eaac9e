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

command -v postfix >/dev/null 2>&1 || skip "postfix not installed"
command -v swaks >/dev/null 2>&1 || skip "swaks not installed"
[ "$(id -u)" -eq 0 ] || skip "needs root to start Postfix"

# Postfix runs from a configuration directory of the test's own.  Root
# may start "postfix -c DIR" without DIR being listed in the default
# main.cf's alternate_config_directories (that list guards set-gid
# postdrop and sendmail(1), which the test does not use), so nothing
# outside $T is read or written and no /etc/postfix/main.cf is needed.
PF=$T/pf
pf_up=0
pf_stop() {
	[ $pf_up -eq 1 ] || return 0
	pf_up=0
	_m=$(tr -d ' ' <"$PF/queue/pid/master.pid" 2>/dev/null)
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	# postfix stop returns at once: wait for the master to go before
	# its directories are removed.
	[ -n "$_m" ] && WAIT=20 waitfor sh -c \
	    "! kill -0 $_m || grep -q '^$_m (master) Z' /proc/$_m/stat"
	return 0
}
trap 'pf_stop; _cleanup' EXIT

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

mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
SMTP=$(freeport)
cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.regress.test
mydomain = regress.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.net, other.test, down.test
relay_recipient_maps =
alias_maps =
alias_database =
local_recipient_maps =
default_transport = discard
relay_transport = discard
local_transport = discard
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtpd_peername_lookup = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0
# Let "a%b@example.net" through to the milter (test 4).
allow_untrusted_routing = yes
in_flow_delay = 0
smtpd_milters = $MILTER
milter_default_action = tempfail
biff = no
EOF
cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$SMTP inet n - n - 100 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
# postfix(1) says why it failed only to syslog or a terminal: give it one.
script -qec "postfix -c $PF/etc start" /dev/null >"$T/postfix.out" 2>&1 ||
    fail "postfix did not start: $(tr -d '\r' <"$T/postfix.out" | tail -3)"
pf_up=1
waitport "$SMTP"

# smtp client rcpt...: one SMTP session from client, RCPT for each, quit
# after RCPT; prints the RCPT replies one per line.
smtp() {
	_client=$1
	shift
	_to=$(echo "$@" | tr ' ' ,)
	if [ "$_client" = local ]; then
		_x=""
	else
		_x="--xclient-addr $_client --xclient-name mx.remote.test"
	fi
	swaks --server "127.0.0.1:$SMTP" --helo mx.remote.test \
	    --from x@remote.test --to "$_to" $_x --quit-after RCPT \
	    --timeout 30 2>&1 | sed -n 's/^<[-~*]* *//p' |
	    grep -E '^[245][0-9][0-9] ' | grep -v '^221 ' | tail -n "$#"
}

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
