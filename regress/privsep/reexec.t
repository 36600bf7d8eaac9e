#!/bin/sh
# The children are the daemon's own program, executed again by the name
# in argv[0] as bgpd does; on Linux compat/ makes that name the program's
# absolute path.  So a daemon started under a name found nowhere (a
# service manager's, or an exec -a) still starts its children, and they
# run the same binary.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-privsep.sh"

ensure_user
cat >"$T/scam-back.conf" <<EOC
listen on "unix:$T/milter.sock"
cache file none
EOC
cd "$T" || exit 1
python3 -c 'import os, sys; os.execv(sys.argv[1], sys.argv[2:])' \
    "$SCAMBACK" no-such-scam-back -d -f "$T/scam-back.conf" \
    -s "$T/ctl.sock" >"$T/log" 2>&1 &
DPID=$!
track $DPID
waitsock "$T/milter.sock"
e=$(pgrep -P "$DPID" -f "milter engine") ||
    fail "no milter engine: $(cat "$T/log")"
p=$(pgrep -P "$DPID" -f prober) || fail "no prober: $(cat "$T/log")"
exe=$(readlink -f "$SCAMBACK")
for pid in $e $p; do
	expect_eq "program of $pid" "$(readlink -f /proc/$pid/exe)" "$exe"
done
kill -TERM "$DPID"
wait "$DPID"
expect_eq "exit status after SIGTERM" "$?" 0
echo "ok: children started whatever argv[0] said"
