#!/bin/sh
#
# The prober probes from inside its sandbox: started as root it runs as
# _scamback, chrooted to its home, under seccomp with no new privileges,
# and still reaches backends by address and by name (the hosts file was
# read before the chroot) and verifies TLS (the CA file too).

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"

mkdir "$T/cert"
make_cert "$T/cert"
start_backend -m tls -c "$T/cert/cert.pem" -k "$T/cert/key.pem" \
    -U a@example.net
conf "$T/c" "host \"localhost\" port $BACKEND_PORT" "catchall ignore
tls require
tls ca \"$T/cert/cert.pem\""
# The driver itself in the background (not the probe function's
# subshell), so that the end of the test stops it and its prober: the
# checks below read the prober's /proc while it lives.
"$TOOLS/probedrv" -v -t 40 -p "$T/pid" -f "$T/c" a@example.net sleep=30000 \
    >"$T/out" 2>>"$T/prober.log" &
track $!
waitfor grep -q '^a@example.net ' "$T/out" || fail "no answer"
pid=$(cat "$T/pid")
expect_answer "$(cat "$T/out")" a@example.net valid 250 2.1.5
expect_eq "handshake" "$(backend_count '^tls 1 ok')" 1

status=$(cat "/proc/$pid/status") || fail "prober $pid gone"
uid=$(id -u _scamback)
expect_match "uid" "$(echo "$status" | grep '^Uid:')" "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$"
expect_match "groups" "$(echo "$status" | grep '^Groups:')" "^Groups:[[:space:]]+$(id -g _scamback)[[:space:]]*$"
expect_match "seccomp" "$(echo "$status" | grep '^Seccomp:')" '^Seccomp:[[:space:]]+2$'
expect_match "no new privileges" "$(echo "$status" | grep '^NoNewPrivs:')" \
    '^NoNewPrivs:[[:space:]]+1$'
expect_eq "chroot" "$(readlink "/proc/$pid/root")" \
    "$(getent passwd _scamback | cut -d: -f6)"
expect_match "title" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" 'prober'
exit 0
