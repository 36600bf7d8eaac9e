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
 * Host names of backends, resolved without blocking (libevent's evdns).
 * resolv.conf and the hosts file are read once, before the sandbox; after
 * it the prober only talks to name servers.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <event.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

#define RESOLV_CONF	"/etc/resolv.conf"

struct resolve_query {
	struct evdns_getaddrinfo_request *req;
	void		(*cb)(void *, const struct sockaddr_storage *, int,
			    const char *);
	void		*arg;
	int		 prefer6;
	int		 starting;	/* inside resolve_start() */
	int		 done;
};

static void	resolve_done(int, struct evutil_addrinfo *, void *);

static struct evdns_base	*dns;

/* Before the sandbox: the files are out of reach after it. */
void
resolve_init(struct event_base *base)
{
	int	r;

	/* libevent's random numbers (DNS ids) are seeded while files work. */
	if (evutil_secure_rng_init() == -1)
		fatalx("cannot seed libevent's random number generator");
	if ((dns = evdns_base_new(base, 0)) == NULL)
		fatalx("evdns_base_new failed");
	/* Without the file evdns falls back to a name server on 127.0.0.1. */
	if ((r = evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL,
	    RESOLV_CONF)) != 0)
		log_debug("%s: cannot use it (%d); name server 127.0.0.1",
		    RESOLV_CONF, r);
	/* A backend's name must not hold a probe for long. */
	evdns_base_set_option(dns, "timeout:", "2");
	evdns_base_set_option(dns, "attempts:", "2");
}

/* An address literal, bare or in brackets.  Returns 1 and fills ss if so. */
int
resolve_literal(const char *name, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[HOSTNAME_LEN];
	size_t			 len;

	memset(ss, 0, sizeof(*ss));
	len = strlen(name);
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, name + 1, len - 2);
		buf[len - 2] = '\0';
	} else if (strlcpy(buf, name, sizeof(buf)) >= sizeof(buf))
		return (0);

	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (1);
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return (1);
	}
	return (0);
}

/* "192.0.2.1:25", "[2001:db8::1]:25" */
const char *
resolve_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	char				 a[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(family %d)", ss->ss_family);
		break;
	}
	return (buf);
}

/*
 * Resolve a name to TCP addresses, both families, the preferred one
 * first.  cb(arg, addrs, n, NULL) or cb(arg, NULL, 0, error) runs once,
 * possibly before this returns (hosts file); then NULL is returned,
 * else a handle for resolve_cancel().
 */
struct resolve_query *
resolve_start(const char *name, uint16_t port, int prefer6,
    void (*cb)(void *, const struct sockaddr_storage *, int, const char *),
    void *arg)
{
	struct resolve_query	*q;
	struct evutil_addrinfo	 hints;
	char			 serv[8];

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal(NULL);
	q->cb = cb;
	q->arg = arg;
	q->prefer6 = prefer6;
	q->starting = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(serv, sizeof(serv), "%u", port);

	q->req = evdns_getaddrinfo(dns, name, serv, &hints, resolve_done, q);
	q->starting = 0;
	if (q->done) {
		free(q);
		return (NULL);
	}
	return (q);
}

/* The callback will not run; the query frees itself when evdns is done. */
void
resolve_cancel(struct resolve_query *q)
{
	q->cb = NULL;
	if (q->req != NULL)
		evdns_getaddrinfo_cancel(q->req);
}

static void
resolve_done(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_query	*q = arg;
	struct sockaddr_storage	 addrs[PROBER_ADDRS_MAX];
	struct evutil_addrinfo	*ai;
	int			 n = 0, i, pass, fam;
	char			 err[128];

	q->done = 1;
	q->req = NULL;
	if (result == 0) {
		/* The preferred family first, each in the resolver's order. */
		for (pass = 0; pass < 2; pass++) {
			fam = (pass == 0) == (q->prefer6 != 0) ?
			    AF_INET6 : AF_INET;
			for (ai = res; ai != NULL && n < PROBER_ADDRS_MAX;
			    ai = ai->ai_next) {
				if (ai->ai_family != fam ||
				    ai->ai_addrlen > sizeof(addrs[0]))
					continue;
				memset(&addrs[n], 0, sizeof(addrs[n]));
				memcpy(&addrs[n], ai->ai_addr, ai->ai_addrlen);
				for (i = 0; i < n; i++)
					if (memcmp(&addrs[i], &addrs[n],
					    sizeof(addrs[n])) == 0)
						break;
				if (i == n)
					n++;
			}
		}
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);

	if (q->cb != NULL && result != EVUTIL_EAI_CANCEL) {
		if (result != 0) {
			snprintf(err, sizeof(err), "%s",
			    evutil_gai_strerror(result));
			q->cb(q->arg, NULL, 0, err);
		} else if (n == 0)
			q->cb(q->arg, NULL, 0, "no address");
		else
			q->cb(q->arg, addrs, n, NULL);
	}
	if (!q->starting)
		free(q);
}
