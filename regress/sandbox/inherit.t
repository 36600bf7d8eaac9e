#!/bin/sh
#
# Descriptors scam-back inherits stay behind: a descriptor open on a
# secret file when the daemon starts reaches neither the parent once it
# runs nor the chrooted children, which would otherwise read it past
# their chroot and Landlock rules.  Each process holds standard input,
# output and error, its own sockets and nothing it was given by its
# starter.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

ensure_user
echo 'root:$6$secret' >"$T/shadow"
chmod 600 "$T/shadow"
sb_conf "$T/c"
rm -f "$T/milter.sock" "$T/ctl.sock"
# Descriptors 5, 7 and 9 open on the "shadow" file, as a careless
# starter would leave them (no close-on-exec).
"$SCAMBACK" -d -f "$T/c" -s "$T/ctl.sock" >"$T/log" 2>&1 \
    5<"$T/shadow" 7<"$T/shadow" 9<>"$T/shadow" &
DPID=$!
track $DPID
waitfor "$SCAMBACKCTL" -s "$T/ctl.sock" show stats ||
    fail "no start: $(cat "$T/log")"

kids=$(sb_children)
# The milter engine, the prober and the spawner (a reload's prober).
[ "$(echo $kids | wc -w)" -eq 3 ] || fail "children: '$kids'"
for p in $DPID $kids; do
	title=$(tr -d '\0' <"/proc/$p/cmdline")
	n=0
	for f in /proc/$p/fd/*; do
		t=$(readlink "$f") || continue
		case $t in
		"$T/shadow")	fail "$title holds ${f##*/} on the secret file" ;;
		esac
		n=$((n + 1))
	done
	echo "ok: $title: $n descriptors, none on the secret file"
done
kill -TERM $DPID
sb_wait_exit 10
expect_eq "exit status" "$RC" 0
