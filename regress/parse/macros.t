#!/bin/sh
#
# Macros: -D defines and overrides, raw expansion of unquoted values
# holding '/', ':' and '@', unused macros with -nv, bad -D forms.

. "$(dirname "$0")/../lib.sh"

cat >"$T/m.conf" <<'EOC'
sock = "unix:/var/spool/scam/file.sock"
hosts = "host 192.0.2.1 port 2525"
listen on $sock
backend "b" {
	$hosts
}
domain $dom backend "b" subdomains
cache file $cachefile
EOC

# Without -D the file's own values, and an undefined macro is an error.
"$SCAMBACK" -n -f "$T/m.conf" 2>"$T/err" && fail "undefined macro accepted"
grep -q "m.conf:7: macro 'dom' not defined" "$T/err" ||
    fail "undefined macro not reported with its line: $(cat "$T/err")"

"$SCAMBACK" -nv -D dom=example.net -D cachefile=/var/db/x/cache \
    -f "$T/m.conf" >"$T/out" 2>"$T/err" || fail "-D: $(cat "$T/err")"
grep -qx 'listen on "unix:/var/spool/scam/file.sock" mode 0660' "$T/out" ||
    fail "unquoted unix:/path from a macro: $(cat "$T/out")"
grep -qx '	host "192.0.2.1" port 2525' "$T/out" ||
    fail "a macro holding words: $(cat "$T/out")"
grep -qx 'domain "example.net" backend "b" subdomains' "$T/out" ||
    fail "-D dom: $(cat "$T/out")"
grep -qx 'cache file "/var/db/x/cache"' "$T/out" || fail "-D cachefile"

# -D wins over the file's definition.  A value with characters special
# to the grammar ('=') is quoted inside the value: it expands raw.
"$SCAMBACK" -nv -D sock=inet:8900@127.0.0.1 -D dom=example.org \
    -D 'cachefile="/var/db/a=b"' -f "$T/m.conf" >"$T/out" 2>"$T/err" ||
    fail "-D override: $(cat "$T/err")"
grep -qx 'listen on "inet:8900@127.0.0.1"' "$T/out" ||
    fail "-D did not override the file: $(cat "$T/out")"
grep -qx 'cache file "/var/db/a=b"' "$T/out" || fail "-D value with '='"

# An unused -D is worth a warning with -nv.
"$SCAMBACK" -nv -D dom=example.net -D cachefile=/var/db/x -D unused=1 \
    -f "$T/m.conf" >/dev/null 2>"$T/err" || fail "unused -D: $(cat "$T/err")"
grep -q "macro 'unused' not used" "$T/err" || fail "unused macro not reported"

# Bad -D forms are refused before anything is read.
for d in novalue =value; do
	"$SCAMBACK" -n -D "$d" -f "$T/m.conf" >/dev/null 2>"$T/err" &&
	    fail "-D $d accepted"
	grep -q "could not parse macro definition" "$T/err" ||
	    fail "-D $d: $(cat "$T/err")"
done
exit 0
