#!/bin/sh
#
# Landlock on its own: what seccomp lets through, Landlock refuses with
# EACCES.  Files: the milter engine opens nothing (checked right after its
# rules are committed, before seccomp, which would kill it first); the
# prober, whose "dns" promise lets read-only opens past seccomp, opens
# nothing; the parent (root) opens only what it unveiled.  Ports (ABI >=
# 4): the prober connects to its backend's port only.  (It binds none:
# seccomp kills it for trying before Landlock is asked, see client.t.)
# Each process reports the refusal (sandbox_test.c) and exits 1.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for the children's user and chroot"
abi=$(landlock_abi)
[ "$abi" -ge 1 ] || skip "no Landlock in this kernel"
ensure_user
build_test_variant

start_backend -U a@example.net
inport=$BACKEND_PORT
start_backend -U a@example.net
outport=$BACKEND_PORT
sb_conf "$T/c" 'backend "b" {' "host 127.0.0.1 port $inport" '}' \
    'domain "example.net" backend "b"'
outside=$(mktemp /var/tmp/scamback-landlock.XXXXXX)
trap 'rm -f "$outside"; _cleanup' EXIT

# run case title result [user]: the process logs "sandbox test: ACTION
# result" on its way out, and the parent exits 1.
run() {
	_action=$(echo "$1" | cut -d: -f2)
	_action=${_action#landlock-}
	SCAMBACK_SANDBOX_TEST=$1 sb_start "$VARIANT" "$T/c" ${4:-}
	sb_wait_exit 10
	expect_eq "$1: parent's exit status" "$RC" 1
	grep -q "^$2: fatal in $2: sandbox test: $_action $3$" "$T/log" ||
	    fail "$1: want '$_action $3': $(cat "$T/log")"
	echo "ok: $1${4:+ (as $4)}: $3"
}

denied="refused: Permission denied"

# As root, the children chrooted: "/" is there to be refused.
run engine:landlock-open:/ "milter engine" "$denied"
run prober:open:/ prober "$denied"
run parent:open:"$outside" parent "$denied"
run parent:write:"$outside" parent "$denied"
run parent:open:"$T/c" parent "allowed"
run parent:write:"$T/c" parent "$denied"

# Without root nothing is chrooted: files the user may read are refused.
chown nobody "$T"
run engine:landlock-open:/etc/passwd "milter engine" "$denied" nobody
run prober:open:/etc/passwd prober "$denied" nobody
chown root "$T"

if [ "$abi" -lt 4 ]; then
	echo "Landlock ABI $abi: TCP ports are not confined, not tested"
	exit 0
fi
run prober:connect:$inport prober "allowed"
run prober:connect:$outport prober "$denied"
exit 0
