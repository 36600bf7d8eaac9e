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
 * Probes in flight.  A RCPT that misses the cache registers a pending
 * probe for its address, or joins the one already registered, so that
 * concurrent misses make one probe; it then waits on the probe's
 * condition variable until the answer or its deadline.  The event thread
 * takes queued probes with pending_take() and reports answers with
 * pending_done(), which fills the cache first and only then removes the
 * probe from the address tree and wakes the waiters: a RCPT that finds no
 * probe pending for its address is sure to find the answer in the cache,
 * because it looks again under the same lock.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "log.h"
#include "cache.h"
#include "pending.h"

enum pending_state {
	PENDING_QUEUED,		/* waits for the event thread */
	PENDING_SENT,		/* with the prober */
	PENDING_DONE		/* answered; waiters read the verdict */
};

struct pending {
	RB_ENTRY(pending)	 by_addr;
	RB_ENTRY(pending)	 by_id;
	TAILQ_ENTRY(pending)	 queue;
	pthread_cond_t		 cond;
	uint32_t		 id;
	uint32_t		 backend_id;
	enum pending_state	 state;
	int			 in_addr_tree;
	int			 waiters;
	enum verdict		 verdict;
	int			 shortcut;	/* the prober knew */
	char			 why[PENDING_WHY_LEN];	/* of unknown */
	int			 shared;	/* the store's verdict */
	time_t			 sent;
	void			*checkarg;	/* NULL: a RCPT probe */
	char			 backend[NAME_LEN];
	char			 address[ADDR_LEN];
};
RB_HEAD(pending_addrs, pending);
RB_HEAD(pending_ids, pending);
TAILQ_HEAD(pending_queue, pending);

static int	pending_addr_cmp(struct pending *, struct pending *);
static int	pending_id_cmp(struct pending *, struct pending *);
RB_PROTOTYPE_STATIC(pending_addrs, pending, by_addr, pending_addr_cmp)
RB_PROTOTYPE_STATIC(pending_ids, pending, by_id, pending_id_cmp)

static struct pending *pending_new(const char *, uint32_t, const char *);
static void	pending_free(struct pending *);

/* Everything below is guarded by mtx. */
static pthread_mutex_t		 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_condattr_t	 condattr;
static struct pending_addrs	 addrs = RB_INITIALIZER(&addrs);
static struct pending_ids	 ids = RB_INITIALIZER(&ids);
static struct pending_queue	 queue = TAILQ_HEAD_INITIALIZER(queue);
static uint32_t			 next_id = 1;
static uint64_t			 count;

static struct cache		*cache;
static void			(*wake)(void);

RB_GENERATE_STATIC(pending_addrs, pending, by_addr, pending_addr_cmp)
RB_GENERATE_STATIC(pending_ids, pending, by_id, pending_id_cmp)

static int
pending_addr_cmp(struct pending *a, struct pending *b)
{
	return (strcmp(a->address, b->address));
}

static int
pending_id_cmp(struct pending *a, struct pending *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

void
pending_init(struct cache *c, void (*wakefn)(void))
{
	cache = c;
	wake = wakefn;
	/* Deadlines must not jump with the wall clock. */
	if (pthread_condattr_init(&condattr) != 0 ||
	    pthread_condattr_setclock(&condattr, CLOCK_MONOTONIC) != 0)
		fatalx("%s: pthread_condattr", __func__);
}

/* With mtx held: a new probe, queued for the event thread. */
static struct pending *
pending_new(const char *address, uint32_t backend_id, const char *backend)
{
	struct pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal(NULL);
	if (pthread_cond_init(&p->cond, &condattr) != 0)
		fatalx("%s: pthread_cond_init", __func__);
	strlcpy(p->address, address, sizeof(p->address));
	p->backend_id = backend_id;
	strlcpy(p->backend, backend, sizeof(p->backend));
	p->state = PENDING_QUEUED;
	p->verdict = VERDICT_UNKNOWN;
	/* Id 0 is never used: a zeroed answer matches nothing. */
	do {
		p->id = next_id++;
	} while (p->id == 0 || RB_INSERT(pending_ids, &ids, p) != NULL);
	TAILQ_INSERT_TAIL(&queue, p, queue);
	count++;
	return (p);
}

/* With mtx held. */
static void
pending_free(struct pending *p)
{
	pthread_cond_destroy(&p->cond);
	count--;
	free(p);
}

/*
 * ms milliseconds from now on the monotonic clock, for a condition
 * variable made with it: the wall clock may jump meanwhile.
 */
void
pending_deadline(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/*
 * Wait for the verdict on an address that missed the cache, at most ms
 * milliseconds.  A timed-out wait leaves the probe running: its answer
 * still fills the cache.
 */
enum verdict
pending_wait(const char *address, uint32_t backend_id, const char *backend,
    uint32_t ms, enum pending_source *source, char *why)
{
	struct pending		 key, *p;
	struct timespec		 deadline;
	enum verdict		 v;
	int			 started = 0, first = 0;

	why[0] = '\0';
	pending_deadline(&deadline, ms);

	pthread_mutex_lock(&mtx);
	if (cache_lookup(cache, address, time(NULL), &v)) {
		pthread_mutex_unlock(&mtx);
		*source = SOURCE_CACHE;
		return (v);
	}
	strlcpy(key.address, address, sizeof(key.address));
	if ((p = RB_FIND(pending_addrs, &addrs, &key)) == NULL) {
		/*
		 * The event thread takes until the queue is empty: only a
		 * probe that finds it empty needs to wake it.
		 */
		first = TAILQ_EMPTY(&queue);
		p = pending_new(address, backend_id, backend);
		RB_INSERT(pending_addrs, &addrs, p);
		p->in_addr_tree = 1;
		started = 1;
	}
	*source = started ? SOURCE_PROBE : SOURCE_COALESCED;
	p->waiters++;
	pthread_mutex_unlock(&mtx);

	if (first && wake != NULL)
		wake();

	pthread_mutex_lock(&mtx);
	while (p->state != PENDING_DONE)
		if (pthread_cond_timedwait(&p->cond, &mtx, &deadline) ==
		    ETIMEDOUT)
			break;
	if (p->state == PENDING_DONE) {
		v = p->verdict;
		strlcpy(why, p->why, PENDING_WHY_LEN);
		if (p->shortcut)
			*source = SOURCE_CATCHALL;
		else if (started && p->shared)
			*source = SOURCE_SHARED;
	} else {
		v = VERDICT_UNKNOWN;
		*source = SOURCE_TIMEOUT;
		snprintf(why, PENDING_WHY_LEN, "no answer within %u ms", ms);
	}
	/* The last waiter of an answered probe frees it. */
	if (--p->waiters == 0 && p->state == PENDING_DONE)
		pending_free(p);
	pthread_mutex_unlock(&mtx);
	return (v);
}

void
pending_check(const char *address, uint32_t backend_id, const char *backend,
    void *arg)
{
	struct pending	*p;

	pthread_mutex_lock(&mtx);
	p = pending_new(address, backend_id, backend);
	p->checkarg = arg;
	pthread_mutex_unlock(&mtx);
}

int
pending_take(struct probe_req *req)
{
	struct pending	*p;

	pthread_mutex_lock(&mtx);
	if ((p = TAILQ_FIRST(&queue)) == NULL) {
		pthread_mutex_unlock(&mtx);
		return (0);
	}
	TAILQ_REMOVE(&queue, p, queue);
	p->state = PENDING_SENT;
	p->sent = time(NULL);
	memset(req, 0, sizeof(*req));
	req->id = p->id;
	req->backend_id = p->backend_id;
	req->bypass = p->checkarg != NULL;
	strlcpy(req->address, p->address, sizeof(req->address));
	strlcpy(req->backend, p->backend, sizeof(req->backend));
	pthread_mutex_unlock(&mtx);
	return (1);
}

int
pending_done(const struct probe_res *res, uint32_t valid_expire,
    uint32_t invalid_expire, void **checkarg)
{
	struct pending	 key, *p;
	time_t		 now = time(NULL);

	*checkarg = NULL;
	pthread_mutex_lock(&mtx);
	key.id = res->id;
	p = RB_FIND(pending_ids, &ids, &key);
	pthread_mutex_unlock(&mtx);
	if (p == NULL)
		return (0);

	/*
	 * Only the event thread removes probes: p stays valid meanwhile.
	 * The shared store's verdicts live as long as they have left there.
	 */
	if (res->verdict == VERDICT_VALID)
		cache_put(cache, p->address, VERDICT_VALID, now +
		    (res->expire > 0 ? res->expire : valid_expire));
	else if (res->verdict == VERDICT_INVALID)
		cache_put(cache, p->address, VERDICT_INVALID, now +
		    (res->expire > 0 ? res->expire : invalid_expire));

	pthread_mutex_lock(&mtx);
	RB_REMOVE(pending_ids, &ids, p);
	if (p->in_addr_tree) {
		RB_REMOVE(pending_addrs, &addrs, p);
		p->in_addr_tree = 0;
	}
	if (p->state == PENDING_QUEUED)
		TAILQ_REMOVE(&queue, p, queue);
	p->state = PENDING_DONE;
	p->verdict = res->verdict;
	p->shortcut = res->shortcut;
	/* The backend's reply, or what stood in its way. */
	if (res->verdict == VERDICT_UNKNOWN && res->code != 0) {
		/* Cut to fit: a reply's start says what it is. */
		(void)snprintf(p->why, sizeof(p->why), "%d%s%s ", res->code,
		    res->enhanced[0] != '\0' ? " " : "", res->enhanced);
		strlcat(p->why, res->text, sizeof(p->why));
	} else if (res->verdict == VERDICT_UNKNOWN)
		strlcpy(p->why, res->text[0] != '\0' ? res->text :
		    "no reason given", sizeof(p->why));
	p->shared = res->shared;
	*checkarg = p->checkarg;
	pthread_cond_broadcast(&p->cond);
	if (p->waiters == 0)
		pending_free(p);
	pthread_mutex_unlock(&mtx);
	return (1);
}

size_t
pending_lost(time_t before, uint32_t *lost, size_t max)
{
	struct pending	*p;
	size_t		 n = 0;

	pthread_mutex_lock(&mtx);
	RB_FOREACH(p, pending_ids, &ids) {
		if (n == max)
			break;
		if (p->state == PENDING_SENT && p->sent < before)
			lost[n++] = p->id;
	}
	pthread_mutex_unlock(&mtx);
	return (n);
}

/*
 * A new prober (restarted by a reload) knows nothing of the probes the
 * old one had: they go to it again, and their waiters go on waiting.
 */
size_t
pending_requeue(void)
{
	struct pending	*p;
	size_t		 n = 0;

	pthread_mutex_lock(&mtx);
	RB_FOREACH(p, pending_ids, &ids)
		if (p->state == PENDING_SENT) {
			p->state = PENDING_QUEUED;
			TAILQ_INSERT_TAIL(&queue, p, queue);
			n++;
		}
	pthread_mutex_unlock(&mtx);
	return (n);
}

uint64_t
pending_count(void)
{
	uint64_t	n;

	pthread_mutex_lock(&mtx);
	n = count;
	pthread_mutex_unlock(&mtx);
	return (n);
}

const char *
pending_source_name(enum pending_source s)
{
	switch (s) {
	case SOURCE_CACHE:
		return ("cache");
	case SOURCE_PROBE:
		return ("probe");
	case SOURCE_COALESCED:
		return ("coalesced");
	case SOURCE_SHARED:
		return ("shared");
	case SOURCE_TIMEOUT:
		return ("timeout");
	case SOURCE_CATCHALL:
		return ("catchall");
	}
	return ("?");
}
