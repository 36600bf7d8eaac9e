#!/bin/sh
#
# Without -d every process logs to syslog, and every line says which
# process wrote it (issue 12 part 11): "parent:", "milter engine:",
# "prober:", as with -d.  The daemon runs in a mount namespace of its own
# whose /dev holds a syslog socket of the test's (and null, random), so
# this machine's /dev and syslog are not touched.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v unshare >/dev/null 2>&1 &&
    unshare -m --propagation private true 2>/dev/null ||
    skip "no private mount namespace"
ensure_user
start_backend -U bob@example.net
cat >"$T/sb.conf" <<EOF
listen on "unix:$T/milter.sock" mode 0666
cache file none
backend "b" { host 127.0.0.1 port $BACKEND_PORT catchall ignore }
domain "example.net" backend "b"
EOF

cat >"$T/syslogd.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[2], "w").write(str(os.getpid()))
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")
EOF
unshare -m --propagation private sh -c '
    mount -t tmpfs -o mode=0755 tmpfs /dev &&
    mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/urandom c 1 9 &&
    mknod -m 666 /dev/random c 1 8 &&
    { /usr/bin/python3 "$1/syslogd.py" "$1/syslog" "$1/syslogd.pid" & } &&
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /dev/log ] && break; sleep 0.2; done &&
    exec "$0" -v -f "$1/sb.conf" -s "$1/ctl.sock"' "$SCAMBACK" "$T" \
    >"$T/start.out" 2>&1 || fail "start: $(cat "$T/start.out")"
[ -s "$T/syslogd.pid" ] && track "$(cat "$T/syslogd.pid")"
for p in $(pgrep -xf "scam-back: parent"); do
	[ "$(readlink "/proc/$p/cwd")" = "$(pwd -P)" ] &&
	    [ -S "/proc/$p/root$T/ctl.sock" ] && track "$p"
done
out=$(drv -s "unix:$T/milter.sock" 'connect mx.remote.test 203.0.113.5' \
    'mail <x@remote.test>' 'rcpt <bob@example.net>') || fail "milterdrv: $out"
WAIT=5 waitfor grep -q 'verdict=valid' "$T/syslog" || fail "no verdict in syslog: $(cat "$T/syslog")"

# "<pri>Mmm dd hh:mm:ss scam-back[pid]: PROCESS: message"
sed -n 's/^<[0-9]*>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* scam-back\[[0-9]*\]: //p' \
    "$T/syslog" >"$T/lines"
[ "$(wc -l <"$T/lines")" -eq "$(grep -c . "$T/syslog")" ] ||
    fail "lines not from scam-back: $(cat "$T/syslog")"
grep -vE '^(parent|milter engine|prober): ' "$T/lines" &&
    fail "lines that do not say which process wrote them"
for p in parent "milter engine" prober; do
	grep -q "^$p: " "$T/lines" || fail "no line from the $p: $(cat "$T/lines")"
done
grep -q '^milter engine: accept to=<bob@example.net> .* verdict=valid source=probe' "$T/lines" ||
    fail "verdict line: $(grep verdict "$T/lines")"
stop_backend
exit 0
