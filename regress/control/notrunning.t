#!/bin/sh
# scambackctl without a daemon: one clear line and exit 1; the command
# line grammar (abbreviations, ambiguity, missing and extra words) is
# checked before any connection.  With -j, errors are JSON.
. "$(dirname "$0")/../lib.sh"

sock=$T/none.sock

out=$("$SCAMBACKCTL" -s "$sock" show cache 2>&1)
rc=$?
expect_eq "not running: exit" "$rc" 1
expect_eq "not running: message" "$out" \
    "scambackctl: scam-back is not running (no control socket at $sock)"

# A stale socket file nobody listens on says the same.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/stale.sock"
out=$("$SCAMBACKCTL" -s "$T/stale.sock" sh ca 2>&1)
expect_eq "stale socket" "$out" \
    "scambackctl: scam-back is not running (no control socket at $T/stale.sock)"

# Every command, abbreviated, gets as far as connecting.
for cmd in "sh ca" "s c" "show cache valid" "sh ca inv @example.net" \
    "show cache alice@example.net" "show cache <bob@example.net>" \
    "sh b" "sh st" "fl ca" "flush cache invalid" "flush cache @example.net" \
    "f c v a@example.net" "sa c" "save cache" "ch a@example.net" \
    'sh ca "x>y"@example.net' 'ch <"x<y"@example.net>' \
    "fl ba" "flush backoff mailbox" \
    "rel" "reload" "log v" "log b" "l verbose"; do
	case $cmd in
	"s c")	continue ;;	# ambiguous: show / save
	esac
	# shellcheck disable=SC2086
	out=$("$SCAMBACKCTL" -s "$sock" $cmd 2>&1)
	expect_match "'$cmd'" "$out" "is not running"
	# shellcheck disable=SC2086
	out=$("$SCAMBACKCTL" -j -s "$sock" $cmd 2>&1)
	expect_match "-j '$cmd'" "$out" "is not running"
done

# Grammar errors: exit 1, what was wrong, and what is valid there.
bad() {
	want=$1
	shift
	out=$("$SCAMBACKCTL" -s "$sock" "$@" 2>&1)
	rc=$?
	expect_eq "'$*': exit" "$rc" 1
	expect_match "'$*'" "$out" "$want"
	case $out in
	*"is not running"*) fail "'$*' was accepted" ;;
	esac
}
bad "ambiguous argument: s" s c
bad "ambiguous argument: s" s
bad "unknown argument: frob" frob
bad "missing argument" show
bad "missing argument" flush
bad "missing argument" check
bad "missing argument" log
bad "unknown argument: sideways" log sideways
bad "superfluous argument: extra" show stats extra
bad "superfluous argument: c" flush backoff b c
bad "superfluous argument: extra" show cache valid a@example.net extra
bad "unknown argument: alice" show cache alice
bad "want local-part@domain" check @example.net
bad "want local-part@domain" check alice@
bad "valid commands/args" show cache valid invalid
bad "cannot be a mailbox \(syntax\); never cached" show cache "a b@example.net"
bad "cannot be a mailbox \(too-long\)" check "$(printf '%0300d' 0)@example.net"
bad "@a.b: want @domain" show cache "@a b"

# With -j every error is a JSON document on standard output, with its
# message (and what was valid there), exit 1, nothing on stderr.
if command -v jq >/dev/null 2>&1; then
	for args in "show cache" "frob" "show" "sh ca a@b extra" \
	    "check @example.net" "show cache a<b@example.net"; do
		# shellcheck disable=SC2086
		out=$("$SCAMBACKCTL" -j -s "$sock" $args 2>"$T/err")
		rc=$?
		expect_eq "-j $args: exit" "$rc" 1
		[ -s "$T/err" ] && fail "-j $args: stderr: $(cat "$T/err")"
		printf '%s\n' "$out" | jq -e '.error | length > 0' >/dev/null ||
		    fail "-j $args: not a JSON error: $out"
	done
	out=$("$SCAMBACKCTL" -j frob)
	expect_eq "-j valid" "$(printf '%s\n' "$out" | jq -r '.valid | join(" ")')" \
	    "show flush save check reload log"
fi

out=$("$SCAMBACKCTL" 2>&1)
expect_eq "no command: exit" "$?" 1
expect_match "usage" "$out" "^usage: scambackctl"
out=$("$SCAMBACKCTL" -x show stats 2>&1)
expect_eq "bad flag: exit" "$?" 1

exit 0
