# Helpers for regress/prober/*.t: a real prober process driven by
# regress/tools/probedrv against regress/tools/fakebackend.  Source it after
# ../lib.sh.
#
#	conf FILE HOSTLINES [BACKEND-LINES] [GLOBAL-LINES]
#		write a configuration with one backend "b" for example.net
#	probe -f FILE item...
#		run probedrv; its output on stdout, the prober's log appended
#		to $T/prober.log
#	answer OUTPUT ADDRESS	the answer line of an address
#	field OUTPUT ADDRESS N	its Nth word (2 verdict, 3 code, 4 enhanced)
#	ms OUTPUT ADDRESS	its time in milliseconds
#	text OUTPUT ADDRESS	its text, without the quotes

ensure_user
[ -x "$TOOLS/probedrv" ] || fail "$TOOLS/probedrv not built"
[ -x "$TOOLS/fakebackend" ] || fail "$TOOLS/fakebackend not built"

conf() {
	{
		echo "timeout connect ${TC:-1}"
		echo "timeout reply ${TR:-1}"
		echo "backoff ${BACKOFF:-60}"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		echo 'backend "b" {'
		printf '%s\n' "$2"
		[ -n "${3:-}" ] && printf '%s\n' "$3"
		echo '}'
		echo 'domain "example.net" backend "b"'
	} >"$1"
}

probe() {
	"$TOOLS/probedrv" -v -t "${PROBE_TIMEOUT:-20}" "$@" 2>>"$T/prober.log"
}

answer() {
	printf '%s\n' "$1" | grep -F -- "$2 " | head -n 1
}

field() {
	answer "$1" "$2" | awk -v n="$3" '{ print $n }'
}

ms() {
	answer "$1" "$2" | sed -n 's/.* \([0-9]*\)ms\( catchall\)\{0,1\}$/\1/p'
}

text() {
	answer "$1" "$2" | sed -n 's/^[^"]*"\(.*\)" [0-9]*ms.*/\1/p'
}

# expect_answer OUTPUT ADDRESS VERDICT CODE ENHANCED: the first four words
expect_answer() {
	_got=$(answer "$1" "$2" | awk '{ print $2, $3, $4 }')
	[ "$_got" = "$3 $4 $5" ] ||
	    fail "$2: got '$(answer "$1" "$2")', want '$3 $4 $5 ...'"
}

