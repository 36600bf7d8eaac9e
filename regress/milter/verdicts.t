#!/bin/sh
#
# Every row of SPEC section 6 through the real daemon, its real prober and
# fake backends, driven by milterdrv as an MTA: verdicts and the replies
# they become (a % in the text doubled, as libmilter asks), address
# normalisation, domain matching, each skip rule (and that skipped or
# unmatched recipients reach no backend), the second lookup answered from
# the cache, the log line per verdict, show stats.  Negotiation: the steps
# scam-back skips (0x372: HELO, DATA, headers, end of headers, body,
# unknown commands) and those it does not answer (0x1000 CONNECT, 0x4000
# MAIL: "noreply"), so that the MTA waits for it at RCPT only.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

start_backend -U bob@example.net -U x@deep.example.org -U x@example.org
main=$BACKEND_PORT
mainlog=$BACKEND_LOG
start_backend -m greylist
grey=$BACKEND_PORT
greylog=$BACKEND_LOG
BACKEND_LOG=$mainlog

start_scamback <<EOF
timeout connect 2
timeout reply 2
skip from { 192.0.2.0/24 2001:db8:1::/48 }
backend "main" {
	host 127.0.0.1 port $main
	catchall ignore
}
backend "grey" {
	host 127.0.0.1 port $grey
	catchall ignore
}
domain "example.net" backend "main"
domain "example.org" backend "main" subdomains
domain "grey.test" backend "grey"
EOF

long=$(printf 'a%.0s' $(seq 1 250))

# 1. A remote client: verdicts, normalisation, matching.
drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <bob@example.net>' \
    'rcpt <nobody@example.net>' \
    'rcpt <@relay.test:bob@EXAMPLE.NET.>' \
    'rcpt <x@deep.example.org>' \
    'rcpt <x@example.org>' \
    'rcpt <nobody@deep.example.org>' \
    'rcpt <x@badexample.net>' \
    'rcpt <x@sub.example.net>' \
    'rcpt <postmaster>' \
    'rcpt <tmp@grey.test>' \
    "rcpt <$long@example.net>" \
    'rcpt <nobody@example.net>' \
    'rcpt <100%@example.net>' \
    >"$T/o1" || fail "session 1: driver exited $?"
cat >"$T/w1" <<EOF
negotiate: version 6 actions 0x108 protocol 0x5372 symlist R=i {rcpt_addr} {daemon_name} {auth_authen} {client_addr}
connect mx.remote.test [203.0.113.5]: noreply
mail <x@remote.test>: noreply
rcpt <bob@example.net>: continue
rcpt <nobody@example.net>: reject 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
rcpt <@relay.test:bob@EXAMPLE.NET.>: continue
rcpt <x@deep.example.org>: continue
rcpt <x@example.org>: continue
rcpt <nobody@deep.example.org>: reject 550 5.1.1 <nobody@deep.example.org>: Recipient address rejected: User unknown
rcpt <x@badexample.net>: continue
rcpt <x@sub.example.net>: continue
rcpt <postmaster>: continue
rcpt <tmp@grey.test>: continue
rcpt <$long@example.net>: reject 550 5.1.3 Bad recipient address syntax
rcpt <nobody@example.net>: reject 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
rcpt <100%@example.net>: reject 550 5.1.1 <100%%@example.net>: Recipient address rejected: User unknown
EOF
diff -u "$T/w1" "$T/o1" >&2 || fail "session 1 replies"

# The backend saw each verified address once, and nothing else.
expect_eq "bob probed" "$(rcpt_probes bob@example.net)" 1
expect_eq "nobody probed" "$(rcpt_probes nobody@example.net)" 1
expect_eq "subdomain probed" "$(rcpt_probes x@deep.example.org)" 1
expect_eq "unmatched domains" "$(backend_count '@(badexample|sub\.example)\.net')" 0
expect_eq "overlong address" "$(backend_count "$long")" 0
expect_eq "probes to main" "$(backend_count '^rcpt ')" 6
expect_eq "greylisted probe" "$(backend_count '^rcpt .*tmp@grey.test' "$greylog")" 1

# One line per verdict, in the format of SPEC section 6.
grep -q '^milter engine: reject to=<nobody@example.net> from=<x@remote.test> client=203.0.113.5 verdict=invalid source=probe qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no reject line: $(grep 'to=' "$SB_LOG")"
grep -q '^milter engine: reject to=<nobody@example.net> from=<x@remote.test> client=203.0.113.5 verdict=invalid source=cache qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no cached reject line"
grep -q '^milter engine: accept to=<bob@example.net> .* verdict=valid source=cache qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no cached accept line"
grep -q '^milter engine: accept to=<tmp@grey.test> .* verdict=unknown source=probe why=".*" qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no unknown line"
expect_eq "verdict lines" "$(log_count ' verdict=')" 10
grep -q "reject to=<aaaaaaaa*\.\.\.> from=<x@remote.test> client=203.0.113.5 verdict=impossible reason=too-long" "$SB_LOG" ||
    fail "overlong address not logged"

# 2. Skip rules: none of these reaches a backend, whatever the address.
out=$(drv -s "$MILTER" 'connect local 127.0.0.1' 'mail <a@b>' 'rcpt <s1@example.net>')
expect_match "loopback" "$out" 'rcpt <s1@example.net>: continue$'
out=$(drv -s "$MILTER" 'connect local ::1' 'mail <a@b>' 'rcpt <s2@example.net>')
expect_match "loopback v6" "$out" 'rcpt <s2@example.net>: continue$'
out=$(drv -s "$MILTER" 'connect local unknown' 'mail <a@b>' 'rcpt <s3@example.net>')
expect_match "unknown client" "$out" 'rcpt <s3@example.net>: continue$'
out=$(drv -s "$MILTER" 'connect c 192.0.2.77' 'mail <a@b>' 'rcpt <s4@example.net>')
expect_match "skip from v4" "$out" 'rcpt <s4@example.net>: continue$'
out=$(drv -s "$MILTER" 'connect c 2001:db8:1:2::5' 'mail <a@b>' 'rcpt <s5@example.net>')
expect_match "skip from v6" "$out" 'rcpt <s5@example.net>: continue$'
out=$(drv -s "$MILTER" 'macro C {daemon_name} MSA' 'connect c 203.0.113.6' \
    'mail <a@b>' 'rcpt <s6@example.net>')
expect_match "skip daemon MSA" "$out" 'rcpt <s6@example.net>: continue$'
out=$(drv -s "$MILTER" 'macro C {daemon_name} ORIGINATING' \
    'connect c 203.0.113.6' 'mail <a@b>' 'rcpt <s7@example.net>')
expect_match "skip daemon ORIGINATING" "$out" 'rcpt <s7@example.net>: continue$'
out=$(drv -s "$MILTER" 'macro M {auth_authen} alice' 'connect c 203.0.113.6' \
    'mail <a@b>' 'rcpt <s8@example.net>')
expect_match "skip authenticated" "$out" 'rcpt <s8@example.net>: continue$'
expect_eq "skipped reached the backend" "$(backend_count '<s[0-9]@')" 0

# {client_addr} at RCPT wins over connect's address (Postfix XCLIENT).
out=$(drv -s "$MILTER" 'connect c 127.0.0.1' 'macro R {client_addr} 203.0.113.9' \
    'mail <a@b>' 'rcpt <nobody@example.net>')
expect_match "client_addr at RCPT" "$out" 'rcpt <nobody@example.net>: reject 550 5.1.1'
# The daemon name of an MTA that is not a submission service is verified.
out=$(drv -s "$MILTER" 'macro C {daemon_name} MTA' 'connect c 203.0.113.6' \
    'mail <a@b>' 'rcpt <nobody@example.net>')
expect_match "other daemon" "$out" 'rcpt <nobody@example.net>: reject 550 5.1.1'

# 3. show stats counts what happened.
expect_eq "lookups" "$(sbstat lookups)" 11
expect_eq "misses" "$(sbstat misses)" 7
expect_eq "probes" "$(sbstat probes)" 7
expect_eq "hits invalid" "$(sbstat hits_invalid)" 3
expect_eq "hits valid" "$(sbstat hits_valid)" 1
expect_eq "valid" "$(sbstat verdicts.valid)" 4
expect_eq "invalid" "$(sbstat verdicts.invalid)" 6
expect_eq "unknown" "$(sbstat verdicts.unknown)" 1
expect_eq "skip local" "$(sbstat skipped.local)" 3
expect_eq "skip from" "$(sbstat skipped.from)" 2
expect_eq "skip daemon" "$(sbstat skipped.daemon)" 2
expect_eq "skip auth" "$(sbstat skipped.authenticated)" 1
expect_eq "skip nodomain" "$(sbstat skipped.no_domain)" 1
expect_eq "skip unmatched" "$(sbstat skipped.unmatched)" 2
expect_eq "skip bad" "$(sbstat skipped.bad_address)" 0
expect_eq "impossible" "$(sbstat verdicts.impossible)" 1
expect_eq "cache entries" "$(sbstat cache_entries)" 6

stop_scamback
stop_backend
exit 0
