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
 * The prober's state, at the bottom of its files: the configuration and
 * the backends, each with its hosts (addresses, backoff), its catch-all
 * knowledge per domain, its TLS configuration from the CA files read
 * before the sandbox, and the figures scambackctl shows.  Nothing here
 * calls the files above (probe.c, session.c, prober.c).
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <ctype.h>
#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tls.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

/* CA bundles, read before the sandbox. */
struct ca_file {
	TAILQ_ENTRY(ca_file)	 entry;
	char			 path[PATH_MAX];
	uint8_t			*mem;
	size_t			 len;
};
TAILQ_HEAD(ca_head, ca_file);

static struct ca_file *ca_find(const char *);
static const char *ca_path(const struct backend_conf *);
static void	backend_tls_setup(struct backend *);
static void	backend_free(int, short, void *);
static struct host *host_new(struct backend *, struct host_conf *);
static void	host_free(struct host *);
static int	domain_cmp(struct domain *, struct domain *);

RB_PROTOTYPE_STATIC(domain_tree, domain, entry, domain_cmp)
RB_GENERATE_STATIC(domain_tree, domain, entry, domain_cmp)

/* The prober's state: prober.c sets the configuration. */
struct scamback_conf	*prober_conf;
struct backend_head	 backends = TAILQ_HEAD_INITIALIZER(backends);
char			 local_name[HOSTNAME_LEN];

static struct ca_head	ca_files = TAILQ_HEAD_INITIALIZER(ca_files);

/*
 * The CA bundles of every backend that verifies, and the system's: after
 * the sandbox no file can be opened, so a reload can only use these.
 */
void
ca_preload(struct scamback_conf *conf)
{
	struct backend_conf	*bc;
	struct ca_file		*ca;
	const char		*paths[2];
	int			 i;

	paths[0] = tls_default_ca_cert_file();
	paths[1] = NULL;
	for (i = 0; paths[i] != NULL; i++) {
		if (ca_find(paths[i]) != NULL)
			continue;
		if ((ca = calloc(1, sizeof(*ca))) == NULL)
			fatal(NULL);
		strlcpy(ca->path, paths[i], sizeof(ca->path));
		/* The system bundle may be missing; say so only when used. */
		ca->mem = tls_load_file(ca->path, &ca->len, NULL);
		TAILQ_INSERT_TAIL(&ca_files, ca, entry);
	}
	TAILQ_FOREACH(bc, &conf->backends, entry) {
		if (bc->tls == TLSMODE_NO || bc->tls_noverify ||
		    ca_find(ca_path(bc)) != NULL)
			continue;
		if ((ca = calloc(1, sizeof(*ca))) == NULL)
			fatal(NULL);
		strlcpy(ca->path, ca_path(bc), sizeof(ca->path));
		if ((ca->mem = tls_load_file(ca->path, &ca->len, NULL)) ==
		    NULL)
			log_warn("backend %s: tls ca %s", bc->name, ca->path);
		TAILQ_INSERT_TAIL(&ca_files, ca, entry);
	}
}

static struct ca_file *
ca_find(const char *path)
{
	struct ca_file	*ca;

	TAILQ_FOREACH(ca, &ca_files, entry)
		if (strcmp(ca->path, path) == 0)
			return (ca);
	return (NULL);
}

static const char *
ca_path(const struct backend_conf *bc)
{
	return (bc->tls_ca[0] != '\0' ? bc->tls_ca :
	    tls_default_ca_cert_file());
}

static int
latency_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

void
backend_figures(struct backend *b, struct ctl_backend *cb)
{
	struct host	*h;
	struct session	*s;
	struct ctl_host	*ch;
	uint32_t	 lat[PROBER_LATENCIES];
	uint64_t	 now = now_ms();
	size_t		 n;

	memset(cb, 0, sizeof(*cb));
	strlcpy(cb->name, b->conf.name, sizeof(cb->name));
	TAILQ_FOREACH(h, &b->hosts, entry) {
		if (cb->nhosts == CTL_MAX_HOSTS)
			break;
		ch = &cb->hosts[cb->nhosts++];
		strlcpy(ch->name, h->name, sizeof(ch->name));
		ch->port = h->port;
		if (host_in_backoff(h, now)) {
			ch->state = HOST_BACKOFF;
			ch->backoff_until = time(NULL) +
			    (h->backoff_until - now + 999) / 1000;
		} else if (h->naddrs == 0)
			ch->state = HOST_UNRESOLVED;
		else
			ch->state = HOST_UP;
		strlcpy(ch->last_error, h->last_error, sizeof(ch->last_error));
	}
	cb->sessions_open = b->nsessions;
	TAILQ_FOREACH(s, &b->sessions, entry)
		if (s->state == SS_SMTP && smtp_idle(&s->smtp))
			cb->sessions_idle++;
	cb->sessions_limit = b->conf.sessions;
	cb->queued = b->nqueued;
	cb->probes = b->fig.probes;
	cb->shortcuts = b->fig.shortcuts;
	cb->valid = b->fig.valid;
	cb->invalid = b->fig.invalid;
	cb->unknown = b->fig.unknown;
	if (b->fig.probes > 0) {
		cb->latency_mean_ms = b->fig.latency_sum / b->fig.probes;
		n = b->fig.probes < PROBER_LATENCIES ? b->fig.probes :
		    PROBER_LATENCIES;
		memcpy(lat, b->fig.latency, n * sizeof(lat[0]));
		qsort(lat, n, sizeof(lat[0]), latency_cmp);
		cb->latency_p99_ms = lat[(n * 99 + 99) / 100 - 1];
	}
}

struct backend *
backend_new(struct backend_conf *bc, struct scamback_conf *conf)
{
	struct backend		*b;
	struct host_conf	*hc;
	struct host		*h;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal(NULL);
	b->conf = *bc;
	TAILQ_INIT(&b->conf.hosts);
	if (b->conf.sessions == 0)
		b->conf.sessions = 1;
	strlcpy(b->helo, conf->hostname[0] != '\0' ? conf->hostname :
	    local_name, sizeof(b->helo));
	strlcpy(b->sender, config_sender(conf), sizeof(b->sender));
	/* The parser checks these; a command must never be smuggled. */
	if (!smtp_address_ok(b->helo) || strchr(b->helo, ' ') != NULL)
		strlcpy(b->helo, "localhost", sizeof(b->helo));
	if (!smtp_address_ok(b->sender))
		b->sender[0] = '\0';
	TAILQ_INIT(&b->hosts);
	TAILQ_INIT(&b->sessions);
	TAILQ_INIT(&b->queue);
	RB_INIT(&b->domains);
	evtimer_set(&b->free_ev, backend_free, b);
	TAILQ_FOREACH(hc, &bc->hosts, entry) {
		h = host_new(b, hc);
		TAILQ_INSERT_TAIL(&b->hosts, h, entry);
	}
	if (b->conf.tls != TLSMODE_NO)
		backend_tls_setup(b);
	log_debug("backend %s: %s", b->conf.name, TAILQ_EMPTY(&b->hosts) ?
	    "no hosts" : "ready");
	return (b);
}

/* Would a session opened now look like one opened before? */
int
backend_same(struct backend *b, struct backend_conf *bc,
    struct scamback_conf *conf)
{
	struct host		*h;
	struct host_conf	*hc;

	if (strcmp(b->helo, conf->hostname[0] != '\0' ? conf->hostname :
	    local_name) != 0 || strcmp(b->sender, config_sender(conf)) != 0 ||
	    b->conf.protocol != bc->protocol || b->conf.tls != bc->tls ||
	    b->conf.tls_noverify != bc->tls_noverify ||
	    strcmp(b->conf.tls_ca, bc->tls_ca) != 0)
		return (0);
	h = TAILQ_FIRST(&b->hosts);
	TAILQ_FOREACH(hc, &bc->hosts, entry) {
		if (h == NULL || strcmp(h->name, hc->name) != 0 ||
		    h->port != hc->port)
			return (0);
		h = TAILQ_NEXT(h, entry);
	}
	return (h == NULL);
}

static void
backend_tls_setup(struct backend *b)
{
	struct ca_file	*ca;

	if ((b->tls_config = tls_config_new()) == NULL)
		fatalx("tls_config_new");
	if (b->conf.tls_noverify) {
		tls_config_insecure_noverifycert(b->tls_config);
		tls_config_insecure_noverifyname(b->tls_config);
		return;
	}
	ca = ca_find(ca_path(&b->conf));
	if (ca == NULL || ca->mem == NULL) {
		textf(b->tls_error, sizeof(b->tls_error), "CA file %s %s",
		    ca_path(&b->conf), ca == NULL ? "was not read at start-up "
		    "(restart scam-back to use it)" : "could not be read");
		log_warnx("backend %s: %s", b->conf.name, b->tls_error);
	} else if (tls_config_set_ca_mem(b->tls_config, ca->mem,
	    ca->len) == -1) {
		textf(b->tls_error, sizeof(b->tls_error), "CA file %s: %s",
		    ca->path, tls_config_error(b->tls_config));
		log_warnx("backend %s: %s", b->conf.name, b->tls_error);
	} else
		return;
	tls_config_free(b->tls_config);
	b->tls_config = NULL;
}

/* Deferred: the caller may still walk the backend's lists. */
void
backend_maybe_free(struct backend *b)
{
	struct timeval	tv = { 0, 0 };

	if (b->retired && TAILQ_EMPTY(&b->sessions) &&
	    TAILQ_EMPTY(&b->queue) && b->nshared == 0)
		evtimer_add(&b->free_ev, &tv);
}

static void
backend_free(int fd, short event, void *arg)
{
	struct backend	*b = arg;
	struct host	*h;

	if (!TAILQ_EMPTY(&b->sessions) || !TAILQ_EMPTY(&b->queue) ||
	    b->nshared > 0)
		return;
	domain_prune(b, 1);
	if (b->ndomains > 0)
		return;		/* held probes; their deadlines come back */
	while ((h = TAILQ_FIRST(&b->hosts)) != NULL) {
		TAILQ_REMOVE(&b->hosts, h, entry);
		host_free(h);
	}
	if (b->tls_config != NULL)
		tls_config_free(b->tls_config);
	TAILQ_REMOVE(&backends, b, entry);
	log_debug("backend %s: retired", b->conf.name);
	free(b);
}

/* A backend host's address (dest.c asks, through dest_init()). */
int
backend_has_addr(const struct sockaddr *sa, socklen_t len)
{
	struct backend	*b;
	struct host	*h;
	int		 i;

	TAILQ_FOREACH(b, &backends, entry)
		TAILQ_FOREACH(h, &b->hosts, entry)
			for (i = 0; i < h->naddrs; i++)
				if (dest_same(&h->addrs[i], sa, len))
					return (1);
	return (0);
}

int
backend_usable(struct backend *b)
{
	struct host	*h;
	uint64_t	 now = now_ms();

	TAILQ_FOREACH(h, &b->hosts, entry)
		if (!host_in_backoff(h, now))
			return (1);
	return (0);
}

/*
 * Backend trouble is logged once, with the reply text, until it changes
 * or a session works again: a dead backend must not flood the log.
 */
/*
 * scambackctl flush backoff: the hosts of the backend named (all: "")
 * may be tried again at once.  Returns how many were in backoff.
 */
uint32_t
backend_unbackoff(const char *name)
{
	struct backend	*b;
	struct host	*h;
	uint64_t	 now = now_ms();
	uint32_t	 n = 0;

	TAILQ_FOREACH(b, &backends, entry) {
		if (b->retired || (*name != '\0' &&
		    strcmp(b->conf.name, name) != 0))
			continue;
		TAILQ_FOREACH(h, &b->hosts, entry) {
			if (!host_in_backoff(h, now))
				continue;
			h->backoff_until = 0;
			n++;
			log_info("backend %s: host %s taken out of backoff by "
			    "scambackctl", b->conf.name, h->name);
		}
		b->logged[0] = '\0';
	}
	return (n);
}

void
backend_log(struct backend *b, const char *text)
{
	/* The same, or said already with more words. */
	if (strncmp(b->logged, text, strlen(text)) == 0)
		return;
	strlcpy(b->logged, text, sizeof(b->logged));
	log_warnx("backend %s: %s", b->conf.name, text);
}

static struct host *
host_new(struct backend *b, struct host_conf *hc)
{
	struct host	*h;
	size_t		 len;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal(NULL);
	h->backend = b;
	strlcpy(h->name, hc->name, sizeof(h->name));
	h->port = hc->port != 0 ? hc->port : DEFAULT_PORT;
	strlcpy(h->tlsname, h->name, sizeof(h->tlsname));
	len = strlen(h->tlsname);
	if (len >= 2 && h->tlsname[0] == '[' && h->tlsname[len - 1] == ']') {
		memmove(h->tlsname, h->tlsname + 1, len - 2);
		h->tlsname[len - 2] = '\0';
	}
	/* A name is resolved by session.c, before it is needed. */
	if (resolve_literal(h->name, h->port, &h->addrs[0])) {
		h->literal = 1;
		h->naddrs = 1;
	}
	return (h);
}

static void
host_free(struct host *h)
{
	if (h->query != NULL)
		resolve_cancel(h->query);
	if (event_initialized(&h->resolve_ev))
		evtimer_del(&h->resolve_ev);
	free(h);
}

int
host_in_backoff(struct host *h, uint64_t now)
{
	return (h->backoff_until > now);
}

uint64_t
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Messages for logs and the engine: a long one is cut, never overflowed. */
void
textf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static int
domain_cmp(struct domain *a, struct domain *b)
{
	return (strcmp(a->name, b->name));
}

struct domain *
domain_get(struct backend *b, const char *name)
{
	struct domain	 key, *d;
	size_t		 i;

	for (i = 0; name[i] != '\0' && i < sizeof(key.name) - 1; i++)
		key.name[i] = tolower((unsigned char)name[i]);
	key.name[i] = '\0';
	if ((d = RB_FIND(domain_tree, &b->domains, &key)) != NULL)
		return (d);
	if (b->ndomains >= PROBER_DOMAINS_MAX) {
		domain_prune(b, 0);
		if (b->ndomains >= PROBER_DOMAINS_MAX)
			return (NULL);	/* probe without the check */
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal(NULL);
	strlcpy(d->name, key.name, sizeof(d->name));
	TAILQ_INIT(&d->held);
	RB_INSERT(domain_tree, &b->domains, d);
	b->ndomains++;
	return (d);
}

void
domain_unref(struct backend *b, struct domain *d)
{
	d->refs--;
}

/* all: every domain no probe points at; else only expired ones. */
void
domain_prune(struct backend *b, int all)
{
	struct domain	*d, *next;
	uint64_t	 now = now_ms();

	for (d = RB_MIN(domain_tree, &b->domains); d != NULL; d = next) {
		next = RB_NEXT(domain_tree, &b->domains, d);
		if (d->refs > 0 || !TAILQ_EMPTY(&d->held))
			continue;
		if (!all && d->state != DOMAIN_NONE && now < d->expires)
			continue;
		RB_REMOVE(domain_tree, &b->domains, d);
		b->ndomains--;
		free(d);
	}
}
