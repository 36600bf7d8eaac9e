#!/bin/sh
#
# make bench: the figures of SPEC section 9, each beside its baseline from
# the same run (the machine is shared and absolute figures drift), as a
# table on stdout and as bench/results.json.  Never a pass/fail verdict:
# the exit status says only whether the driver itself ran.
#
# Everything runs on 127.0.0.1 and is stopped on exit.  A figure that
# cannot be measured here (scam-back not verifying yet, no root for
# Postfix) is printed as "not measured" with the reason, and is null in
# the JSON, never guessed.
#
#	BENCH_SECS=3	measured seconds per run (warm-up: a third of it)
#	BENCH_REPS=3	runs per point, interleaved; the best of each is kept
#	BENCH_POSTFIX=0	leave out the Postfix runs
#	BENCH_KEEP=1	keep the work directory (logs) for a post-mortem

set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
BIN=$TOP/bench
SB=$TOP/scam-back/scam-back
CTL=$TOP/scambackctl/scambackctl
SECS=${BENCH_SECS:-3}
REPS=${BENCH_REPS:-3}
WARM=$(awk -v s="$SECS" 'BEGIN { w = s / 3; if (w < 0.5) w = 0.5; print w }')
JSON=$TOP/bench/results.json

# Postfix insists that an alternate config_directory be named in the
# default main.cf, so this one directory is fixed; run.sh owns it.
PF=/tmp/scam-back-bench-postfix

T=$(mktemp -d /tmp/scamback-bench.XXXXXX) || exit 1
chmod 755 "$T"
RES=$T/results		# "key value" lines
NM=$T/not-measured	# "key reason" lines
: >"$RES"
: >"$NM"
pids=""
postfix_up=0
pf_made=0

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
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "work directory kept: $T" >&2
	else
		rm -rf "$T"
		[ "$pf_made" -eq 0 ] || rm -rf "$PF"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() {
	printf '%s\n' "$*" >&2
}

res() {
	echo "$1 $2" >>"$RES"
}

# not measured: key, reason
nm() {
	echo "$1 $2" >>"$NM"
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
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
}

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("NA" if v is None else v)' "$1" "$2" 2>/dev/null || echo NA
}

# The best (highest per_s) of several loadgen results, copied to $1.
best() {
	_out=$1
	shift
	python3 -c 'import json,sys
rs = []
for f in sys.argv[2:]:
	try:
		rs.append(json.load(open(f)))
	except Exception:
		pass
if rs:
	json.dump(max(rs, key=lambda r: r["per_s"]), open(sys.argv[1], "w"))' \
	    "$_out" "$@"
	[ -s "$_out" ]
}

# lg out args...: one loadgen run, its JSON result in out
lg() {
	_out=$1
	shift
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
	if ! waitfor 10 test -S "$T/$1.sock"; then
		say "scam-back ($1) did not open its milter socket; log:"
		tail -n 5 "$T/$1.log" >&2
		stop "$sb_pid"
		return 1
	fi
	chmod 666 "$T/$1.sock"
	return 0
}

# sb_conf name backend-port slow-port cache-line: a configuration
sb_conf() {
	cat >"$T/$1.conf" <<EOF
listen on "unix:$T/$1.sock"
$4
skip local no
backend "fast" {
	host 127.0.0.1 port $2
	sessions 20
}
backend "slow" {
	host 127.0.0.1 port $3
	sessions 20
}
domain "example.net" backend "fast"
domain "slow.example.net" backend "slow"
EOF
}

# The backend's counters: the peak since the last call, then a new peak.
fb_stats() {
	rm -f "$T/fb.$1.json"
	kill -USR1 "$2"
	waitfor 5 test -s "$T/fb.$1.json"
	cp "$T/fb.$1.json" "$3"
}

###########################################################################

for b in loadgen fastbackend nullmilter listmilter smtpload cachebench; do
	[ -x "$BIN/$b" ] || { say "bench/$b not built: run make bench"; exit 1; }
done
if [ "$(id -u)" -eq 0 ] && ! id _scamback >/dev/null 2>&1; then
	mkdir -p /var/empty && chmod 755 /var/empty
	useradd -r -d /var/empty -s /usr/sbin/nologin _scamback 2>/dev/null
fi
say "bench: $SECS s per run after $WARM s of warm-up, best of $REPS;" \
    "work directory $T"

# Backends: 1 ms per reply for the uncached run, 200 ms for head-of-line.
FAST=$(freeport)
bg "$BIN/fastbackend" -p "$FAST" -d 1 -o "$T/fb.fast.json"
fast_pid=$!
SLOW=$(freeport)
bg "$BIN/fastbackend" -p "$SLOW" -d 200 -o "$T/fb.slow.json"
slow_pid=$!
# A port nobody listens on: the scale runs must never reach a backend.
DEAD=$(freeport)

rm -f "$T/null.sock"
bg "$BIN/nullmilter" -p "unix:$T/null.sock"
null_pid=$!
waitfor 10 test -S "$T/null.sock" || { say "nullmilter did not start"; exit 1; }
chmod 666 "$T/null.sock"

# --- scam-back: does it run, and does it verify? ---
sb_ok=0
sb_why=""
sb_conf main "$FAST" "$SLOW" "cache file none"
if [ ! -x "$SB" ]; then
	sb_why="scam-back not built"
elif ! "$SB" -n -f "$T/main.conf" >"$T/configtest.log" 2>&1; then
	sb_why="configuration not accepted yet: $(head -n 1 "$T/configtest.log")"
elif ! sb_start main "$T/main.conf"; then
	sb_why="daemon did not start"
else
	main_pid=$sb_pid
	# Fill the cache with the 1,000 recipients, then check the verdicts.
	lg "$T/fill.json" -s "unix:$T/main.sock" -S -n 1000 -c 20
	lg "$T/check.json" -s "unix:$T/main.sock" -S -n 1000 -c 20
	rej=$(jget "$T/check.json" reject)
	cont=$(jget "$T/check.json" continue)
	if [ "$rej" = 800 ] && [ "$cont" = 200 ]; then
		sb_ok=1
	elif ! kill -0 "$main_pid" 2>/dev/null; then
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
for c in 1 10 50; do
	say "cached verdicts, $c sessions"
	files_null="" files_sb=""
	for r in $(seq "$REPS"); do
		lg "$T/null.c$c.$r.json" -s "unix:$T/null.sock" -n 1000 \
		    -c "$c" -t "$SECS" -w "$WARM"
		files_null="$files_null $T/null.c$c.$r.json"
		if [ $sb_ok -eq 1 ]; then
			lg "$T/sb.c$c.$r.json" -s "unix:$T/main.sock" -n 1000 \
			    -c "$c" -t "$SECS" -w "$WARM"
			files_sb="$files_sb $T/sb.c$c.$r.json"
		fi
	done
	best "$T/null.c$c.json" $files_null
	for k in per_s p50_ms p99_ms max_ms over_10ms; do
		res "null.c$c.$k" "$(jget "$T/null.c$c.json" $k)"
	done
	if [ $sb_ok -eq 1 ] && best "$T/sb.c$c.json" $files_sb; then
		for k in per_s p50_ms p99_ms max_ms over_10ms reject continue; do
			res "sb.c$c.$k" "$(jget "$T/sb.c$c.json" $k)"
		done
	fi
done
if [ $sb_ok -eq 1 ]; then
	# Cached means no probe: the backend must not have seen these.
	fb_stats fast "$fast_pid" "$T/fb.after-cached.json"
fi

# --- uncached: every recipient new, 50 sessions, backend 1 ms, sessions 20 ---
if [ $sb_ok -eq 1 ]; then
	say "uncached verdicts, 50 sessions, backend 1 ms per reply"
	fb_stats fast "$fast_pid" "$T/fb.before-uncached.json"
	lg "$T/uncached.json" -s "unix:$T/main.sock" -U "un$$." -c 50 \
	    -t "$SECS" -w "$WARM"
	fb_stats fast "$fast_pid" "$T/fb.uncached.json"
	res uncached.per_s "$(jget "$T/uncached.json" per_s)"
	res uncached.p50_ms "$(jget "$T/uncached.json" p50_ms)"
	res uncached.p99_ms "$(jget "$T/uncached.json" p99_ms)"
	res uncached.reject "$(jget "$T/uncached.json" reject)"
	res uncached.continue "$(jget "$T/uncached.json" continue)"
	res uncached.tempfail "$(jget "$T/uncached.json" tempfail)"
	res backend.peak "$(jget "$T/fb.uncached.json" conns_peak)"
	res backend.rcpts "$(( $(jget "$T/fb.uncached.json" rcpt_valid) + \
	    $(jget "$T/fb.uncached.json" rcpt_invalid) - \
	    $(jget "$T/fb.before-uncached.json" rcpt_valid) - \
	    $(jget "$T/fb.before-uncached.json" rcpt_invalid) ))"

	# --- head of line: cached verdicts while 50 sessions wait on 200 ms ---
	say "head of line: cached verdicts while 50 sessions wait on a 200 ms backend"
	fb_stats slow "$slow_pid" "$T/fb.before-hol.json"
	"$BIN/loadgen" -s "unix:$T/main.sock" -U "hol$$." -d slow.example.net \
	    -c 50 -t "$(awk -v s="$SECS" 'BEGIN { print s + 2 }')" -w 1 \
	    >"$T/hol.slow.json" 2>>"$T/loadgen.log" &
	hol_pid=$!
	pids="$pids $hol_pid"
	sleep 1
	lg "$T/hol.cached.json" -s "unix:$T/main.sock" -n 1000 -c 10 \
	    -t "$SECS" -w 0.5
	wait "$hol_pid"
	fb_stats slow "$slow_pid" "$T/fb.hol.json"
	res hol.p50_ms "$(jget "$T/hol.cached.json" p50_ms)"
	res hol.p99_ms "$(jget "$T/hol.cached.json" p99_ms)"
	res hol.max_ms "$(jget "$T/hol.cached.json" max_ms)"
	res hol.per_s "$(jget "$T/hol.cached.json" per_s)"
	res hol.slow_per_s "$(jget "$T/hol.slow.json" per_s)"
	res hol.slow_p50_ms "$(jget "$T/hol.slow.json" p50_ms)"
	res hol.slow_peak "$(jget "$T/fb.hol.json" conns_peak)"
fi

# --- the cache at 1,000 and at 1,000,000 entries, loaded from a file ---
# k_start n: a daemon whose cache file has n entries; sets k<n>_pid.
k_start() {
	cachefile "$T/cache.$1" "$1"
	sb_conf "k$1" "$DEAD" "$DEAD" "cache file \"$T/cache.$1\"
cache size 2000000
cache save interval 0
backoff 60"
	t0=$(date +%s.%N)
	if ! sb_start "k$1" "$T/k$1.conf"; then
		nm "cache.$1" "the daemon did not start with a cache file"
		return 1
	fi
	eval "k$1_pid=$sb_pid"
	# Loaded when the last entry of the file answers from the cache:
	# unknown (no backend) would be continue, not reject.
	for _i in $(seq 600); do
		"$BIN/loadgen" -s "unix:$T/k$1.sock" -S -n 1 -c 1 \
		    -A "u-$(($1 - 1))@example.net" >"$T/probe.json" 2>/dev/null
		if [ "$(jget "$T/probe.json" reject)" = 1 ]; then
			t1=$(date +%s.%N)
			res "load.$1.s" "$(awk -v a="$t0" -v b="$t1" \
			    'BEGIN { printf "%.3f", b - a }')"
			# The engine's own account: "N entries loaded (X ms)".
			res "load.$1.logged_ms" "$(sed -n 's/.*cache file: [0-9]* entries loaded.*(\([0-9]*\) ms).*/\1/p' \
			    "$T/k$1.log" | head -n 1)"
			res "load.$1.entries" "$(sed -n 's/.*cache file: \([0-9]*\) entries loaded.*/\1/p' \
			    "$T/k$1.log" | head -n 1)"
			sleep 0.5
			ep=$(engine_pid "$sb_pid")
			[ -n "$ep" ] && res "rss.$1.kb" "$(rss_kb "$ep")"
			return 0
		fi
		sleep 0.02
	done
	nm "cache.$1" "the last entry of the file never answered from the cache"
	stop "$sb_pid"
	eval "k$1_pid="
	return 1
}

if [ $sb_ok -eq 1 ]; then
	say "cache of 1,000 and of 1,000,000 entries (through the daemon)"
	k1000_pid="" k1000000_pid=""
	k_start 1000
	k_start 1000000
	# Both up at once, runs interleaved: drift hits both alike.
	if [ -n "$k1000_pid" ] && [ -n "$k1000000_pid" ]; then
		for r in $(seq "$REPS"); do
			for n in 1000 1000000; do
				lg "$T/k$n.$r.json" -s "unix:$T/k$n.sock" \
				    -n "$n" -c 10 -t "$SECS" -w "$WARM" -x "$r"
			done
		done
		for n in 1000 1000000; do
			best "$T/k$n.json" "$T"/k"$n".[0-9]*.json || continue
			for k in per_s p99_ms max_ms over_10ms reject continue; do
				res "k$n.$k" "$(jget "$T/k$n.json" $k)"
			done
		done
	fi
	[ -n "$k1000_pid" ] && stop "$k1000_pid"
fi

if [ $sb_ok -eq 1 ] && [ -n "${k1000000_pid:-}" ]; then
	n=1000000
	# Save on request, alone, then three times under load.
	s0=$(date +%s.%N)
	if "$CTL" -s "$T/k$n.ctl" save cache >"$T/save.log" 2>&1; then
		s1=$(date +%s.%N)
		res save.s "$(awk -v a="$s0" -v b="$s1" \
		    'BEGIN { printf "%.3f", b - a }')"
		res save.lines "$(wc -l <"$T/cache.$n")"
		sleep 0.2
		res save.logged_ms "$(sed -n 's/.*cache saved: [0-9]* entries.*(\([0-9]*\) ms).*/\1/p' \
		    "$T/k$n.log" | tail -n 1)"
	else
		nm save "scambackctl save cache: $(head -n 1 "$T/save.log")"
	fi
	# The same load without a save, then on the null milter (libmilter's
	# own longest waits), then with three saves.
	lg "$T/no-save.json" -s "unix:$T/k$n.sock" -n "$n" -c 10 -t 3.5 \
	    -w 0.5 -x 7
	lg "$T/null-save.json" -s "unix:$T/null.sock" -n "$n" -c 10 -t 3.5 \
	    -w 0.5 -x 7
	"$BIN/loadgen" -s "unix:$T/k$n.sock" -n "$n" -c 10 -t 3.5 -w 0.5 \
	    -x 7 >"$T/during-save.json" 2>>"$T/loadgen.log" &
	ds_pid=$!
	pids="$pids $ds_pid"
	for _s in 1 2 3; do
		sleep 1
		"$CTL" -s "$T/k$n.ctl" save cache >>"$T/save.log" 2>&1
	done
	wait "$ds_pid"
	for f in during-save no-save null-save; do
		for k in max_ms over_10ms verdicts p99_ms; do
			res "$(echo "$f" | tr - _).$k" "$(jget "$T/$f.json" $k)"
		done
	done
	stop "$k1000000_pid"
fi

# --- the cache alone (libscamback.a), to tell its share from the rest ---
if [ -x "$BIN/cachebench" ]; then
	say "the cache alone: 1,000 against 1,000,000 entries"
	if timeout 120 "$BIN/cachebench" -n 1000000 -t 1 >"$T/cachebench.json" \
	    2>"$T/cachebench.log"; then
		for k in lookups_per_s_1k lookups_per_s_big ratio_big_vs_1k \
		    bytes_per_entry insert_all_s walk_all_s \
		    max_lookup_us_during_walk lookups_per_s_during_walk; do
			res "cb.$k" "$(jget "$T/cachebench.json" $k)"
		done
	else
		nm cachebench "$(tail -n 1 "$T/cachebench.log")"
	fi
fi

# --- the whole system: a real Postfix in front ---
# postfix_run name rep milters maps: one case through Postfix
postfix_run() {
	postconf -c "$PF/etc" -e "smtpd_milters = $3" \
	    "relay_recipient_maps = $4" >/dev/null
	postfix -c "$PF/etc" reload >/dev/null 2>&1
	# The reload replaces the smtpd processes: the warm-up starts them.
	sleep 0.5
	timeout 120 "$BIN/smtpload" -p "$SMTP" -X -n 1000 -c 20 -t "$SECS" \
	    -w "$PFWARM" >"$T/pf.$1.$2.json" 2>>"$T/smtpload.log"
}

# postfix_best name: the best run of a case
postfix_best() {
	best "$T/pf.$1.json" "$T"/pf."$1".[0-9]*.json || return
	for k in per_s p99_ms reject continue errors; do
		res "pf.$1.$k" "$(jget "$T/pf.$1.json" $k)"
	done
}

postfix_setup() {
	command -v postfix >/dev/null || { echo "postfix not installed"; return 1; }
	[ "$(id -u)" -eq 0 ] || { echo "needs root to start Postfix"; return 1; }
	# The default main.cf must list the alternate directory: once.
	acd=$(postconf -h alternate_config_directories 2>/dev/null)
	case " $acd " in
	*" $PF/etc "*) ;;
	*)	postconf -e "alternate_config_directories = $acd $PF/etc" ||
		    { echo "cannot edit /etc/postfix/main.cf"; return 1; } ;;
	esac
	rm -rf "$PF"
	pf_made=1
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
	# postfix(1) tells why only to syslog or to a terminal: give it one.
	if ! script -qec "postfix -c $PF/etc start" /dev/null \
	    >"$T/postfix.log" 2>&1; then
		echo "postfix did not start: $(tr -d '\r' <"$T/postfix.log" |
		    grep -v '^$' | tail -n 1)"
		return 1
	fi
	postfix_up=1
	waitfor 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTP), 1)" ||
	    { echo "postfix is not listening"; return 1; }
	return 0
}

if [ "${BENCH_POSTFIX:-1}" = 0 ]; then
	nm postfix "left out (BENCH_POSTFIX=0)"
elif ! postfix_setup >"$T/postfix.why"; then
	nm postfix "$(head -n 1 "$T/postfix.why")"
else
	say "through Postfix: no milter, null milter, list milter, Postfix's list, scam-back"
	rm -f "$T/list.sock"
	bg "$BIN/listmilter" -p "unix:$T/list.sock" -f "$PF/etc/valid"
	list_pid=$!
	waitfor 10 test -S "$T/list.sock" && chmod 666 "$T/list.sock"
	PFWARM=$(awk -v w="$WARM" 'BEGIN { print w < 1 ? 1 : w }')
	# Interleaved, so that drift hits every case alike.
	for r in $(seq "$REPS"); do
		postfix_run none "$r" "" ""
		postfix_run pflist "$r" "" "texthash:$PF/etc/valid"
		postfix_run null "$r" "unix:$T/null.sock" ""
		postfix_run list "$r" "unix:$T/list.sock" ""
		[ $sb_ok -eq 1 ] && postfix_run sb "$r" "unix:$T/main.sock" ""
	done
	for c in none pflist null list sb; do
		postfix_best "$c"
	done
	stop "$list_pid"
fi

[ $sb_ok -eq 1 ] && [ -n "${main_pid:-}" ] && stop "$main_pid"

python3 "$TOP/bench/report.py" "$RES" "$NM" "$JSON" "$SECS" "$REPS" || exit 1
python3 -m json.tool "$JSON" >/dev/null || { say "results.json is not valid JSON"; exit 1; }
say "wrote $JSON"
