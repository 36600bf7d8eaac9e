#!/bin/sh
#
# STARTTLS with a certificate made now: tls yes uses it when offered and
# falls back to plaintext after a broken handshake; tls require answers
# unknown without it, with a broken handshake, with a certificate it
# cannot verify (system CAs, wrong name) and works with tls ca or tls
# noverify.  The CA file is read before the sandbox.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

mkdir "$T/good" "$T/other"
make_cert "$T/good"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other.test \
    -keyout "$T/other/key.pem" -out "$T/other/cert.pem" >/dev/null 2>&1 ||
    fail "openssl could not make a certificate"

# tlsprobe MODE "BACKEND-LINES" [cert dir]: one probe of a@example.net
tlsprobe() {
	start_backend -m "$1" -c "$T/${3:-good}/cert.pem" \
	    -k "$T/${3:-good}/key.pem" -U a@example.net
	conf "$T/c" "host 127.0.0.1 port $BACKEND_PORT" "catchall ignore
$2"
	out=$(probe -f "$T/c" a@example.net b@example.net) ||
	    fail "$1 $2: probedrv exited $?"
}

tlsprobe tls "tls yes
tls ca \"$T/good/cert.pem\""
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_eq "handshake" "$(backend_count '^tls 1 ok')" 1
expect_eq "EHLO again after it" "$(backend_count '^ehlo 1 ')" 2
expect_eq "one connection" "$(backend_count '^connect ')" 1

tlsprobe tls "tls require
tls ca \"$T/good/cert.pem\""
expect_answer "$out" a@example.net valid 250 2.1.5
expect_eq "handshake" "$(backend_count '^tls 1 ok')" 1

tlsprobe tls "tls require
tls noverify"
expect_answer "$out" a@example.net valid 250 2.1.5

tlsprobe tls "tls require"
expect_answer "$out" a@example.net unknown 0 -
expect_match "system CAs do not know it" "$(text "$out" a@example.net)" \
    'TLS handshake with 127\.0\.0\.1:[0-9]+: .*certificate'

tlsprobe tls "tls require
tls ca \"$T/other/cert.pem\"" other
expect_answer "$out" a@example.net unknown 0 -
expect_match "wrong name" "$(text "$out" a@example.net)" \
    'TLS handshake with 127\.0\.0\.1:[0-9]+: .*(name|127\.0\.0\.1)'

tlsprobe normal "tls require
tls noverify"
expect_answer "$out" a@example.net unknown 0 -
expect_match "not offered" "$(text "$out" a@example.net)" \
    'STARTTLS required but not offered'

tlsprobe tlsbroken "tls require
tls noverify"
expect_answer "$out" a@example.net unknown 0 -
expect_answer "$out" b@example.net unknown 0 -
expect_match "broken" "$(text "$out" a@example.net)" \
    '(TLS handshake with|plaintext after the STARTTLS reply)'
expect_le "broken handshake (ms)" "$(ms "$out" a@example.net)" 1500
expect_eq "no RCPT in the clear" "$(backend_count '^rcpt ')" 0

# tls yes: a broken handshake, then plaintext on a new connection.
tlsprobe tlsbroken "tls yes
tls noverify"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_answer "$out" b@example.net invalid 550 5.1.1
expect_eq "connections" "$(backend_count '^connect ')" 2
expect_eq "STARTTLS on the first only" "$(backend_count '^starttls ')" 1
expect_eq "RCPTs on the second" "$(backend_count '^rcpt 2 ')" 2

# tls yes with a backend that does not offer it: plaintext.
tlsprobe normal "tls yes"
expect_answer "$out" a@example.net valid 250 2.1.5
expect_eq "no STARTTLS" "$(backend_count '^starttls ')" 0
exit 0
