#!/bin/sh
#
# make demo: scam-back working, on loopback, in a temporary directory.
# A fake backend knows two mailboxes; scam-back verifies three recipients
# through the milter protocol (a valid one, an unknown one, the valid one
# again from the cache), shows its cache and figures, and prints the lines
# that connect Postfix and sendmail to it.  Everything it starts is
# stopped again; it changes nothing outside its directory.

set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
SB=$TOP/scam-back/scam-back
CTL=$TOP/scambackctl/scambackctl
DRV=$TOP/regress/tools/milterdrv
FAKE=$TOP/regress/tools/fakebackend

for f in "$SB" "$CTL" "$DRV" "$FAKE"; do
	[ -x "$f" ] || { echo "demo: $f is missing; run make" >&2; exit 1; }
done

D=$(mktemp -d /tmp/scam-back-demo.XXXXXX) || exit 1
chmod 755 "$D"
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step() {
	printf '\n==> %s\n' "$*"
}

waitfor() {
	n=100
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

die() {
	echo "demo: $*" >&2
	exit 1
}

# Root runs the daemon as installed when the _scamback user exists;
# otherwise as nobody, so that the demo never adds users.  The daemon
# then skips chroot and setuid with a warning, and sandboxes itself.
run_as=""
if [ "$(id -u)" -eq 0 ] && ! id _scamback >/dev/null 2>&1; then
	command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
	chown nobody "$D"
	run_as="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
fi

step "a fake backend mailbox server on 127.0.0.1, knowing alice and bob"
"$FAKE" -U alice@example.net -U bob@example.net -l "$D/backend.log" \
    >"$D/backend.out" 2>&1 &
pids="$pids $!"
waitfor grep -q '^port ' "$D/backend.out" || die "the fake backend did not start"
port=$(sed -n 's/^port //p' "$D/backend.out")
echo "listening on port $port"

step "scam-back, verifying example.net against it"
cat >"$D/scam-back.conf" <<EOC
listen on "unix:$D/milter.sock"
cache file "$D/cache"
hostname "demo.scam-back.test"

backend "mailbox" {
	host 127.0.0.1 port $port
	catchall ignore
}
domain "example.net" backend "mailbox"
EOC
sed 's/^/    /' "$D/scam-back.conf"
$run_as "$SB" -n -f "$D/scam-back.conf" || die "configuration refused"
$run_as "$SB" -d -f "$D/scam-back.conf" -s "$D/ctl.sock" >"$D/scam-back.log" 2>&1 &
pids="$pids $!"
waitfor "$CTL" -s "$D/ctl.sock" show stats ||
    die "scam-back did not start: $(cat "$D/scam-back.log")"

step "an MTA asks about three recipients (milter protocol, as Postfix would)"
"$DRV" -T -s "unix:$D/milter.sock" \
    'connect mx.remote.test 203.0.113.5' 'helo mx.remote.test' \
    'mail <someone@remote.test>' \
    'rcpt <alice@example.net>' 'rcpt <nobody@example.net>' \
    'rcpt <alice@example.net>' | sed 's/^/    /' ||
    die "the milter session failed: $(tail -n 5 "$D/scam-back.log")"
echo
echo "alice: accepted after asking the backend; nobody: rejected with 550,"
echo "so the gateway never has to bounce it; alice again: from the cache."
echo "What the backend saw:"
grep '^rcpt' "$D/backend.log" | sed 's/^/    /'

step "scambackctl show cache"
"$CTL" -s "$D/ctl.sock" show cache | sed 's/^/    /'

step "scambackctl show stats"
"$CTL" -s "$D/ctl.sock" show stats | sed 's/^/    /'

step "what scam-back logged"
sed 's/^/    /' "$D/scam-back.log"

cat <<'EOT'

==> connect your MTA to an installed scam-back (listen on the default socket)

    Postfix, main.cf:
        smtpd_milters = unix:/var/spool/scam/scam-back.sock
        milter_default_action = accept
    (Postfix's smtpd runs chrooted on Debian: use listen on
    "inet:8900@127.0.0.1" and smtpd_milters = inet:127.0.0.1:8900 there.)

    sendmail, sendmail.mc:
        INPUT_MAIL_FILTER(`scam-back', `S=unix:/var/spool/scam/scam-back.sock, F=T, T=S:10s;R:10s;E:5m')

    See scam-back(8) and scam-back.conf(5); make install puts them in place.
EOT

step "stopping"
for p in $pids; do
	kill "$p" 2>/dev/null
done
for p in $pids; do
	wait "$p" 2>/dev/null
done
pids=""
[ -s "$D/cache" ] && echo "the cache was saved on the way out:" &&
    sed 's/^/    /' "$D/cache"
echo
echo "demo finished"
exit 0
