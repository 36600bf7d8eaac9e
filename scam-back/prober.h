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
 * What the prober's files share: prober.c (probes, backends, sessions)
 * and resolve.c (host names, asynchronously).
 */

#ifndef PROBER_H
#define PROBER_H

#define PROBER_QUEUE_MAX	1024	/* probes waiting, per backend */
#define PROBER_IDLE		5	/* seconds an idle session stays open */
#define PROBER_RESOLVE_EVERY	300	/* seconds between resolutions */
#define PROBER_ADDRS_MAX	8	/* addresses kept per host name */
#define PROBER_LATENCIES	1024	/* probe times kept for the p99 */
#define PROBER_DOMAINS_MAX	100000	/* catch-all states, per backend */
#define PROBER_CAP_TIME		60	/* seconds below a backend's own
					   connection limit */
#define PROBER_NOTLS_MIN	60	/* tls yes: plaintext after a failed
					   handshake, at least this long */

struct resolve_query;

/* resolve.c */
void	 resolve_init(struct event_base *);
int	 resolve_literal(const char *, uint16_t, struct sockaddr_storage *);
struct resolve_query *resolve_start(const char *, uint16_t, int,
	    void (*)(void *, const struct sockaddr_storage *, int,
	    const char *), void *);
void	 resolve_cancel(struct resolve_query *);
const char *resolve_ntop(const struct sockaddr_storage *, char *, size_t);

#endif /* PROBER_H */
