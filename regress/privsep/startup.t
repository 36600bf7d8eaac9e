#!/bin/sh
#
# Start-up as a postmaster sees it, without -d (issue 12 parts 2, 4 and
# 13): the command returns once the daemon serves, 0, quiet; a start
# that fails returns non-zero with the reason on standard error and
# leaves nothing behind.  A second daemon never takes the first one's
# milter or control socket (a stale socket is replaced, see
# milter/listen.t); a clean stop removes both sockets.  A missing cache
# directory is named.  Owner and mode of a socket are set through a
# directory descriptor, in a directory only we can write (strace).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ss >/dev/null 2>&1 || skip "no ss (iproute2)"
ensure_user
start_backend -U bob@example.net

# conf name listen-spec [lines]: $T/name.conf
conf() {
	_n=$1 _l=$2
	shift 2
	{
		echo "listen on \"$_l\" mode 0666"
		echo 'cache file none'
		echo "backend \"b\" { host 127.0.0.1 port $BACKEND_PORT catchall ignore }"
		echo 'domain "example.net" backend "b"'
		for _x in "$@"; do
			echo "$_x"
		done
	} >"$T/$_n.conf"
}

# daemon_pid ctlsock: the parent of the daemon whose engine listens on
# the control socket (the parent gave it the socket).
daemon_pid() {
	_e=$(ss -xlpn | awk -v s="$1" '$5 == s || index($0, s) { print }' |
	    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
	[ -n "$_e" ] || return 1
	awk '/^PPid:/ { print $2 }' "/proc/$_e/status"
}

verdict() {
	drv -t 5 -s "$1" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' 'rcpt <bob@example.net>'
}

# 1. A start that works: 0, nothing on stderr, serving when it returns.
conf a "unix:$T/a.sock"
"$SCAMBACK" -f "$T/a.conf" -s "$T/a.ctl" >"$T/a.out" 2>"$T/a.err" ||
    fail "start: exit $?: $(cat "$T/a.err")"
[ -s "$T/a.err" ] && fail "start said: $(cat "$T/a.err")"
out=$(verdict "unix:$T/a.sock") || fail "not serving when the start returned: $out"
expect_match "verdict" "$out" 'rcpt <bob@example.net>: continue'
a=$(daemon_pid "$T/a.ctl") || fail "no daemon behind $T/a.ctl"
track "$a"
expect_eq "title" "$(ps -o args= -p "$a" | sed 's/ *$//')" "scam-back: parent"
# rc.d finds it by that title.
pexp=$(sed -n 's/^pexp="\(.*\)"$/\1/p' "$TOP/etc/rc.d/scam_back")
pgrep -xf "$pexp" | grep -qx "$a" || fail "rc.d's pexp '$pexp' does not find $a"

# 2. The same milter socket: refused, not stolen.
conf b "unix:$T/a.sock"
"$SCAMBACK" -f "$T/b.conf" -s "$T/b.ctl" >"$T/b.out" 2>"$T/b.err"
rc=$?
[ $rc -ne 0 ] || fail "a second daemon on the same milter socket started"
grep -q "milter socket $T/a.sock is in use: is another scam-back running?" "$T/b.err" ||
    fail "no reason on stderr: $(cat "$T/b.err")"
[ -e "$T/b.ctl" ] && fail "the failed start left its control socket"
out=$(verdict "unix:$T/a.sock") || fail "the first daemon lost its socket: $out"
expect_match "still the first" "$out" 'continue'
expect_eq "first daemon's socket" "$(daemon_pid "$T/a.ctl")" "$a"

# 3. The same control socket.
conf c "unix:$T/c.sock"
"$SCAMBACK" -f "$T/c.conf" -s "$T/a.ctl" >"$T/c.out" 2>"$T/c.err" &&
    fail "a second daemon on the same control socket started"
grep -q "control socket $T/a.ctl is in use" "$T/c.err" ||
    fail "no reason on stderr: $(cat "$T/c.err")"
[ -e "$T/c.sock" ] && fail "the failed start left a milter socket"

# 4. A TCP port in use: the kernel's reason.
conf d "inet:$BACKEND_PORT@127.0.0.1"
sed -i 's/ mode 0666//' "$T/d.conf"
"$SCAMBACK" -f "$T/d.conf" -s "$T/d.ctl" >"$T/d.out" 2>"$T/d.err" &&
    fail "a daemon started on a port in use"
grep -q "cannot open milter socket inet:$BACKEND_PORT@127.0.0.1: Address already in use" "$T/d.err" ||
    fail "no reason on stderr: $(cat "$T/d.err")"

# 5. Something that is no socket is left alone.
: >"$T/file.sock"
conf e "unix:$T/file.sock"
"$SCAMBACK" -f "$T/e.conf" -s "$T/e.ctl" 2>"$T/e.err" && fail "started over a file"
grep -q "milter socket $T/file.sock: exists and is not a socket" "$T/e.err" ||
    fail "no reason: $(cat "$T/e.err")"
[ -f "$T/file.sock" ] || fail "the file was removed"

# 6. A cache file in a directory that does not exist.
conf f "unix:$T/f.sock" "cache file \"$T/nodir/cache\""
sed -i '/^cache file none$/d' "$T/f.conf"
"$SCAMBACK" -f "$T/f.conf" -s "$T/f.ctl" 2>"$T/f.err" && fail "started without the cache directory"
grep -q "cache file $T/nodir/cache: the directory $T/nodir does not exist; create it (root's, mode 0700) or set cache file none" "$T/f.err" ||
    fail "no reason: $(cat "$T/f.err")"

# 6b. The default cache directory is made when it is missing: in a
# mount namespace of its own, over a /var of its own (so nothing of this
# machine's /var is touched), the daemon starts and makes
# /var/db/scam-back, root's and 0700.
if command -v unshare >/dev/null 2>&1 &&
    unshare -m --propagation private true 2>/dev/null; then
	conf h "unix:$T/h.sock"
	sed -i '/^cache file none$/d' "$T/h.conf"
	unshare -m --propagation private sh -c '
	    mount -t tmpfs -o mode=0755 tmpfs /var && mkdir -m 0755 /var/empty &&
	    exec "$0" -d -f "$1" -s "$2"' "$SCAMBACK" "$T/h.conf" "$T/h.ctl" \
	    >"$T/h.log" 2>&1 &
	h=$!
	track $h
	waitfor test -S "$T/h.ctl" || fail "no start without /var/db: $(cat "$T/h.log")"
	grep -q 'created /var/db/scam-back (mode 0700) for the cache file' "$T/h.log" ||
	    fail "creation not logged: $(cat "$T/h.log")"
	expect_eq "cache directory" "$(stat -c '%a %U' "/proc/$h/root/var/db/scam-back")" "700 root"
	[ -e /var/db/scam-back ] &&
	    [ "$(stat -c %d:%i /var/db/scam-back)" = "$(stat -c %d:%i "/proc/$h/root/var/db/scam-back")" ] &&
	    fail "the machine's own /var was used"
	kill -TERM $h
	wait $h || fail "no clean stop: $(tail -3 "$T/h.log")"
fi

# 7. Owner and mode are never set by path after bind: in a directory
# that others may write, the socket is made in a directory of its own
# and linked into place; every chown and chmod goes through a directory
# descriptor, not following links (issue 13 part 6).
if command -v strace >/dev/null 2>&1; then
	mkdir -m 0777 "$T/pub"
	grp=$(id -gn _scamback)
	for d in "$T" "$T/pub"; do
		conf g "unix:$d/g.sock"
		sed -i "s|mode 0666|owner \"_scamback\" group \"$grp\" mode 0640|" "$T/g.conf"
		strace -f -qq -o "$T/strace" -e trace=chown,fchown,lchown,fchownat,chmod,fchmod,fchmodat \
		    "$SCAMBACK" -d -f "$T/g.conf" -s "$T/g.ctl" >"$T/g.log" 2>&1 &
		g=$!
		track $g
		waitfor test -S "$T/g.ctl" || fail "no start: $(cat "$T/g.log")"
		WAIT=10 waitfor test -S "$d/g.sock" || fail "no socket in $d"
		expect_eq "owner and mode in $d" "$(stat -c '%U:%G %a' "$d/g.sock")" "_scamback:$grp 640"
		expect_eq "control socket mode" "$(stat -c '%U %a' "$T/g.ctl")" "root 600"
		out=$(verdict "unix:$d/g.sock") || fail "not serving in $d: $out"
		kill -TERM "$(daemon_pid "$T/g.ctl")"
		wait $g || fail "strace or scam-back failed in $d: $(cat "$T/g.log")"
		grep -E 'ch(own|mod)' "$T/strace" >"$T/calls"
		[ "$(wc -l <"$T/calls")" -ge 3 ] || fail "strace saw too little: $(cat "$T/strace")"
		grep -vE '^[0-9]+ +fch(own|mod)at\([0-9]+, "[^/"]+", [^)]*\) += 0$' "$T/calls" &&
		    fail "owner or mode set by path in $d"
		ls -a "$d" | grep -q '^\.sb' && fail "a private directory is left in $d"
	done
fi

# 7b. The titles do not depend on how the daemon was started: a link
# with a short name and a short command line leave less room than
# "scam-back: milter engine" takes.
ln -s "$SCAMBACK" "$T/s"
cp "$T/a.conf" "$T/x"
sed -i "s|$T/a.sock|$T/t.sock|" "$T/x"
(cd "$T" && exec ./s -f x -s y) >"$T/t.err" 2>&1 || fail "short start: $(cat "$T/t.err")"
# Found by its working directory: the control socket's name is "y".
t=""
for p in $(pgrep -xf "scam-back: parent"); do
	[ "$(readlink "/proc/$p/cwd")" = "$T" ] && t=$p
done
[ -n "$t" ] || fail "short start: no parent titled 'scam-back: parent' in $T"
track "$t"
expect_eq "short start: parent" "$(ps -o args= -p "$t" | sed 's/ *$//')" "scam-back: parent"
for c in $(cat "/proc/$t/task/$t/children"); do
	case "$(ps -o args= -p "$c" | sed 's/ *$//')" in
	"scam-back: milter engine"|"scam-back: prober"|"scam-back: spawner") ;;
	*)	fail "short start: child title '$(ps -o args= -p "$c")'" ;;
	esac
done
kill -TERM "$t"
WAIT=15 waitfor sh -c "[ ! -e '$T/y' ]" || fail "short start did not stop"

# 8. A clean stop takes both sockets with it.
kill -TERM "$a"
WAIT=15 waitfor sh -c "[ ! -e '$T/a.sock' ] && [ ! -e '$T/a.ctl' ]" ||
    fail "sockets left after a clean stop: $(ls "$T")"
ls -a "$T" | grep -q '^\.sb' && fail "a private directory is left: $(ls -a "$T")"
stop_backend
exit 0
