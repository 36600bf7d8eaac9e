#!/bin/sh
#
# The three processes run under seccomp with no new privileges, as root
# (the children chrooted) and as an ordinary user: /proc/PID/status says
# "Seccomp: 2" (filter mode) and "NoNewPrivs: 1" for each of them.  Of
# root's capabilities the parent keeps CAP_KILL alone (permitted,
# effective and bounding sets), the children none.  The spawner, which
# starts the probers a reload needs, has no new privileges, no seccomp
# filter (they would inherit it) and CAP_SETUID, CAP_SETGID and
# CAP_SYS_CHROOT only.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v setpriv >/dev/null || skip "no setpriv"
ensure_user

# field pid name: a field of /proc/pid/status
field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

port=$(freeport)
sb_conf "$T/c" 'backend "b" {' "host 127.0.0.1 port $port" '}' \
    'domain "example.net" backend "b"'
for user in "" nobody; do
	[ -n "$user" ] && chown nobody "$T"
	sb_start "$SCAMBACK" "$T/c" $user
	waitsock "$T/ctl.sock"
	# The parent pledges last, once its children are started.
	waitfor sh -c "[ \"\$(awk '\$1 == \"Seccomp:\" { print \$2 }' /proc/$DPID/status)\" = 2 ]" ||
	    fail "parent never reached seccomp: $(cat "$T/log")"
	# The spawner starts with the others, just before the parent pledges.
	waitfor sh -c "[ \$(cat /proc/$DPID/task/*/children | wc -w) -eq 3 ]" ||
	    fail "no spawner: $(cat "$T/log")"
	kids=$(sb_children)
	expect_eq "children${user:+ (as $user)}" "$(echo $kids | wc -w)" 3
	for pid in $DPID $kids; do
		title=$(tr -d '\0' <"/proc/$pid/cmdline")
		what="$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-40 | sed 's/ *$//')${user:+ as $user}"
		# The spawner has no seccomp filter: its children, the
		# probers a reload starts, would inherit it.
		seccomp=2
		[ "$title" = "scam-back: spawner" ] && seccomp=0
		expect_eq "$what: Seccomp" "$(field "$pid" Seccomp)" $seccomp
		expect_eq "$what: NoNewPrivs" "$(field "$pid" NoNewPrivs)" 1
		# Root's parent keeps CAP_KILL (1 << 5) to stop its
		# children, in every set it could use; nobody has none.
		# Root's spawner keeps what a prober's start needs:
		# CAP_SETGID (6), CAP_SETUID (7), CAP_SYS_CHROOT (18).
		caps=0000000000000000
		[ "$pid" = "$DPID" ] && [ -z "$user" ] && caps=0000000000000020
		[ "$title" = "scam-back: spawner" ] && [ -z "$user" ] &&
		    caps=00000000000400c0
		for f in CapPrm CapEff CapInh CapAmb; do
			want=$caps
			[ "$f" = CapInh ] || [ "$f" = CapAmb ] &&
			    want=0000000000000000
			expect_eq "$what: $f" "$(field "$pid" $f)" "$want"
		done
		{ [ "$pid" = "$DPID" ] || [ "$title" = "scam-back: spawner" ]; } &&
		    [ -z "$user" ] &&
		    expect_eq "$what: CapBnd" "$(field "$pid" CapBnd)" "$caps"
		echo "ok: $what: Seccomp 2, NoNewPrivs 1, capabilities $caps"
	done
	kill -TERM "$DPID"
	sb_wait_exit 10
	expect_eq "exit status${user:+ (as $user)}" "$RC" 0
done
exit 0
