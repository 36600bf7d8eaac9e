# Helpers for the milter engine's integration tests (regress/milter/*.t,
# regress/mta/*.t).  Source after lib.sh:
#	. "$(dirname "$0")/../lib.sh"
#	. "$(dirname "$0")/../milter/engine.sh"
#
# The real daemon runs with its real prober against regress/tools'
# fakebackend; MTAs are played by milterdrv (or miltertest, Postfix).

# start_scamback [scam-back options...] <config-body: the daemon starts
# with the configuration read from stdin, after a listen line for
# $T/milter.sock (unless the body has its own) and "cache file none".
# Sets SB_PID, MILTER (the libmilter spec for milterdrv) and SB_LOG (the
# daemon's -d output).  SB_ULIMIT: ulimit options to start it under
# ("-n 40").
start_scamback() {
	ensure_user
	cat >"$T/sb.body"
	MILTER=$(sed -n 's/^listen on "\([^"]*\)".*/\1/p' "$T/sb.body")
	{
		[ -n "$MILTER" ] ||
		    echo "listen on \"unix:$T/milter.sock\" mode 0666"
		echo 'cache file none'
		cat "$T/sb.body"
	} >"$T/sb.conf"
	: "${MILTER:=unix:$T/milter.sock}"
	SB_LOG=$T/sb.log
	# A socket left by an earlier daemon of this test must not fool us.
	rm -f "$T/milter.sock" "$T/ctl.sock"
	sh -c "${SB_ULIMIT:+ulimit $SB_ULIMIT && }exec \"\$@\"" sh \
	    "$SCAMBACK" -d -f "$T/sb.conf" -s "$T/ctl.sock" "$@" >>"$SB_LOG" 2>&1 &
	SB_PID=$!
	track $SB_PID
	case "$MILTER" in
	unix:*)	waitfor test -S "${MILTER#unix:}" ;;
	inet:*)	_p=${MILTER#inet:}
		waitfor python3 -c "import socket; socket.create_connection(('127.0.0.1', ${_p%@*}), 1)" ;;
	inet6:*) _p=${MILTER#inet6:}
		waitfor python3 -c "import socket; socket.create_connection(('::1', ${_p%@*}), 1)" ;;
	esac || fail "scam-back did not start: $(tail -5 "$SB_LOG")"
	# The engine answers on the control socket once it serves: the
	# milter socket has its owner and mode by then.
	waitfor ctl show stats || fail "no control socket: $(tail -5 "$SB_LOG")"
}

# stop_scamback: SIGTERM, wait, fail unless the daemon exited 0.
stop_scamback() {
	kill -TERM "$SB_PID" 2>/dev/null
	reap "$SB_PID"
	[ $REAPED -eq 0 ] ||
	    fail "scam-back exited with status $REAPED: $(tail -5 "$SB_LOG")"
}

# engine_pid: the milter engine's pid (a child of the parent).
engine_pid() {
	for _p in $(cat /proc/"$SB_PID"/task/*/children 2>/dev/null); do
		case "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" in
		*"milter engine"*) echo "$_p"; return 0 ;;
		esac
	done
	return 1
}

# ctl args...: scambackctl on this test's control socket.
ctl() {
	"$SCAMBACKCTL" -s "$T/ctl.sock" "$@"
}

# sbstat path: one figure of "show stats" (a jq path below .stats).
sbstat() {
	ctl -j show stats | jq -r ".stats.$1"
}

# verdict_lines regex: how many verdict lines of the daemon's log match.
log_count() {
	grep -c -E -- "$1" "$SB_LOG" || true
}

# rcpt_probes address: how many times the backend was asked about it.
rcpt_probes() {
	backend_count "^rcpt [0-9]+ <$1> "
}
