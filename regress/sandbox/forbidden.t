#!/bin/sh
#
# A forbidden system call kills the process that makes it (seccomp), and
# the daemon goes down: the parent logs which child died of SIGSYS and
# exits non-zero; a parent killed this way takes its children with it.
# The calls are made by the test build's hooks (sandbox_test.c), once the
# process is confined, as root with the children chrooted.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for the children's user and chroot"
ensure_user
build_test_variant

sigsys=$(python3 -c 'import signal; print(int(signal.SIGSYS))')
port=$(freeport)
sb_conf "$T/c" 'backend "b" {' "host 127.0.0.1 port $port" '}' \
    'domain "example.net" backend "b"'

# children_gone case: the children the parent logged at startup are gone
# within two seconds.
children_gone() {
	for _k in $(sed -n 's/^parent: startup: milter engine pid \([0-9]*\), prober pid \([0-9]*\)$/\1 \2/p' "$T/log"); do
		_n=40
		while [ -d "/proc/$_k" ] &&
		    [ "$(cut -d' ' -f3 "/proc/$_k/stat" 2>/dev/null)" != Z ]; do
			_n=$((_n - 1))
			[ $_n -gt 0 ] || fail "$1: child $_k outlived the parent"
			sleep 0.05
		done
	done
	grep -q '^parent: startup: milter engine pid' "$T/log" ||
	    fail "$1: no startup line: $(cat "$T/log")"
}

# A child: killed by SIGSYS, named by the parent, which exits 1.  The
# engine exits as soon as it loses the prober, and the parent logs only
# the first child it reaps, sometimes the engine: until it logs how each
# child ended, a prober case is tried up to five times for its line.
# make SANITIZE=1 lets every process read, for the sanitizers' reports
# (compat/pledge.c): there a read is Landlock's and the chroot's to
# refuse, not seccomp's, and only the open for writing is tried.
reads=engine:open
[ -n "$SB_SANITIZE" ] && reads= && echo "note: SANITIZE=1: engine:open not tried"
for c in $reads engine:write engine:socket engine:exec engine:kill \
    prober:write prober:exec prober:kill; do
	proc=${c%%:*}
	action=${c#*:}
	title=$proc
	[ "$proc" = engine ] && title="milter engine"
	tries=1
	[ "$proc" = prober ] && tries=5
	while :; do
		SCAMBACK_SANDBOX_TEST=$c sb_start "$VARIANT" "$T/c"
		sb_wait_exit 10
		expect_eq "$c: parent's exit status" "$RC" 1
		grep -q "^$title: sandbox test: $action" "$T/log" ||
		    fail "$c: the hook did not run: $(cat "$T/log")"
		! grep -q "sandbox test: $action \\(allowed\\|refused\\)" "$T/log" ||
		    fail "$c: the call returned: $(cat "$T/log")"
		children_gone "$c"
		grep -Eq "^parent: $title \(pid [0-9]+\) terminated by signal $sigsys \(Bad system call\)" "$T/log" &&
		    break
		tries=$((tries - 1))
		[ $tries -gt 0 ] ||
		    fail "$c: no log line naming the $title: $(cat "$T/log")"
		echo "note: $c: the parent named another child; again"
	done
	echo "ok: $c killed the $title"
done

# The parent: killed by SIGSYS (128 + 31 for the shell); the children
# see its pipe close and go.
for c in parent:exec parent:socket; do
	action=${c#*:}
	SCAMBACK_SANDBOX_TEST=$c sb_start "$VARIANT" "$T/c"
	waitfor grep -q "^parent: sandbox test: $action" "$T/log" ||
	    fail "$c: the hook did not run: $(cat "$T/log")"
	sb_wait_exit 10
	expect_eq "$c: parent's exit status" "$RC" $((128 + sigsys))
	children_gone "$c"
	echo "ok: $c killed the parent"
done
exit 0
