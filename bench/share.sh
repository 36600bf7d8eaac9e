#!/bin/sh
#
# The shared cache's part of make bench (SPEC sections 9 and 12), run by
# run.sh as "part share": two gateways and one store on 127.0.0.1,
# beside the same two gateways without it.  Each run leaves its raw
# result in RUNS-DIR as run.sh's own runs do ("case.rep.json");
# report.py makes them the median and the worst.
#
#	share_probes	N new addresses asked through both gateways at once
#			(10 sessions each, the same order): backend probes,
#			shared and alone
#	share_hit	one session on a gateway that never saw the
#			addresses, all of them in the store (loadgen)
#	share_local	the same addresses again: hits of its own cache
#	share_rtt	the store's own round trip (PING, with hiredis)
#	share_wait_*	bench/storewait: polling or pub/sub for a gateway
#			that waits on another's lock (one run each)
#
#	share.sh RUNS-DIR
#	BENCH_REPS=5		runs
#	BENCH_SHARE_N=1000	new addresses per run

set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
export TOP
SCAMBACK=$TOP/scam-back/scam-back
SCAMBACKCTL=$TOP/scambackctl/scambackctl
TOOLS=$TOP/regress/tools
BIN=$TOP/bench
REPS=${BENCH_REPS:-5}
N=${BENCH_SHARE_N:-1000}
RUNS=${1:?usage: share.sh RUNS-DIR}

command -v redis-server >/dev/null 2>&1 || {
	echo "redis-server is not installed" >&2
	exit 1
}
. "$TOP/regress/lib.sh"
. "$TOP/regress/share/lib-share.sh"

say() {
	printf '%s\n' "$*" >&2
}

# lg out gateway tag sessions: one pass over N new addresses
lg() {
	timeout 300 "$BIN/loadgen" -S -n "$N" -U "$3" -c "$4" -t 300 \
	    -s "unix:$T/gw-$2/milter.sock" >"$1" 2>>"$T/loadgen.log" ||
	    say "loadgen on $2 failed: $(tail -n 1 "$T/loadgen.log")"
}

# probes gateway...: the backend probes they made so far
probes() {
	_s=0
	for _g in "$@"; do
		_s=$(( _s + $(gw_ctl "$_g" -j show backends |
		    jq '.backends[0].probes') ))
	done
	echo "$_s"
}

# both g1 g2 tag: N new addresses through two gateways at once; the
# backend probes they made
both() {
	_p0=$(probes "$1" "$2")
	lg "$T/$1.$3" "$1" "$3" 10 &
	_l=$!
	lg "$T/$2.$3" "$2" "$3" 10
	wait $_l
	echo $(( $(probes "$1" "$2") - _p0 ))
}

start_redis
BACKEND_PORT=$(freeport)
EVENT_PRECISE_TIMER=1 "$BIN/fastbackend" -d 1 -p "$BACKEND_PORT" \
    2>>"$T/fastbackend.log" &
track $!
waitport "$BACKEND_PORT"
gw_body >"$T/shared.body"
start_sharing a b <"$T/shared.body"
grep -v '^cache share' "$T/shared.body" >"$T/alone.body"
start_gw c <"$T/alone.body"
start_gw d <"$T/alone.body"

for r in $(seq "$REPS"); do
	shared=$(both a b "s$r-")
	alone=$(both c d "n$r-")
	awk -v n="$N" -v s="$shared" -v a="$alone" 'BEGIN {
		printf "{\"addresses\": %d, \"shared\": %d, \"alone\": %d, " \
		    "\"shared_per_address\": %.4f, " \
		    "\"alone_per_address\": %.4f}\n", n, s, a, s / n, a / n
	}' >"$RUNS/share_probes.$r.json"

	# a learns them; b finds them in the store, then in its cache.
	lg "$T/h$r" a "h$r-" 10
	lg "$RUNS/share_hit.$r.json" b "h$r-" 1
	lg "$RUNS/share_local.$r.json" b "h$r-" 1
	"$BIN/storewait" -p "$REDIS_PORT" -L 2000 | awk '{
		printf "{\"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s}\n",
		    $3, $5, $7 }' >"$RUNS/share_rtt.$r.json"
	say "shared cache: run $r of $REPS: $N new addresses through two" \
	    "gateways, $shared probes shared, $alone alone"
done
printf '{"hits": %d, "errors": %d}\n' "$(gw_stat b store.hits)" \
    "$(( $(gw_stat a store.errors) + $(gw_stat b store.errors) ))" \
    >"$RUNS/share_store.1.json"

say "shared cache: polling or pub/sub for a gateway that waits"
for d in 2 20; do
	"$BIN/storewait" -p "$REDIS_PORT" -n 200 -d "$d" -i 10 | awk -v d="$d" \
	    -v dir="$RUNS" '{
		f = dir "/share_wait_" $1 "_" $2 "_" d ".1.json"
		printf "{\"probe_ms\": %d, \"store_cpu_us\": %s, " \
		    "\"commands\": %s, \"messages\": %s", d, $4, $6, $8 > f
		if ($9 == "late_ms")
			printf ", \"late_ms_median\": %s, " \
			    "\"late_ms_worst\": %s", $11, $13 > f
		printf "}\n" > f
		close(f)
	}'
done

for g in a b c d; do
	stop_gw $g
done
stop_redis
exit 0
