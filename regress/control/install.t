#!/bin/sh
# make install and make uninstall into a DESTDIR: every file in its place
# with its mode, an existing configuration kept, the systemd unit pointing
# at the installed binary; the manuals and the rc.d script are well formed.
. "$(dirname "$0")/../lib.sh"

R=$T/root
cd "$TOP" || exit 1
make -s install DESTDIR="$R" PREFIX=/usr/local >"$T/out" 2>&1 ||
    fail "make install: $(cat "$T/out")"
for f in usr/local/sbin/scam-back:555 usr/local/sbin/scambackctl:555 \
    usr/local/share/man/man8/scam-back.8:444 \
    usr/local/share/man/man8/scambackctl.8:444 \
    usr/local/share/man/man5/scam-back.conf.5:444 \
    usr/local/share/examples/scam-back/scam-back.conf:444 \
    usr/local/share/examples/scam-back/scam_back:444 \
    usr/local/share/examples/scam-back/scam-back.service:444 \
    etc/scam-back.conf:644 etc/systemd/system/scam-back.service:444; do
	path=${f%:*} mode=${f##*:}
	[ -f "$R/$path" ] || fail "not installed: $path"
	expect_eq "mode of $path" "$(stat -c %a "$R/$path")" "$mode"
done
# The examples share one mode, read-only.
expect_eq "example modes" "$(cd "$R/usr/local/share/examples/scam-back" &&
    stat -c %a ./* | sort -u | tr '\n' ' ')" "444 "
grep -q '^ExecStart=/usr/local/sbin/scam-back -d$' \
    "$R/etc/systemd/system/scam-back.service" || fail "unit ExecStart"
"$R/usr/local/sbin/scam-back" -n -f "$R/etc/scam-back.conf" 2>&1 |
    grep -q "configuration OK" || fail "the installed example does not parse"

# Another PREFIX lands in the unit; a changed configuration is kept.
echo "# mine" >>"$R/etc/scam-back.conf"
make -s install DESTDIR="$R" PREFIX=/opt/sb >"$T/out" 2>&1 || fail "install 2"
grep -q '^ExecStart=/opt/sb/sbin/scam-back -d$' \
    "$R/etc/systemd/system/scam-back.service" || fail "unit with PREFIX"
grep -q "kept /etc/scam-back.conf" "$T/out" || fail "no word about the kept file"
tail -n 1 "$R/etc/scam-back.conf" | grep -q "^# mine$" ||
    fail "configuration overwritten"

make -s uninstall DESTDIR="$R" PREFIX=/opt/sb >"$T/out" 2>&1 || fail "uninstall"
make -s uninstall DESTDIR="$R" PREFIX=/usr/local >"$T/out" 2>&1 || fail "uninstall"
left=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
expect_eq "left after uninstall" "$left" "./etc/scam-back.conf "

if command -v systemd-analyze >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemd-analyze verify etc/systemd/scam-back.service 2>&1 |
	    grep -v "scam-back: command not found\|Failed to prepare" |
	    grep -q . && fail "systemd-analyze: unit has problems"
fi
ksh_ok=$(sh -n etc/rc.d/scam_back 2>&1) || fail "rc.d script: $ksh_ok"
grep -q '^daemon="/usr/local/sbin/scam-back"$' etc/rc.d/scam_back || fail "rc.d daemon="
grep -q '^rc_configtest()' etc/rc.d/scam_back || fail "rc.d configtest"
grep -q '^rc_cmd \$1$' etc/rc.d/scam_back || fail "rc.d rc_cmd"
# pexp finds the daemon by the title it gives itself (privsep/startup.t
# checks it against a running daemon).
grep -q '^pexp="scam-back: parent"$' etc/rc.d/scam_back || fail "rc.d pexp"

if command -v mandoc >/dev/null 2>&1; then
	for m in scam-back/scam-back.8 scambackctl/scambackctl.8; do
		# Only what is wrong, not missing cross-references.
		out=$(mandoc -Tlint -Wwarning "$m" 2>&1 | grep -v "outdated mandoc.db")
		[ -z "$out" ] || fail "mandoc $m: $out"
	done
fi
exit 0
