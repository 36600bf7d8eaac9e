#!/bin/sh
# kill -9 of the parent: both children notice the closed pipe and exit.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-privsep.sh"

ensure_user
start_daemon
e=$(child_pid "milter engine")
p=$(child_pid prober)
kill -9 "$DPID"
gone_within "$e" 20 || fail "milter engine survived its parent"
gone_within "$p" 20 || fail "prober survived its parent"
echo "ok: children follow the parent"
