#!/bin/sh
# kill -9 at random moments of repeated saves, of the parent or of the
# engine, never leaves a damaged cache file: it is always complete (the
# old one or the new one), and the next start removes the temporary file
# and loads every entry.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
ensure_user

N=100000
ROUNDS=${ROUNDS:-16}
write_conf "cache save interval 0"
now=$(date +%s)
awk -v n=$N -v e=$((now + 3600)) 'BEGIN {
	print "# scam-back cache v1"
	for (i = 0; i < n; i++)
		printf "user%06d@example.net %s %d\n", i,
		    i % 3 ? "valid" : "invalid", e + i % 500
}' >"$CACHE"

# complete: the header, N well-formed lines, nothing else.
complete() {
	awk -v n=$N '
		NR == 1 { if ($0 != "# scam-back cache v1") exit 1; next }
		NF != 3 || $1 !~ /^user[0-9]+@example\.net$/ ||
		    ($2 != "valid" && $2 != "invalid") || $3 !~ /^[0-9]+$/ { exit 1 }
		{ c++ }
		END { exit !(c == n) }' "$CACHE"
}

gone() {	# pid...: wait until every one has exited
	for _p in "$@"; do
		_n=100
		while kill -0 "$_p" 2>/dev/null &&
		    [ "$(cut -d' ' -f3 "/proc/$_p/stat" 2>/dev/null)" != Z ]; do
			_n=$((_n - 1))
			[ $_n -gt 0 ] || fail "process $_p did not exit"
			sleep 0.05
		done
	done
}

during=0
i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	: >"$T/log"
	start_daemon
	grep -q "cache file: $N entries loaded" "$T/log" ||
	    fail "round $i: load: $(grep 'cache file' "$T/log")"
	# The cache is loaded before the children take their titles.
	waitfor pgrep -P "$DPID" -xf "scam-back: milter engine" &&
	    waitfor pgrep -P "$DPID" -xf "scam-back: prober" ||
	    fail "round $i: no children"
	engine=$(pgrep -P "$DPID" -xf "scam-back: milter engine")
	prober=$(pgrep -P "$DPID" -xf "scam-back: prober")

	# Saves back to back, and a kill somewhere in them.
	( while :; do ctl save cache >/dev/null 2>&1 || exit 0; done ) &
	saver=$!
	sleep "0.$(shuf -i 0-400 -n 1 | xargs printf '%03d')"
	if [ $((i % 2)) -eq 0 ]; then
		victim=$engine
	else
		victim=$DPID
	fi
	kill -9 "$victim"
	ls "$T" | grep -q '^cache\.tmp\.' && during=$((during + 1))
	wait "$DPID" 2>/dev/null
	gone "$engine" "$prober"
	wait "$saver" 2>/dev/null

	complete || fail "round $i: damaged cache file (killed $victim): $(head -c 300 "$CACHE"; echo; tail -n 2 "$CACHE")"
done
echo "reliability: kill9_rounds=$ROUNDS kill9_during_save=$during"
[ "$during" -gt 0 ] || echo "warning: no kill landed during a save"

# The next start cleans up and loads everything.
: >"$T/log"
start_daemon
grep -q "cache file: $N entries loaded" "$T/log" || fail "final load"
ls "$T" | grep -q '^cache\.tmp\.' && fail "temporary file left: $(ls "$T")"
stop_daemon
complete || fail "damaged after the final stop"
exit 0
