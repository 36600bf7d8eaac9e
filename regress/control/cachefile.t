#!/bin/sh
# Cache files the daemon did not write: a scam-backscatter BackList, a
# file of garbage, binary junk, a FIFO and a directory in its place.  The
# daemon starts every time, takes what is good and says what it skipped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
command -v jq >/dev/null || skip "jq not installed"
ensure_user
write_conf "cache valid expire 2h" "cache invalid expire 10m"

# The legacy BackList: "0|1 address", 1 = invalid, fresh lifetimes.
cat >"$CACHE" <<'EOC'
0 alice@example.net
1 bob@EXAMPLE.net
0 carol@example.org
2 dave@example.org
EOC
start_daemon
grep -q "cache file: 3 entries loaded (3 in BackList format), 0 expired dropped, 1 malformed lines skipped" "$T/log" ||
    fail "legacy load: $(grep 'cache file' "$T/log")"
o=$(ctl -j show cache)
now=$(date +%s)
expect_eq "legacy entries" "$(echo "$o" | jq -r '[.cache[] | "\(.address)=\(.state)"] | sort | join(" ")')" \
    "alice@example.net=valid bob@example.net=invalid carol@example.org=valid"
in=$(echo "$o" | jq '.cache[] | select(.address == "alice@example.net") | .expires')
[ "$in" -gt $((now + 7100)) ] && [ "$in" -le $((now + 7200)) ] ||
    fail "valid lifetime: expires $in, now $now"
in=$(echo "$o" | jq '.cache[] | select(.address == "bob@example.net") | .expires')
[ "$in" -gt $((now + 500)) ] && [ "$in" -le $((now + 600)) ] ||
    fail "invalid lifetime: expires $in, now $now"
stop_daemon
expect_eq "saved as v1" "$(head -n 1 "$CACHE")" "# scam-back cache v1"
expect_eq "saved entries" "$(cache_lines "$CACHE")" 3

# A mix of good, expired, too long and broken lines.
: >"$T/log"
now=$(date +%s)
long=$(printf '%0300d' 0)
{
	echo "# scam-back cache v1"
	echo "good1@example.net valid $((now + 3600))"
	echo "good2@example.net invalid $((now + 300))"
	echo "expired@example.net valid $((now - 10))"
	echo "far@example.net valid $((now + 999999))"
	echo "$long@example.net valid $((now + 3600))"
	echo "nodomain valid $((now + 3600))"
	echo "x@example.net valid soon"
	echo "x@example.net sometimes $((now + 3600))"
	printf 'x@example.net valid %s\r\n' $((now + 3600))
	head -c 2000 /dev/urandom | tr -d '\n'
	echo
	echo "last@example.net valid $((now + 3600))"
} >"$CACHE"
start_daemon
grep -q "cache file: 5 entries loaded, 1 expired dropped, 5 malformed lines skipped" "$T/log" ||
    fail "mixed load: $(grep 'cache file' "$T/log")"
o=$(ctl -j show cache)
expect_eq "mixed entries" "$(echo "$o" | jq -r '[.cache[].address] | sort | join(" ")')" \
    "far@example.net good1@example.net good2@example.net last@example.net x@example.net"
in=$(echo "$o" | jq '.cache[] | select(.address == "far@example.net") | .expires')
[ "$in" -le $((now + 7200 + 5)) ] || fail "expiry not cut to the lifetime: $in"
stop_daemon

# Pure binary junk, an empty file, a huge line: an empty cache, no crash.
for junk in urandom empty hugeline nul; do
	: >"$T/log"
	case $junk in
	urandom)	head -c 1000000 /dev/urandom >"$CACHE" ;;
	empty)		: >"$CACHE" ;;
	hugeline)	head -c 3000000 /dev/zero | tr '\0' 'a' >"$CACHE" ;;
	nul)		head -c 100000 /dev/zero >"$CACHE" ;;
	esac
	start_daemon
	grep -q "cache file: [0-9]* entries loaded" "$T/log" ||
	    fail "$junk: $(tail -n 5 "$T/log")"
	ctl show stats >/dev/null || fail "$junk: daemon not answering"
	stop_daemon
done

# Not a regular file: ignored with a warning, never read or waited on.
rm -f "$CACHE"
mkfifo "$CACHE"
: >"$T/log"
start_daemon
grep -q "is not a regular file" "$T/log" || fail "fifo: $(tail -n 5 "$T/log")"
expect_eq "fifo: empty cache" "$(ctl -j show cache | jq '.cache | length')" 0
out=$(ctl save cache 2>&1)
expect_match "fifo: save replaces it" "$out" "^cache saved: 0 entries"
stop_daemon
[ -f "$CACHE" ] || fail "the FIFO was not replaced by a file"

# A missing file is a first start.
rm -f "$CACHE"
: >"$T/log"
start_daemon
grep -q "does not exist yet" "$T/log" || fail "missing: $(tail -n 5 "$T/log")"
stop_daemon
exit 0
