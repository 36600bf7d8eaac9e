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
 * Where the prober may connect: to its backends' hosts, at the addresses
 * the configuration gives (a literal, or what the host's name resolves
 * to) and their ports, and to the addresses other parts of the prober
 * register for their own job (the resolvers, a shared store).  Every
 * connect(2) of the prober goes through dest_connect().
 *
 * The kernel can confine ports only (Landlock ABI >= 4): a seccomp filter
 * cannot read a sockaddr.  This is the check of the addresses, made by
 * the prober itself: it keeps the prober's own logic (a stale or odd
 * resolution, a bug) from reaching other services on a backend's port,
 * such as [::1]:25 beside a backend at 127.0.0.1:25, but a prober whose
 * code an attacker runs can call connect(2) past it.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

struct dest {
	TAILQ_ENTRY(dest)	 entry;
	struct sockaddr_storage	 ss;
};
TAILQ_HEAD(dest_head, dest);

static struct dest_head	 dests[DEST_MAX] = {
	TAILQ_HEAD_INITIALIZER(dests[0]),
	TAILQ_HEAD_INITIALIZER(dests[1])
};

/* Whether an address is a backend host's: backend.c's, lent at start. */
static int	(*dest_backend)(const struct sockaddr *, socklen_t);

void
dest_init(int (*backend_addr)(const struct sockaddr *, socklen_t))
{
	dest_backend = backend_addr;
}

/* The same family, address and port; nothing else counts. */
int
dest_same(const struct sockaddr_storage *ss, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (ss->ss_family != sa->sa_family)
		return (0);
	switch (sa->sa_family) {
	case AF_INET:
		if (len < sizeof(*b4))
			return (0);
		a4 = (const struct sockaddr_in *)ss;
		b4 = (const struct sockaddr_in *)sa;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	case AF_INET6:
		if (len < sizeof(*b6))
			return (0);
		a6 = (const struct sockaddr_in6 *)ss;
		b6 = (const struct sockaddr_in6 *)sa;
		return (a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0);
	}
	return (0);
}

void
dest_clear(enum dest_kind kind)
{
	struct dest	*d;

	while ((d = TAILQ_FIRST(&dests[kind])) != NULL) {
		TAILQ_REMOVE(&dests[kind], d, entry);
		free(d);
	}
}

int
dest_add(enum dest_kind kind, const struct sockaddr *sa, socklen_t len)
{
	struct dest	*d;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len > sizeof(d->ss)) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (-1);
	memcpy(&d->ss, sa, len);
	TAILQ_INSERT_TAIL(&dests[kind], d, entry);
	return (0);
}

int
dest_allowed(const struct sockaddr *sa, socklen_t len)
{
	struct dest	*d;
	int		 k;

	if (dest_backend != NULL && dest_backend(sa, len))
		return (1);
	for (k = 0; k < DEST_MAX; k++)
		TAILQ_FOREACH(d, &dests[k], entry)
			if (dest_same(&d->ss, sa, len))
				return (1);
	return (0);
}

/*
 * connect(2), to a configured address only; anything else fails with
 * EACCES, as Landlock refuses a port, and is logged.
 */
int
dest_connect(int s, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage	 ss;
	char			 buf[HOSTNAME_LEN + 16];

	if (!dest_allowed(sa, len)) {
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, sa, len < sizeof(ss) ? len : sizeof(ss));
		log_warnx("refused to connect to %s: not an address of the "
		    "configuration", resolve_ntop(&ss, buf, sizeof(buf)));
		errno = EACCES;
		return (-1);
	}
	return (connect(s, sa, len));
}
