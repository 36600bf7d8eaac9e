#	OpenBSD: make; make install.  (GNU make reads GNUmakefile instead.)
#
# Needs the libmilter, libevent (2.x, for its pthreads support) and
# Needs the libmilter, libevent (2.x, for its pthreads support), libcares
# and hiredis packages; libtls, libutil (imsg) and pledge/unveil come
# with the base system.
# the base system.

SUBDIR=	scam-back scambackctl

.include <bsd.subdir.mk>
