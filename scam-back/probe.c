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
 * The prober's probes: asking the shared store, queued on their backend,
 * in flight on a session or held while their domain's catch-all check
 * runs, and answered once, by their deadline at the latest, through the
 * function probe_init() was given.  Catch-all detection: a random local
 * part is probed first; accepted, the domain takes any recipient.  What a
 * backend answers goes to the shared store too.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#include "printable.h"

static void	probe_free(struct probe *);
static void	probe_deadline(int, short, void *);
static void	domain_detected(struct backend *, struct domain *,
		    struct probe_res *);

/* Where answers go: prober.c, to the engine. */
static void	(*probe_answer_cb)(struct probe_res *);

/* answer: where each probe's result goes, once. */
void
probe_init(void (*answer)(struct probe_res *))
{
	probe_answer_cb = answer;
}

struct probe *
probe_new(struct backend *b, uint32_t id, const char *address)
{
	struct probe	*p;
	struct timeval	 tv;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal(NULL);
	p->backend = b;
	p->id = id;
	p->start = now_ms();
	strlcpy(p->address, address, sizeof(p->address));
	/* Within the engine's wait: connect + 2 replies (+ 1 s margin). */
	tv.tv_sec = prober_conf->timeout_connect +
	    2 * prober_conf->timeout_reply;
	tv.tv_usec = 0;
	evtimer_set(&p->deadline, probe_deadline, p);
	evtimer_add(&p->deadline, &tv);
	return (p);
}

void
probe_enqueue(struct probe *p, int head)
{
	struct backend	*b = p->backend;
	char		 text[REPLY_TEXT_LEN];

	if (b->nqueued >= PROBER_QUEUE_MAX) {
		textf(text, sizeof(text), "backend %s: %d probes waiting "
		    "already", b->conf.name, PROBER_QUEUE_MAX);
		probe_unknown(p, text);
		return;
	}
	p->where = PROBE_QUEUED;
	if (head)
		TAILQ_INSERT_HEAD(&b->queue, p, entry);
	else
		TAILQ_INSERT_TAIL(&b->queue, p, entry);
	b->nqueued++;
	if (p->internal)
		b->nqueued_internal++;
}

void
probe_unlink(struct probe *p)
{
	switch (p->where) {
	case PROBE_QUEUED:
		TAILQ_REMOVE(&p->backend->queue, p, entry);
		p->backend->nqueued--;
		if (p->internal)
			p->backend->nqueued_internal--;
		break;
	case PROBE_INFLIGHT:
		TAILQ_REMOVE(&p->session->probes, p, entry);
		smtp_forget(&p->session->smtp, p);
		p->session = NULL;
		break;
	case PROBE_HELD:
		TAILQ_REMOVE(&p->domain->held, p, entry);
		break;
	case PROBE_SHARED:
		store_cancel(p->lookup);
		p->lookup = NULL;
		p->backend->nshared--;
		break;
	case PROBE_NOWHERE:
		break;
	}
	p->where = PROBE_NOWHERE;
}

/* A result for a probe: hold it while its domain is being checked. */
void
probe_done(struct probe *p, struct probe_res *res)
{
	struct domain	*d = p->domain;

	probe_unlink(p);
	if (p->internal) {
		domain_detected(p->backend, d, res);
		probe_free(p);
		return;
	}
	if (d != NULL && d->state == DOMAIN_CHECKING) {
		p->res = *res;
		p->has_res = 1;
		p->where = PROBE_HELD;
		TAILQ_INSERT_TAIL(&d->held, p, entry);
		return;
	}
	if (d != NULL && d->state == DOMAIN_CATCHALL)
		res->catchall = 1;
	probe_answer(p, res);
}

/*
 * The answer of a backend (or of what this gateway knows of the domain).
 * What a backend said goes to the shared store too; any answer frees the
 * other gateways waiting on this one's lock.
 */
void
probe_answer(struct probe *p, struct probe_res *res)
{
	struct backend	*b = p->backend;
	uint64_t	 ms = now_ms() - p->start;
	char		 abuf[ADDR_LEN];

	probe_unlink(p);
	if (p->internal) {
		probe_free(p);
		return;
	}
	if (p->locked || (p->asked && res->verdict != VERDICT_UNKNOWN))
		store_verdict(p->address, p->asked ? res->verdict :
		    VERDICT_UNKNOWN, res->verdict == VERDICT_VALID ?
		    prober_conf->valid_expire : prober_conf->invalid_expire);
	res->id = p->id;
	probe_answer_cb(res);

	/* What the prober knew already is no probe of the backend. */
	if (res->shortcut)
		b->fig.shortcuts++;
	else {
		b->fig.latency[b->fig.probes % PROBER_LATENCIES] = ms;
		b->fig.latency_sum += ms;
		b->fig.probes++;
	}
	switch (res->verdict) {
	case VERDICT_VALID:
		b->fig.valid++;
		break;
	case VERDICT_INVALID:
		b->fig.invalid++;
		break;
	default:
		b->fig.unknown++;
		break;
	}
	log_debug("probe %s backend %s: %s %d %s \"%s\"%s%s %llu ms",
	    printable(p->address, abuf, sizeof(abuf)), b->conf.name,
	    res->verdict == VERDICT_VALID ? "valid" :
	    res->verdict == VERDICT_INVALID ? "invalid" : "unknown",
	    res->code, res->enhanced, res->text,
	    res->catchall ? " catch-all" : "",
	    res->shortcut ? " (known, not asked)" : "",
	    (unsigned long long)ms);
	probe_free(p);
}

/* The shared store's verdict: to the engine, no probe of the backend. */
void
probe_shared(struct probe *p, struct probe_res *res)
{
	char	abuf[ADDR_LEN];

	probe_unlink(p);
	res->id = p->id;
	res->shared = 1;
	probe_answer_cb(res);
	log_debug("probe %s: %s from the shared store, %u s left",
	    printable(p->address, abuf, sizeof(abuf)),
	    res->verdict == VERDICT_VALID ? "valid" : "invalid", res->expire);
	probe_free(p);
}

void
probe_unknown(struct probe *p, const char *text)
{
	struct probe_res	res;

	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_UNKNOWN;
	strlcpy(res.text, text, sizeof(res.text));
	probe_done(p, &res);
}

static void
probe_free(struct probe *p)
{
	if (p->where == PROBE_SHARED)
		probe_unlink(p);
	evtimer_del(&p->deadline);
	if (p->domain != NULL)
		domain_unref(p->backend, p->domain);
	free(p);
}

/* The engine will not wait longer: answer with what there is. */
static void
probe_deadline(int fd, short event, void *arg)
{
	struct probe	*p = arg;
	struct backend	*b = p->backend;
	char		 text[REPLY_TEXT_LEN];

	if (p->has_res) {
		probe_answer(p, &p->res);
		return;
	}
	if (p->where == PROBE_INFLIGHT)
		textf(text, sizeof(text), "%s: no reply to RCPT TO in time",
		    p->session->peer);
	else if (p->where == PROBE_SHARED)
		textf(text, sizeof(text), "no verdict in time from the "
		    "shared store or the gateway that probes it");
	else
		textf(text, sizeof(text), "backend %s: no session in time "
		    "(%u s)", b->conf.name, prober_conf->timeout_connect +
		    2 * prober_conf->timeout_reply);
	if (p->domain != NULL && p->domain->state == DOMAIN_CHECKING &&
	    !p->internal) {
		/* Do not wait for the catch-all check either. */
		probe_unlink(p);
		domain_unref(b, p->domain);
		p->domain = NULL;
	}
	probe_unknown(p, text);
	backend_maybe_free(b);
}

/*
 * The random local part was answered.  Accepted: the domain takes any
 * recipient, for the valid lifetime.  Refused: per-address answers mean
 * something, for as long.  Unknown: nothing learnt, check again next time.
 */
static void
domain_detected(struct backend *b, struct domain *d, struct probe_res *res)
{
	struct probe		*p;
	struct probe_res	 r;
	uint64_t		 life = (uint64_t)prober_conf->valid_expire *
	    1000;
	char			 dbuf[HOSTNAME_LEN];

	switch (res->verdict) {
	case VERDICT_VALID:
		d->state = DOMAIN_CATCHALL;
		d->expires = now_ms() + life;
		d->code = res->code;
		strlcpy(d->enhanced, res->enhanced, sizeof(d->enhanced));
		textf(d->text, sizeof(d->text), "domain %s accepts any "
		    "recipient", printable(d->name, dbuf, sizeof(dbuf)));
		if (!d->logged)
			log_info("backend %s: domain %s accepts any recipient "
			    "(%d %s %s)", b->conf.name,
			    printable(d->name, dbuf, sizeof(dbuf)), res->code,
			    res->enhanced, res->text);
		d->logged = 1;
		break;
	case VERDICT_INVALID:
		d->state = DOMAIN_NORMAL;
		d->expires = now_ms() + life;
		if (d->logged)
			log_info("backend %s: domain %s no longer accepts any "
			    "recipient", b->conf.name,
			    printable(d->name, dbuf, sizeof(dbuf)));
		d->logged = 0;
		break;
	default:
		d->state = DOMAIN_NONE;
		log_debug("backend %s: catch-all check of %s: %s",
		    b->conf.name, printable(d->name, dbuf, sizeof(dbuf)),
		    res->text);
		break;
	}
	/* Shared, or at least the other gateways stop waiting for it. */
	store_domain(d->name, res->verdict, prober_conf->valid_expire);

	while ((p = TAILQ_FIRST(&d->held)) != NULL) {
		r = p->res;
		if (d->state == DOMAIN_CATCHALL)
			r.catchall = 1;
		probe_answer(p, &r);
	}
}

/* Answer unknown every queued probe. */
void
probe_fail_queue(struct backend *b, const char *text)
{
	struct probe	*p;

	while ((p = TAILQ_FIRST(&b->queue)) != NULL)
		probe_unknown(p, text);
	backend_maybe_free(b);
}
