#!/bin/sh
#
# Address forms through a real Postfix gateway (issue 12 parts 3 and 9,
# issue 13 part 4).  A recipient longer than 254 octets in a protected
# domain is refused at RCPT with 550 5.1.3, so the gateway never accepts
# mail it would bounce; elsewhere it is not scam-back's business.
# Quoted local parts reach the backend as Postfix gave them, are cached,
# saved, loaded at the next start, and scambackctl shows and checks them.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-postfix.sh"

start_backend -U bob@example.net -U '"john doe"@example.net' \
    -U '"x>y"@example.net'
cat >"$T/body" <<EOF
listen on "unix:$T/milter.sock" mode 0666
cache file "$T/cache"
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF
# start_scamback adds "cache file none" after a body's own listen line:
# this body names its own cache file, so it is started by hand.
sb_start() {
	SB_LOG=$T/sb.log
	MILTER=unix:$T/milter.sock
	"$SCAMBACK" -d -f "$T/body" -s "$T/ctl.sock" >>"$SB_LOG" 2>&1 &
	SB_PID=$!
	track $SB_PID
	waitfor ctl show stats || fail "scam-back did not start: $(tail -5 "$SB_LOG")"
}
ensure_user
sb_start
pf_start "$MILTER" "example.net, other.test"

long=$(printf "%0260d" 0 | tr 0 a)

# 1. The overlong recipient: 550 5.1.3 in example.net, no probe; the
# same in a domain nobody verifies goes through.
out=$(smtp 203.0.113.5 bob@example.net "$long@example.net" "$long@other.test")
printf '%s\n' "$out" | cut -c1-9 >"$T/o1"
printf '250 2.1.5\n550 5.1.3\n250 2.1.5\n' >"$T/w1"
diff -u "$T/w1" "$T/o1" >&2 || fail "overlong: $out $(tail -5 "$PF/maillog")"
grep -q "milter-reject: RCPT from mx.remote.test\[203.0.113.5\]: 550 5.1.3 Bad recipient address syntax; from=<x@remote.test> to=<$long@example.net>" "$PF/maillog" ||
    fail "Postfix did not log the reject: $(grep milter "$PF/maillog")"
expect_eq "no probe of the overlong one" "$(backend_count "$long")" 0
grep -q "reject to=<$(echo "$long" | cut -c1-60).*verdict=impossible reason=too-long" "$SB_LOG" ||
    fail "no verdict line: $(grep to= "$SB_LOG")"
expect_eq "other.test skipped, logged" \
    "$(log_count "skip to=<aaaa.* client=203.0.113.5 reason=bad-address")" 1

# 2. Quoted local parts, as a client writes them.
out=$(smtp 203.0.113.5 '"john doe"@example.net' '"x>y"@example.net' \
    '"x<y"@example.net')
printf '%s\n' "$out" | cut -c1-9 >"$T/o2"
printf '250 2.1.5\n250 2.1.5\n550 5.1.1\n' >"$T/w2"
diff -u "$T/w2" "$T/o2" >&2 || fail "quoted: $out $(tail -5 "$PF/maillog")"
for a in '"john doe"@example.net' '"x>y"@example.net' '"x<y"@example.net'; do
	expect_eq "probes of $a" "$(rcpt_probes "$a")" 1
done

# 3. scambackctl sees them; the cache file keeps them across a restart.
expect_eq "show cache john doe" \
    "$(ctl -j show cache '"john doe"@example.net' | jq -r '.cache[].state')" valid
expect_match "check x<y" "$(ctl check '<"x<y"@example.net>')" \
    '^"x<y"@example.net: invalid'
ctl save cache >/dev/null || fail "save"
grep -q '^"john doe"@example.net valid [0-9]*$' "$T/cache" ||
    fail "not saved: $(cat "$T/cache")"
kill -TERM "$SB_PID"
wait "$SB_PID" || fail "scam-back did not stop cleanly"
sb_start
grep -q 'cache file: 4 entries loaded, 0 expired dropped, 0 malformed' "$SB_LOG" ||
    fail "load: $(grep 'cache file' "$SB_LOG")"
ctl -j show cache | jq -r '.cache[].address' | sort >"$T/cached"
printf '%s\n' '"john doe"@example.net' '"x<y"@example.net' \
    '"x>y"@example.net' bob@example.net | sort >"$T/want"
diff -u "$T/want" "$T/cached" >&2 || fail "cache after the restart"
out=$(smtp 203.0.113.6 '"john doe"@example.net' '"x<y"@example.net')
expect_eq "from the cache" "$(echo "$out" | cut -c1-9 | tr '\n' ' ')" \
    "250 2.1.5 550 5.1.1 "
expect_eq "no new probe (4 and the check)" "$(backend_count '^rcpt [0-9]+ ')" 5

pf_stop
kill -TERM "$SB_PID"
wait "$SB_PID" || fail "scam-back did not stop cleanly"
stop_backend
exit 0
