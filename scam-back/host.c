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
 * The prober's host names, resolved (resolve.c) when a backend is new and
 * again every PROBER_RESOLVE_EVERY seconds, stale addresses kept rather
 * than none; and a host that failed put in backoff.  The sessions that
 * waited for a name hear of it through the function host_init() was
 * given.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <event.h>
#include <stdio.h>
#include <string.h>
#include <tls.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

static void	host_resolve_timer(int, short, void *);
static void	host_resolve_later(struct host *);
static void	host_resolved(void *, const struct sockaddr_storage *, int,
		    const char *);

/* Who waits for a name: session.c. */
static void	(*host_resolved_cb)(struct host *);

void
host_init(void (*resolved)(struct host *))
{
	host_resolved_cb = resolved;
}

void
host_resolve(struct host *h)
{
	if (h->literal || h->query != NULL)
		return;
	h->query = resolve_start(h->name, h->port,
	    prober_conf->prefer == PREFER_INET6, host_resolved, h);
}

static void
host_resolve_timer(int fd, short event, void *arg)
{
	host_resolve(arg);
}

/* Names are looked up again every PROBER_RESOLVE_EVERY seconds. */
static void
host_resolve_later(struct host *h)
{
	struct timeval	 tv = { PROBER_RESOLVE_EVERY, 0 };

	if (event_initialized(&h->resolve_ev))
		evtimer_del(&h->resolve_ev);
	evtimer_set(&h->resolve_ev, host_resolve_timer, h);
	evtimer_add(&h->resolve_ev, &tv);
}

/* Names are looked up again every few minutes; sessions may wait. */
static void
host_resolved(void *arg, const struct sockaddr_storage *addrs, int n,
    const char *err)
{
	struct host	*h = arg;
	struct backend	*b = h->backend;
	char		 buf[HOSTNAME_LEN + 16];

	h->query = NULL;
	if (err != NULL) {
		textf(h->last_error, sizeof(h->last_error),
		    "cannot resolve %s: %s", h->name, err);
		backend_log(b, h->last_error);
		/* Keep the addresses we had: stale beats none. */
		if (h->naddrs > 0)
			host_resolve_later(h);
	} else {
		memcpy(h->addrs, addrs, n * sizeof(addrs[0]));
		h->naddrs = n;
		log_debug("backend %s: %s is %s%s", b->conf.name, h->name,
		    resolve_ntop(&addrs[0], buf, sizeof(buf)),
		    n > 1 ? " and more" : "");
		host_resolve_later(h);
	}

	host_resolved_cb(h);
}

/*
 * Every address of the host failed, its last_error says how; the session
 * (if any) remembers it for when no host is left.
 */
void
host_failed(struct session *s, struct host *h)
{
	struct backend	*b = h->backend;
	char		 text[REPLY_TEXT_LEN + 64];

	if (s != NULL)
		strlcpy(s->error, h->last_error, sizeof(s->error));

	if (prober_conf->backoff == 0) {
		backend_log(b, h->last_error);
		return;
	}
	h->backoff_until = now_ms() + (uint64_t)prober_conf->backoff * 1000;
	textf(text, sizeof(text), "%s; skipping %s for %u s",
	    h->last_error, h->name, prober_conf->backoff);
	backend_log(b, text);
}
