#!/bin/sh
# A full disk during a save keeps the previous cache file intact and
# leaves no temporary file behind; the failure is logged and reported
# to scambackctl.  The disk is a 2 MB tmpfs (root only).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-control.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
ensure_user

mkdir "$T/small"
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$T/small" 2>/dev/null ||
    skip "cannot mount a tmpfs"
# Stop the daemon before the file system goes, then the usual cleanup.
trap 'for p in $_pids; do kill $p 2>/dev/null; done; sleep 0.5;
    umount -l "$T/small"; _cleanup' EXIT

CACHEFILE=$T/small/cache
write_conf "cache save interval 0"
now=$(date +%s)
awk -v e=$((now + 3600)) 'BEGIN {
	print "# scam-back cache v1"
	for (i = 0; i < 15000; i++)
		printf "user%05d@example.net valid %d\n", i, e
}' >"$CACHEFILE"
sum=$(sha256sum <"$CACHEFILE")
start_daemon
grep -q "cache file: 15000 entries loaded" "$T/log" || fail "load: $(tail -n 3 "$T/log")"

# Fill what is left of the disk.
dd if=/dev/zero of="$T/small/filler" bs=4096 >/dev/null 2>&1
[ "$(df -P "$T/small" | awk 'NR == 2 { print $4 }')" -eq 0 ] ||
    fail "disk not full: $(df -P "$T/small")"

out=$(ctl save cache 2>&1)
expect_eq "save on a full disk: exit" "$?" 1
expect_match "save on a full disk" "$out" \
    "^scambackctl: cache save to $CACHEFILE failed: .*No space left on device; the previous file is kept"
grep -q "cache save to $CACHEFILE failed" "$T/log" || fail "not logged"
expect_eq "old file intact" "$(sha256sum <"$CACHEFILE")" "$sum"
expect_eq "no temporary file" "$(ls "$T/small" | sort | tr '\n' ' ')" "cache filler "
o=$(ctl -j save cache 2>/dev/null)
expect_eq "json result" "$(echo "$o" | jq .result.ok)" false

# The daemon goes on serving, and SIGTERM's save fails the same way.
ctl show stats >/dev/null || fail "daemon gone after a failed save"
stop_daemon
expect_eq "old file intact after stop" "$(sha256sum <"$CACHEFILE")" "$sum"
expect_eq "no temporary file after stop" "$(ls "$T/small" | sort | tr '\n' ' ')" "cache filler "

# With room again, the same cache saves and loads.
rm "$T/small/filler"
: >"$T/log"
start_daemon
grep -q "cache file: 15000 entries loaded" "$T/log" || fail "reload: $(tail -n 3 "$T/log")"
out=$(ctl save cache) || fail "save with room: $out"
expect_match "save with room" "$out" "^cache saved: 15000 entries"
stop_daemon
expect_eq "entries" "$(cache_lines "$CACHEFILE")" 15000
exit 0
