#!/bin/sh
#
# Recipient forms that once skipped verification (issue 13 part 4,
# issue 12 part 3).  In a verified domain every recipient is either
# probed, a quoted local part exactly as the MTA gave it and correctly
# quoted on the wire, or refused as impossible with 550 5.1.3 and no
# probe: longer than 254 octets, control characters, no local part,
# broken syntax.  None gets "continue" because of its form, even with
# "unreachable accept".  In a domain nobody verifies the same forms are
# only skipped and logged.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

start_backend -U '"x>y"@example.net' -U '"a..b"@example.net' \
    -U '"john doe"@example.net'
start_scamback <<EOF
unreachable accept
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF

long=$(printf "%0250d" 0 | tr 0 a)
ctl_a=$(printf 'a\001b')
{
	echo 'connect mx.remote.test 203.0.113.5'
	echo 'mail <x@remote.test>'
	echo 'rcpt <"x>y"@example.net>'
	echo 'rcpt <"x<y"@example.net>'
	echo 'rcpt <"john doe"@example.net>'
	echo 'rcpt <a..b@example.net>'
	echo "rcpt <$long@example.net>"
	echo "rcpt <$ctl_a@example.net>"
	echo 'rcpt <@example.net>'
	echo 'rcpt <a@b@example.net>'
	echo 'rcpt <"unterminated@example.net>'
	echo "rcpt <$long@other.test>"
	# to= and from= of a verdict line are made printable alike.
	printf 'mail <\033[2J\233x@remote.test>\n'
	printf 'rcpt <"\342\200\256x>y"@example.net>\n'
} >"$T/script"
hostile 12
drv -s "$MILTER" -f "$T/script" >"$T/out" 2>&1 || fail "milterdrv: $(cat "$T/out")"
sed -n 's/^rcpt //p' "$T/out" | sed -e "s/$long/LONG/" \
    -e 's/\(: reject [0-9.]* [0-9.]*\).*/\1/' >"$T/got"
cat >"$T/want" <<'EOF'
<"x>y"@example.net>: continue
<"x<y"@example.net>: reject 550 5.1.1
<"john doe"@example.net>: continue
<a..b@example.net>: continue
<LONG@example.net>: reject 550 5.1.3
<a\x01b@example.net>: reject 550 5.1.3
<@example.net>: reject 550 5.1.3
<a@b@example.net>: reject 550 5.1.3
<"unterminated@example.net>: reject 550 5.1.3
<LONG@other.test>: continue
<"\xe2\x80\xaex>y"@example.net>: reject 550 5.1.1
EOF
diff -u "$T/want" "$T/got" >&2 || fail "replies differ"

# What the backend saw: the quoted forms as given, a..b quoted, nothing
# of the impossible ones.
expect_eq "x>y probed as given" "$(rcpt_probes '"x>y"@example.net')" 1
expect_eq "x<y probed as given" "$(rcpt_probes '"x<y"@example.net')" 1
expect_eq "john doe probed as given" "$(rcpt_probes '"john doe"@example.net')" 1
expect_eq "a..b quoted on the wire" "$(rcpt_probes '"a\.\.b"@example.net')" 1
expect_eq "probes in all" "$(backend_count '^rcpt [0-9]+ ')" 5
grep -qF 'reject to=<"???x>y"@example.net> from=<?[2J?x@remote.test> client=203.0.113.5 verdict=invalid source=probe' "$SB_LOG" ||
    fail "to= and from= not printable alike: $(grep 'x>y' "$SB_LOG")"
LC_ALL=C grep -v -E '^prober: probe ' "$SB_LOG" |
    LC_ALL=C grep -n '[^ -~]' && fail "raw octets in the log"

# One line each, with why; the quoted ones have their verdicts.
for why in too-long control-character no-local-part syntax; do
	grep -q "^milter engine: reject to=<.*> from=<x@remote.test> client=203.0.113.5 verdict=impossible reason=$why qid=[0-9A-F]*\$" "$SB_LOG" ||
	    fail "no verdict line for reason $why: $(grep impossible "$SB_LOG")"
done
expect_eq "syntax lines" "$(log_count 'verdict=impossible reason=syntax qid=[0-9A-F]*$')" 2
grep -q 'accept to=<"x>y"@example.net> .* verdict=valid source=probe qid=[0-9A-F]*$' "$SB_LOG" ||
    fail "no verdict line for \"x>y\": $(grep to= "$SB_LOG")"
grep -q 'skip to=<?LONG\|skip to=' "$SB_LOG" || fail "other.test not logged"
expect_eq "impossible counted" "$(sbstat verdicts.impossible)" 5

# scambackctl check says the same, and never probes an impossible one.
out=$(ctl check "$ctl_a@example.net") || fail "check: $out"
expect_match "check impossible" "$out" '^a\?b@example.net: invalid'
expect_match "check why" "$out" "cannot be a mailbox \(control-character\)"
out=$(ctl check "$long@example.net" 2>&1) && fail "check of $long: $out"
expect_match "check too long" "$out" "cannot be a mailbox \(too-long\)"
out=$(ctl check '"x<y"@example.net') || fail "check: $out"
expect_match "check quoted" "$out" '^"x<y"@example.net: invalid'
expect_eq "probes after check" "$(backend_count '^rcpt [0-9]+ ')" 6

stop_scamback
stop_backend
exit 0
