# Helpers for regress/share/*.t: a real redis-server started by the test
# (loopback, a free port, its own configuration and directory, nothing
# saved) and several scam-back daemons, the gateways, in front of one
# fake backend.  Source after ../lib.sh.
#
#	start_redis [LINE...]	a store; extra redis.conf lines (requirepass);
#				sets REDIS_PORT, REDIS_PID, REDIS_DIR
#	restart_redis		again, on the same port, empty
#	stop_redis		SIGTERM, wait; kill_redis: SIGKILL, wait
#	rcli ARGS...		redis-cli on the store
#	start_gw NAME		a gateway whose configuration body is stdin
#				(listen and cache file are added); its files
#				are in $T/gw-NAME
#	gw_conf NAME		write its configuration anew, from stdin
#	start_sharing NAME...	gateways with the same body (stdin), each
#				sharing through the store before it returns
#	gw_body [SHARE-OPTIONS]	a body: the store on $REDIS_PORT, one backend
#				"b" ($BACKEND_PORT, catchall ignore) for
#				example.net and example.org
#	stop_gw NAME		SIGTERM, wait, fail unless it exited 0
#	gw_ctl NAME ARGS...	scambackctl on its control socket
#	gw_stat NAME PATH	one figure of its show stats (a jq path)
#	gw_log NAME		its log file
#	gw_rcpt NAME ADDR...	one MTA session with a RCPT per address
#	gw_verdicts NAME SOURCE	how many verdict lines have source=SOURCE
#	gw_logged NAME N REGEX	its log has at least N lines that match

command -v redis-server >/dev/null 2>&1 || skip "redis-server not installed"
command -v redis-cli >/dev/null 2>&1 || skip "redis-cli not installed"
ensure_user

REDIS_DIR=$T/redis
REDIS_PORT=""
REDIS_PID=""

start_redis() {
	mkdir -p "$REDIS_DIR"
	[ -n "$REDIS_PORT" ] || REDIS_PORT=$(freeport)
	{
		echo "port $REDIS_PORT"
		echo "bind 127.0.0.1"
		echo "dir $REDIS_DIR"
		echo "logfile $REDIS_DIR/redis.log"
		echo 'save ""'
		echo "appendonly no"
		echo "daemonize no"
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$REDIS_DIR/redis.conf"
	redis-server "$REDIS_DIR/redis.conf" >/dev/null 2>&1 &
	REDIS_PID=$!
	track $REDIS_PID
	waitfor redis_up || fail "redis-server did not start: $(tail -3 "$REDIS_DIR/redis.log")"
}

redis_up() {
	_a=""
	[ -n "${REDIS_PASSWORD:-}" ] && _a="--no-auth-warning -a $REDIS_PASSWORD"
	# shellcheck disable=SC2086
	[ "$(redis-cli -p "$REDIS_PORT" $_a ping 2>/dev/null)" = PONG ]
}

# _reap pid: wait until the process is gone (a zombie counts as gone).
_reap() {
	_n=200
	while kill -0 "$1" 2>/dev/null; do
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "process $1 did not stop"
		sleep 0.05
	done
}

stop_redis() {
	kill -TERM "$REDIS_PID" 2>/dev/null
	_reap "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
}

kill_redis() {
	kill -KILL "$REDIS_PID" 2>/dev/null
	_reap "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
}

restart_redis() {
	start_redis "$@"
}

rcli() {
	_a=""
	[ -n "${REDIS_PASSWORD:-}" ] && _a="--no-auth-warning -a $REDIS_PASSWORD"
	# shellcheck disable=SC2086
	redis-cli -p "$REDIS_PORT" $_a "$@"
}

gw_conf() {
	_d=$T/gw-$1
	mkdir -p "$_d"
	chmod 755 "$_d"
	{
		echo "listen on \"unix:$_d/milter.sock\" mode 0666"
		echo 'cache file none'
		cat
	} >"$_d/sb.conf"
}

start_gw() {
	gw_conf "$1"
	_d=$T/gw-$1
	rm -f "$_d/milter.sock" "$_d/ctl.sock"
	"$SCAMBACK" -d -f "$_d/sb.conf" -s "$_d/ctl.sock" >>"$_d/sb.log" 2>&1 &
	eval "GW_PID_$1=$!"
	track $!
	waitfor test -S "$_d/milter.sock" ||
	    fail "gateway $1 did not start: $(tail -5 "$_d/sb.log")"
	waitfor test -S "$_d/ctl.sock" || fail "gateway $1: no control socket"
}

gw_body() {
	echo "cache share redis 127.0.0.1 port $REDIS_PORT $*"
	echo 'backend "b" {'
	echo "	host 127.0.0.1 port $BACKEND_PORT"
	echo '	catchall ignore'
	echo '}'
	echo 'domain "example.net" backend "b"'
	echo 'domain "example.org" backend "b"'
}

start_sharing() {
	cat >"$T/gw.body"
	for _g in "$@"; do
		start_gw "$_g" <"$T/gw.body"
	done
	for _g in "$@"; do
		waitfor grep -q 'sharing verdicts' "$(gw_log "$_g")" ||
		    fail "gateway $_g does not share: $(tail -3 "$(gw_log "$_g")")"
	done
}

stop_gw() {
	eval "_p=\$GW_PID_$1"
	kill -TERM "$_p" 2>/dev/null
	_reap "$_p"
	wait "$_p"
	_rc=$?
	[ $_rc -eq 0 ] ||
	    fail "gateway $1 exited with status $_rc: $(tail -5 "$(gw_log "$1")")"
}

gw_ctl() {
	_n=$1
	shift
	"$SCAMBACKCTL" -s "$T/gw-$_n/ctl.sock" "$@"
}

gw_stat() {
	gw_ctl "$1" -j show stats | jq -r ".$2"
}

gw_log() {
	echo "$T/gw-$1/sb.log"
}

gw_rcpt() {
	_n=$1
	shift
	{
		echo 'connect mx.remote.test 203.0.113.5'
		echo 'mail <x@remote.test>'
		for _a in "$@"; do
			echo "rcpt <$_a>"
		done
	} | drv -T -s "unix:$T/gw-$_n/milter.sock" -f -
}

gw_verdicts() {
	grep -c -E "verdict=[a-z]+ source=$2( |\$)" "$(gw_log "$1")" || true
}

gw_logged() {
	[ "$(grep -c -E -- "$3" "$(gw_log "$1")")" -ge "$2" ]
}
