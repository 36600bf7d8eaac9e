#!/bin/sh
#
# Logging survives a restart of the log daemon (Linux without systemd:
# syslogd on /dev/log).  The chrooted children cannot reach /dev/log at
# all after their start, and the parent, once pledged, may not make the
# new socket that syslog(3) reconnects with: after a restart nothing was
# logged any more.  Now the children's lines travel through the parent,
# which sends each line to /dev/log by name.  The test runs in a mount
# namespace of its own, with a /dev of its own holding its own log
# daemon's socket; lines from all three processes must reach the first
# log daemon and, after a restart, the second.  Under -d, libmilter's
# own error reasons (here: an MTA that speaks protocol version 1) go to
# standard error with the engine's lines, not to syslog's user facility.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

ensure_user

# -d: libmilter's own complaint (an MTA speaking milter protocol 1) is on
# standard error with the engine's lines.
printf 'listen on "unix:%s/old.sock" mode 0666\ncache file none\n' "$T" >"$T/old.conf"
"$SCAMBACK" -d -f "$T/old.conf" -s "$T/old-ctl.sock" >"$T/old.out" 2>&1 &
track $!
waitfor "$SCAMBACKCTL" -s "$T/old-ctl.sock" show stats ||
    fail "no start: $(cat "$T/old.out")"
drv -s "unix:$T/old.sock" open \
    'raw 00 00 00 0d 4f 00 00 00 01 00 00 01 ff 00 1f ff ff' >/dev/null 2>&1
hostile 1
waitfor grep -q 'protocol version too old' "$T/old.out" ||
    fail "libmilter's reason is not on stderr: $(cat "$T/old.out")"
grep -q '^milter engine: .*st_optionneg\[[0-9]*\]: protocol version too old 1 < 2' "$T/old.out" ||
    fail "not the engine's line: $(cat "$T/old.out")"
echo "ok: -d: $(grep 'too old' "$T/old.out")"

[ "$(id -u)" -eq 0 ] || skip "needs root for a mount namespace"
unshare -m true 2>/dev/null || skip "no mount namespaces here"
start_backend -U ok@example.net

cat >"$T/syslogd.py" <<'EOP'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print("listening", flush=True)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
EOP

cat >"$T/sb.conf" <<EOF2
listen on "unix:$T/milter.sock" mode 0666
cache file none
skip local no
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2

# Inside the namespace: a /dev with the usual nodes and our log socket.
cat >"$T/inner.sh" <<'EOI'
set -u
T=$1 SCAMBACK=$2 TOOLS=$3
# Whatever happens, nothing of ours outlives the namespace's script.
trap 'for f in sb.pid syslogd.pid; do [ -s "$T/$f" ] && kill "$(cat "$T/$f")" 2>/dev/null; done' EXIT
mkdir "$T/dev"
for n in null zero random urandom; do
	: >"$T/dev/$n"
	mount --bind "/dev/$n" "$T/dev/$n" || exit 1
done
mount --rbind "$T/dev" /dev || exit 1

syslogd() {
	python3 "$T/syslogd.py" /dev/log "$T/syslog.$1" >"$T/syslogd.$1" 2>&1 &
	echo $! >"$T/syslogd.pid"
	n=0
	while ! grep -q listening "$T/syslogd.$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || exit 1; sleep 0.05
	done
}
verdict() {
	"$TOOLS/milterdrv" -t 10 -s "unix:$T/milter.sock" \
	    'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
	    "rcpt <$1@example.net>" >/dev/null
}
waitlog() {
	n=0
	until grep -q "$2" "$T/syslog.$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 200 ] || return 1; sleep 0.05
	done
}

syslogd 1
# Daemonized; its parent is the one whose working directory is $T.
(cd "$T" && "$SCAMBACK" -v -f "$T/sb.conf" -s "$T/ctl.sock") || exit 1
n=0
until [ -S "$T/milter.sock" ]; do
	n=$((n + 1)); [ $n -lt 200 ] || exit 1; sleep 0.05
done
for p in $(pgrep -f 'scam-back: parent'); do
	[ "$(readlink "/proc/$p/cwd")" = "$T" ] && echo "$p" >"$T/sb.pid"
done
[ -s "$T/sb.pid" ] || exit 1
verdict one
waitlog 1 'to=<one@example.net>'
waitlog 1 'probe one@example.net'

kill "$(cat "$T/syslogd.pid")"
sleep 0.2
syslogd 2
kill -HUP "$(cat "$T/sb.pid")" 2>/dev/null
verdict two
waitlog 2 'to=<two@example.net>'
waitlog 2 'probe two@example.net'
waitlog 2 'SIGHUP'
kill "$(cat "$T/sb.pid")"
sleep 1
kill "$(cat "$T/syslogd.pid")"
exit 0
EOI
unshare -m sh "$T/inner.sh" "$T" "$SCAMBACK" "$TOOLS" >"$T/inner.out" 2>&1
faults 1
for g in 1 2; do
	echo "log daemon $g:"
	sed 's/^/	/' "$T/syslog.$g" 2>/dev/null | head -40
done
for g in 1 2; do
	for what in 'SIGHUP|startup' 'to=<' 'probe '; do
		[ $g -eq 1 ] && [ "$what" = 'SIGHUP|startup' ] && what=startup
		grep -Eq "$what" "$T/syslog.$g" 2>/dev/null || {
			lost 1
			fail "log daemon $g got no '$what' line"
		}
	done
done
