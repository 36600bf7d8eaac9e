#!/bin/sh
#
# A FIFO (or a device) where the configuration names a file hangs
# neither the parser nor the running parent: the configuration file, an
# include, a mailertable and a transport table are each refused as "not
# a regular file" with their file and line, at once.  A reload that
# meets one keeps the running configuration, and the daemon goes on
# answering.  (The cache file: regress/control/cachefile.t.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"

mkfifo "$T/fifo" || fail "mkfifo"

# configtest what conf-lines...: -n on them must end within 5 s with
# exit 1 and name the FIFO.
configtest() {
	_what=$1
	shift
	printf '%s\n' "$@" >"$T/$_what.conf"
	timeout 5 "$SCAMBACK" -n -f "$T/$_what.conf" >"$T/$_what.out" 2>&1
	_rc=$?
	hostile 1
	[ $_rc -ne 124 ] || fail "$_what: -n hangs on a FIFO"
	expect_eq "$_what: exit status" $_rc 1
	grep -q "not a regular file" "$T/$_what.out" ||
	    fail "$_what: $(cat "$T/$_what.out")"
	echo "ok: $_what: $(grep 'not a regular file' "$T/$_what.out")"
}

configtest include 'cache file none' "include \"$T/fifo\""
expect_match "include's line" "$(cat "$T/include.out")" "include\\.conf:2: "
configtest mailertable 'cache file none' "mailertable \"$T/fifo\""
expect_match "mailertable's line" "$(cat "$T/mailertable.out")" "mailertable\\.conf:2: "
configtest transport 'cache file none' "transport \"$T/fifo\""
expect_match "transport's line" "$(cat "$T/transport.out")" "transport\\.conf:2: "

# The configuration file itself.
timeout 5 "$SCAMBACK" -n -f "$T/fifo" >"$T/main.out" 2>&1
rc=$?
hostile 1
[ $rc -ne 124 ] || fail "-n -f FIFO hangs"
expect_eq "-f FIFO: exit status" $rc 1
grep -q "not a regular file" "$T/main.out" || fail "-f FIFO: $(cat "$T/main.out")"
echo "ok: the configuration file: $(cat "$T/main.out")"

# A running daemon: reload from files that turned into FIFOs.
start_backend -U bob@example.net
printf 'backend "b" {\n\thost 127.0.0.1 port %s\n\tcatchall ignore\n}\n' \
    "$BACKEND_PORT" >"$T/backend.conf"
start_scamback <<EOF2
include "$T/backend.conf"
domain "example.net" backend "b"
EOF2
for f in backend.conf sb.conf; do
	cp "$T/$f" "$T/$f.good"
	rm "$T/$f"
	mkfifo "$T/$f"
	n=$(log_count 'not a regular file')
	timeout 5 "$SCAMBACKCTL" -s "$T/ctl.sock" reload >"$T/reload.out" 2>&1
	rc=$?
	hostile 1
	[ $rc -ne 124 ] || fail "$f: reload hangs on a FIFO"
	[ $rc -ne 0 ] || fail "$f: reload from a FIFO succeeded: $(cat "$T/reload.out")"
	[ "$(log_count 'not a regular file')" -gt "$n" ] ||
	    fail "$f: not logged: $(tail -3 "$SB_LOG")"
	# The daemon still verifies with what it ran before.
	drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' 'rcpt <nobody@example.net>' \
	    'expect 550 5.1.1' >"$T/drv.out" 2>&1 ||
	    fail "$f: no verdict after the reload: $(cat "$T/drv.out")"
	rm "$T/$f"
	mv "$T/$f.good" "$T/$f"
	echo "ok: reload with $f a FIFO: kept the running configuration"
done
stop_scamback
