# Helpers for the access rules' end-to-end tests (regress/mta/rules-*.t):
# a real Postfix (lib-postfix.sh) with scam-back as its milter, swaks as
# the client presenting any address and name with XCLIENT.  Source after
# lib.sh and ../milter/engine.sh.
#
# XCLIENT NAME=[UNAVAILABLE] makes Postfix's client unknown
# ({client_resolve} FAIL), NAME=[TEMPUNAVAIL] a temporary failure (TEMP).

. "$(dirname "$0")/lib-postfix.sh"

# rules_pf relay-domains: Postfix in front of scam-back ($MILTER) for
# the rules: it relays the domains a test names, lets scam-back decide
# the rest, and never tires of a client's errors.
rules_pf() {
	pf_start "$MILTER" "$1" \
	    "smtpd_relay_restrictions = reject_unauth_destination" \
	    "smtpd_soft_error_limit = 1000" \
	    "smtpd_hard_error_limit = 1000" \
	    "smtpd_junk_command_limit = 1000" \
	    "allow_untrusted_routing = yes" \
	    "milter_command_timeout = 30s"
}

# session [-a ADDR] [-n NAME] [-r PTR] [-l LOGIN] [-h HELO] [-f FROM] [-d]
#     [-q STEP] rcpt...
# One SMTP session through Postfix: XCLIENT ADDR and NAME (unless -a
# local), REVERSE_NAME and LOGIN when given, HELO, MAIL FROM (-f '' is
# <>), a RCPT each; -d sends a message,
# -q quits after a step (default RCPT, or the message with -d).  Prints
# "COMMAND reply" for MAIL, RCPT, DATA and the end of data (EOM), and for
# the greeting, XCLIENT and EHLO when they are not the usual 220 and 250.
session() {
	_addr=203.0.113.5 _name=mx.remote.test _helo=mx.remote.test
	_from=x@remote.test _data="" _quit="" _ptr="" _login=""
	while [ $# -gt 0 ]; do
		case "$1" in
		-a) _addr=$2; shift 2 ;;
		-n) _name=$2; shift 2 ;;
		-r) _ptr=$2; shift 2 ;;
		-l) _login=$2; shift 2 ;;
		-h) _helo=$2; shift 2 ;;
		-f) _from=$2; shift 2 ;;
		-d) _data=1; shift ;;
		-q) _quit=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_to=$(echo "$@" | tr ' ' ,)
	[ -n "$_from" ] || _from='<>'
	set -- --server "127.0.0.1:$SMTP" --helo "$_helo" --from "$_from" \
	    --to "$_to" --timeout 60
	[ "$_addr" = local ] ||
	    set -- "$@" --xclient-addr "$_addr" --xclient-name "$_name"
	[ -z "$_ptr" ] || set -- "$@" --xclient-reverse-name "$_ptr"
	[ -z "$_login" ] || set -- "$@" --xclient-login "$_login"
	if [ -n "$_data" ]; then
		set -- "$@" --header "Subject: rules test" \
		    --body "a body line"
		[ -z "$_quit" ] || set -- "$@" --quit-after "$_quit"
	else
		set -- "$@" --quit-after "${_quit:-RCPT}"
	fi
	swaks "$@" >"$T/swaks.out" 2>&1
	tr -d '\r' <"$T/swaks.out" | awk '
		/^ -> \.$/ { verb = "EOM"; next }
		/^ -> / { verb = toupper($2); sub(/:.*/, "", verb); next }
		/^<(-|\*\*) +[0-9][0-9][0-9] / {
			line = $0; sub(/^<[-*]* +/, "", line)
			code = substr(line, 1, 3)
			if (verb == "") verb = "GREETING"
			if (verb == "QUIT") next
			if ((verb == "GREETING" || verb == "XCLIENT") &&
			    code == "220") next
			if ((verb == "EHLO" || verb == "HELO") && code == "250")
				next
			print verb " " line
		}'
}

# rules_conf body: scam-back's configuration for these tests: a backend
# (fakebackend, $BACKEND_PORT) that knows bob@ and carol@example.net,
# example.net verified, then body.
rules_conf() {
	cat <<EOF
backoff 0
timeout connect 1
timeout reply 2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF
	cat
}

# reload_scamback: the daemon reads $T/sb.conf again (rebuilt from
# $T/sb.body); waits until it says so.
reload_scamback() {
	{
		echo "listen on \"unix:$T/milter.sock\" mode 0666"
		echo 'cache file none'
		cat "$T/sb.body"
	} >"$T/sb.conf"
	_n=$(log_count 'new configuration applied')
	kill -HUP "$SB_PID"
	waitfor sh -c "[ \$(grep -c 'new configuration applied' \
	    '$SB_LOG') -gt $_n ]" || fail "no reload: $(tail -3 "$SB_LOG")"
}

# expect_replies what expected-file: the last session's replies.
expect_replies() {
	diff -u "$2" "$T/got" >&2 ||
	    fail "$1: $(tail -5 "$PF/maillog")"
}

# check what session-arguments...: one session, whose replies must be
# those of $T/want.
check() {
	_what=$1
	shift
	session "$@" >"$T/got"
	expect_replies "$_what" "$T/want"
}

# rules_backends -U user...: a backend that knows these users
# (BACKEND_PORT, BACKEND_LOG) and one that refuses every session
# (DOWN_PORT), for the unreachable backend's 4xx.
rules_backends() {
	start_backend -m refuse
	DOWN_PORT=$BACKEND_PORT
	start_backend "$@"
}
