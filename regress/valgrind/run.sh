#!/bin/sh
#
# make valgrind: integration tests with every scam-back process under
# valgrind (memcheck), the daemon built without its sandbox
# (regress/valgrind/scam-back, see nosandbox.c).  Prints each test's
# result, then every valgrind error and every leak whose stack reaches
# scam-back's own code, and exits non-zero if there is any.  Not part of
# make test: it takes a few minutes.  Names of tests as arguments run
# only those.

cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
export TOP
export SCAMBACKCTL="$TOP/scambackctl/scambackctl"
export TOOLS="$TOP/regress/tools"
command -v valgrind >/dev/null 2>&1 || {
	echo "valgrind is not installed: apt-get install valgrind" >&2
	exit 1
}
[ -x regress/valgrind/scam-back ] || {
	echo "regress/valgrind/scam-back is not built: make valgrind" >&2
	exit 1
}

# Tests that find the children by their process titles do not work here:
# under valgrind a process's command line is valgrind's.
tests=${*:-"milter/verdicts.t milter/coalesce.t milter/reload.t
    milter/discard.t milter/unreachable.t control/commands.t
    control/restart.t control/cachefile.t fault/reload_backend.t
    fault/greylist.t fault/tls.t"}

VG=$(mktemp -d /tmp/scamback-valgrind.XXXXXX)
chmod 755 "$VG"
# The daemon re-executes itself for its children (argv[0], which compat/
# makes the realpath of /proc/self/exe, which valgrind reports as the
# program): with
# --trace-children they run under valgrind too, each with a log.
cat >"$VG/scam-back" <<EOW
#!/bin/sh
exec valgrind -q --vgdb=no --trace-children=yes --child-silent-after-fork=yes \\
    --leak-check=full --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --num-callers=30 \\
    --log-file="$VG/vg.%p" "$TOP/regress/valgrind/scam-back" "\$@"
EOW
chmod 755 "$VG/scam-back"
export SCAMBACK="$VG/scam-back"

passed=0 failed=0
for t in $tests; do
	start=$(date +%s)
	# Everything is 20 to 50 times slower: tests may miss their bounds.
	timeout -k 5 600 "./regress/$t" >"$VG/$(echo "$t" | tr / _).log" \
	    2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)	passed=$((passed + 1)); echo "ok   $t (${secs}s)" ;;
	77)	echo "skip $t" ;;
	*)	failed=$((failed + 1))
		echo "FAIL $t (exit $rc, ${secs}s; slowness under valgrind?)"
		tail -n 3 "$VG/$(echo "$t" | tr / _).log" | sed 's/^/	| /' ;;
	esac
done

# Error records of every process: "==PID== Invalid read..." (or any
# other kind of error, or a leak) up to the blank "==PID== " line.  Leaks count only when scam-back's code is on
# the stack (libmilter keeps its thread data until exit).
awk '
	/^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and dest|Argument|Process terminating|[0-9,]+ (\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes in [0-9,]+ blocks are)/ && !inrec {
		inrec = 1; rec = $0 "\n"; ours = 0
		leak = ($0 ~ /are definitely lost|are indirectly lost/)
		next
	}
	inrec && /^==[0-9]+== *$/ {
		inrec = 0
		if (rec ~ /ERROR SUMMARY|HEAP SUMMARY|LEAK SUMMARY/)
			next
		if (!leak || ours) {
			n++
			printf "%s\n", rec
		}
		next
	}
	inrec {
		rec = rec $0 "\n"
		# Frames with a source line are ours: the libraries have none.
		if ($0 ~ /\([a-z_0-9-]+\.[cy]:[0-9]+\)/ && $0 !~ /vg_replace/)
			ours = 1
	}
	END { print n + 0 > "/dev/stderr" }' "$VG"/vg.* 2>"$VG/count" >"$VG/errors"
errors=$(cat "$VG/count")
logs=$(ls "$VG"/vg.* 2>/dev/null | wc -l)
if [ "$errors" -gt 0 ]; then
	cat "$VG/errors"
fi
echo "valgrind: $logs processes, $errors errors or leaks in scam-back's code;" \
    "$passed tests passed, $failed failed (logs in $VG)"
[ "$errors" -eq 0 ] || exit 1
[ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$VG"
exit 0
