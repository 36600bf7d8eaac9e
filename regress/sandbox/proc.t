#!/bin/sh
#
# The parent stays root to stop its children and may do no more to any
# other process: it keeps CAP_KILL alone (regress/sandbox/status.t), its
# signals reach its children and nothing that ran before it (Landlock
# ABI 6 signal scope, taken before the children start), and it can set
# no other process's limits or priority nor take a pidfd (seccomp).  The
# calls are made by the test build's hooks (sandbox_test.c) on the
# process that started the daemon, once the parent is confined.  A child
# that does not stop is still killed.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for the parent's capabilities"
ensure_user
build_test_variant

sigsys=$(python3 -c 'import signal; print(int(signal.SIGSYS))')
sb_conf "$T/c"

# Killed by seccomp: the shell sees 128 + SIGSYS.
for a in prlimit setpriority pidfd; do
	SCAMBACK_SANDBOX_TEST=parent:$a sb_start "$VARIANT" "$T/c"
	sb_wait_exit 10
	grep -q "^parent: sandbox test: $a" "$T/log" ||
	    fail "$a: the hook did not run: $(cat "$T/log")"
	expect_eq "$a: parent's exit status" "$RC" $((128 + sigsys))
	echo "ok: parent: $a on another process killed it"
done

# Refused by Landlock: the signal scope.
if [ "$(landlock_abi)" -ge 6 ]; then
	SCAMBACK_SANDBOX_TEST=parent:signal sb_start "$VARIANT" "$T/c"
	sb_wait_exit 10
	grep -q "sandbox test: signal refused: Operation not permitted" "$T/log" ||
	    fail "signal: $(cat "$T/log")"
	echo "ok: parent: signal to the process that started it refused"
else
	echo "note: Landlock ABI below 6: the parent may signal any process"
fi

# Its own children stay within reach: an engine that does not stop (it
# is stopped) is killed after the parent's five seconds.
sb_start "$SCAMBACK" "$T/c"
waitsock "$T/ctl.sock"
waitfor sh -c "[ \"\$(awk '\$1 == \"Seccomp:\" { print \$2 }' /proc/$DPID/status)\" = 2 ]" ||
    fail "parent never reached seccomp: $(cat "$T/log")"
engine=
for p in $(sb_children); do
	case "$(tr -d '\0' <"/proc/$p/cmdline")" in
	*"milter engine"*) engine=$p ;;
	esac
done
[ -n "$engine" ] || fail "no engine"
kill -STOP "$engine"
kill -TERM "$DPID"
sb_wait_exit 15
expect_eq "exit status" "$RC" 0
grep -q "milter engine did not stop; killing it" "$T/log" ||
    fail "no kill: $(cat "$T/log")"
waitfor sh -c "[ ! -d /proc/$engine ] || [ \"\$(cut -d' ' -f3 /proc/$engine/stat)\" = Z ]" ||
    fail "the stopped engine survived: $(cat /proc/$engine/status | head -3)"
echo "ok: a stopped engine was killed"
