# A real Postfix for regress/mta/*.t, started by the test on loopback
# with its own configuration and queue under $T.  Source after lib.sh
# (and milter/engine.sh for $MILTER):
#
#	pf_start MILTER RELAY_DOMAINS [main.cf lines...]
#		start Postfix on a free port of 127.0.0.1 (sets SMTP and
#		PF); smtpd_milters = MILTER; mail for RELAY_DOMAINS (comma
#		separated) is accepted and discarded
#	pf_stop		stop it and wait for its master to go
#	smtp CLIENT RCPT...
#		one SMTP session: XCLIENT as CLIENT ("local": none), one
#		RCPT each, quit after RCPT; prints the RCPT replies
#
# Root may start "postfix -c DIR" without DIR being listed in the default
# main.cf's alternate_config_directories (that list guards set-gid
# postdrop and sendmail(1), which no test uses), so nothing outside $T
# is read or written and no /etc/postfix/main.cf is needed.

command -v postfix >/dev/null 2>&1 || skip "postfix not installed"
command -v swaks >/dev/null 2>&1 || skip "swaks not installed"
[ "$(id -u)" -eq 0 ] || skip "needs root to start Postfix"

PF=$T/pf
pf_up=0
trap 'pf_stop; _cleanup' EXIT

pf_start() {
	_milter=$1
	_relay=$2
	shift 2
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
relay_domains = $_relay
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
in_flow_delay = 0
smtpd_milters = $_milter
milter_default_action = tempfail
biff = no
EOF
	for _l in "$@"; do
		echo "$_l" >>"$PF/etc/main.cf"
	done
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
	# postfix(1) says why it failed only to syslog or a terminal.
	script -qec "postfix -c $PF/etc start" /dev/null >"$T/postfix.out" 2>&1 ||
	    fail "postfix did not start: $(tr -d '\r' <"$T/postfix.out" | tail -3)"
	pf_up=1
	waitport "$SMTP"
}

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

smtp() {
	_client=$1
	shift
	_to=$(printf '%s,' "$@")
	if [ "$_client" = local ]; then
		_x=""
	else
		_x="--xclient-addr $_client --xclient-name mx.remote.test"
	fi
	# shellcheck disable=SC2086
	swaks --server "127.0.0.1:$SMTP" --helo mx.remote.test \
	    --from x@remote.test --to "${_to%,}" $_x --quit-after RCPT \
	    --timeout 30 2>&1 | sed -n 's/^<[-~*]* *//p' |
	    grep -E '^[245][0-9][0-9] ' | grep -v '^221 ' | tail -n "$#"
}
