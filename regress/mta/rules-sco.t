#!/bin/sh
#
# SCO's sendmail anti-spam rulesets through a real Postfix, with SCO's
# own files (key<TAB>value) loaded as they are: check_rcpt (the relays
# file; relaying refused otherwise), check_relay and check_mail's client
# check (the spammers file, its message shown with %{value}), check_compat
# (spammers2 against protected, domains with their subdomains, single
# addresses, the local user "chris").  A changed file is read again on
# reload.  check_mail's resolvable sender is in rules-dns.t.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

A=$T/antispam
mkdir -p "$A"
printf 'bomb20.pdev.sco.test\tOK\n10.0.67.15\tOK\n' >"$A/relays"
printf '%s\n' \
    "bomb20.spam.test	Mail rejected, contact postmaster@mydomain.test" \
    "10.0.67.99		Mail rejected, contact postmaster@mydomain.test" \
    >"$A/spammers"
printf 'isendspam.test\t\tSPAMMER\nchris@sendyouspam.test\tSPAMMER\n' \
    >"$A/spammers2"
printf 'foobar.test\tPROTECTED\nchris\t\t\t\tPROTECTED\n' >"$A/protected"
printf 'chris@foobar.test\t\tPROTECTED\n' >>"$A/protected"

start_backend -U bob@example.net -U chris@example.net -U carol@example.net
rules_conf >"$T/body" <<EOF
table <relays> file "$A/relays"
table <spammers> file "$A/spammers"
table <spammers2> file "$A/spammers2"
table <protected> file "$A/protected"
reject from <spammers> "550 5.7.1 %{value}"
reject mail-from <spammers2> rcpt-to <protected>
pass from <relays>
reject ! rcpt-to <domains> "554 5.7.1 <%T>: Relay access denied"
EOF
start_scamback <"$T/body"
rules_pf "example.net, foobar.test, elsewhere.test"

# check_rcpt: relays by name and by address; others may not relay.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "relay by name" -n bomb20.pdev.sco.test x@elsewhere.test
check "relay by address" -a 10.0.67.15 -n '[UNAVAILABLE]' x@elsewhere.test
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <x@elsewhere.test>: Relay access denied
RCPT 250 2.1.5 Ok
EOF
check "no relaying" -n other.test x@elsewhere.test bob@example.net

# check_relay / check_mail: the spammers file's message.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.1 Mail rejected, contact postmaster@mydomain.test
EOF
check "spammer by name" -n BOMB20.spam.test bob@example.net
check "spammer by address" -a 10.0.67.99 -n '[UNAVAILABLE]' bob@example.net

# check_compat: spammers2 to protected only; domains cover subdomains.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <x@machine1.isendspam.test>: Sender address rejected: Access denied
RCPT 554 5.7.1 <x@machine1.isendspam.test>: Sender address rejected: Access denied
RCPT 554 5.7.1 <x@machine1.isendspam.test>: Sender address rejected: Access denied
RCPT 250 2.1.5 Ok
EOF
check "spammers2 domain" -f x@machine1.isendspam.test y@foobar.test \
    y@machine1.subdom.foobar.test chris@example.net bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <chris@sendyouspam.test>: Sender address rejected: Access denied
RCPT 554 5.7.1 <chris@sendyouspam.test>: Sender address rejected: Access denied
RCPT 250 2.1.5 Ok
EOF
check "spammers2 address" -f chris@sendyouspam.test chris@example.net \
    chris@foobar.test carol@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
RCPT 250 2.1.5 Ok
EOF
check "not a spammer" -n bomb20.pdev.sco.test \
    -f other@sendyouspam.test chris@example.net \
    y@foobar.test

# A changed file is read again on reload.
printf 'newspam.test\tNew spammer, go away\n' >>"$A/spammers"
reload_scamback
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.1 New spammer, go away
EOF
check "reloaded spammers" -n newspam.test bob@example.net

pf_stop
stop_scamback
stop_backend
exit 0
