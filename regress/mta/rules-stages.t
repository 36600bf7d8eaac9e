#!/bin/sh
#
# What the access rules do beside the three old systems' rows, through a
# real Postfix: rules acting on connect, helo and mail and holding for
# the session; disconnect's 421; pass ... noverify (no probe); rules
# before the skip statements (a local client is refused too); the
# client's name from {client_resolve}: FAIL, TEMP (never a 5xx: 450, but
# an unknown recipient still 550 5.1.1; an undecided pass turns a later
# 5xx into 450); rdns from {client_ptr}; auth from XCLIENT LOGIN; helo;
# set permanent (smap kill-mail) on a rule's 4xx and on verification's;
# save (smap max-email, max-dirent); dry-run; scambackctl show rules and
# check rules, text and JSON.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-rules.sh"

rules_backends -U bob@example.net -U carol@example.net -U postmaster@example.net
mkdir -p "$T/saved"

cat >"$T/rules" <<EOF
unreachable tempfail
backend "down" {
	host 127.0.0.1 port $DOWN_PORT
	catchall ignore
}
domain "down.test" backend "down"
save directory "$T/saved"
save size 30
save max-files 2
table <kill> { mail.rgw-express.test }
disconnect on connect from 203.0.113.66 "421 4.7.0 Go away"
reject on connect from 203.0.113.67 "554 5.7.1 Not you"
reject on helo ! from local helo { localhost, "*.helo.test" }
reject on mail mail-from "<>" "550 5.7.1 No bounces from %I"
pass rcpt-to { postmaster@ } noverify
pass auth { alice } noverify
reject rcpt-to blocked@example.net
pass from local
pass from { ".trusted.test" }
reject from unknown
reject ! from rdns
reject rcpt-to victim@example.net "554 5.7.1 Not to %T"
match from <kill> set permanent "554 5.7.1 Rejected for good"
reject rcpt-to later@example.net "451 4.7.1 Try %T later"
reject mail-from spam.test save "550 5.7.1 Kept: %F"
EOF
rules_conf <"$T/rules" >"$T/body"
start_scamback <"$T/body"
rules_pf "example.net, down.test"

# on connect: disconnect ends the session; a reject holds for it.
# Postfix answers a refusal at connect in its own words, and logs ours.
session -a 203.0.113.66 bob@example.net >"$T/got"
expect_eq "disconnect on connect" "$(cat "$T/got")" \
    "XCLIENT 421 mx.regress.test Service unavailable - try again later"
grep -q 'milter-reject: XCLIENT from mx.remote.test\[203.0.113.66\]: 421 4.7.0 Go away' \
    "$PF/maillog" || fail "no 421 at connect: $(tail -3 "$PF/maillog")"
session -a 203.0.113.67 bob@example.net >"$T/got"
grep -q '^XCLIENT 554 ' "$T/got" || fail "reject on connect: $(cat "$T/got")"
grep -q 'milter-reject: XCLIENT from mx.remote.test\[203.0.113.67\]: 554 5.7.1 Not you' \
    "$PF/maillog" || fail "no reject at connect: $(tail -3 "$PF/maillog")"

# on helo: Postfix takes the refusal at EHLO and gives it at MAIL.
cat >"$T/want" <<'EOF'
MAIL 554 5.7.1 <localhost>: Helo command rejected: Access denied
EOF
check "on helo" -h localhost bob@example.net
grep -q 'rule 3 reject stage=helo ' "$SB_LOG" || fail "no helo line"
grep -q 'milter-reject: EHLO from mx.remote.test\[203.0.113.5\]: 554 5.7.1 <localhost>' \
    "$PF/maillog" || fail "not refused at EHLO: $(tail -3 "$PF/maillog")"

# on mail: the null sender, %I.
cat >"$T/want" <<'EOF'
MAIL 550 5.7.1 No bounces from 203.0.113.5
EOF
check "on mail" -f '' bob@example.net

# noverify: postmaster@ is never probed; auth alice neither.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "postmaster noverify" -n '[UNAVAILABLE]' postmaster@example.net
check "auth noverify" -l alice -n '[UNAVAILABLE]' nobody@example.net
n=$(grep -c 'postmaster@example.net\|nobody@example.net' "$BACKEND_LOG")
[ "$n" -eq 0 ] || fail "noverify: $n probes"

# Rules come before skip local: the local client is refused too.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 <blocked@example.net>: Recipient address rejected: Access denied
RCPT 250 2.1.5 Ok
EOF
check "local client" -a local blocked@example.net nobody@example.net

# {client_resolve}: FAIL is unknown, TEMP never a 5xx.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.25 Client host rejected: cannot find your hostname, [203.0.113.5]
EOF
check "FAIL" -n '[UNAVAILABLE]' bob@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 450 4.7.25 Client host rejected: cannot find your hostname, [203.0.113.5]
RCPT 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown
RCPT 450 4.7.1 Not to victim@example.net
EOF
check "TEMP" -n '[TEMPUNAVAIL]' bob@example.net nobody@example.net \
    victim@example.net
# A known client: the later 5xx stands.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 Not to victim@example.net
EOF
check "sure 5xx" -n mx.remote.test victim@example.net

# rdns: a name that does not verify but a PTR passes; none at all not.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 550 5.7.25 Client host rejected: cannot find your reverse hostname, [203.0.113.5]
EOF
session -n mx.remote.test -r '[UNAVAILABLE]' bob@example.net >"$T/got"
expect_replies "no PTR" "$T/want"

# set permanent: a rule's 4xx and verification's become the 5xx.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 451 4.4.3 Recipient verification temporarily unavailable
RCPT 451 4.7.1 Try later@example.net later
EOF
check "no kill" -n mx.other.test a@down.test later@example.net
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 554 5.7.1 Rejected for good
RCPT 554 5.7.1 Rejected for good
RCPT 250 2.1.5 Ok
EOF
check "kill-mail" -n mail.rgw-express.test a@down.test later@example.net \
    bob@example.net

# save: accepted at RCPT, refused at the end of data, the start kept.
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
DATA 354 End data with <CR><LF>.<CR><LF>
EOM 550 5.7.1 Kept: x@spam.test
EOF
check "save" -d -f x@spam.test bob@example.net
waitfor grep -q 'saved refused message file=' "$SB_LOG" ||
    fail "no saved message: $(grep 'rule ' "$SB_LOG" | tail -3)"
f=$(sed -n 's/.*saved refused message file=\([^ ]*\) size=30 .*/\1/p' \
    "$SB_LOG" | head -1)
[ -f "$f" ] || fail "saved file $f: $(grep saved "$SB_LOG")"
expect_eq "saved mode" "$(stat -c %a "$f")" 600
[ "$(wc -c <"$f")" -eq 30 ] || fail "saved $(wc -c <"$f") octets, want 30"
head -c 30 "$f" | grep -q '^Date: ' || fail "saved: $(cat -A "$f")"
grep -q 'rule 15 reject stage=data .*from=<x@spam.test>' "$SB_LOG" ||
    fail "no refusal line at end of data"
# max-files: the third is refused but not kept.
for s in y z; do
	session -d -f $s@spam.test bob@example.net >"$T/got"
	grep -qx "EOM 550 5.7.1 Kept: $s@spam.test" "$T/got" ||
	    fail "save $s: $(cat "$T/got")"
done
waitfor grep -q 'not saved: .* holds 2 files (save max-files 2)' "$SB_LOG" ||
    fail "max-files: $(grep saved "$SB_LOG")"
expect_eq "files saved" "$(ls "$T/saved" | wc -l)" 2

# show rules: counters as pfctl -vsr; JSON.
ctl show rules >"$T/show" || fail "show rules"
grep -q '^@15 reject mail-from "spam.test" save "550 5.7.1 Kept: %F"$' \
    "$T/show" || fail "show rules: $(cat "$T/show")"
grep -A1 '^@15 ' "$T/show" | grep -q 'Matches: 3 .*Refused: 3 ' ||
    fail "rule 15 counters: $(grep -A1 '^@15 ' "$T/show")"
ctl -j show rules | jq -e '.rules[9].number == 10 and
    .rules[9].refused >= 1 and .rules[9].rule == "reject from unknown"' \
    >/dev/null || fail "show rules -j: $(ctl -j show rules | head -c 600)"

# check rules: which rule, which reply; nothing counted.
before=$(ctl -j show rules | jq '.rules[9].evaluations')
ctl check rules from 203.0.113.9 unknown helo h.test mail-from a@b.test \
    rcpt-to bob@example.net >"$T/check" || fail "check rules"
cat >"$T/want" <<'EOF'
client 203.0.113.9 name unknown helo h.test mail-from <a@b.test> rcpt-to <bob@example.net>
rule 10: reject from unknown
reject: 550 5.7.25 Client host rejected: cannot find your hostname, [203.0.113.9]
EOF
diff -u "$T/want" "$T/check" >&2 || fail "check rules"
expect_eq "check rules counts nothing" \
    "$(ctl -j show rules | jq '.rules[9].evaluations')" "$before"
ctl -j check rules from 203.0.113.9 name a.trusted.test rcpt-to \
    victim@example.net | jq -e '.check_rules.rule == 9 and
    .check_rules.verdict == "pass" and .check_rules.noverify == false' \
    >/dev/null || fail "check rules -j"
ctl check rules from 203.0.113.9 rcpt-to x@y.test >"$T/check"
grep -q '^note: no client name given' "$T/check" ||
    fail "check rules without a name: $(cat "$T/check")"

# dry-run: nothing refused, each would-be refusal logged.
sed -i '1i rules dry-run yes' "$T/sb.body"
reload_scamback
cat >"$T/want" <<'EOF'
MAIL 250 2.1.0 Ok
RCPT 250 2.1.5 Ok
EOF
check "dry-run" -n '[UNAVAILABLE]' bob@example.net
grep -q 'rule 10 would reject stage=rcpt .*reply="550 5.7.25 ' "$SB_LOG" ||
    fail "dry-run: $(grep 'rule ' "$SB_LOG" | tail -3)"
ctl show rules | grep -q '^# rules dry-run' || fail "show rules: no dry-run"

pf_stop
stop_scamback
stop_backend
exit 0
