#!/bin/sh
#
# scam-back.conf.5 against the parser: every keyword of the grammar is
# documented, every configuration example of the manual parses (its
# mailertable and transport examples as tables), and mandoc -Tlint finds
# nothing worse than references to manuals not installed here; no
# manual renders with unbalanced quotes.

. "$(dirname "$0")/../lib.sh"

man="$TOP/scam-back/scam-back.conf.5"
[ -f "$man" ] || fail "no $man"

# 1. Keywords: the sorted table of parse.y, each an .Ic in the manual.
sed -n '/keywords\[\] = {/,/};/p' "$TOP/scam-back/parse.y" |
    sed -n 's/.*{ "\([a-z0-9-]*\)",.*/\1/p' >"$T/keywords"
[ "$(wc -l <"$T/keywords")" -gt 40 ] || fail "keyword table not found"
for k in $(cat "$T/keywords"); do
	grep -Eq "^\.(It |Ic |.* Ic )(.* )?$k( |$)" "$man" ||
	    fail "keyword '$k' is not in the manual"
done

# 2. Examples: each .Bd -literal block, by the subsection it is in.
printf 'example.net esmtp:[192.0.2.1]\n' >"$T/mailertable"
awk -v dir="$T" '
	/^\.S[hs] / { sec = $0; next }
	/^\.Bd -literal/ { n++; inblock = 1
		kind = "conf"
		if (sec ~ /mailertable$/) kind = "mailertable"
		else if (sec ~ /transport table$/) kind = "transport"
		else if (sec ~ /MIGRATION|Ss Postfix$|Ss sendmail$/) kind = "skip"
		file = dir "/ex" n "." kind
		printf "" > file
		next }
	/^\.Ed/ { inblock = 0; close(file); next }
	inblock {
		gsub(/\\&/, ""); gsub(/\\e/, "\\")
		print >> file }
' "$man"
n=0
for f in "$T"/ex*.conf; do
	n=$((n + 1))
	sed -i "s|/etc/mail/mailertable|$T/mailertable|" "$f"
	# Access tables in files: an empty file stands for each.
	: >"$T/empty"
	sed -i -E "s|^(table <[^>]*> file )\"[^\"]*\"|\1\"$T/empty\"|" "$f"
	"$SCAMBACK" -n -f "$f" >/dev/null 2>"$T/err" ||
	    fail "example $(basename "$f") does not parse: $(cat "$T/err"):
$(cat "$f")"
done
[ $n -ge 6 ] || fail "only $n configuration examples found"
for f in "$T"/ex*.mailertable "$T"/ex*.transport; do
	[ -f "$f" ] || fail "table example missing"
	printf '%s "%s"\n' "${f##*.}" "$f" >"$T/t.conf"
	"$SCAMBACK" -n -f "$T/t.conf" >/dev/null 2>"$T/err" ||
	    fail "table example $(basename "$f") does not load: $(cat "$T/err")"
	grep -q warning "$T/err" && fail "table example warns: $(cat "$T/err")"
done

# 3. mandoc, when installed.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint "$man" 2>&1 | grep -v 'referenced manual not found' |
	    grep -v 'mandoc.db' >"$T/lint"
	[ -s "$T/lint" ] && fail "mandoc -Tlint: $(cat "$T/lint")"
	# Quotes that render unbalanced: ".Pq Ql a , Ql b" gives
	# (`a, `b'') where ".Po / .Ql a , / .Ql b / .Pc" gives (`a', `b').
	for m in "$man" "$TOP/scam-back/scam-back.8" \
	    "$TOP/scambackctl/scambackctl.8"; do
		MANWIDTH=80 mandoc -Tascii "$m" | sed 's/.\x08//g' |
		    grep -n "\`[^']*\`" >"$T/quotes" &&
		    fail "$(basename "$m"): unbalanced quotes: $(cat "$T/quotes")"
	done
fi
echo "$n configuration examples parse"
