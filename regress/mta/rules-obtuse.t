#!/bin/sh
#
# Obtuse smtpd's smtpd_check_rules, row by row, through a real Postfix:
# the rules file is converted by scam-back -m and used as it comes out,
# so the migration and the rules are tested together.  allow, noto,
# deny (reject, or disconnect with a 421 message), noto_delay, debug;
# sources ALL, KNOWN, UNKNOWN, a CIDR, host and address globs, EXCEPT;
# sender and recipient patterns, regexes; the escapes %F %T %H %I %U %C;
# Obtuse's default message; first match wins.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

cat >"$T/smtpd_check_rules" <<'EOF'
# the internal network passes, even unknown
allow:10.0.0.0/8:ALL:ALL
deny:UNKNOWN:ALL:ALL
noto:ALL:ALL:*%*@*:551 Sorry %H (%I), I don't allow relaying to %T
noto:*.spamhaus.test *.junkmail.test EXCEPT ok.junkmail.test:ALL:ALL:550 go away %H%C %U
noto:192.0.2.*:ALL:ALL:550 no mail from %I
noto:ALL:*@savetrees.test:ALL
noto:ALL:/^[0-9]+@/:ALL:550 numeric sender %F
deny:KNOWN:*@bad.test:ALL:421 Busy%C try later
noto_delay:ALL:ALL:delayed@example.net:550 slow no
debug:ALL:ALL:logged@example.net
noto:ALL:ALL:ALL EXCEPT *@example.net:550 Relay access denied to %T
EOF
"$SCAMBACK" -m "$T/smtpd_check_rules" >"$T/rules" 2>"$T/m.err" ||
    fail "scam-back -m: $(cat "$T/m.err")"
grep -q 'note: ' "$T/m.err" || fail "no notes from -m: $(cat "$T/m.err")"

start_backend -U bob@example.net -U carol@example.net -U delayed@example.net \
    -U logged@example.net
rules_conf <"$T/rules" >"$T/body"
start_scamback <"$T/body"
rules_pf "example.net, elsewhere.test"

# case NAME session-arguments... : the replies go to $T/got
case_() {
	_what=$1
	shift
	session "$@" >"$T/got"
}

# allow: the internal network, unknown or not, relaying or not.
case_ internal -a 10.1.2.3 -n '[UNAVAILABLE]' bob@example.net \
    x@elsewhere.test
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
RCPT 250 2.1.5 Ok
EOF
expect_replies "allow 10.0.0.0/8" "$T/want"

# deny UNKNOWN: Obtuse's default message, %U and %H as Obtuse had them.
case_ unknown -a 203.0.113.9 -n '[UNAVAILABLE]' bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 Mail from x@remote.test to bob@example.net prohibited from your location (unknown@unknown ip=203.0.113.9)
EOF
expect_replies "deny UNKNOWN" "$T/want"

# noto, a recipient glob: %H %I %T.
case_ percent -a 203.0.113.9 -n mx.remote.test 'a%b@example.net' \
    bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 551 Sorry mx.remote.test (203.0.113.9), I don't allow relaying to a%b@example.net
RCPT 250 2.1.5 Ok
EOF
expect_replies "noto *%*@*" "$T/want"

# Host globs with EXCEPT; %C is a colon, %U the AUTH name or unknown.
case_ spamhaus -a 203.0.113.9 -n relay.spamhaus.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 go away relay.spamhaus.test: unknown
EOF
expect_replies "*.spamhaus.test" "$T/want"
case_ junk -a 203.0.113.9 -n a.junkmail.test bob@example.net
cp "$T/got" "$T/got2"
case_ except -a 203.0.113.9 -n ok.junkmail.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
expect_replies "EXCEPT ok.junkmail.test" "$T/want"
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 go away a.junkmail.test: unknown
EOF
diff -u "$T/want" "$T/got2" >&2 || fail "*.junkmail.test"

# An address glob on the client's dotted address.
case_ ipglob -a 192.0.2.77 -n host.example.org bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 no mail from 192.0.2.77
EOF
expect_replies "192.0.2.*" "$T/want"

# A sender pattern, Obtuse's default message; a sender regex.
case_ savetrees -a 203.0.113.9 -f news@savetrees.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 Mail from news@savetrees.test to bob@example.net prohibited from your location (unknown@mx.remote.test ip=203.0.113.9)
EOF
expect_replies "*@savetrees.test" "$T/want"
case_ regex -a 203.0.113.9 -f 12345@numbers.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 numeric sender 12345@numbers.test
EOF
expect_replies "/^[0-9]+@/" "$T/want"

# deny with a 421 message: disconnect, Postfix ends the session.
case_ busy -a 203.0.113.9 -n mail.bad.test -f a@bad.test bob@example.net \
    carol@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 421 Busy: try later
EOF
expect_replies "deny KNOWN 421" "$T/want"
grep -q 'disconnect: ' "$PF/maillog" ||
    grep -q 'lost connection' "$PF/maillog" ||
    fail "Postfix kept the session after 421: $(tail -3 "$PF/maillog")"

# noto_delay: held, within the MTA's patience.
start=$(date +%s)
case_ delay -a 203.0.113.9 delayed@example.net
end=$(date +%s)
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 slow no
EOF
expect_replies "noto_delay" "$T/want"
[ $((end - start)) -ge 8 ] || fail "noto_delay: held $((end - start)) s"

# debug: logged, and the walk goes on (the backend then says yes).
case_ debug -a 203.0.113.9 logged@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
expect_replies "debug" "$T/want"
grep -q 'rule [0-9]* match stage=rcpt .*to=<logged@example.net>' "$SB_LOG" ||
    fail "debug was not logged: $(grep 'rule ' "$SB_LOG" | tail -3)"

# ALL EXCEPT: relaying refused, our domain verified (nobody: 550 5.1.1).
case_ relay -a 203.0.113.9 x@elsewhere.test nobody@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 Relay access denied to x@elsewhere.test
RCPT 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
EOF
expect_replies "ALL EXCEPT" "$T/want"

# One log line a refusal, naming the rule.
n=$(grep -c '^.*rule [0-9]* \(reject\|disconnect\) stage=rcpt' "$SB_LOG")
[ "$n" -eq 10 ] || fail "$n refusal lines, want 10: $(grep 'rule ' "$SB_LOG")"

pf_stop
stop_scamback
stop_backend
exit 0
