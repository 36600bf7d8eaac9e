/*
 * Copyright (c) 2026 The scam-back developers
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */


/*
 * sendsyslog(2) for Linux: one message to the log daemon, by the name of
 * its socket, every time.  syslog(3) connects once and, when the log
 * daemon restarts, reconnects with a new socket, which a pledged process
 * may not make (and which, chrooted, it would not find).  This socket is
 * made before the first pledge(2), never connected, and "stdio" lets it
 * send to /dev/log whatever happens to the daemon behind it, as OpenBSD's
 * "stdio" allows sendsyslog(2).  A message that cannot go now is lost,
 * as there.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <string.h>

#include "sandbox.h"

#define SYSLOG_PATH	"/dev/log"

static int	syslog_fd = -1;

int
sandbox_syslog_fd(void)
{
	if (syslog_fd == -1)
		syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return (syslog_fd);
}

int
sendsyslog(const char *msg, size_t len, int flags)
{
	struct sockaddr_un	 sun;

	if (sandbox_syslog_fd() == -1)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, SYSLOG_PATH, sizeof(sun.sun_path));
	if (sendto(syslog_fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1)
		return (-1);
	return (0);
}
