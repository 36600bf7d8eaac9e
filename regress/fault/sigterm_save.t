#!/bin/sh
#
# SIGTERM at random moments while saves of a large cache run back to
# back, repeated: the daemon finishes its shutdown save and exits 0, the
# file is always complete and holds every verdict given before the
# signal, and the next start loads it whole.  (kill -9 during saves:
# regress/control/kill9.t.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../control/lib-control.sh"
. "$(dirname "$0")/lib-fault.sh"
ensure_user

N=100000
ROUNDS=${ROUNDS:-6}
start_backend -U ok@example.net
write_conf "cache save interval 0"
now=$(date +%s)
awk -v n=$N -v e=$((now + 3600)) 'BEGIN {
	print "# scam-back cache v1"
	for (i = 0; i < n; i++)
		printf "user%06d@example.net %s %d\n", i,
		    i % 3 ? "valid" : "invalid", e + i % 500
}' >"$CACHE"

# check want: the file has the header, want well-formed lines, every
# address once, and the verdicts of earlier rounds; else count the loss.
check() {
	_got=$(awk '
		NR == 1 { if ($0 != "# scam-back cache v1") bad++; next }
		NF != 3 || $1 !~ /^[a-z0-9]+@example\.net$/ ||
		    ($2 != "valid" && $2 != "invalid") || $3 !~ /^[0-9]+$/ ||
		    seen[$1]++ { bad++; next }
		{ c++ }
		END { printf "%d %d\n", c, bad }' "$CACHE")
	set -- $_got "$1"
	if [ "$1" -ne "$3" ] || [ "$2" -ne 0 ]; then
		[ "$1" -lt "$3" ] && lost $(($3 - $1))
		fail "round $i: $1 entries and $2 bad lines, want $3: $(tail -n 3 "$CACHE")"
	fi
	for _a in $(sed -n 's/^rcpt <\(r[0-9]*n[0-9]*@example.net\)>.*/\1/p' "$T/given"); do
		grep -q "^$_a invalid " "$CACHE" || {
			lost 1
			fail "round $i: the verdict on $_a is not in the file"
		}
	done
}

during=0
left=0
want=$N
i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	: >"$T/log"
	start_daemon
	grep -q "cache file: $want entries loaded" "$T/log" ||
	    fail "round $i: load: $(grep 'cache file' "$T/log")"

	# New verdicts, then saves back to back, and a SIGTERM among them.
	rcpt "r${i}n1@example.net" "r${i}n2@example.net" "r${i}n3@example.net" |
	    grep '^rcpt ' >>"$T/given"
	want=$((want + 3))
	( while :; do ctl save cache >/dev/null 2>&1 || exit 0; done ) &
	saver=$!
	sleep "0.$(shuf -i 0-400 -n 1 | xargs printf '%03d')"
	ls "$T" | grep -q '^cache\.tmp\.' && during=$((during + 1))
	kill -TERM "$DPID"
	faults 1
	wait "$DPID"
	rc=$?
	[ $rc -eq 0 ] || fail "round $i: SIGTERM during a save: exit $rc: $(tail -n 5 "$T/log")"
	wait "$saver" 2>/dev/null
	check "$want"
	ls "$T" | grep -q '^cache\.tmp\.' && left=$((left + 1))
done
echo "SIGTERM landed during a save in $during of $ROUNDS rounds"
[ "$during" -gt 0 ] || echo "warning: no SIGTERM landed during a save"
# A clean stop cleans up after itself (the next start would, too).
[ "$left" -eq 0 ] || fail "a temporary file was left after $left of $ROUNDS stops"

: >"$T/log"
start_daemon
grep -q "cache file: $want entries loaded" "$T/log" || fail "final load"
stop_daemon
stop_backend
exit 0
