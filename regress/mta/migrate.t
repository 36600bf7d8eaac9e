#!/bin/sh
#
# scam-back -m (issue 12 part 12): a scam-backscatter 1.x scam.conf
# converted as it is, without the old command line, gives a daemon that
# a real Postfix gateway can use.  The socket gets group "postfix" and
# mode 0660 (root's 0660 shuts out smtpd, which runs as postfix), and the
# output says what changed: the socket path the MTA must name, and that
# the cache stays in memory.  Only the socket's directory and the
# backend's port are changed for the test.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-postfix.sh"

getent group postfix >/dev/null || skip "no postfix group"
ensure_user
start_backend -U bob@example.net
cat >"$T/scam.conf" <<EOF
BackSMTPServer:127.0.0.1
BackSMTPPort:$BACKEND_PORT
BackAddrDomain:example.net
EOF
"$SCAMBACK" -m "$T/scam.conf" >"$T/conv.conf" 2>"$T/conv.err" ||
    fail "-m failed: $(cat "$T/conv.err")"

grep -qx 'listen on "unix:/var/spool/scam/scam-back.sock" group "postfix" mode 0660' "$T/conv.conf" ||
    fail "listen on: $(grep listen "$T/conv.conf")"
grep -q '^# .*: listen on: .*smtpd_milters = unix:/var/spool/scam/scam-back.sock' "$T/conv.conf" ||
    fail "no word about the socket path"
grep -q '^# .*: cache file none: .*cache file "/var/db/scam-back/cache"' "$T/conv.conf" ||
    fail "no word about the cache"
expect_eq "notes on stderr" "$(grep -c ': note: ' "$T/conv.err")" 3

sed "s|unix:/var/spool/scam/scam-back.sock|unix:$T/m.sock|" "$T/conv.conf" >"$T/sb.conf"
"$SCAMBACK" -d -f "$T/sb.conf" -s "$T/ctl.sock" >"$T/sb.log" 2>&1 &
SB_PID=$!
track $SB_PID
waitfor ctl show stats || fail "scam-back did not start: $(tail -5 "$T/sb.log")"
expect_eq "socket owner and mode" "$(stat -c '%U:%G %a' "$T/m.sock")" "root:postfix 660"

pf_start "unix:$T/m.sock" "example.net"
out=$(smtp 203.0.113.5 bob@example.net nobody@example.net)
printf '%s\n' "$out" | cut -c1-9 >"$T/got"
printf '250 2.1.5\n550 5.1.1\n' >"$T/want"
diff -u "$T/want" "$T/got" >&2 ||
    fail "Postfix through the converted configuration: $(grep -i milter "$PF/maillog" | tail -3)"

pf_stop
kill -TERM "$SB_PID"
wait "$SB_PID" || fail "scam-back did not stop cleanly: $(tail -3 "$T/sb.log")"
stop_backend
exit 0
