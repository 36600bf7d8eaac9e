#!/bin/sh
#
# The parent may write any file in the cache file's directory (Landlock
# cannot name one file and its temporary), so that directory can be
# neither "/" nor the working directory of whoever started the daemon: a
# relative cache file, or one directly in /, used to give root's parent
# write access to all of / (unveil of "." or "/").  -n refuses both with
# file:line; "/" by another name is refused at start, before anything
# is written; a cache file in a directory of its own works.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"

ensure_user

# refused WHAT PATH PATTERN: -n and a start from / both fail, naming it.
refused() {
	sb_conf "$T/c"
	sed -i 's/^cache file none$//' "$T/c"
	echo "cache file \"$2\"" >>"$T/c"
	(cd / && "$SCAMBACK" -n -f "$T/c") >"$T/out" 2>&1 &&
	    fail "$1: -n accepted it"
	grep -q "^$T/c:[0-9]*: cache file \"$2\" $3" "$T/out" ||
	    fail "$1: $(cat "$T/out")"
	(cd / && timeout 10 "$SCAMBACK" -d -f "$T/c" -s "$T/ctl.sock") \
	    >"$T/out" 2>&1 && fail "$1: the daemon started"
	grep -q "cache file \"$2\" $3" "$T/out" || fail "$1: $(cat "$T/out")"
	echo "ok: $1 refused: $(head -1 "$T/out")"
}
refused relative scamback-cachedir.cache 'must be an absolute path'
refused top-level /scamback-cachedir.cache 'must be in a directory of its own'
[ ! -e /scamback-cachedir.cache ] || fail "a file was made in /"

# "/" by another name: refused at start, nothing written there.
sb_conf "$T/c"
sed -i 's/^cache file none$//' "$T/c"
echo "cache file \"$T/../../scamback-cachedir.cache\"" >>"$T/c"
"$SCAMBACK" -n -f "$T/c" >/dev/null 2>&1 || fail "-n refused a lexical path"
sb_start "$SCAMBACK" "$T/c"
sb_wait_exit 10
[ "$RC" -ne 0 ] || fail "started with its cache in /"
grep -q "its directory is /; give it a directory of its own" "$T/log" ||
    fail "$(cat "$T/log")"
[ ! -e /scamback-cachedir.cache ] || fail "a file was made in /"
echo "ok: / by another name refused at start"

# A directory of its own: saved there on stop.
mkdir -m 700 "$T/db"
sb_conf "$T/c"
sed -i 's/^cache file none$//' "$T/c"
echo "cache file \"$T/db/cache\"" >>"$T/c"
sb_start "$SCAMBACK" "$T/c"
# Up (its signal handlers set) once scambackctl gets an answer.
waitfor "$SCAMBACKCTL" -s "$T/ctl.sock" show stats ||
    fail "no start: $(cat "$T/log")"
kill -TERM "$DPID"
sb_wait_exit 10
expect_eq "exit status" "$RC" 0
[ -f "$T/db/cache" ] || fail "no cache file saved: $(cat "$T/log")"
echo "ok: a cache file in a directory of its own"
