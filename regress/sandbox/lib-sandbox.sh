# Shared by regress/sandbox/*.t.  Source after ../lib.sh.
#
#	build_variant NAME [make variables...]
#		build the daemon again into regress/sandbox/obj/NAME-...
#		(see variant.mk) with the main build's compiler and sanitizers;
#		sets VARIANT to the binary, SB_SANITIZE to 1 when the main
#		build (so the variant) is make SANITIZE=1
#	build_test_variant
#		the binary with the test hooks (sandbox_test.c, --wrap)
#	landlock_abi	the kernel's Landlock ABI version, 0 without Landlock
#	sb_conf FILE [lines...]
#		a configuration: milter and control sockets in $T, no cache
#		file, then the lines
#	sb_start BINARY CONF [user]
#		start BINARY -d on CONF, as root or as user (setpriv); sets
#		DPID; its log is $T/log
#	sb_wait_exit SECONDS
#		wait for the daemon's exit; sets RC (fails after SECONDS)
#	sb_children	the pids of the daemon's children

# build_variant name [make variables...]
build_variant() {
	_name=$1
	shift
	_san=
	grep -q __asan_init "$SCAMBACK" 2>/dev/null && _san=1
	SB_SANITIZE=$_san
	_cc=${CC:-cc}
	VARIANT_DIR=regress/sandbox/obj/$_name-$(basename "$_cc")${_san:+-asan}
	VARIANT=$TOP/$VARIANT_DIR/scam-back/scam-back
	# The suite's own make may be our parent: its jobserver is not ours.
	(cd "$TOP" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s -j2 -f GNUmakefile -f regress/sandbox/variant.mk \
	    CC="$_cc" SANITIZE="$_san" VDIR="$VARIANT_DIR" "$@" \
	    "$VARIANT_DIR/scam-back/scam-back") >"$T/build.log" 2>&1 ||
	    fail "cannot build the $_name variant: $(tail -n 20 "$T/build.log")"
}

build_test_variant() {
	build_variant test \
	    VSRCS=regress/sandbox/sandbox_test.c \
	    VLDFLAGS="-Wl,--wrap=pledge -Wl,--wrap=unveil"
}

landlock_abi() {
	python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
v = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1))
print(v if v > 0 else 0)'
}

sb_conf() {
	_f=$1
	shift
	{
		echo "listen on \"unix:$T/milter.sock\" mode 0666"
		echo "cache file none"
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$_f"
}

sb_start() {
	rm -f "$T/milter.sock" "$T/ctl.sock"
	: >"$T/log"
	if [ -n "${3:-}" ]; then
		setpriv --reuid="$3" --regid="$(id -g "$3")" --clear-groups \
		    "$1" -d -v -f "$2" -s "$T/ctl.sock" >>"$T/log" 2>&1 &
	else
		"$1" -d -v -f "$2" -s "$T/ctl.sock" >>"$T/log" 2>&1 &
	fi
	DPID=$!
	track $DPID
}

sb_wait_exit() {
	_n=$(($1 * 20))
	while kill -0 "$DPID" 2>/dev/null; do
		[ "$(cut -d' ' -f3 "/proc/$DPID/stat" 2>/dev/null)" = Z ] && break
		_n=$((_n - 1))
		[ $_n -gt 0 ] ||
		    fail "scam-back still running after $1 s: $(tail -n 5 "$T/log")"
		sleep 0.05
	done
	wait "$DPID"
	RC=$?
}

sb_children() {
	cat /proc/"$DPID"/task/*/children 2>/dev/null
}
