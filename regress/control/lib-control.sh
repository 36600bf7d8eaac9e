# Shared by regress/control/*.t: a daemon with a cache file in $T, and
# scambackctl talking to it.  Source after ../lib.sh.

CACHE=$T/cache
CTLSOCK=$T/ctl.sock

# write_conf [extra lines]: $T/scam-back.conf; a backend for example.net
# and example.org when start_backend ran.
write_conf() {
	{
		echo "listen on \"unix:$T/milter.sock\""
		echo "cache file \"${CACHEFILE:-$CACHE}\""
		echo "skip local no"
		if [ -n "${BACKEND_PORT:-}" ]; then
			echo "backend \"mailbox\" {"
			echo "	host 127.0.0.1 port $BACKEND_PORT"
			echo "}"
			echo "domain \"example.net\" backend \"mailbox\""
			echo "domain \"example.org\" backend \"mailbox\""
		fi
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$T/scam-back.conf"
}

# start_daemon: scam-back -d on $T/scam-back.conf (written by write_conf
# unless it exists); sets DPID; waits until the control socket answers.
start_daemon() {
	[ -f "$T/scam-back.conf" ] || write_conf
	"$SCAMBACK" -d -v -f "$T/scam-back.conf" -s "$CTLSOCK" \
	    >>"$T/log" 2>&1 &
	DPID=$!
	track $DPID
	waitfor ctl show stats ||
	    fail "scam-back did not start: $(tail -n 20 "$T/log")"
}

# stop_daemon: SIGTERM, wait for the exit; fail unless it exited 0.
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	_rc=$?
	[ $_rc -eq 0 ] || fail "scam-back exited $_rc: $(tail -n 20 "$T/log")"
}

ctl() {
	"$SCAMBACKCTL" -s "$CTLSOCK" "$@"
}

# json what text: the text must parse as JSON.
json() {
	printf '%s\n' "$2" | jq -e . >/dev/null 2>&1 ||
	    fail "$1: not JSON: $2"
}

# rcpt address...: one SMTP transaction through the milter, one RCPT each.
rcpt() {
	_args=""
	for _a in "$@"; do
		_args="$_args
rcpt <$_a>"
	done
	printf 'connect mx.remote.test 203.0.113.5\nhelo mx.remote.test\nmail <x@remote.test>%s\n' \
	    "$_args" | drv -s "unix:$T/milter.sock" -f -
}

# cache_lines file: the number of entry lines of a cache file.
cache_lines() {
	grep -c -v '^#' "$1" || true
}
