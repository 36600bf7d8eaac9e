#!/bin/sh
# Started by an ordinary user (development, tests, demo): one warning, no
# chroot or change of user, and it works.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-privsep.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to become an ordinary user"
command -v setpriv >/dev/null || skip "no setpriv"
chown nobody "$T"
cat >"$T/scam-back.conf" <<EOC
listen on "unix:$T/milter.sock"
${SB_CACHE_LINE-cache file none}
EOC
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$SCAMBACK" -d -f "$T/scam-back.conf" -s "$T/ctl.sock" >"$T/log" 2>&1 &
DPID=$!
track $DPID
waitsock "$T/milter.sock"
waitfor pgrep -P "$DPID" -f "scam-back: prober" || fail "children did not start: $(cat "$T/log")"
grep -q "not running as root" "$T/log" || fail "no warning about running without root"
for pid in $(pgrep -P "$DPID"); do
	expect_eq "uid of $pid" "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" "$(id -u nobody)"
	expect_eq "root of $pid" "$(readlink /proc/$pid/root)" /
done
kill -TERM "$DPID"
wait "$DPID"
expect_eq "exit status" $? 0
echo "ok: runs without root"
