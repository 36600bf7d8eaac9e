#!/bin/sh
#
# Zero violations: integration tests run again against the daemon built
# with SANDBOX_DEBUG=1, where a forbidden system call is logged ("sandbox
# violation: <syscall>") and fails with ENOSYS instead of killing, so one
# run shows every call the promises miss.  Each test must pass and no
# process may log a violation.  A selection that covers every process and
# command keeps the suite's time in bounds (every other test runs the
# production filter, which kills on a violation); SANDBOX_DEBUG_TESTS
# names others ("all": every milter, prober, control, privsep and mta
# test).
# Needs root, as the tests it runs do.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"

# With the test hooks, to see first that a violation shows.
build_variant debug SANDBOX_DEBUG=1 \
    VSRCS=regress/sandbox/sandbox_test.c \
    VLDFLAGS="-Wl,--wrap=pledge -Wl,--wrap=unveil"
ensure_user
sb_conf "$T/c"
# (An open for writing: make SANITIZE=1 lets a read through, see
# compat/pledge.c.)
SCAMBACK_SANDBOX_TEST=engine:write sb_start "$VARIANT" "$T/c"
sb_wait_exit 10
grep -q "sandbox violation: openat$" "$T/log" ||
    fail "no violation logged by the debug variant: $(cat "$T/log")"
grep -q "sandbox test: write refused: Function not implemented$" "$T/log" ||
    fail "the violation did not return ENOSYS: $(cat "$T/log")"

tests=${SANDBOX_DEBUG_TESTS:-"
	control/commands.t control/hostile.t control/prober-restart.t
	milter/verdicts.t milter/reload.t
	prober/verdicts.t prober/tls.t prober/resolve.t
	privsep/start.t privsep/parentdeath.t
	mta/sendmail.t mta/rules-dns.t"}
# Built with make SANITIZE=1 all of it takes four minutes here, the
# suite's limit for one test: fewer tests, still every process.
[ -n "$SB_SANITIZE" ] && [ -z "${SANDBOX_DEBUG_TESTS:-}" ] &&
    tests="control/commands.t control/prober-restart.t milter/verdicts.t
	milter/reload.t
	prober/verdicts.t prober/tls.t privsep/start.t"
[ "$tests" = all ] && tests=$(cd "$TOP/regress" &&
    ls milter/*.t prober/*.t control/*.t privsep/*.t mta/*.t)

# Each test keeps its directory (KEEP) inside one of ours, where the
# daemon's output is: what it logged is read after the test, and nothing
# of other tests running meanwhile is read.
failed="" n=0
for t in $tests; do
	n=$((n + 1))
	d="$T/run.$n"
	mkdir -p "$d" && chmod 755 "$d"
	SCAMBACK_TMP=$d KEEP=1 SCAMBACK=$VARIANT \
	    timeout -k 5 120 "$TOP/regress/$t" >"$d/out" 2>&1 </dev/null
	rc=$?
	v=$(grep -rh "sandbox violation" "$d"/scamback-test.* 2>/dev/null |
	    sort | uniq -c)
	case $rc in
	0)	;;
	77)	echo "skip $t: $(tail -n 1 "$d/out")" ;;
	*)	echo "FAIL $t (exit $rc):"
		tail -n 10 "$d/out" | sed 's/^/	| /'
		failed="$failed $t" ;;
	esac
	if [ -n "$v" ]; then
		echo "VIOLATIONS in $t:"
		echo "$v" | sed 's/^/	| /'
		[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] && failed="$failed $t"
	fi
	[ "$rc" -eq 0 ] && [ -z "$v" ] && echo "ok $t"
done
[ -z "$failed" ] || fail "under SANDBOX_DEBUG:$failed"
echo "ok: no sandbox violation"
