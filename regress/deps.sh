#!/bin/sh
#
# deps.sh demo|test|bench|build: make sure the Debian packages that "make
# demo", "make test" or "make bench" need are installed (the bench starts
# what the tests start).  As root, missing ones are installed with
# apt-get; otherwise the exact apt-get line is printed and the command
# stops.  On systems without dpkg (OpenBSD) it does nothing.

BUILD="build-essential pkg-config bison libmilter-dev libevent-dev
    libtls-dev libbsd-dev libseccomp-dev libc-ares-dev libhiredis-dev"
DEMO="$BUILD python3 procps util-linux"
TEST="$BUILD postfix miltertest swaks openssl python3 python3-dnslib jq
    mandoc procps iproute2 util-linux passwd strace redis-server"

case ${1:-build} in
build)	want=$BUILD ;;
demo)	want=$DEMO ;;
test|bench) want=$TEST ;;
*)	echo "usage: $0 build|demo|test|bench" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "make ${1:-build} needs these Debian packages; as root, run:" >&2
	echo >&2
	echo "    apt-get install -y$missing" >&2
	echo >&2
	exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests need none.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections 2>/dev/null
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
