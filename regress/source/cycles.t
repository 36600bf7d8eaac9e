#!/bin/sh
#
# No cycles between the files of scam-back, scambackctl and compat/: a
# file calls only files below it, and tells those above through callbacks
# it was given (engine_check's done, milter_init's rcpt, probe_init's
# answer ...).  regress/tools/cycles.sh reads the objects with nm(1); a new
# call back up fails here with the files and the functions that close the
# cycle.  First it is shown a cycle, so that it is known to see one.

. "$(dirname "$0")/../lib.sh"

CYCLES=$TOP/regress/tools/cycles.sh

# Two files that call each other, and a third that only calls down.
cat >"$T/a.c" <<'EOC'
void b_up(void);
void a_down(void) { }
void a_call(void) { b_up(); }
EOC
cat >"$T/b.c" <<'EOC'
void a_down(void);
void b_up(void) { a_down(); }
EOC
cat >"$T/c.c" <<'EOC'
void a_call(void);
void c_top(void) { a_call(); }
EOC
for f in a b c; do
	${CC:-cc} -c -o "$T/$f.o" "$T/$f.c" || fail "cannot compile $f.c"
done
out=$("$CYCLES" "$T/a.o" "$T/b.o" "$T/c.o")
expect_eq "a cycle is found" "$?" 1
expect_eq "the cycle and its calls" "$out" "cycle: a b
	a -> b: b_up
	b -> a: a_down"

for o in scam-back/scam-back.o scam-back/libscamback.a \
    scambackctl/scambackctl.o compat/libcompat.a; do
	[ -r "$TOP/$o" ] || fail "$o not built (make)"
done
cd "$TOP" || exit 1
out=$(regress/tools/cycles.sh scam-back/scam-back.o scam-back/libscamback.a \
    compat/libcompat.a) || fail "scam-back: $out"
echo "scam-back: $out"
out=$(regress/tools/cycles.sh scambackctl/*.o compat/libcompat.a) ||
    fail "scambackctl: $out"
echo "scambackctl: $out"
