#!/bin/sh
#
# scam-back -m: legacy-NAME.legacy (a scam-backscatter 1.x scam.conf) with
# the old command line in legacy-NAME.args must print legacy-NAME.ok on
# stdout and legacy-NAME.err on stderr; the exit status is 1 exactly when
# a line was not converted (a stderr line that is not a "note:").  The
# output must pass scam-back -n.

. "$(dirname "$0")/../lib.sh"

cd "$TOP/regress/parse" || fail "no regress/parse"
failed=""
n=0

bad() {
	echo "FAIL: $1: $2" >&2
	failed="$failed $1"
}

for f in legacy-*.legacy; do
	n=$((n + 1))
	b=${f%.legacy}
	[ -f "$b.ok" ] && [ -f "$b.err" ] || { bad "$f" "no $b.ok or $b.err"; continue; }
	if [ -f "$b.args" ]; then
		# shellcheck disable=SC2046
		"$SCAMBACK" -m "$f" -- $(cat "$b.args") >"$T/out" 2>"$T/err"
	else
		"$SCAMBACK" -m "$f" >"$T/out" 2>"$T/err"
	fi
	rc=$?
	want=0
	grep -vq ': note: ' "$b.err" && want=1
	[ $rc -eq $want ] || bad "$f" "exit $rc, want $want"
	diff -u "$b.ok" "$T/out" >"$T/diff" ||
	    { bad "$f" "output differs from $b.ok"; cat "$T/diff" >&2; }
	diff -u "$b.err" "$T/err" >"$T/diff" ||
	    { bad "$f" "stderr differs from $b.err"; cat "$T/diff" >&2; }
	cp "$T/out" "$T/$b.conf"
	"$SCAMBACK" -n -f "$T/$b.conf" >/dev/null 2>"$T/err" ||
	    bad "$f" "output does not pass -n: $(cat "$T/err")"
done

# Unreadable input is an error of its own.
"$SCAMBACK" -m "$T/nonexistent" >/dev/null 2>"$T/err" &&
    bad "nonexistent" "-m of a missing file succeeded"
grep -q "nonexistent" "$T/err" || bad "nonexistent" "error does not name the file"

[ $n -ge 5 ] || bad "legacy.t" "only $n legacy files found"
[ -z "$failed" ] || fail "failed:$failed"
echo "$n legacy files converted"
