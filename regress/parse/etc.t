#!/bin/sh
#
# etc/scam-back.conf, the example shipped, passes -n; -nv of it is a fixed
# point; and its commented-out alternatives are valid statements too.

. "$(dirname "$0")/../lib.sh"

ex="$TOP/etc/scam-back.conf"
[ -f "$ex" ] || fail "no $ex"

"$SCAMBACK" -n -f "$ex" >"$T/out" 2>"$T/err" ||
    fail "-n $ex: $(cat "$T/err")"
grep -qx "configuration OK" "$T/err" || fail "-n did not say configuration OK"

"$SCAMBACK" -nv -f "$ex" >"$T/a.conf" 2>"$T/err" || fail "-nv: $(cat "$T/err")"
"$SCAMBACK" -nv -f "$T/a.conf" >"$T/b.conf" 2>"$T/err" ||
    fail "-nv output does not parse: $(cat "$T/err")"
diff -u "$T/a.conf" "$T/b.conf" || fail "-nv of the example is not a fixed point"
grep -q '^backend "mailbox"' "$T/a.conf" || fail "example has no backend"

# The alternatives: "#keyword ..." lines, one at a time in place of the
# statement they replace (files they name may not exist here).
grep -E '^#(hostname|domain|listen) ' "$ex" | sed 's/^#//' >"$T/alts"
[ -s "$T/alts" ] || fail "no commented-out alternatives found"
while IFS= read -r line; do
	case "$line" in
	listen*)	sed '/^listen on/d' "$ex" >"$T/alt.conf" ;;
	*)		cp "$ex" "$T/alt.conf" ;;
	esac
	printf '%s\n' "$line" >>"$T/alt.conf"
	"$SCAMBACK" -n -f "$T/alt.conf" >/dev/null 2>"$T/err" ||
	    fail "alternative '$line': $(cat "$T/err")"
done <"$T/alts"
