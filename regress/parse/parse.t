#!/bin/sh
#
# The grammar, file by file:
#   good-NAME.conf	scam-back -nv must print good-NAME.ok, exit 0; its
#			output must parse back to itself (fixed point) and
#			pass -n with "configuration OK"
#   bad-NAME.conf	scam-back -n must exit 1 and print exactly
#			bad-NAME.ok on stderr (file:line: message)
#   NAME.args		extra arguments (-D macros) for NAME.conf
# Every file that fails is named; all of them are tried.

. "$(dirname "$0")/../lib.sh"

cd "$TOP/regress/parse" || fail "no regress/parse"
failed=""
n=0

bad() {
	echo "FAIL: $1: $2" >&2
	failed="$failed $1"
}

args() {
	[ -f "${1%.conf}.args" ] && cat "${1%.conf}.args"
}

for f in good-*.conf; do
	n=$((n + 1))
	ok=${f%.conf}.ok
	[ -f "$ok" ] || { bad "$f" "no $ok"; continue; }
	# shellcheck disable=SC2046
	"$SCAMBACK" -nv $(args "$f") -f "$f" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] || { bad "$f" "-nv exit $rc: $(cat "$T/err")"; continue; }
	diff -u "$ok" "$T/out" >"$T/diff" ||
	    { bad "$f" "-nv differs from $ok"; cat "$T/diff" >&2; continue; }

	# The printed configuration is a configuration, and the same one.
	cp "$T/out" "$T/again.conf"
	"$SCAMBACK" -nv -f "$T/again.conf" >"$T/out2" 2>"$T/err" ||
	    { bad "$f" "output does not parse: $(cat "$T/err")"; continue; }
	diff -u "$T/out" "$T/out2" >"$T/diff" ||
	    { bad "$f" "-nv is not a fixed point"; cat "$T/diff" >&2;
	    continue; }

	# shellcheck disable=SC2046
	"$SCAMBACK" -n $(args "$f") -f "$f" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T/out" ] &&
	    grep -qx "configuration OK" "$T/err" ||
	    bad "$f" "-n: exit $rc, stderr '$(cat "$T/err")'"
done

for f in bad-*.conf; do
	n=$((n + 1))
	ok=${f%.conf}.ok
	[ -f "$ok" ] || { bad "$f" "no $ok"; continue; }
	# shellcheck disable=SC2046
	"$SCAMBACK" -n $(args "$f") -f "$f" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || { bad "$f" "exit $rc, want 1"; continue; }
	[ -s "$T/out" ] && { bad "$f" "printed on stdout"; continue; }
	diff -u "$ok" "$T/err" >"$T/diff" ||
	    { bad "$f" "errors differ from $ok"; cat "$T/diff" >&2; }
done

[ $n -gt 60 ] || bad "parse.t" "only $n files found"
[ -z "$failed" ] || fail "failed:$failed"
echo "$n configurations checked"
