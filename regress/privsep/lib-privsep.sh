# Shared by regress/privsep/*.t: start a daemon with a minimal configuration.

# start_daemon [extra config lines]: starts scam-back -d in $T; sets $DPID
start_daemon() {
	cat >"$T/scam-back.conf" <<-EOC
	listen on "unix:$T/milter.sock"
	${SB_CACHE_LINE-cache file none}
	$*
	EOC
	"$SCAMBACK" -d -v -f "$T/scam-back.conf" -s "$T/ctl.sock" \
	    >"$T/log" 2>&1 &
	DPID=$!
	track $DPID
	waitsock "$T/milter.sock"
	waitfor pgrep -P "$DPID" -f "scam-back: prober" ||
	    fail "children did not start: $(cat "$T/log")"
}

child_pid() {
	pgrep -P "$DPID" -xf "scam-back: $1"
}

# gone_within pid n: wait up to n deciseconds for a process to exit (a
# zombie whose new parent does not reap it counts as gone)
gone_within() {
	_pid=$1 _n=$2
	while [ "$_n" -gt 0 ]; do
		case "$(ps -o stat= -p "$_pid" 2>/dev/null)" in
		""|Z*)	return 0 ;;
		esac
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
