#!/bin/sh
#
# The smap enhancements of the TIS firewall toolkit, row by row, through a
# real Postfix and a fake name server: the netperm-table is converted by
# scam-back -m and used as it comes out.  permit-hosts, permit-domains
# (relaying refused), spam hosts with scrub-spam (the client, and with
# check-from-address the sender's domain too), require-full-email,
# check-from-address (a local domain from outside; no MX, A or AAAA,
# leftmost labels chopped), broken-from, max-email and max-dirent (the
# refused message kept), kill-mail (a 4xx becomes 554), set-*-errno, and
# spam-block deny and allow.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

cat >"$T/zone" <<'EOF'
remote.test MX 10 mx.remote.test
mx.remote.test A 192.0.2.25
ok.test MX 10 mx.remote.test
juno.test MX 10 mx.remote.test
savetrees.test MX 10 mx.remote.test
mycompany.test MX 10 mx.remote.test
EOF
start_dns -z "$T/zone"

mkdir -p "$T/smap"
cat >"$T/netperm-table" <<EOF
# smap-cih's netperm-table
smap: userid 6
smap: directory $T/smap
smap: permit-hosts 127.0.0.* 192.168.1.*
smap: permit-domains example.net down.test
smap: spam ispamalot.test *frob.test
smap: scrub-spam 1
smap: require-full-email 1
smap: check-from-address 1
smap: check-user-too 1
smap: max-email 200
smap: max-dirent 10
smap: broken-from *brokenisp.test
smap: kill-mail mail.rgw-express.test
smap: set-bad-address-errno 553
smap: set-not-local-errno 550
smap: set-reject-errno 554
smap: set-kill-errno 554
smap: spam-block deny <*> <former@example.net>
smap: spam-block deny <*juno.test> <victim@example.net>
smap: spam-block allow <*mycompany*> <*>
smap: spam-block deny <*savetrees.test*> <*>
netacl-in.ftpd: permit-hosts 192.168.1.* -exec /usr/libexec/ftpd
EOF
"$SCAMBACK" -m "$T/netperm-table" >"$T/rules" 2>"$T/m.err"
grep -q 'check: \*frob.test also matches evilfrob.test' "$T/m.err" ||
    fail "-m: $(cat "$T/m.err")"
grep -v 'note: \|check: ' "$T/m.err" && fail "-m could not convert a line"

rules_backends -U bob@example.net -U carol@example.net -U victim@example.net \
    -U former@example.net
{
	rules_conf </dev/null
	cat <<EOF
unreachable tempfail
backend "down" {
	host 127.0.0.1 port $DOWN_PORT
	catchall ignore
}
domain "down.test" backend "down"
dns resolver 127.0.0.1 port $DNS_PORT
dns timeout 2
EOF
	cat "$T/rules"
} >"$T/body"
start_scamback <"$T/body"
rules_pf "example.net, down.test, elsewhere.test"

# permit-hosts: an internal host relays and is not checked.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
RCPT 250 2.1.5 Ok
EOF
check "permit-hosts" -a 192.168.1.5 -f joe x@elsewhere.test bob@example.net

# permit-domains: nobody else relays (set-not-local-errno 550).
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.1 <x@elsewhere.test>: Relay access denied
RCPT 250 2.1.5 Ok
EOF
check "permit-domains" -f a@ok.test x@elsewhere.test bob@example.net

# spam hosts (set-reject-errno 554): the client, then the sender.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 Mail from ispamalot.test [203.0.113.5] refused
EOF
check "spam host" -n ispamalot.test -f a@ok.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 Mail from smtp.frob.test [203.0.113.5] refused
EOF
check "spam glob" -n smtp.frob.test -f a@ok.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <a@mail.ispamalot.test>: Sender address rejected
EOF
check "spam sender" -f a@mail.ispamalot.test bob@example.net

# require-full-email; check-from-address (set-bad-address-errno 553).
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 553 5.1.7 <joe>: need user@domain
EOF
check "require-full-email" -f joe bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 553 5.7.1 <a@example.net>: not a local sender
EOF
check "local domain from outside" -f a@example.net bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "chopped" -f a@x.y.ok.test bob@example.net
check "broken-from" -f a@mail.brokenisp.test bob@example.net

# max-email: the refused message's first 200 octets are kept.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
DATA 354 End data with <CR><LF>.<CR><LF>
EOM 553 5.1.8 <a@nxdomain.test>: Sender domain not found
EOF
check "max-email" -d -f a@nxdomain.test bob@example.net
waitfor grep -q 'saved refused message file=' "$SB_LOG" ||
    fail "nothing saved: $(grep 'rule ' "$SB_LOG" | tail -3)"
f=$(ls "$T/smap/secure"/* 2>/dev/null | head -1)
[ -n "$f" ] && [ "$(wc -c <"$f")" -eq 200 ] ||
    fail "max-email: $(ls -l "$T/smap/secure")"

# kill-mail: a 4xx from this host becomes 554 (set-kill-errno).
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 451 4.4.3 Recipient verification temporarily unavailable
EOF
check "not killed" -f a@ok.test a@down.test
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 Rejected
EOF
check "kill-mail" -n mail.rgw-express.test -f a@ok.test a@down.test

# spam-block: deny and allow lines, in their order.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <a@ok.test> may not write to <former@example.net>
RCPT 250 2.1.5 Ok
EOF
check "spam-block deny <*> <former@>" -f a@ok.test former@example.net \
    bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <x@juno.test> may not write to <victim@example.net>
RCPT 250 2.1.5 Ok
EOF
check "spam-block juno" -f x@juno.test victim@example.net bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <news@savetrees.test> may not write to <bob@example.net>
EOF
check "spam-block savetrees" -f news@savetrees.test bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "spam-block allow" -f boss@mycompany.test bob@example.net

pf_stop
stop_scamback
stop_backend
exit 0
