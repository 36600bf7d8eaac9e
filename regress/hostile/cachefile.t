#!/bin/sh
#
# Cache files cut short, with duplicate entries, with a huge line or
# binary junk between good lines: the daemon starts every time, loads
# every complete good line and nothing else, and says what it skipped.
# (Legacy, junk-only, empty, FIFO and missing files:
# regress/control/cachefile.t; the loader alone: regress/fuzz/
# fuzz_cachefile.)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../control/lib-control.sh"
. "$(dirname "$0")/../fault/lib-fault.sh"
command -v jq >/dev/null || skip "jq not installed"
ensure_user
write_conf "cache valid expire 1d" "cache invalid expire 1d"
now=$(date +%s)

# good n: n well-formed lines (the header first), one address each
good() {
	awk -v n="$1" -v e=$((now + 3600)) -v p="${2:-g}" 'BEGIN {
		print "# scam-back cache v1"
		for (i = 0; i < n; i++)
			printf "%s%05d@example.net %s %d\n", p, i,
			    i % 2 ? "valid" : "invalid", e + i
	}'
}

# load want: start on $CACHE, which holds want loadable entries; the
# engine must hold exactly those.  Counts the file as one hostile input.
load() {
	: >"$T/log"
	start_daemon
	hostile 1
	grep -q "cache file: [0-9]* entries loaded" "$T/log" ||
	    fail "$what: $(tail -n 5 "$T/log")"
	got=$(ctl -j show stats | jq .stats.cache_entries)
	if [ "$got" -ne "$1" ]; then
		[ "$got" -lt "$1" ] && lost $(($1 - got))
		fail "$what: $got entries, want $1: $(grep 'cache file' "$T/log")"
	fi
	stop_daemon
}

# 1. Cut short at random places, in the middle of a line: the complete
# lines before the cut load, the cut one never does (a shorter expiry is
# in the past, a shorter address lacks its state).
good 2000 >"$T/full"
size=$(wc -c <"$T/full")
for k in 1 2 3 4 5; do
	cut=$(shuf -i 30-$((size - 2)) -n 1)
	# Not just before a newline: that line would be whole.
	[ -z "$(tail -c +$((cut + 1)) "$T/full" | head -c 1 | tr -d '\n')" ] &&
	    cut=$((cut - 1))
	head -c "$cut" "$T/full" >"$CACHE"
	# A cut right after a newline: make it cut the next line.
	[ -z "$(tail -c 1 "$CACHE" | tr -d '\n')" ] && printf 'g' >>"$CACHE"
	what="cut at $cut of $size"
	# Complete lines, less the header.
	load $(($(tr -cd '\n' <"$CACHE" | wc -c) - 1))
done
# Cut in the header itself.
head -c 10 "$T/full" >"$CACHE"
what="cut in the header"
load 0

# 2. Every address twice, with the other state and a later expiry: one
# entry each; which one wins is the later line.
{
	good 1000 d
	good 1000 d | tail -n +2 | awk '{ $2 = $2 == "valid" ? "invalid" : "valid";
	    $3 = $3 + 60; print }'
	# And with the domain in capitals: the same cache key.
	good 1000 d | tail -n +2 | sed 's/@example.net/@EXAMPLE.NET/'
} >"$CACHE"
what="duplicates"
load 1000
start_daemon
o=$(ctl -j show cache d00001@example.net)
expect_eq "the last line wins" "$(echo "$o" | jq -r '.cache[0].state')" valid
stop_daemon
expect_eq "saved once each" "$(cache_lines "$CACHE")" 1000

# 3. A 3 MB line, binary junk, a NUL inside a line, CRs and blanks,
# between good lines: the good lines after them load too.
{
	good 500 a
	head -c 3000000 /dev/zero | tr '\0' 'x'
	echo
	good 500 b | tail -n +2
	head -c 200000 /dev/urandom | tr -d '\n' | tr -d '@'
	echo
	good 500 c | tail -n +2
	printf 'nul\000inside@example.net valid %d\n' $((now + 3600))
	printf 'cr@example.net valid %d\r\n' $((now + 3600))
	printf '  \tblank@example.net \t valid   %d  \n' $((now + 3600))
	printf 'toomany@example.net valid %d extra\n' $((now + 3600))
	printf 'neg@example.net valid -%d\n' $((now + 3600))
	printf 'huge@example.net valid 99999999999999999999999\n'
	printf 'zero@example.net valid 0\n'
	printf 'nolocal@ valid %d\n' $((now + 3600))
	printf 'last@example.net invalid %d' $((now + 3600))
} >"$CACHE"
what="junk between good lines"
load $((1500 + 3))
start_daemon
for a in a00499 b00000 b00499 c00000 c00499; do
	expect_eq "$a kept" "$(ctl -j show cache $a@example.net | jq '.cache | length')" 1
done
for a in cr blank last; do
	expect_eq "$a kept" "$(ctl -j show cache $a@example.net | jq '.cache | length')" 1
done
stop_daemon
exit 0
