#!/bin/sh
# make demo, as a newcomer runs it: it shows a valid, an invalid and a
# cached recipient, the cache and the figures, the MTA lines, and leaves
# nothing behind.
. "$(dirname "$0")/../lib.sh"

before=$(ls -d /tmp/scam-back-demo.* 2>/dev/null)
out=$(cd "$TOP" && make -s demo 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "make demo exited $rc: $out"
expect_match "valid" "$out" "rcpt <alice@example.net>: continue"
expect_match "invalid" "$out" \
    "rcpt <nobody@example.net>: reject 550 5.1.1 <nobody@example.net>"
expect_match "cached" "$out" "verdict=valid source=cache"
expect_match "one probe each" "$(printf '%s\n' "$out" | grep -c '^    rcpt [0-9]')" "^2$"
expect_match "show cache" "$out" "alice@example.net +valid +(1d00h|23h59m) +1"
expect_match "show stats" "$out" "cache entries +2 of"
expect_match "postfix" "$out" "smtpd_milters = unix:/var/spool/scam/scam-back.sock"
expect_match "sendmail" "$out" "INPUT_MAIL_FILTER\\(\`scam-back', \`S=unix:"
expect_match "saved" "$out" "^    nobody@example.net invalid [0-9]+$"
expect_match "end" "$out" "demo finished"
after=$(ls -d /tmp/scam-back-demo.* 2>/dev/null)
expect_eq "temporary directory removed" "$after" "$before"
exit 0
