# Helpers for regress/*/*.t shell tests.  Source it:  . "$(dirname "$0")/../lib.sh"

set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SCAMBACK:=$TOP/scam-back/scam-back}"
: "${SCAMBACKCTL:=$TOP/scambackctl/scambackctl}"
: "${TOOLS:=$TOP/regress/tools}"

# A private directory, removed with every process registered by bg().
# SCAMBACK_TMP: where the directory goes (regress/sandbox/debug.t gives
# each test its own, to read what the test's daemons logged).
T=$(mktemp -d "${SCAMBACK_TMP:-/tmp}/scamback-test.XXXXXX")
chmod 755 "$T"
_pids=""
_cleanup() {
	for p in $_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $_pids; do
		for _i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "skip: $*"
	exit 77
}

# bg cmd args...: start in the background, remember the pid in $!
bg() {
	"$@" &
	_pids="$_pids $!"
}

# register a pid started another way
track() {
	_pids="$_pids $1"
}

# freeport: print a TCP port that is free on 127.0.0.1 now
freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# waitfor cond-command...: retry for up to 10 s (WAIT seconds)
waitfor() {
	_n=$(( ${WAIT:-10} * 20 ))
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# waitsock path: wait for a unix socket to appear
waitsock() {
	waitfor test -S "$1" || fail "socket $1 did not appear"
}

# waitport port [host]: wait until a TCP port accepts connections
waitport() {
	waitfor python3 -c "import socket,sys; socket.create_connection(('${2:-127.0.0.1}', $1), 1)" ||
	    fail "port $1 did not open"
}

# expect_eq what got want
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_match what text pattern (grep -E)
expect_match() {
	printf '%s\n' "$2" | grep -Eq -- "$3" || fail "$1: '$2' does not match '$3'"
}

# expect_le WHAT GOT MAX
expect_le() {
	[ -n "$2" ] && [ "$2" -le "$3" ] || fail "$1: $2, want at most $3"
}

# The unprivileged user the daemon drops to when the tests run as root.
ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	id _scamback >/dev/null 2>&1 && return 0
	mkdir -p /var/empty && chmod 755 /var/empty
	useradd -r -d /var/empty -s /usr/sbin/nologin _scamback 2>/dev/null ||
	    fail "cannot create user _scamback"
}

# --- regress/tools: the fake backend and the milter driver -----------------

# start_backend [fakebackend options...]: start a fake backend SMTP server
# on a free port of 127.0.0.1 (-6: ::1).  Sets BACKEND_PORT, BACKEND_PID
# and BACKEND_LOG, its event log (one line per event; see regress/tools/README).
# Do not pass -l; several backends may run at once, each call sets the
# variables anew.
_nbackend=0
start_backend() {
	_nbackend=$((_nbackend + 1))
	BACKEND_LOG=$T/backend$_nbackend.log
	: >"$BACKEND_LOG"
	_start_tool "$T/backend$_nbackend" "$TOOLS/fakebackend" \
	    -l "$BACKEND_LOG" "$@"
	BACKEND_PID=$_tool_pid
	BACKEND_PORT=$_tool_port
}

# _start_tool BASE CMD...: start a tool that prints "port N" once it
# listens, its stdout and stderr in BASE.out and BASE.err; sets
# _tool_pid and _tool_port.
_start_tool() {
	_base=$1
	shift
	"$@" >"$_base.out" 2>"$_base.err" &
	_tool_pid=$!
	track $_tool_pid
	waitfor grep -q '^port ' "$_base.out" ||
	    fail "$*: did not start: $(cat "$_base.err")"
	_tool_port=$(sed -n 's/^port //p' "$_base.out")
}

# reap pid [seconds]: wait until a child of this shell has exited (at
# most 10 s, or seconds; then fail); its exit status goes to REAPED.
reap() {
	_n=$(( ${2:-10} * 20 ))
	while kill -0 "$1" 2>/dev/null; do
		# An exited child stays a zombie until wait reaps it.
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "process $1 still running after ${2:-10} s"
		sleep 0.05
	done
	wait "$1"
	REAPED=$?
}

# stop_backend [pid]: SIGTERM a fake backend started by start_backend,
# wait until it is gone, fail unless it exited 0 (a crash shows here).
stop_backend() {
	_p=${1:-$BACKEND_PID}
	kill -TERM "$_p" 2>/dev/null
	reap "$_p"
	[ $REAPED -eq 0 ] || fail "fakebackend $_p exited with status $REAPED"
}

# start_dns [record...]: start regress/tools/fakedns.py on a free port of
# 127.0.0.1 (UDP and TCP) serving these records (see regress/tools/README).
# Sets DNS_PORT, DNS_PID and DNS_LOG (one line per question).  Options
# (-d, -n, -z, -6) may come first.
_ndns=0
start_dns() {
	_ndns=$((_ndns + 1))
	DNS_LOG=$T/dns$_ndns.log
	: >"$DNS_LOG"
	_start_tool "$T/dns$_ndns" /usr/bin/python3 "$TOOLS/fakedns.py" \
	    -l "$DNS_LOG" "$@"
	DNS_PID=$_tool_pid
	DNS_PORT=$_tool_port
}

# dns_count regex [log]: how many questions in a fakedns log match (grep -E),
# e.g. dns_count ' example.net MX '
dns_count() {
	grep -c -E -- "$1" "${2:-$DNS_LOG}" || true
}

# backend_count regex [log]: how many lines of a backend's log match (grep -E).
backend_count() {
	grep -c -E -- "$1" "${2:-$BACKEND_LOG}" || true
}

# make_cert dir: a self-signed certificate for localhost, made now:
# dir/cert.pem and dir/key.pem.  Skips the test without openssl.
make_cert() {
	command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 \
	    -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1 ||
	    fail "openssl could not make a certificate"
}

# drv milterdrv-arguments...: run the milter driver (timeout DRV_TIMEOUT s).
drv() {
	"$TOOLS/milterdrv" -t "${DRV_TIMEOUT:-10}" "$@"
}
