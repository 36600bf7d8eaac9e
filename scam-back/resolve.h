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
 * The prober's resolver: resolve.c (c-ares in the event loop: backend
 * host names, single questions) and dnslookup.c (the access rules'
 * lookups, struct dns_req in, struct dns_res out; see dns.h).
 */

#ifndef RESOLVE_H
#define RESOLVE_H

#include <sys/socket.h>

#include <stdint.h>

#define RESOLVE_ADDRS_MAX	8	/* addresses of a host name */

struct event_base;
struct scamback_conf;
struct resolve_query;
struct dns_req;
struct dns_res;

/* resolve.c: c-ares in the prober's event loop */
void	 resolve_init(struct event_base *, const struct scamback_conf *);
void	 resolve_configure(const struct scamback_conf *);
struct resolve_query *resolve_start(const char *, uint16_t, int,
	    void (*)(void *, const struct sockaddr_storage *, int,
	    const char *), void *);
struct resolve_query *resolve_query(const char *, int,
	    void (*)(void *, int, const unsigned char *, int), void *);
void	 resolve_cancel(struct resolve_query *);

/* dnslookup.c: the access rules' questions */
void	 dnslookup_init(void (*)(const struct dns_res *));
void	 dnslookup_start(const struct dns_req *);

#endif /* RESOLVE_H */
