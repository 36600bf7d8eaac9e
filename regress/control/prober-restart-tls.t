#!/bin/sh
#
# A reload that names another tls ca file, or finds the one it names
# changed, restarts the prober, which reads CA files only at its start
# (SPEC section 3): the backend's certificate then verifies against the
# new CA without restarting scam-back.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"

mkdir "$T/one" "$T/two"
make_cert "$T/one"
make_cert "$T/two"
cp "$T/one/cert.pem" "$T/ca.pem"
# The backend's certificate is two's: one's CA does not verify it.
start_backend -m tls -c "$T/two/cert.pem" -k "$T/two/key.pem" \
    -U a@example.net -U b@example.net -U c@example.net

# conf CAFILE: the configuration with that tls ca
conf() {
	cat <<-EOF2
	listen on "unix:$T/milter.sock" mode 0666
	cache file none
	unreachable tempfail
	backend "b" {
		host 127.0.0.1 port $BACKEND_PORT
		tls require
		tls ca "$1"
		catchall ignore
	}
	domain "example.net" backend "b"
	EOF2
}
conf "$T/ca.pem" | sed 1,2d >"$T/body"
start_scamback <"$T/body"

# rcpt address: one MTA session's reply to that RCPT
rcpt() {
	drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' \
	    'mail <x@remote.test>' "rcpt <$1>" | grep '^rcpt '
}

expect_match "wrong CA" "$(rcpt a@example.net)" \
    "rcpt <a@example.net>: tempfail 451 4.4.3"
grep -q 'certificate' "$SB_LOG" || fail "no certificate error: $(tail -5 "$SB_LOG")"

# 1. Another file: the prober restarts and verifies with it.
conf "$T/two/cert.pem" >"$T/sb.conf"
expect_eq "reply" "$(ctl reload)" \
    "configuration reloaded; the prober was restarted for tls ca $T/two/cert.pem"
expect_eq "log line" "$(log_count "^parent: restarting the prober for tls ca $T/two/cert.pem: pid [0-9]+ replaces [0-9]+\$")" 1
expect_eq "new CA" "$(rcpt b@example.net)" "rcpt <b@example.net>: continue"

# 2. Back to the first path: the prober read it at its start no more.
conf "$T/ca.pem" >"$T/sb.conf"
expect_eq "reply, back" "$(ctl reload)" \
    "configuration reloaded; the prober was restarted for tls ca $T/ca.pem"
ctl flush cache >/dev/null
expect_match "wrong CA again" "$(rcpt a@example.net)" \
    "rcpt <a@example.net>: tempfail 451 4.4.3"

# 3. The same path, another file there: a CA renewed in place.
cp "$T/two/cert.pem" "$T/ca.new"
mv "$T/ca.new" "$T/ca.pem"
expect_eq "reply, renewed" "$(ctl reload)" \
    "configuration reloaded; the prober was restarted for tls ca $T/ca.pem changed"
expect_eq "renewed CA" "$(rcpt c@example.net)" "rcpt <c@example.net>: continue"

# 4. Nothing new: no restart.
expect_eq "reply, unchanged" "$(ctl reload)" "configuration reloaded"
expect_eq "restarts" "$(log_count '^parent: restarting the prober')" 3
stop_scamback
exit 0
