#!/bin/sh
#
# TLS failures with "tls require", under load: FAULT_N (8) concurrent MTA
# sessions through the whole daemon against a backend whose handshake
# fails at once (garbage after "220 ready"), one whose handshake hangs,
# and one whose certificate the system CAs do not know.  Every RCPT for
# it ends with verdict unknown within the engine's bound, never cached,
# and no RCPT goes to the backend in the clear; verdicts for a sound
# backend go on meanwhile.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

mkdir "$T/cert"
make_cert "$T/cert"
cert="-c $T/cert/cert.pem -k $T/cert/key.pem"

for mode in tlsbroken tlshang tls; do
	if [ $mode = tls ]; then
		lines="	tls require"
	else
		lines="	tls require
	tls noverify"
	fi
	fault_start "$lines" -m $mode $cert
	fault_round accept
	fault_round tempfail
	fault_end
	# After EHLO, each session's next command is STARTTLS.  (One that
	# the stop cut short may have sent nothing yet: the count of
	# STARTTLS is not the count of connections.)
	expect_eq "$mode: a command before STARTTLS" "$(awk '
	    $1 == "ehlo" { ehlo[$2] = 1; next }
	    $1 ~ /^(starttls|mail|rcpt|rset|noop|helo|data)$/ && ehlo[$2] {
		if ($1 != "starttls") bad++
		delete ehlo[$2]
	    }
	    END { print bad + 0 }' "$BAD_LOG")" 0
	expect_eq "$mode: no MAIL or RCPT in the clear" \
	    "$(backend_count '^(mail|rcpt) ' "$BAD_LOG")" 0
	[ "$(backend_count '^starttls ' "$BAD_LOG")" -ge 10 ] ||
	    fail "$mode: STARTTLS hardly tried: $(cat "$BAD_LOG")"
	[ "$(backend_count '^connect ' "$BAD_LOG")" -ge 10 ] ||
	    fail "$mode: no connections: $(cat "$BAD_LOG")"
done
exit 0
