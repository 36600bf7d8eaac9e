#!/bin/sh
#
# Runs the regress suite: every executable regress/*/*.t script and every
# built regress/unit/test_* program, each on its own with a time limit.
# With arguments, runs only those tests.  Ends with "N passed, N failed".

cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
export TOP
export SCAMBACK="${SCAMBACK:-$TOP/scam-back/scam-back}"
export SCAMBACKCTL="${SCAMBACKCTL:-$TOP/scambackctl/scambackctl}"
export TOOLS="${TOOLS:-$TOP/regress/tools}"
: "${REGRESS_TIMEOUT:=240}"

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(ls regress/*/*.t 2>/dev/null; \
	    for f in regress/unit/test_*; do
		case "$f" in *.c|*.o|*.dSYM) continue ;; esac
		[ -x "$f" ] && echo "$f"
	    done)
fi

passed=0 failed=0 skipped=0 failures=""
logdir=$(mktemp -d /tmp/scamback-regress.XXXXXX)
for t in $tests; do
	name=$(echo "$t" | sed 's,^regress/,,')
	log="$logdir/$(echo "$name" | tr / _).log"
	start=$(date +%s)
	timeout -k 5 "$REGRESS_TIMEOUT" "./$t" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)	passed=$((passed + 1)); echo "ok   $name (${secs}s)" ;;
	77)	skipped=$((skipped + 1)); echo "skip $name: $(tail -n 1 "$log")" ;;
	*)	failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name (exit $rc, ${secs}s)"
		sed 's/^/	| /' "$log" | tail -n 40 ;;
	esac
	# A passed test that counts no faults or hostile inputs itself may
	# have its figures in regress/fault/covered.
	if [ $rc -eq 0 ] &&
	    ! grep -Eq '^reliability: .*(faults|hostile)=' "$log"; then
		awk -v t="$name" '$1 == t { sub(/#.*/, ""); $1 = "reliability:";
		    print }' regress/fault/covered >>"$log" 2>/dev/null
	fi
done

# Tests may print "reliability: key=value" lines; add them up for the summary.
if grep -h '^reliability: ' "$logdir"/*.log >/dev/null 2>&1; then
	grep -h '^reliability: ' "$logdir"/*.log | sed 's/^reliability: //' |
	    tr ' ' '\n' | awk -F= 'NF == 2 { s[$1] += $2 }
	    END { printf "reliability: faults=%d hostile=%d lost=%d",
		s["faults"], s["hostile"], s["lost"]
		for (k in s)
			if (k != "faults" && k != "hostile" && k != "lost")
				printf " %s=%d", k, s[k]
		printf "\n" }'
fi
[ -n "$failures" ] && echo "failed:$failures"
rm -rf "$logdir"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
