#!/bin/sh
# Three processes with their titles; as root the children run as the
# unprivileged user, chrooted to its home; SIGTERM ends all three with 0.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-privsep.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
ensure_user
start_daemon

e=$(child_pid "milter engine") || fail "no process titled 'scam-back: milter engine'"
p=$(child_pid prober) || fail "no process titled 'scam-back: prober'"
uid=$(id -u _scamback)
home=$(getent passwd _scamback | cut -d: -f6)
for pid in $e $p; do
	expect_eq "uid of $pid" "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' /proc/$pid/status)" "$uid$uid$uid$uid"
	expect_eq "root of $pid" "$(readlink /proc/$pid/root)" "$home"
	expect_eq "groups of $pid" "$(awk '/^Groups:/ { print $2 }' /proc/$pid/status)" "$(id -g _scamback)"
done
expect_eq "parent title" "$(ps -o args= -p "$DPID")" "scam-back: parent"
expect_eq "parent uid" "$(awk '/^Uid:/ { print $2 }' /proc/$DPID/status)" 0
expect_eq "control socket mode" "$(stat -c %a "$T/ctl.sock")" 600

kill -TERM "$DPID"
wait "$DPID"
rc=$?
expect_eq "exit status after SIGTERM" "$rc" 0
gone_within "$e" 20 || fail "milter engine still running"
gone_within "$p" 20 || fail "prober still running"
echo "ok: three processes, unprivileged and chrooted children, clean stop"
