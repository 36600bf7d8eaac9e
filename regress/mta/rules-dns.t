#!/bin/sh
#
# The access rules' DNS conditions through a real Postfix, against a
# fake name server on loopback (regress/tools/fakedns.py): mail-from
# unresolvable (smap check-from-address with parent, SCO check_mail
# without), null MX, no MX but an A record, NXDOMAIN, SERVFAIL and
# silence (never a 5xx: 450 4.1.8, or no refusal with dns failure
# accept; an unknown recipient still 550 5.1.1), mail-from mx and ns
# (Obtuse NS=), lookups started at MAIL FROM and cached, and
# scambackctl check rules with live DNS.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

cat >"$T/zone" <<'EOF'
ok.test MX 10 mx.ok.test
mx.ok.test A 192.0.2.25
aonly.test A 192.0.2.26
nullmx.test MX 0 .
chop.test MX 10 mx.ok.test
servfail.test SERVFAIL
silent.test TIMEOUT
spamhost.test MX 10 mx.bulletproof.test
mx.bulletproof.test A 198.51.100.25
nsonly.test A 192.0.2.30
nsonly.test NS ns1.bulletproof.test
ns1.bulletproof.test A 198.51.100.53
EOF
start_dns -z "$T/zone"

start_backend -U bob@example.net -U carol@example.net
smap_rules() {
	cat <<EOF
dns resolver 127.0.0.1 port $DNS_PORT
dns timeout 2
dns failure $1
reject ! mail-from { "*broken.test*" } mail-from unresolvable parent
reject mail-from mx { "*.bulletproof.test" } "550 5.7.1 <%F>: bulletproof mail"
reject mail-from ns { 198.51.100.0/24 } "550 5.7.1 <%F>: bulletproof DNS"
EOF
}
smap_rules tempfail | rules_conf >"$T/body"
start_scamback <"$T/body"
rules_pf "example.net"

cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "MX" -f a@ok.test bob@example.net
check "A, no MX" -f a@aonly.test bob@example.net
check "parent" -f a@x.y.chop.test bob@example.net
check "broken-from" -f a@mail.broken.test bob@example.net

cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.1.8 <a@nxdomain.test>: Sender address rejected: Domain not found
EOF
check "NXDOMAIN" -f a@nxdomain.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.27 <a@nullmx.test>: Sender address rejected: Domain does not accept mail (nullMX)
EOF
check "null MX" -f a@nullmx.test bob@example.net

# A temporary failure: 450, but an unknown recipient is still 550.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 450 4.1.8 <a@servfail.test>: Sender address rejected: Domain not found
RCPT 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
EOF
check "SERVFAIL" -f a@servfail.test bob@example.net nobody@example.net
start=$(date +%s)
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 450 4.1.8 <a@silent.test>: Sender address rejected: Domain not found
EOF
check "no answer" -f a@silent.test bob@example.net
[ $(( $(date +%s) - start )) -le 6 ] || fail "no answer: too slow"

# The servers of the sender's domain, by name and by address.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.1 <a@spamhost.test>: bulletproof mail
EOF
check "mx" -f a@spamhost.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.1 <a@nsonly.test>: bulletproof DNS
EOF
check "ns" -f a@nsonly.test bob@example.net

# Asked at MAIL FROM, then from the cache: a second session asks nothing.
n=$(grep -c 'aonly.test' "$DNS_LOG")
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "A, no MX, again" -f b@aonly.test carol@example.net
expect_eq "questions for aonly.test" "$(grep -c 'aonly.test' "$DNS_LOG")" \
    "$n"

# check rules asks the DNS anew.
m=$(grep -c 'nxdomain.test' "$DNS_LOG")
ctl check rules from 203.0.113.9 name mx.remote.test \
    mail-from a@nxdomain.test rcpt-to bob@example.net >"$T/check" ||
    fail "check rules"
grep -q '^reject: 550 5.1.8 <a@nxdomain.test>: Sender address rejected: Domain not found$' \
    "$T/check" || fail "check rules: $(cat "$T/check")"
[ "$(grep -c 'nxdomain.test' "$DNS_LOG")" -gt "$m" ] ||
    fail "check rules did not ask the DNS"

# dns failure accept: a failure refuses nothing.
smap_rules accept | rules_conf >"$T/sb.body"
reload_scamback
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "failure accept" -f a@servfail.test bob@example.net

# SCO's check_mail: resolvable, no parents.
cat >"$T/sb.body" <<EOF
$(rules_conf </dev/null)
dns resolver 127.0.0.1 port $DNS_PORT
reject mail-from unresolvable
EOF
reload_scamback
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.1.8 <a@x.y.chop.test>: Sender address rejected: Domain not found
EOF
check "check_mail" -f a@x.y.chop.test bob@example.net

pf_stop
stop_scamback
stop_backend
exit 0
