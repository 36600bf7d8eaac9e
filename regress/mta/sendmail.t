#!/bin/sh
#
# End to end with a real sendmail 8.17 (Debian's sendmail-bin, unpacked
# beside Postfix rather than installed: the two packages conflict).  The
# test builds a sendmail.cf with m4 and INPUT_MAIL_FILTER pointing at
# scam-back, and speaks SMTP to "sendmail -bs" one command at a time.
# sendmail -bs has no client address, so scam-back runs with "skip local
# no", as for mail a local proxy hands over.  Valid 250, invalid 550 5.1.1
# with scam-back's text, an unverified domain 250 without a probe, a
# percent sign in the address, the cache answering the next session.
#
# The packages (sendmail-bin, sendmail-cf, libwrap0) are fetched once
# with apt-get download into $SENDMAIL_CACHE; without them the test skips.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

command -v m4 >/dev/null 2>&1 || skip "m4 not installed"
command -v unshare >/dev/null 2>&1 || skip "unshare not installed"
[ "$(id -u)" -eq 0 ] || skip "needs root (unshare of the host name)"

SM=${SENDMAIL_CACHE:-/var/cache/scam-back-regress/sendmail}
mkdir -p "$SM" || skip "cannot create $SM"
exec 9>"$SM/.lock"
flock -w 120 9 || fail "another run holds $SM/.lock"
if [ ! -x "$SM/sendmail" ]; then
	rm -rf "$SM/root" "$SM"/*.deb
	(cd "$SM" && apt-get download sendmail-bin sendmail-cf libwrap0) \
	    >"$T/apt.log" 2>&1 || skip "cannot fetch sendmail: $(tail -1 "$T/apt.log")"
	for d in "$SM"/*.deb; do
		dpkg -x "$d" "$SM/root" || fail "cannot unpack $d"
	done
	# A copy without the set-group-id bit honours LD_LIBRARY_PATH.
	cp "$SM/root/usr/libexec/sendmail/sendmail" "$SM/sendmail.new" &&
	    chmod 755 "$SM/sendmail.new" && mv "$SM/sendmail.new" "$SM/sendmail" ||
	    fail "no sendmail binary in the package"
fi
flock -u 9
LIBS=$SM/root/usr/lib/x86_64-linux-gnu:$SM/root/lib/x86_64-linux-gnu

start_backend -U bob@example.net
port=$(freeport)
start_scamback <<EOF
listen on "inet:$port@127.0.0.1"
skip local no
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF

# sendmail refuses a unix milter socket under the world-writable /tmp:
# inet it is.
cat >"$T/test.mc" <<EOF
divert(-1)
divert(0)dnl
include(\`$SM/root/usr/share/sendmail/cf/m4/cf.m4')dnl
OSTYPE(\`linux')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDOMAIN_NAME', \`mx.regress.test')dnl
INPUT_MAIL_FILTER(\`scam-back', \`S=inet:$port@127.0.0.1, F=T, T=C:5s;S:10s;R:10s;E:1m')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
MAILER(\`smtp')dnl
EOF
m4 "$T/test.mc" >"$T/test.cf" 2>"$T/m4.err" || fail "m4: $(cat "$T/m4.err")"
mkdir -m 700 "$T/mqueue"

# Waits for each reply before the next command: sendmail rejects
# commands sent ahead of its greeting.
cat >"$T/drive.py" <<'EOF'
import subprocess, sys
cmds = sys.stdin.read().splitlines()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
    stdout=subprocess.PIPE)
def reply():
    while True:
        l = p.stdout.readline().decode("latin-1").rstrip("\r\n")
        if not l or len(l) < 4 or l[3] != "-":
            return l or "EOF"
print("greeting: " + reply())
for c in cmds:
    p.stdin.write((c + "\r\n").encode())
    p.stdin.flush()
    print(c + ": " + reply(), flush=True)
p.stdin.close()
p.wait()
EOF

# session rcpt...: one SMTP session through sendmail -bs.  sendmail wants
# a qualified host name: it gets one in a UTS namespace of its own.
session() {
	for r in "$@"; do
		echo "RCPT TO:<$r>"
	done | sed '1i EHLO mx.remote.test\nMAIL FROM:<x@remote.test>' |
	    sed '$a QUIT' |
	    LD_LIBRARY_PATH=$LIBS timeout 30 unshare -u python3 "$T/drive.py" \
	    sh -c "hostname mx.regress.test && exec $SM/sendmail -bs \
	    -C $T/test.cf -OQueueDirectory=$T/mqueue" 2>&1
}

session bob@example.net nobody@example.net x@other.test 'a%b@example.net' \
    >"$T/o1"
grep -q '^greeting: 220 mx.regress.test ESMTP Sendmail' "$T/o1" ||
    fail "sendmail did not start: $(cat "$T/o1")"
sed -n 's/^RCPT TO://p' "$T/o1" >"$T/r1"
cat >"$T/w1" <<'EOF'
<bob@example.net>: 250 2.1.5 <bob@example.net>... Recipient ok
<nobody@example.net>: 550 5.1.1 <nobody@example.net>... <nobody@example.net>: Recipient address rejected: User unknown
<x@other.test>: 250 2.1.5 <x@other.test>... Recipient ok
<a%b@example.net>: 550 5.1.1 <a%b@example.net>... <a%b@example.net>: Recipient address rejected: User unknown
EOF
diff -u "$T/w1" "$T/r1" >&2 || fail "sendmail session 1"
expect_eq "probes" "$(backend_count '^rcpt ')" 3
expect_eq "other.test not probed" "$(backend_count 'other\.test')" 0

# The next session is answered from the cache.
session nobody@example.net bob@example.net >"$T/o2"
sed -n 's/^RCPT TO:<[^>]*>: \([0-9]*\) .*/\1/p' "$T/o2" >"$T/r2"
expect_eq "cached" "$(tr '\n' ' ' <"$T/r2")" "550 250 "
expect_eq "probes after the cached session" "$(backend_count '^rcpt ')" 3
expect_eq "verdict lines" "$(log_count ' verdict=')" 5

stop_scamback
stop_backend
exit 0
