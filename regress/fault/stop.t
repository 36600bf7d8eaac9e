#!/bin/sh
#
# A stop never ends in a signal, and the milter socket goes with the
# daemon.  libmilter's listener used to clean up its unix socket by path
# (stat, unlink) within the engine's stop grace, which the pledged,
# chrooted engine may not do: seccomp killed it about one stop in five
# ("milter engine terminated by signal 31").  Two stops with SIGTERM to
# the parent, then one with SIGTERM and one with SIGINT to the daemon's
# whole process group (kill -- -PGID, a terminal's ^C), each timed to
# meet the listener's cleanup: each exits 0, no process dies of a
# signal, and the socket is removed.  (Each stop is aimed at the
# cleanup's window; the seven of before took 40 s of the suite.)
# Between stops, a verdict shows the daemon was really up.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

ensure_user
start_backend -U bob@example.net
cat >"$T/body" <<EOF2
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

# one how: start the daemon in a session of its own (so that it leads
# its process group), get a verdict, stop it with SIGTERM to the parent
# (how=parent) or to the group (how=TERM, INT).
one() {
	rm -f "$T/milter.sock" "$T/ctl.sock"
	{
		echo "listen on \"unix:$T/milter.sock\" mode 0666"
		echo 'cache file none'
		cat "$T/body"
	} >"$T/sb.conf"
	: >"$T/one.log"
	setsid "$SCAMBACK" -d -f "$T/sb.conf" -s "$T/ctl.sock" \
	    >"$T/one.log" 2>&1 &
	SB_PID=$!
	track $SB_PID
	waitfor test -S "$T/milter.sock" || fail "no start: $(cat "$T/one.log")"
	drv -s "unix:$T/milter.sock" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' 'rcpt <bob@example.net>' 'expect continue' \
	    >"$T/drv.out" 2>&1 || fail "no verdict: $(cat "$T/drv.out")"
	# libmilter's listener polls for five seconds after each accept:
	# stop in the last second of that, when its cleanup would fall in
	# the engine's grace of one second.
	sleep "4.$(( $(od -An -N1 -tu1 /dev/urandom) % 5 + 3 ))"
	case $1 in
	parent)	kill -TERM "$SB_PID" ;;
	*)	/bin/kill -"$1" -- -"$SB_PID" ;;
	esac
	faults 1
	reap "$SB_PID" 15
	rc=$REAPED
	cat "$T/one.log" >>"$T/all.log"
	if [ $rc -ne 0 ] || grep -q 'signal' "$T/one.log"; then
		lost 1
		fail "$1: exit $rc: $(grep -i 'signal\|fatal\|stopping' "$T/one.log")"
	fi
	[ ! -e "$T/milter.sock" ] || fail "$1: the milter socket is left behind"
}

i=0
while [ $i -lt 2 ]; do
	one parent
	i=$((i + 1))
done
echo "ok: 2 stops by SIGTERM to the parent"
for sig in TERM INT; do
	one $sig
	echo "ok: a stop by SIG$sig to the process group"
done
