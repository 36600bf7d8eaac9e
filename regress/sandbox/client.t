#!/bin/sh
#
# The prober is a client and nothing else.  seccomp kills it for
# listen(2) (which on an unbound socket binds every address, out of
# Landlock's sight) and for a UDP bind(2) (not Landlock's at all).  Its
# own connect path reaches only configured addresses: a backend at
# 127.0.0.1:PORT does not open [::1]:PORT, which Landlock, knowing ports
# only, would allow.  The calls are the test build's hooks
# (sandbox_test.c), once the prober is confined and configured.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

ensure_user
build_test_variant
sigsys=$(python3 -c 'import signal; print(int(signal.SIGSYS))')

start_backend -U a@example.net
port=$BACKEND_PORT
# A listener on [::1] at the backend's port: what must stay out of reach.
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET6)
s.bind(('::1', $port)); s.listen(4)
print('ready', flush=True)
while True: s.accept()[0].close()
" >"$T/six.out" 2>&1 &
track $!
waitfor grep -q ready "$T/six.out" || skip "no IPv6 loopback: $(cat "$T/six.out")"
sb_conf "$T/c" 'backend "b" {' "host 127.0.0.1 port $port" \
    'catchall ignore' '}' 'domain "example.net" backend "b"'

# run ACTION WANT: the hook in the prober; WANT is killed, refused or
# allowed.
run() {
	SCAMBACK_SANDBOX_TEST=prober:$1 sb_start "$VARIANT" "$T/c"
	sb_wait_exit 10
	grep -q "^prober: sandbox test: ${1%%:*}" "$T/log" ||
	    fail "$1: the hook did not run: $(cat "$T/log")"
	expect_eq "$1: parent's exit status" "$RC" 1
	case $2 in
	killed)	grep -Eq "^parent: prober \(pid [0-9]+\) terminated by signal $sigsys" "$T/log" ||
		    fail "$1: not killed: $(cat "$T/log")" ;;
	refused) grep -q "sandbox test: ${1%%:*} refused" "$T/log" ||
		    fail "$1: not refused: $(cat "$T/log")" ;;
	allowed) grep -q "sandbox test: ${1%%:*} allowed" "$T/log" ||
		    fail "$1: not allowed: $(cat "$T/log")" ;;
	esac
	echo "ok: prober: $1 $2"
}

run listen killed
run udpbind killed
run "dest:$port" allowed
run "dest6:$port" refused
grep -q "refused to connect to \[::1\]:$port: not an address of the configuration" "$T/log" ||
    fail "no log line for the refusal: $(cat "$T/log")"
