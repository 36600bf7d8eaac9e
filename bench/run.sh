#!/bin/sh
#
# make bench: the figures of SPEC section 9, each beside its baseline from
# the same run (the machine is shared and absolute figures drift), as a
# table on stdout and as bench/results.json.  Never a pass/fail verdict:
# the exit status says only whether the driver itself ran.
#
# Every figure that varies from run to run is measured in BENCH_REPS runs
# (at least 5 for the record), interleaved with its baseline's runs, and
# reported as the median and the worst; report.py does the arithmetic
# from the raw result of each run, which this script keeps in $T/runs.
#
# Everything runs on 127.0.0.1 and is started here and stopped on exit,
# Postfix included (its own configuration directory under $T; nothing
# outside $T is written).  A figure that cannot be measured here
# (scam-back not verifying yet, no root for Postfix) is printed as "not
# measured" with the reason, and is null in the JSON, never guessed.
#
#	BENCH_SECS=3	measured seconds per run (warm-up: a third of it)
#	BENCH_REPS=5	runs per figure, interleaved with the baseline's
#	BENCH_ONLY="..."	only these parts: cached uncached cold hol scale
#			cachealone share rules postfix (while working on one)
#	BENCH_POSTFIX=0	leave out the Postfix runs
#	BENCH_KEEP=1	keep the work directory (logs, raw runs)

set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
BIN=$TOP/bench
SB=$TOP/scam-back/scam-back
CTL=$TOP/scambackctl/scambackctl
SECS=${BENCH_SECS:-3}
REPS=${BENCH_REPS:-5}
WARM=$(awk -v s="$SECS" 'BEGIN { w = s / 3; if (w < 0.5) w = 0.5; print w }')
JSON=$TOP/bench/results.json
# The system's python3: a version manager's shim first in PATH can take
# seconds to start on a loaded machine, and this script calls it often.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

T=$(mktemp -d /tmp/scamback-bench.XXXXXX) || exit 1
chmod 755 "$T"
RUNS=$T/runs		# one JSON object per run: case.rep.json
RES=$T/results		# "key value" lines: one-off facts
NM=$T/not-measured	# "key reason" lines
PF=$T/postfix		# Postfix's configuration, queue and log
mkdir "$RUNS"
: >"$RES"
: >"$NM"
pids=""
postfix_up=0
started=$(date +%s)

cleanup() {
	trap - EXIT INT TERM HUP
	if [ "$postfix_up" -eq 1 ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1
		# The master waits for its children; wait for the master.
		for _i in $(seq 50); do
			[ -f "$PF/queue/pid/master.pid" ] || break
			kill -0 "$(cat "$PF/queue/pid/master.pid" 2>/dev/null)" \
			    2>/dev/null || break
			sleep 0.1
		done
	fi
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		for _i in $(seq 30); do
			alive "$p" || break
			sleep 0.1
		done
		alive "$p" && kill -9 "$p" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "work directory kept: $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() {
	printf '[%4ds] %s\n' "$(( $(date +%s) - started ))" "$*" >&2
}

res() {
	echo "$1 $2" >>"$RES"
}

# part name: whether to measure this part (BENCH_ONLY)
part() {
	[ -z "${BENCH_ONLY:-}" ] && return 0
	case " $BENCH_ONLY " in
	*" $1 "*)	return 0 ;;
	esac
	return 1
}

# not measured: key, reason
nm() {
	echo "$1 $2" >>"$NM"
}

# Running, not a zombie (nobody here reaps orphans).
alive() {
	[ -r "/proc/$1/stat" ] &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# started in the background by the driver: stopped by cleanup
bg() {
	"$@" &
	pids="$pids $!"
}

# stop one process started with bg
stop() {
	kill "$1" 2>/dev/null
	for _i in $(seq 50); do
		alive "$1" || { wait "$1" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

freeport() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# waitfor seconds command...
waitfor() {
	_n=$(( $1 * 20 ))
	shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# jget file key: a number from a one-line JSON object
jget() {
	$PY -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("NA" if v is None else v)' "$1" "$2" 2>/dev/null || echo NA
}

# jmerge file key=value...: add numbers to a run's JSON object
jmerge() {
	$PY -c 'import json,sys
f = sys.argv[1]
try:
	d = json.load(open(f))
except Exception:
	d = {}
for kv in sys.argv[2:]:
	k, _, v = kv.partition("=")
	try:
		d[k] = float(v)
	except ValueError:
		d[k] = None
json.dump(d, open(f, "w"))' "$@"
}

# lg case rep args...: one loadgen run, its JSON in $RUNS/case.rep.json
lg() {
	_out=$RUNS/$1.$2.json
	shift 2
	timeout 120 "$BIN/loadgen" "$@" >"$_out" 2>>"$T/loadgen.log" ||
	    say "loadgen $* failed (see loadgen.log)"
}

# cachefile path n: n entries by the rule of bench.h, valid for a day
cachefile() {
	awk -v n="$2" -v expiry="$(( $(date +%s) + 86400 ))" 'BEGIN {
		print "# scam-back cache v1"
		for (i = 0; i < n; i++)
			if (i % 5 == 0)
				printf "v-%d@example.net valid %d\n", i, expiry
			else
				printf "u-%d@example.net invalid %d\n", i, expiry
	}' >"$1"
}

# The engine's pid: the child of the parent whose title says so.
engine_pid() {
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		if tr '\0' ' ' <"/proc/$_c/cmdline" 2>/dev/null |
		    grep -q engine; then
			echo "$_c"
			return 0
		fi
	done
	return 1
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# sb_start name conf: start scam-back in the foreground mode, in the
# background; sets sb_pid; waits for the milter socket $T/name.sock.
sb_start() {
	rm -f "$T/$1.sock" "$T/$1.ctl"
	bg "$SB" -d -f "$2" -s "$T/$1.ctl" 2>>"$T/$1.log"
	sb_pid=$!
	if ! waitfor 20 test -S "$T/$1.sock"; then
		say "scam-back ($1) did not open its milter socket; log:"
		tail -n 5 "$T/$1.log" >&2
		stop "$sb_pid"
		return 1
	fi
	chmod 666 "$T/$1.sock"
	return 0
}

# sb_conf name fast-port slow-port cold-port other-lines: a configuration
sb_conf() {
	cat >"$T/$1.conf" <<EOF
listen on "unix:$T/$1.sock"
$5
skip local no
backend "fast" {
	host 127.0.0.1 port $2
	sessions 20
}
backend "slow" {
	host 127.0.0.1 port $3
	sessions 20
}
backend "cold" {
	host 127.0.0.1 port $4
	sessions 20
}
domain "example.net" backend "fast"
domain "slow.example.net" backend "slow"
domain "cold.example.net" backend "cold"
EOF
}

# fb_stats name pid out: the backend's counters, its peak and its reply
# delays since the last call; then a new peak and new delays.
fb_stats() {
	rm -f "$T/fb.$1.json"
	kill -USR1 "$2"
	waitfor 5 test -s "$T/fb.$1.json"
	cp "$T/fb.$1.json" "$3"
}

# fb_merge run before after: what the backend saw during one run
fb_merge() {
	$PY -c 'import json,sys
run, before, after = sys.argv[1:4]
try:
	d = json.load(open(run))
except Exception:
	d = {}
try:
	b, a = json.load(open(before)), json.load(open(after))
	d["backend_peak"] = a["conns_peak"]
	for k in ("p50", "p99", "max"):
		d["backend_reply_%s_ms" % k] = a["reply_%s_ms" % k]
	d["backend_rcpts"] = (a["rcpt_valid"] + a["rcpt_invalid"] -
	    b["rcpt_valid"] - b["rcpt_invalid"])
except Exception:
	pass
json.dump(d, open(run, "w"))' "$@"
}

###########################################################################

for b in loadgen fastbackend nullmilter listmilter smtpload cachebench; do
	[ -x "$BIN/$b" ] || { say "bench/$b not built: run make bench"; exit 1; }
done
if [ "$(id -u)" -eq 0 ] && ! id _scamback >/dev/null 2>&1; then
	mkdir -p /var/empty && chmod 755 /var/empty
	useradd -r -d /var/empty -s /usr/sbin/nologin _scamback 2>/dev/null
fi
[ -n "${BENCH_ONLY:-}" ] && res only "$BENCH_ONLY"
res load_start "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
say "bench: $SECS s per run after $WARM s of warm-up, $REPS runs per" \
    "figure (median and worst); load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "work directory $T"

# Backends: 1 ms per reply (uncached), 200 ms (head-of-line), at once
# (the cold verdict).
FAST=$(freeport)
bg "$BIN/fastbackend" -p "$FAST" -d 1 -o "$T/fb.fast.json"
fast_pid=$!
SLOW=$(freeport)
bg "$BIN/fastbackend" -p "$SLOW" -d 200 -o "$T/fb.slow.json"
slow_pid=$!
COLD=$(freeport)
bg "$BIN/fastbackend" -p "$COLD" -d 0 -o "$T/fb.cold.json"
cold_pid=$!
# A port nobody listens on: the scale runs must never reach a backend.
DEAD=$(freeport)

rm -f "$T/null.sock"
bg "$BIN/nullmilter" -p "unix:$T/null.sock"
null_pid=$!
waitfor 10 test -S "$T/null.sock" || { say "nullmilter did not start"; exit 1; }
chmod 666 "$T/null.sock"
# The same, writing a line per RCPT, as scam-back logs each verdict.
rm -f "$T/nulllog.sock"
bg "$BIN/nullmilter" -l -p "unix:$T/nulllog.sock" 2>>"$T/nulllog.log"
waitfor 10 test -S "$T/nulllog.sock" ||
    { say "nullmilter -l did not start"; exit 1; }

# --- scam-back: does it run, and does it verify? ---
sb_ok=0
sb_why=""
sb_conf main "$FAST" "$SLOW" "$COLD" "cache file none"
if [ ! -x "$SB" ]; then
	sb_why="scam-back not built"
elif ! "$SB" -n -f "$T/main.conf" >"$T/configtest.log" 2>&1; then
	sb_why="configuration not accepted yet: $(head -n 1 "$T/configtest.log")"
elif ! sb_start main "$T/main.conf"; then
	sb_why="daemon did not start"
else
	main_pid=$sb_pid
	# Fill the cache with the 1,000 recipients, then check the verdicts.
	lg fill 1 -s "unix:$T/main.sock" -S -n 1000 -c 20
	lg check 1 -s "unix:$T/main.sock" -S -n 1000 -c 20
	rej=$(jget "$RUNS/check.1.json" reject)
	cont=$(jget "$RUNS/check.1.json" continue)
	if [ "$rej" = 800 ] && [ "$cont" = 200 ]; then
		sb_ok=1
	elif ! alive "$main_pid"; then
		sb_why="the daemon died under load: $(grep -v '^$' \
		    "$T/main.log" | tail -n 1)"
	else
		sb_why="does not verify yet: 1,000 recipients (800 unknown)"
		sb_why="$sb_why gave reject=$rej continue=$cont"
	fi
fi
if [ $sb_ok -eq 1 ]; then
	say "scam-back verifies: 800 of 1,000 rejected, as the backend says"
else
	say "scam-back figures not measured: $sb_why"
fi
res sb_status "$([ $sb_ok -eq 1 ] && echo ok || echo "$sb_why")"

# --- cached verdicts: scam-back against the null milter, 1/10/50 sessions ---
part cached && for c in 1 10 50; do
	say "cached verdicts, $c sessions: scam-back and the null milter," \
	    "without and with a line per verdict"
	for r in $(seq "$REPS"); do
		lg "null.c$c" "$r" -s "unix:$T/null.sock" -n 1000 \
		    -c "$c" -t "$SECS" -w "$WARM" -x "$r"
		lg "nulllog.c$c" "$r" -s "unix:$T/nulllog.sock" -n 1000 \
		    -c "$c" -t "$SECS" -w "$WARM" -x "$r"
		: >"$T/nulllog.log"
		[ $sb_ok -eq 1 ] && lg "sb.c$c" "$r" -s "unix:$T/main.sock" \
		    -n 1000 -c "$c" -t "$SECS" -w "$WARM" -x "$r"
	done
done
# --- uncached, straight to the milter: 50 sessions, backend 1 ms ---
if [ $sb_ok -eq 1 ] && part uncached; then
	say "uncached verdicts, 50 sessions to the milter, backend 1 ms per reply"
	for r in $(seq "$REPS"); do
		fb_stats fast "$fast_pid" "$T/fb.before.json"
		lg uncached "$r" -s "unix:$T/main.sock" -U "un$$.$r." -c 50 \
		    -t "$SECS" -w "$WARM"
		fb_stats fast "$fast_pid" "$T/fb.after.json"
		fb_merge "$RUNS/uncached.$r.json" "$T/fb.before.json" \
		    "$T/fb.after.json"
	done

fi

# --- the cold verdict: one session, every address new, backend at once;
# beside it the same SMTP client asking the backend itself ---
if [ $sb_ok -eq 1 ] && part cold; then
	say "cold verdict: new addresses, backend answering at once"
	for r in $(seq "$REPS"); do
		lg cold "$r" -s "unix:$T/main.sock" -U "cold$$.$r." \
		    -d cold.example.net -c 1 -t "$SECS" -w "$WARM"
		timeout 120 "$BIN/smtpload" -p "$COLD" -U "direct$$.$r." \
		    -c 1 -t "$SECS" -w "$WARM" >"$RUNS/cold_direct.$r.json" \
		    2>>"$T/smtpload.log"
	done

fi

# --- head of line: cached verdicts while 50 sessions wait on 200 ms ---
if [ $sb_ok -eq 1 ] && part hol; then
	say "head of line: cached verdicts while 50 sessions wait on a 200 ms backend"
	for r in $(seq "$REPS"); do
		fb_stats slow "$slow_pid" "$T/fb.before.json"
		"$BIN/loadgen" -s "unix:$T/main.sock" -U "hol$$.$r." \
		    -d slow.example.net -c 50 \
		    -t "$(awk -v s="$SECS" 'BEGIN { print s + 2 }')" -w 1 \
		    >"$RUNS/hol_slow.$r.json" 2>>"$T/loadgen.log" &
		hol_pid=$!
		pids="$pids $hol_pid"
		sleep 1
		lg hol "$r" -s "unix:$T/main.sock" -n 1000 -c 10 \
		    -t "$SECS" -w 0.5 -x "$r"
		wait "$hol_pid"
		fb_stats slow "$slow_pid" "$T/fb.after.json"
		fb_merge "$RUNS/hol_slow.$r.json" "$T/fb.before.json" \
		    "$T/fb.after.json"
	done
fi

# --- the cache at 1,000 and at 1,000,000 entries, loaded from a file ---
# k_start n rep: a daemon whose cache file has n entries; sets k<n>_pid,
# writes the load time and the engine's RSS into $RUNS/load<n>.rep.json.
k_start() {
	sb_conf "k$1" "$DEAD" "$DEAD" "$DEAD" "cache file \"$T/cache.$1\"
cache size 2000000
cache save interval 0
backoff 60"
	cp "$T/cache.$1.orig" "$T/cache.$1"
	: >"$T/k$1.log"
	t0=$(date +%s.%N)
	if ! sb_start "k$1" "$T/k$1.conf"; then
		nm "cache.$1" "the daemon did not start with a cache file"
		return 1
	fi
	eval "k$1_pid=$sb_pid"
	# Loaded when the last entry of the file answers from the cache:
	# unknown (no backend) would be continue, not reject.
	for _i in $(seq 600); do
		# grep, not jget: the time to start python would count.
		if "$BIN/loadgen" -s "unix:$T/k$1.sock" -S -n 1 -c 1 \
		    -A "u-$(($1 - 1))@example.net" 2>/dev/null |
		    grep -q '"reject": 1,'; then
			t1=$(date +%s.%N)
			sleep 0.5
			ep=$(engine_pid "$sb_pid")
			echo "{}" >"$RUNS/load$1.$2.json"
			# The engine's own account: "N entries loaded (X ms)".
			jmerge "$RUNS/load$1.$2.json" \
			    "s=$(awk -v a="$t0" -v b="$t1" \
			    'BEGIN { printf "%.3f", b - a }')" \
			    "logged_ms=$(sed -n 's/.*cache file: [0-9]* entries loaded.*(\([0-9]*\) ms).*/\1/p' \
			    "$T/k$1.log" | head -n 1)" \
			    "entries=$(sed -n 's/.*cache file: \([0-9]*\) entries loaded.*/\1/p' \
			    "$T/k$1.log" | head -n 1)" \
			    "rss_kb=$([ -n "$ep" ] && rss_kb "$ep")"
			return 0
		fi
		sleep 0.02
	done
	nm "cache.$1" "the last entry of the file never answered from the cache"
	stop "$sb_pid"
	eval "k$1_pid="
	return 1
}

if [ $sb_ok -eq 1 ] && part scale; then
	say "cache of 1,000 and of 1,000,000 entries, loaded, used and saved"
	cachefile "$T/cache.1000.orig" 1000
	cachefile "$T/cache.1000000.orig" 1000000
	for r in $(seq "$REPS"); do
		k1000_pid="" k1000000_pid=""
		k_start 1000 "$r"
		k_start 1000000 "$r"
		if [ -z "$k1000_pid" ] || [ -z "$k1000000_pid" ]; then
			[ -n "$k1000_pid" ] && stop "$k1000_pid"
			[ -n "$k1000000_pid" ] && stop "$k1000000_pid"
			break
		fi
		# Both up at once, runs interleaved: drift hits both alike.
		for n in 1000 1000000; do
			lg "k$n" "$r" -s "unix:$T/k$n.sock" -n "$n" -c 10 \
			    -t "$SECS" -w "$WARM" -x "$r"
		done
		stop "$k1000_pid"
		n=1000000
		# Save on request, alone, then three times under load.
		s0=$(date +%s.%N)
		if "$CTL" -s "$T/k$n.ctl" save cache >"$T/save.log" 2>&1; then
			s1=$(date +%s.%N)
			sleep 0.2
			echo "{}" >"$RUNS/save.$r.json"
			jmerge "$RUNS/save.$r.json" "s=$(awk -v a="$s0" \
			    -v b="$s1" 'BEGIN { printf "%.3f", b - a }')" \
			    "lines=$(wc -l <"$T/cache.$n")" \
			    "logged_ms=$(sed -n 's/.*cache saved: [0-9]* entries.*(\([0-9]*\) ms).*/\1/p' \
			    "$T/k$n.log" | tail -n 1)"
		else
			nm save "scambackctl save cache: $(head -n 1 "$T/save.log")"
		fi
		# The same load without a save, then on the null milter
		# (libmilter's own longest waits), then with three saves.
		lg no_save "$r" -s "unix:$T/k$n.sock" -n "$n" -c 10 -t 3.5 \
		    -w 0.5 -x "$r"
		lg null_save "$r" -s "unix:$T/null.sock" -n "$n" -c 10 \
		    -t 3.5 -w 0.5 -x "$r"
		"$BIN/loadgen" -s "unix:$T/k$n.sock" -n "$n" -c 10 -t 3.5 \
		    -w 0.5 -x "$r" >"$RUNS/during_save.$r.json" \
		    2>>"$T/loadgen.log" &
		ds_pid=$!
		pids="$pids $ds_pid"
		for _s in 1 2 3; do
			sleep 1
			"$CTL" -s "$T/k$n.ctl" save cache >>"$T/save.log" 2>&1
		done
		wait "$ds_pid"
		stop "$k1000000_pid"
	done
fi

# --- the cache alone (libscamback.a), to tell its share from the rest ---
part cachealone && say "the cache alone: 1,000 against 1,000,000 entries"
part cachealone && for r in $(seq "$REPS"); do
	if ! timeout 120 "$BIN/cachebench" -n 1000000 -t 1 \
	    >"$RUNS/cachebench.$r.json" 2>"$T/cachebench.log"; then
		rm -f "$RUNS/cachebench.$r.json"
		nm cachebench "$(tail -n 1 "$T/cachebench.log")"
		break
	fi
done

# --- the shared cache (SPEC 12): two gateways and one store, bench/share.sh ---
if part share; then
	say "the shared cache: two gateways, one store, $REPS runs"
	BENCH_REPS=$REPS "$BIN/share.sh" "$RUNS" 2>"$T/share.log" ||
	    nm share "$(tail -n 1 "$T/share.log")"
fi

# --- access rules: 50 rules and a 100,000-entry table before the cache ---
# rules_conf path: the daemon of "main" with 50 rules that match none of
# loadgen's sessions (192.0.2.x, the bench's senders, example.net), so
# that every verdict walks them all, four through the big table.
rules_conf() {
	awk 'BEGIN {
		for (i = 0; i < 100000; i++) {
			if (i % 4 == 0)
				printf "10.%d.%d.0/24\n", int(i / 256) % 256,
				    i % 256
			else if (i % 4 == 1)
				printf "host%d.spam.test\tSPAMMER\n", i
			else if (i % 4 == 2)
				printf "u%d@spam.test\n", i
			else
				printf "2001:db8:%x:%x::/64\n", int(i / 65536),
				    i % 65536
		}
	}' >"$T/big.table"
	{
		echo "table <big> file \"$T/big.table\""
		echo "reject from <big> \"550 5.7.1 %{value}\""
		echo "reject helo <big>"
		echo "reject mail-from <big>"
		echo "reject rcpt-to <big>"
		for i in $(seq 46); do
			case $((i % 4)) in
			0) echo "reject from 198.51.100.$i" ;;
			1) echo "reject mail-from \"*@spam$i.test\"" ;;
			2) echo "reject rcpt-to { x$i@example.org, @list$i.test }" ;;
			3) echo "reject from { .dialup$i.test } mail-from <>" ;;
			esac
		done
	} >"$T/rules.rules"
	sb_conf rules "$FAST" "$SLOW" "$COLD" "cache file none
$(cat "$T/rules.rules")"
}

if [ $sb_ok -eq 1 ] && part rules; then
	say "cached verdicts: 50 access rules and a 100,000-entry table" \
	    "in front of the cache, against the same daemon without"
	rules_conf
	if [ "$(grep -c '^reject' "$T/rules.conf")" -ne 50 ]; then
		nm rules "the bench's rule list is not 50 rules"
	elif ! sb_start rules "$T/rules.conf"; then
		nm rules "the daemon did not start with the rules"
	else
		rules_pid=$sb_pid
		lg rfill 1 -s "unix:$T/rules.sock" -S -n 1000 -c 20
		lg rcheck 1 -s "unix:$T/rules.sock" -S -n 1000 -c 20
		if [ "$(jget "$RUNS/rcheck.1.json" reject)" != 800 ]; then
			nm rules "with the rules, 1,000 recipients gave reject=$(jget \
			    "$RUNS/rcheck.1.json" reject), not 800"
		else
			for c in 10 50; do
				for r in $(seq "$REPS"); do
					lg "norules.c$c" "$r" -s "unix:$T/main.sock" \
					    -n 1000 -c "$c" -t "$SECS" -w "$WARM" \
					    -x "$r"
					lg "rules.c$c" "$r" -s "unix:$T/rules.sock" \
					    -n 1000 -c "$c" -t "$SECS" -w "$WARM" \
					    -x "$r"
				done
			done
		fi
		stop "$rules_pid"
	fi
fi

# --- the whole system: a real Postfix in front ---
# postfix_use milters maps [milter-pid]: point Postfix at them, new smtpd
# processes; the milter's CPU time is counted from milter-pid down
pf_using="unset"
postfix_use() {
	pf_milter=${3:-}
	[ "$pf_using" = "$1|$2" ] && return 0
	pf_using="$1|$2"
	postconf -c "$PF/etc" -e "smtpd_milters = $1" \
	    "relay_recipient_maps = $2" >/dev/null
	postfix -c "$PF/etc" reload >/dev/null 2>&1
	# The reload replaces the smtpd processes: the warm-up starts them.
	sleep 0.5
}

# postfix_run case rep sessions smtpload-args...: one run through Postfix,
# and the CPU per RCPT of each process in it (bench/cpu.py): Postfix (the
# master and its children), the milter in use, the backend, the client;
# over the measured window less its ends
postfix_run() {
	_case=$1 _rep=$2 _c=$3
	shift 3
	_out=$RUNS/pf_$_case.$_rep.json
	_t0=$(date +%s.%N)
	timeout 120 "$BIN/smtpload" -p "$SMTP" -X -c "$_c" -t "$SECS" \
	    -w "$PFWARM" -x "$_rep" "$@" >"$_out" 2>>"$T/smtpload.log" &
	_lp=$!
	$PY "$BIN/cpu.py" window "$T/cpu.json" "$_t0" "$CPUFROM" "$CPUWIN" \
	    "postfix=$(tr -d ' \n' <"$PF/queue/pid/master.pid" 2>/dev/null)" \
	    "milter=$pf_milter" "backend=$fast_pid" "client=$_lp" &
	_cp=$!
	wait "$_lp"
	wait "$_cp" && $PY "$BIN/cpu.py" merge "$_out" "$T/cpu.json"
	rm -f "$T/cpu.json"
}

postfix_setup() {
	command -v postfix >/dev/null || { echo "postfix not installed"; return 1; }
	[ "$(id -u)" -eq 0 ] || { echo "needs root to start Postfix"; return 1; }
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	# The valid fifth of the 1,000 recipients, as bench.h draws them.
	awk 'BEGIN { for (i = 0; i < 1000; i += 5)
		printf "v-%d@example.net OK\n", i }' >"$PF/etc/valid"
	SMTP=$(freeport)
	cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.net
relay_recipient_maps =
alias_maps =
alias_database =
local_recipient_maps =
default_transport = discard
relay_transport = discard
local_transport = discard
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtpd_banner = \$myhostname ESMTP
smtpd_peername_lookup = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000000
smtpd_hard_error_limit = 1000000
smtpd_junk_command_limit = 1000000
smtpd_recipient_limit = 100000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_milters =
milter_default_action = tempfail
biff = no
EOF
	cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$SMTP inet n - n - 100 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	# Root may name any configuration directory with -c; no main.cf
	# outside $PF is read or written.  postfix(1) tells why it fails
	# only to syslog or to a terminal: give it one.
	if ! script -qec "postfix -c $PF/etc start" /dev/null \
	    >"$T/postfix.log" 2>&1; then
		echo "postfix did not start: $(tr -d '\r' <"$T/postfix.log" |
		    grep -v '^$' | tail -n 1)"
		return 1
	fi
	postfix_up=1
	waitfor 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $SMTP), 1)" ||
	    { echo "postfix is not listening"; return 1; }
	return 0
}

if [ "${BENCH_POSTFIX:-1}" = 0 ] || ! part postfix; then
	nm postfix "left out (BENCH_POSTFIX=0 or BENCH_ONLY)"
elif ! postfix_setup >"$T/postfix.why"; then
	nm postfix "$(head -n 1 "$T/postfix.why")"
else
	say "through Postfix: alone, its own list, the null and list" \
	    "milters, scam-back cached and uncached"
	rm -f "$T/list.sock"
	bg "$BIN/listmilter" -p "unix:$T/list.sock" -f "$PF/etc/valid"
	list_pid=$!
	waitfor 10 test -S "$T/list.sock" && chmod 666 "$T/list.sock"
	PFWARM=$(awk -v w="$WARM" 'BEGIN { print w < 1 ? 1 : w }')
	# The CPU is counted over the measured window less its ends.
	CPUFROM=$(awk -v w="$PFWARM" -v s="$SECS" 'BEGIN { print w + s / 10 }')
	CPUWIN=$(awk -v s="$SECS" 'BEGIN { print s * 0.8 }')
	# Interleaved, so that drift hits every case alike.
	for r in $(seq "$REPS"); do
		say "through Postfix: round $r of $REPS"
		postfix_use "" ""
		postfix_run none_20 "$r" 20 -n 1000
		postfix_use "" "texthash:$PF/etc/valid"
		postfix_run pflist_20 "$r" 20 -n 1000
		postfix_use "unix:$T/null.sock" "" "$null_pid"
		postfix_run null_milter_20 "$r" 20 -n 1000
		postfix_use "unix:$T/list.sock" "" "$list_pid"
		postfix_run list_milter_20 "$r" 20 -n 1000
		postfix_run list_milter_50 "$r" 50 -n 1000
		[ $sb_ok -eq 1 ] || continue
		postfix_use "unix:$T/main.sock" "" "$main_pid"
		postfix_run cached_20 "$r" 20 -n 1000
		postfix_run cached_50 "$r" 50 -n 1000
		for c in 20 50; do
			fb_stats fast "$fast_pid" "$T/fb.before.json"
			postfix_run "uncached_$c" "$r" "$c" -U "pf$$.$r.$c."
			fb_stats fast "$fast_pid" "$T/fb.after.json"
			fb_merge "$RUNS/pf_uncached_$c.$r.json" \
			    "$T/fb.before.json" "$T/fb.after.json"
		done
	done
	stop "$list_pid"
fi

[ $sb_ok -eq 1 ] && [ -n "${main_pid:-}" ] && stop "$main_pid"
res load_end "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
res elapsed_s "$(( $(date +%s) - started ))"
say "done; load $(cut -d' ' -f1-3 /proc/loadavg)"

$PY "$TOP/bench/report.py" "$RUNS" "$RES" "$NM" "$JSON" "$SECS" \
    "$REPS" || exit 1
$PY -m json.tool "$JSON" >/dev/null || { say "results.json is not valid JSON"; exit 1; }
say "wrote $JSON"
