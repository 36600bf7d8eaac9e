#!/bin/sh
#
# A cache save while the engine has no descriptor left.  The parent
# passes the new file's descriptor; out of descriptors, the kernel
# cannot hand it over (MSG_CTRUNC) and the message arrives without it.
# The engine used to take that for a protocol error and die ("bad
# IMSG_CACHE_SAVE_FD"); now that save fails, is logged, keeps the old
# file, and is tried again ten seconds later, which works once
# descriptors are free.  Under a limit of 40, scambackctl clients that
# connect and say nothing take the engine's last descriptors.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../milter/engine.sh"
. "$(dirname "$0")/lib-fault.sh"

start_backend -U ok@example.net
SB_ULIMIT="-n 40" start_scamback -v <<EOF2
cache file "$T/cache"
cache save interval 2s
backend "b" {
	host 127.0.0.1 port $BACKEND_PORT
	catchall ignore
}
domain "example.net" backend "b"
EOF2
drv -s "$MILTER" 'connect mx.remote.test 203.0.113.5' 'mail <x@remote.test>' \
    'rcpt <ok@example.net>' 'rcpt <no@example.net>' >/dev/null ||
    fail "no verdicts"
waitfor grep -q 'no@example.net' "$T/cache" || fail "no first save"
engine=$(engine_pid) || fail "no engine"

# Idle control clients until the engine holds 40 descriptors.
python3 - "$T/ctl.sock" "$engine" >"$T/idle.out" 2>&1 <<'EOP' &
import os, socket, sys, time
held = []
for i in range(32):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
    time.sleep(0.02)
for i in range(100):
    if len(os.listdir("/proc/%s/fd" % sys.argv[2])) >= 40:
        break
    time.sleep(0.05)
print("full", len(os.listdir("/proc/%s/fd" % sys.argv[2])), flush=True)
time.sleep(600)
EOP
IDLE=$!
track $IDLE
waitfor grep -q '^full 40' "$T/idle.out" || fail "not full: $(cat "$T/idle.out")"
faults 1

n=$(log_count 'the file did not arrive from the parent')
WAIT=10 waitfor sh -c "[ \$(grep -c 'the file did not arrive from the parent' '$SB_LOG') -gt $n ]" ||
    fail "no failed save: $(tail -5 "$SB_LOG")"
grep -q 'cache save to .* failed: handing the file to the engine: Too many open files; the previous file is kept' "$SB_LOG" ||
    fail "the parent did not log it: $(tail -5 "$SB_LOG")"
grep -q 'cache save: trying again in 10 s' "$SB_LOG" || fail "no retry planned"
alive || fail "daemon died: $(tail -5 "$SB_LOG")"
[ "$(engine_pid)" = "$engine" ] || fail "the engine changed"
grep -q 'ok@example.net' "$T/cache" || { lost 1; fail "the old file is gone"; }

# The clients go: the retry saves.
kill "$IDLE"
m=$(log_count 'cache saved: ')
WAIT=20 waitfor sh -c "[ \$(grep -c 'cache saved: ' '$SB_LOG') -gt $m ]" ||
    fail "no save once descriptors were free: $(tail -5 "$SB_LOG")"
echo "ok: the save failed, was logged and retried, and then saved"
stop_scamback
