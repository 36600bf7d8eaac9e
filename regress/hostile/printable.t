#!/bin/sh
#
# Terminal escapes and bidirectional controls through RCPT addresses
# reach neither a log line nor scambackctl's text output: every octet
# outside printable ASCII is printed as '?' (scam-back/printable.c).
# JSON output keeps the address exact, escaped.  Verdict lines (to=,
# from=) go through the same function.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

start_backend -U @example.net
start_scamback -v <<EOF2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

# The hostile recipients, octets as the MTA would pass them on.
esc=$(printf '\033')
csi8=$(printf '\233')				# C1 CSI as one octet
csiu=$(printf '\302\233')			# C1 CSI in UTF-8 (U+009B)
rlo=$(printf '\342\200\256')			# RIGHT-TO-LEFT OVERRIDE
lri=$(printf '\342\201\246')			# LEFT-TO-RIGHT ISOLATE
nel=$(printf '\302\205')			# NEXT LINE (U+0085)
cached="${rlo}gnp.exe@example.net
${csi8}31mred@example.net
${csiu}2Jclear@example.net
${lri}x${nel}y@example.net"
{
	echo 'connect mx.remote.test 203.0.113.5'
	echo 'mail <x@remote.test>'
	printf '%s\n' "$cached" | LC_ALL=C sed 's/.*/rcpt <&>/'
	# Malformed (control characters): skipped and logged as such.
	printf 'rcpt <%s]0;owned\007%s@example.net>\n' "$esc" "$rlo"
	printf 'rcpt <%s[2J%s@example.net>\n' "$esc" "$csi8"
} >"$T/script"
drv -s "$MILTER" -f "$T/script" >"$T/out" 2>&1 || fail "driver: $(cat "$T/out")"
hostile 6

# Every address above is cached; show cache prints each as '?'s.
waitfor sh -c "[ \$(\"$SCAMBACKCTL\" -s '$T/ctl.sock' -j show cache | jq '.cache | length') -eq 4 ]" ||
    fail "not cached: $(ctl show cache)"
ctl show cache >"$T/show" || fail "show cache failed"
LC_ALL=C grep -n '[^ -~]' "$T/show" && fail "show cache prints raw octets"
for want in '???gnp.exe@example.net' '?31mred@example.net' \
    '??2Jclear@example.net' '???x??y@example.net'; do
	grep -qF -- "$want " "$T/show" || fail "show cache: no $want: $(cat "$T/show")"
done

# JSON keeps them exact, escaped; the octet that is no UTF-8 becomes
# U+FFFD, as JSON has to be UTF-8.
ctl -j show cache | jq -r '.cache[].address' | LC_ALL=C sort >"$T/json"
printf '%s\n' "$cached" | LC_ALL=C sed "s/^$csi8/$(printf '\357\277\275')/" |
    LC_ALL=C sort >"$T/want"
cmp -s "$T/json" "$T/want" || fail "JSON addresses differ: $(od -c "$T/json" | head)"

# check and flush print and log them the same way.
ctl check "${rlo}gnp.exe@example.net" >"$T/check" 2>&1
LC_ALL=C grep -n '[^ -~]' "$T/check" && fail "check prints raw octets"
grep -qF '???gnp.exe@example.net: valid' "$T/check" || fail "check: $(cat "$T/check")"
ctl flush cache "${csi8}31mred@example.net" >/dev/null || fail "flush failed"
hostile 2
waitfor grep -qF 'matching ?31mred@example.net' "$SB_LOG" ||
    fail "flush not logged: $(tail -3 "$SB_LOG")"

# The log: the two malformed addresses (control characters, in a
# verified domain: refused with 550 5.1.3) have their verdict line, and
# no line at all carries an octet outside printable ASCII.
expect_eq "line of the OSC address" "$(grep -cF 'reject to=<?]0;owned????@example.net> from=<x@remote.test> client=203.0.113.5 verdict=impossible reason=control-character' "$SB_LOG")" 1
expect_eq "line of the CSI address" "$(grep -cF 'reject to=<?[2J?@example.net> from=<x@remote.test> client=203.0.113.5 verdict=impossible reason=control-character' "$SB_LOG")" 1
LC_ALL=C grep -n '[^ -~]' "$SB_LOG" && fail "raw octets in the log"

stop_scamback
