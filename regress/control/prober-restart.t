#!/bin/sh
#
# A reload that moves a backend to a port the prober's sandbox did not
# allow at its start restarts the prober (SPEC section 3): the reply and
# one log line say so and why, MTA sessions across the reload all get the
# backend's verdicts (none tempfails, none hangs), later verdicts come
# from the new port, the old prober is gone and reaped, show stats goes
# on counting, and the new prober is a child like the first: its death
# stops the daemon.  Runs the daemon as root (-d), sandboxed.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"

# Both backends know the same addresses, not nobody@: a verdict is a
# probe's, and an unknown one would be 451 (unreachable tempfail).  The
# old one answers slowly, so that probes are in flight at the reload.
for u in first later a b c; do
	for i in '' 0 1 2 3 4 5 6 7 8 9; do
		echo "$u$i@example.net"
	done
done >"$T/valid"
start_backend -d 400 -u "$T/valid"
oldport=$BACKEND_PORT
oldlog=$BACKEND_LOG
start_backend -u "$T/valid"
newport=$BACKEND_PORT
newlog=$BACKEND_LOG

# body port: the configuration, backend "b" on that port
body() {
	cat <<-EOF2
	unreachable tempfail
	timeout reply 5
	backend "b" {
		host 127.0.0.1 port $1
		catchall ignore
	}
	domain "example.net" backend "b"
	EOF2
}
body "$oldport" >"$T/body"
start_scamback <"$T/body"

# prober: the pid of the parent's child titled "scam-back: prober"
prober() {
	for _p in $(cat /proc/"$SB_PID"/task/*/children 2>/dev/null); do
		[ "$(tr -d '\0' <"/proc/$_p/cmdline" 2>/dev/null)" = \
		    "scam-back: prober" ] && echo "$_p" && return 0
	done
	return 1
}

waitfor prober >/dev/null || fail "no prober: $(tail -5 "$SB_LOG")"
old=$(prober)
olduid=$(awk '/^Uid:/ { print $2 }' /proc/$old/status)
oldroot=$(readlink /proc/$old/root)
out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
    'mail <x@remote.test>' 'rcpt <first@example.net>')
expect_match "before" "$out" 'rcpt <first@example.net>: continue'
expect_eq "probe on the old port" "$(backend_count '^rcpt [0-9]+ <first@' "$oldlog")" 1
probes=$(sbstat probes)
lookups=$(sbstat lookups)

# 1. Ten sessions, each with probes in flight at the reload and one
# after it; the reload comes while the slow backend holds the first.
drv -n 10 -s "$MILTER" 'connect mx{#}.remote.test 203.0.113.{#}' \
    'mail <x@remote.test>' 'rcpt <a{#}@example.net>' \
    'rcpt <b{#}@example.net>' 'sleep 1500' 'rcpt <c{#}@example.net>' \
    'rcpt <nobody@example.net>' >"$T/sessions" 2>&1 &
sessions=$!
track $sessions
waitfor sh -c "grep -q '^rcpt [0-9]* <a' '$oldlog'" ||
    fail "no probe reached the old backend"
body "$newport" | sed "1i listen on \"unix:$T/milter.sock\" mode 0666\ncache file none" >"$T/sb.conf"
reply=$(ctl reload) || fail "reload: $reply"
expect_eq "reply" "$reply" \
    "configuration reloaded; the prober was restarted for port $newport"
expect_eq "log line" "$(log_count "^parent: restarting the prober for port $newport: pid [0-9]+ replaces $old\$")" 1
reap $sessions 30
[ "$REAPED" -eq 0 ] || fail "milterdrv exited $REAPED: $(cat "$T/sessions")"
for i in 0 1 2 3 4 5 6 7 8 9; do
	for u in a b c; do
		expect_match "session $i: $u" "$(cat "$T/sessions")" \
		    "^$i: rcpt <$u$i@example.net>: continue"
	done
done
expect_eq "nobody refused in every session" \
    "$(grep -c '^[0-9]: rcpt <nobody@example.net>: reject 550 5.1.1' "$T/sessions")" 10
! grep -E ' 4[0-9][0-9] |tempfail|timed out' "$T/sessions" ||
    fail "a session did not get its verdict: $(cat "$T/sessions")"

# 2. Verdicts come from the new port; the old one hears nothing new.
: >"$oldlog"
out=$(drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
    'mail <x@remote.test>' 'rcpt <later@example.net>' \
    'rcpt <nobody2@example.net>')
expect_match "after: valid" "$out" 'rcpt <later@example.net>: continue'
expect_match "after: invalid" "$out" 'rcpt <nobody2@example.net>: reject 550 5.1.1'
expect_eq "probe on the new port" "$(backend_count '^rcpt [0-9]+ <later@' "$newlog")" 1
expect_eq "none on the old" "$(backend_count '^rcpt ' "$oldlog")" 0
backends=$(ctl show backends)
expect_match "show backends" "$backends" "host 127\.0\.0\.1 port $newport: up"
# The new prober's figures are its own, from its start: its probes are
# those the new backend saw.
expect_match "figures from the restart" "$backends" \
    "probes $(backend_count '^rcpt ' "$newlog"), "

# 3. The old prober is gone and reaped (no zombie); the new one is the
# parent's child; the engine is the same.
waitfor sh -c "[ ! -e /proc/$old ]" ||
    fail "old prober $old still there: $(cut -d' ' -f3 /proc/$old/stat 2>/dev/null)"
waitfor prober >/dev/null || fail "no new prober"
new=$(prober)
[ "$new" != "$old" ] || fail "the prober was not restarted"
expect_eq "new prober's state" "$(cut -d' ' -f3 /proc/$new/stat | tr -d RS)" ""
# As confined as the first: its user, its chroot, seccomp, no capability.
expect_eq "new prober's uid" "$(awk '/^Uid:/ { print $2 }' /proc/$new/status)" "$olduid"
expect_eq "new prober's root" "$(readlink /proc/$new/root)" "$oldroot"
expect_eq "new prober's seccomp" "$(awk '$1 == "Seccomp:" { print $2 }' /proc/$new/status)" 2
expect_eq "new prober's capabilities" "$(awk '$1 == "CapEff:" { print $2 }' /proc/$new/status)" 0000000000000000
expect_eq "no death logged" "$(log_count 'stopping|died|terminated')" 0

# 4. show stats goes on counting; probes: one per answer taken.
expect_eq "lookups" "$(sbstat lookups)" $((lookups + 42))
expect_le "probes" $((probes + 32)) "$(sbstat probes)"
expect_eq "no wait timed out" "$(sbstat waits_timed_out)" 0
expect_eq "verdicts unknown" "$(sbstat verdicts.unknown)" 0

# 5. A reload that needs nothing new restarts nothing.
reply=$(ctl reload) || fail "reload: $reply"
expect_eq "second reply" "$reply" "configuration reloaded"
expect_eq "same prober" "$(prober)" "$new"

# 6. Without the spawner (killed here), the daemon goes on; a reload
# that needs a restart says it could not, and applies the rest.
spawner=""
for _p in $(cat /proc/"$SB_PID"/task/*/children); do
	[ "$(tr -d '\0' <"/proc/$_p/cmdline")" = "scam-back: spawner" ] &&
	    spawner=$_p
done
[ -n "$spawner" ] || fail "no spawner among the children"
kill -KILL "$spawner"
waitfor sh -c "[ ! -e /proc/$spawner ]" || fail "spawner $spawner not reaped"
waitfor sh -c "grep -q 'the spawner (pid $spawner) has gone' '$SB_LOG'" ||
    fail "the spawner's end not logged: $(tail -3 "$SB_LOG")"
third=$(freeport)
body "$third" | sed "1i listen on \"unix:$T/milter.sock\" mode 0666\ncache file none" >"$T/sb.conf"
reply=$(ctl reload) || fail "reload: $reply"
expect_eq "reply without spawner" "$reply" \
    "configuration reloaded; the prober could not be restarted for port $third: restart scam-back"
expect_eq "same prober still" "$(prober)" "$new"
kill -0 "$SB_PID" || fail "the daemon stopped"

# 7. The new prober's death is a death: the daemon stops, exit 1, and
# names it; nothing is left behind.
kill -KILL "$new"
reap "$SB_PID" 10
expect_eq "exit status after the prober's death" "$REAPED" 1
expect_eq "death named" "$(log_count "^parent: prober \\(pid $new\\) terminated by signal 9")" 1
waitfor sh -c "! pgrep -f 'scam-back: (spawner|milter engine|prober)' -s 0 >/dev/null" || true
for p in $new $old; do
	[ ! -e /proc/$p ] || [ "$(cut -d' ' -f3 /proc/$p/stat)" != Z ] ||
	    fail "process $p left a zombie"
done

# 8. Daemonized (no -d): the new prober starts without the terminal and
# logs through the parent as the first did.
mkdir "$T/nd"
body "$newport" | sed "1i listen on \"unix:$T/nd/milter.sock\" mode 0666\ncache file none" >"$T/nd/sb.conf"
(cd "$T/nd" && exec "$SCAMBACK" -f "$T/nd/sb.conf" -s "$T/nd/ctl.sock") \
    >"$T/nd/out" 2>&1 || fail "no start: $(cat "$T/nd/out")"
nd=""
for p in $(pgrep -xf "scam-back: parent"); do
	[ "$(readlink "/proc/$p/cwd")" = "$T/nd" ] && nd=$p
done
[ -n "$nd" ] || fail "no daemonized parent"
track "$nd"
body "$oldport" | sed "1i listen on \"unix:$T/nd/milter.sock\" mode 0666\ncache file none" >"$T/nd/sb.conf"
reply=$("$SCAMBACKCTL" -s "$T/nd/ctl.sock" reload) || fail "reload: $reply"
expect_eq "daemonized reply" "$reply" \
    "configuration reloaded; the prober was restarted for port $oldport"
: >"$oldlog"
out=$(drv -s "unix:$T/nd/milter.sock" 'connect mx.remote.test 203.0.113.5' \
    'mail <x@remote.test>' 'rcpt <later3@example.net>')
expect_match "daemonized: verdict" "$out" 'rcpt <later3@example.net>: continue'
expect_eq "daemonized: from the new port" "$(backend_count '^rcpt [0-9]+ <later3@' "$oldlog")" 1
[ ! -s "$T/nd/out" ] || fail "output after the start: $(cat "$T/nd/out")"
kill -TERM "$nd"
waitfor sh -c "[ ! -e /proc/$nd ] || [ \"\$(cut -d' ' -f3 /proc/$nd/stat)\" = Z ]" ||
    fail "daemonized scam-back did not stop"
exit 0
