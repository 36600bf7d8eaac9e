#!/bin/sh
#
# Zero violations: integration tests run again against the daemon built
# with SANDBOX_DEBUG=1, where a forbidden system call is logged ("sandbox
# violation: <syscall>") and fails with ENOSYS instead of killing, so one
# run shows every call the promises miss.  Each test must pass and no
# process may log a violation.  A selection that covers every process and
# command keeps the suite's time in bounds; SANDBOX_DEBUG_TESTS names
# others ("all": every milter, prober, control, privsep and mta test).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

# With the test hooks, to see first that a violation shows.
build_variant debug SANDBOX_DEBUG=1 \
    VFLAGS="-DSANDBOX_TEST -include regress/sandbox/sandbox_test.h" \
    VSRCS=regress/sandbox/sandbox_test.c
ensure_user
sb_conf "$T/c"
SCAMBACK_SANDBOX_TEST=engine:open sb_start "$VARIANT" "$T/c"
sb_wait_exit 10
grep -q "sandbox violation: openat$" "$T/log" ||
    fail "no violation logged by the debug variant: $(cat "$T/log")"
grep -q "sandbox test: open refused: Function not implemented$" "$T/log" ||
    fail "the violation did not return ENOSYS: $(cat "$T/log")"

tests=${SANDBOX_DEBUG_TESTS:-"
	control/commands.t control/restart.t control/periodic.t
	control/hostile.t control/diskfull.t
	milter/verdicts.t milter/coalesce.t milter/reload.t milter/discard.t
	milter/listen.t milter/miltertest.t milter/unreachable.t
	prober/verdicts.t prober/tls.t prober/fallback.t prober/catchall.t
	prober/452.t prober/lost.t prober/sandbox.t
	privsep/start.t privsep/nonroot.t privsep/parentdeath.t
	mta/postfix.t mta/sendmail.t"}
[ "$tests" = all ] && tests=$(cd "$TOP/regress" &&
    ls milter/*.t prober/*.t control/*.t privsep/*.t mta/*.t)

# Each test keeps its directory (KEEP): the daemon's output is there.
dirs() {
	ls -d /tmp/scamback-test.* 2>/dev/null | sort
}

failed=""
for t in $tests; do
	dirs >"$T/before"
	KEEP=1 SCAMBACK=$VARIANT timeout -k 5 120 "$TOP/regress/$t" \
	    >"$T/out" 2>&1 </dev/null
	rc=$?
	dirs | comm -13 "$T/before" - | grep -v "^$T\$" >"$T/new"
	v=$(xargs -r grep -rh "sandbox violation" <"$T/new" 2>/dev/null |
	    sort | uniq -c)
	xargs -r rm -rf <"$T/new"
	case $rc in
	0)	;;
	77)	echo "skip $t: $(tail -n 1 "$T/out")" ;;
	*)	echo "FAIL $t (exit $rc):"
		tail -n 10 "$T/out" | sed 's/^/	| /'
		failed="$failed $t" ;;
	esac
	if [ -n "$v" ]; then
		echo "VIOLATIONS in $t:"
		echo "$v" | sed 's/^/	| /'
		[ $rc -eq 0 ] || [ $rc -eq 77 ] && failed="$failed $t"
	fi
	[ $rc -eq 0 ] && [ -z "$v" ] && echo "ok $t"
done
[ -z "$failed" ] || fail "under SANDBOX_DEBUG:$failed"
echo "ok: no sandbox violation"
