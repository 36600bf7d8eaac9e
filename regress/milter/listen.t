#!/bin/sh
#
# listen on (SPEC section 5): a unix socket is created while root with the
# owner, group and mode asked for, replacing a stale socket a dead daemon
# left; inet and inet6 libmilter specs on loopback work too.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to create a socket for another owner"
ensure_user
grp=$(id -gn _scamback)

start_backend
backend() {
	cat <<EOF
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF
}

# A stale socket: bound by a process that is gone.
python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$T/m.sock')"
test -S "$T/m.sock" || fail "no stale socket"
{
	echo "listen on \"unix:$T/m.sock\" owner \"_scamback\" group \"$grp\" mode 0640"
	backend
} >"$T/body"
start_scamback <"$T/body"
# The stale socket was there at once: wait for the engine's own.
waitfor sh -c "[ \$(stat -c %a '$T/m.sock') = 640 ]"
expect_eq "socket mode" "$(stat -c %a "$T/m.sock")" 640
expect_eq "socket owner" "$(stat -c %U:%G "$T/m.sock")" "_scamback:$grp"
out=$(drv -s "$MILTER" 'connect c 203.0.113.5' 'mail <a@b>' 'rcpt <x@example.net>')
expect_match "unix" "$out" 'rcpt <x@example.net>: reject 550 5.1.1'
stop_scamback

# No owner or group: root's, with the default mode 0660.
{
	echo "listen on \"unix:$T/m.sock\""
	backend
} >"$T/body"
start_scamback <"$T/body"
expect_eq "default mode" "$(stat -c %a "$T/m.sock")" 660
stop_scamback

port=$(freeport)
{
	echo "listen on \"inet:$port@127.0.0.1\""
	backend
} >"$T/body"
start_scamback <"$T/body"
out=$(drv -s "$MILTER" 'connect c 203.0.113.5' 'mail <a@b>' 'rcpt <y@example.net>')
expect_match "inet" "$out" 'rcpt <y@example.net>: reject 550 5.1.1'
stop_scamback

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	port=$(freeport)
	{
		echo "listen on \"inet6:$port@[::1]\""
		backend
	} >"$T/body"
	start_scamback <"$T/body"
	out=$(drv -s "$MILTER" 'connect c 2001:db8::5' 'mail <a@b>' 'rcpt <z@example.net>')
	expect_match "inet6" "$out" 'rcpt <z@example.net>: reject 550 5.1.1'
	grep -q 'client=2001:db8::5 verdict=invalid' "$SB_LOG" || fail "inet6 client"
	stop_scamback
fi
stop_backend
exit 0
