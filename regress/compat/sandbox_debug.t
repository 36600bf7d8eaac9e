#!/bin/sh
#
# test_sandbox again, built with -DSANDBOX_DEBUG (as "make SANDBOX_DEBUG=1"
# builds everything): a forbidden call must be logged as "sandbox
# violation: <syscall>" and return ENOSYS instead of killing, and every
# allowed case must still pass.

. "$(dirname "$0")/../lib.sh"

cd "$TOP" || fail "cannot cd to $TOP"
pkgs="libbsd-overlay libseccomp"
cflags=$(pkg-config --cflags $pkgs) || skip "pkg-config cannot find $pkgs"
libs=$(pkg-config --libs $pkgs)

${CC:-cc} -std=c99 -Wall -Wextra -Werror -Wno-unused-parameter \
    -D_GNU_SOURCE -DSANDBOX_DEBUG -Icompat -include compat/compat.h \
    $cflags -o "$T/test_sandbox_debug" regress/unit/test_sandbox.c \
    compat/pledge.c compat/unveil.c compat/syslog.c $libs -lpthread ||
	fail "cannot build the debug variant"

"$T/test_sandbox_debug" || fail "debug variant"
