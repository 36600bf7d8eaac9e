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
 * The engine's DNS answers.  One entry per question (kind, parent flag,
 * name) is both the lookup in flight and, once answered, the cached
 * answer until its TTL runs out: a question asked while its lookup is in
 * flight joins it, so identical lookups are merged.  libmilter's threads
 * wait on the entry's condition variable, bounded; the event thread
 * takes queued requests (dns_take), hands answers back (dns_done) and
 * runs the callbacks of dns_notify.  Entries are bounded in number
 * (oldest answers go first) and in lifetime (DNS_TTL_MAX).
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "log.h"
#include "dns.h"
#include "pending.h"

#define DNS_LOST_MARGIN	2	/* seconds past its timeout: lost */
#define DNS_WAIT_MARGIN	500	/* ms a waiter gives the prober's answer */

enum dns_state {
	DNS_QUEUED,		/* waits for the event thread */
	DNS_SENT,		/* with the prober */
	DNS_DONE		/* answered: cached until expires */
};

struct dns_notifier {
	SLIST_ENTRY(dns_notifier) entry;
	void			(*done)(void *, const struct dns_answer *);
	void			*arg;
};
SLIST_HEAD(dns_notifiers, dns_notifier);

struct dns_entry {
	RB_ENTRY(dns_entry)	 by_key;
	RB_ENTRY(dns_entry)	 by_id;
	TAILQ_ENTRY(dns_entry)	 queue;		/* DNS_QUEUED */
	TAILQ_ENTRY(dns_entry)	 lru;		/* DNS_DONE, in the key tree */
	pthread_cond_t		 cond;
	enum dns_kind		 kind;
	int			 flags;
	char			 name[HOSTNAME_LEN];
	uint32_t		 id;
	enum dns_state		 state;
	int			 in_keys;
	int			 in_ids;
	int			 waiters;
	time_t			 sent;		/* monotonic seconds */
	time_t			 expires;	/* monotonic seconds */
	struct dns_notifiers	 notifiers;
	struct dns_answer	 answer;	/* DNS_DONE */
};
RB_HEAD(dns_keys, dns_entry);
RB_HEAD(dns_ids, dns_entry);
TAILQ_HEAD(dns_queue, dns_entry);

static int	dns_key_cmp(struct dns_entry *, struct dns_entry *);
static int	dns_id_cmp(struct dns_entry *, struct dns_entry *);
RB_PROTOTYPE_STATIC(dns_keys, dns_entry, by_key, dns_key_cmp)
RB_PROTOTYPE_STATIC(dns_ids, dns_entry, by_id, dns_id_cmp)

static time_t	dns_now(void);
static int	dns_immediate(enum dns_kind, const char *, char *, size_t,
		    struct dns_answer *);
static struct dns_entry *dns_find(enum dns_kind, int, const char *, time_t);
static struct dns_entry *dns_new(enum dns_kind, int, const char *, int,
		    int *);
static struct dns_entry *dns_get(enum dns_kind, int, const char *, int *,
		    int *);
static void	dns_unkey(struct dns_entry *);
static void	dns_maybe_free(struct dns_entry *);
static int	dns_make_room(void);
static void	dns_answered(struct dns_entry *, const struct dns_answer *);
static void	dns_tempfail(struct dns_answer *, const char *);

/* Everything below is guarded by mtx. */
static pthread_mutex_t		 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_condattr_t	 condattr;
static struct dns_keys		 keys = RB_INITIALIZER(&keys);
static struct dns_ids		 ids = RB_INITIALIZER(&ids);
static struct dns_queue		 queue = TAILQ_HEAD_INITIALIZER(queue);
static struct dns_queue		 lru = TAILQ_HEAD_INITIALIZER(lru);
static size_t			 nkeys;
static uint32_t			 next_id = 1;
static uint32_t			 timeout_ms = DEFAULT_DNS_TIMEOUT * 1000;
static void			(*wake)(void);

/* Counters, atomic: read without mtx. */
static struct dns_stats		 stats;
#define STAT_INC(f)	__atomic_add_fetch(&stats.f, 1, __ATOMIC_RELAXED)
#define STAT_GET(f)	__atomic_load_n(&stats.f, __ATOMIC_RELAXED)

RB_GENERATE_STATIC(dns_keys, dns_entry, by_key, dns_key_cmp)
RB_GENERATE_STATIC(dns_ids, dns_entry, by_id, dns_id_cmp)

static int
dns_key_cmp(struct dns_entry *a, struct dns_entry *b)
{
	if (a->kind != b->kind)
		return (a->kind < b->kind ? -1 : 1);
	if (a->flags != b->flags)
		return (a->flags < b->flags ? -1 : 1);
	return (strcmp(a->name, b->name));
}

static int
dns_id_cmp(struct dns_entry *a, struct dns_entry *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static time_t
dns_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

void
dns_init(void (*wakefn)(void))
{
	wake = wakefn;
	/* Deadlines must not jump with the wall clock. */
	if (pthread_condattr_init(&condattr) != 0 ||
	    pthread_condattr_setclock(&condattr, CLOCK_MONOTONIC) != 0)
		fatalx("%s: pthread_condattr", __func__);
}

void
dns_configure(uint32_t timeout)
{
	pthread_mutex_lock(&mtx);
	timeout_ms = timeout * 1000;
	pthread_mutex_unlock(&mtx);
}

uint32_t
dns_wait_ms(const struct scamback_conf *conf)
{
	return (conf->dns_timeout * 1000 + DNS_WAIT_MARGIN);
}

/*
 * The name as a question: lowercase, no trailing dot.  Letters, digits
 * and hyphens (RFC 5321 sub-domain), no hyphen at either end of a label.
 */
int
dns_name_check(const char *in, char *out, size_t outlen,
    struct dns_addr *lit)
{
	struct dns_addr	 a;
	char		 buf[HOSTNAME_LEN];
	size_t		 len, i, label = 0;
	const char	*p;
	unsigned char	 c;

	len = strlen(in);
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		if (len - 2 >= sizeof(buf))
			return (DNS_NAME_BAD);
		memcpy(buf, in + 1, len - 2);
		buf[len - 2] = '\0';
		memset(&a, 0, sizeof(a));
		p = buf;
		if (strncasecmp(p, "IPv6:", 5) == 0) {
			a.af = AF_INET6;
			p += 5;
		} else
			a.af = AF_INET;
		if (inet_pton(a.af, p, &a.addr) != 1)
			return (DNS_NAME_BAD);
		if (lit != NULL)
			*lit = a;
		return (DNS_NAME_LITERAL);
	}
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= outlen)
		return (DNS_NAME_BAD);
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return (DNS_NAME_UTF8);
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c == '.') {
			if (label == 0 || in[i - 1] == '-')
				return (DNS_NAME_BAD);
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c >= 'A' && c <= 'Z') || (c == '-' && label > 0)) {
			if (++label > 63)
				return (DNS_NAME_BAD);
		} else
			return (DNS_NAME_BAD);
		out[i] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
	}
	if (label == 0 || in[len - 1] == '-')
		return (DNS_NAME_BAD);
	out[len] = '\0';
	return (DNS_NAME_OK);
}

const char *
dns_kind_name(enum dns_kind k)
{
	static const char	*names[] = { "resolvable", "mx", "ns" };

	return ((unsigned)k < sizeof(names) / sizeof(names[0]) ?
	    names[k] : "?");
}

const char *
dns_result_name(enum dns_result r)
{
	static const char	*names[] = { "ok", "nxdomain", "nodata",
				    "nullmx", "tempfail", "badname",
				    "unsupported" };

	return ((unsigned)r < sizeof(names) / sizeof(names[0]) ?
	    names[r] : "?");
}

static void
dns_tempfail(struct dns_answer *ans, const char *name)
{
	memset(ans, 0, sizeof(*ans));
	ans->result = DNS_TEMPFAIL;
	ans->ttl = DNS_TTL_TEMPFAIL;
	strlcpy(ans->name, name, sizeof(ans->name));
}

/*
 * A name that needs no lookup answers here: 1 and *ans filled.  Else 0
 * and the question's name in q.
 */
static int
dns_immediate(enum dns_kind kind, const char *name, char *q, size_t qlen,
    struct dns_answer *ans)
{
	struct dns_addr	lit;

	switch (dns_name_check(name, q, qlen, &lit)) {
	case DNS_NAME_OK:
		return (0);
	case DNS_NAME_LITERAL:
		memset(ans, 0, sizeof(*ans));
		strlcpy(ans->name, name, sizeof(ans->name));
		ans->ttl = DNS_TTL_MAX;
		if (kind == DNS_NS)
			ans->result = DNS_NODATA;
		else {
			ans->result = DNS_OK;
			ans->naddrs = 1;
			ans->addrs[0] = lit;
		}
		return (1);
	case DNS_NAME_UTF8:
		memset(ans, 0, sizeof(*ans));
		ans->result = DNS_UNSUPPORTED;
		return (1);
	default:
		memset(ans, 0, sizeof(*ans));
		ans->result = DNS_BADNAME;
		return (1);
	}
}

/* With mtx held: the live entry for a question, expired ones dropped. */
static struct dns_entry *
dns_find(enum dns_kind kind, int flags, const char *name, time_t now)
{
	struct dns_entry	 key, *e;

	key.kind = kind;
	key.flags = flags;
	strlcpy(key.name, name, sizeof(key.name));
	if ((e = RB_FIND(dns_keys, &keys, &key)) == NULL)
		return (NULL);
	if (e->state == DNS_DONE && e->expires <= now) {
		dns_unkey(e);
		dns_maybe_free(e);
		return (NULL);
	}
	return (e);
}

/*
 * With mtx held: a new lookup, queued for the event thread; in the key
 * tree unless fresh.  NULL when the cache is full of lookups in flight.
 * *first is set when the queue was empty: the event thread takes until
 * it is, so only then must it be woken.
 */
static struct dns_entry *
dns_new(enum dns_kind kind, int flags, const char *name, int fresh,
    int *first)
{
	struct dns_entry	*e;

	if (!fresh && !dns_make_room())
		return (NULL);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal(NULL);
	if (pthread_cond_init(&e->cond, &condattr) != 0)
		fatalx("%s: pthread_cond_init", __func__);
	e->kind = kind;
	e->flags = flags;
	strlcpy(e->name, name, sizeof(e->name));
	e->state = DNS_QUEUED;
	SLIST_INIT(&e->notifiers);
	/* Id 0 is never used: a zeroed answer matches nothing. */
	do {
		e->id = next_id++;
	} while (e->id == 0 || RB_INSERT(dns_ids, &ids, e) != NULL);
	e->in_ids = 1;
	if (!fresh) {
		RB_INSERT(dns_keys, &keys, e);
		e->in_keys = 1;
		nkeys++;
	}
	*first = TAILQ_EMPTY(&queue) && wake != NULL;
	TAILQ_INSERT_TAIL(&queue, e, queue);
	STAT_INC(sent);
	return (e);
}

/* With mtx held: out of the cache; freed once nobody holds it. */
static void
dns_unkey(struct dns_entry *e)
{
	if (!e->in_keys)
		return;
	RB_REMOVE(dns_keys, &keys, e);
	if (e->state == DNS_DONE)
		TAILQ_REMOVE(&lru, e, lru);
	e->in_keys = 0;
	nkeys--;
}

static void
dns_maybe_free(struct dns_entry *e)
{
	if (e->in_keys || e->in_ids || e->waiters > 0 ||
	    !SLIST_EMPTY(&e->notifiers))
		return;
	pthread_cond_destroy(&e->cond);
	free(e);
}

/* With mtx held: 1 when one more entry fits, the oldest answer evicted. */
static int
dns_make_room(void)
{
	struct dns_entry	*e;

	if (nkeys < DNS_CACHE_MAX)
		return (1);
	if ((e = TAILQ_FIRST(&lru)) == NULL)
		return (0);
	dns_unkey(e);
	dns_maybe_free(e);
	return (1);
}

/*
 * With mtx held: start the lookup unless cached or in flight.  Returns
 * the entry (cached or in flight), NULL when there is no room; *first is
 * set when the event thread must be woken.
 */
static struct dns_entry *
dns_get(enum dns_kind kind, int flags, const char *q, int *first, int *hit)
{
	struct dns_entry	*e;

	*first = *hit = 0;
	if ((e = dns_find(kind, flags, q, dns_now())) != NULL) {
		if (e->state == DNS_DONE) {
			*hit = 1;
			STAT_INC(hits);
		} else
			STAT_INC(merged);
		return (e);
	}
	return (dns_new(kind, flags, q, 0, first));
}

int
dns_lookup(enum dns_kind kind, int flags, const char *name, uint32_t ms,
    struct dns_answer *ans)
{
	struct dns_entry	*e;
	struct timespec		 deadline;
	char			 q[HOSTNAME_LEN];
	int			 first, hit, answered;

	STAT_INC(lookups);
	if (dns_immediate(kind, name, q, sizeof(q), ans))
		return (1);
	if (kind != DNS_RESOLVABLE)
		flags &= ~DNS_PARENT;
	flags &= DNS_PARENT;

	pending_deadline(&deadline, ms);

	pthread_mutex_lock(&mtx);
	if ((e = dns_get(kind, flags, q, &first, &hit)) == NULL) {
		pthread_mutex_unlock(&mtx);
		log_warnx("dns: %d lookups in flight, no room for %s",
		    DNS_CACHE_MAX, q);
		dns_tempfail(ans, q);
		STAT_INC(tempfail);
		return (1);
	}
	if (hit) {
		*ans = e->answer;
		pthread_mutex_unlock(&mtx);
		return (1);
	}
	if (ms == 0) {
		pthread_mutex_unlock(&mtx);
		if (first)
			wake();
		dns_tempfail(ans, q);
		return (0);
	}
	e->waiters++;
	pthread_mutex_unlock(&mtx);

	if (first)
		wake();

	pthread_mutex_lock(&mtx);
	while (e->state != DNS_DONE)
		if (pthread_cond_timedwait(&e->cond, &mtx, &deadline) ==
		    ETIMEDOUT)
			break;
	if ((answered = e->state == DNS_DONE))
		*ans = e->answer;
	e->waiters--;
	dns_maybe_free(e);
	pthread_mutex_unlock(&mtx);
	if (!answered) {
		STAT_INC(timed_out);
		dns_tempfail(ans, q);
	}
	return (answered);
}

void
dns_prefetch(enum dns_kind kind, int flags, const char *name)
{
	struct dns_answer	ans;

	(void)dns_lookup(kind, flags, name, 0, &ans);
}

void
dns_notify(enum dns_kind kind, int flags, const char *name,
    void (*done)(void *, const struct dns_answer *), void *arg)
{
	struct dns_entry	*e;
	struct dns_notifier	*n;
	struct dns_answer	 ans;
	char			 q[HOSTNAME_LEN];
	int			 first = 0, hit = 0;

	STAT_INC(lookups);
	if (dns_immediate(kind, name, q, sizeof(q), &ans)) {
		done(arg, &ans);
		return;
	}
	if (kind != DNS_RESOLVABLE)
		flags &= ~DNS_PARENT;

	pthread_mutex_lock(&mtx);
	if (flags & DNS_FRESH)
		e = dns_new(kind, flags & DNS_PARENT, q, 1, &first);
	else
		e = dns_get(kind, flags & DNS_PARENT, q, &first, &hit);
	if (e == NULL || hit) {
		if (e != NULL)
			ans = e->answer;
		else
			dns_tempfail(&ans, q);
		pthread_mutex_unlock(&mtx);
		done(arg, &ans);
		return;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal(NULL);
	n->done = done;
	n->arg = arg;
	SLIST_INSERT_HEAD(&e->notifiers, n, entry);
	pthread_mutex_unlock(&mtx);
	if (first)
		wake();
}

int
dns_take(struct dns_req *req)
{
	struct dns_entry	*e;

	pthread_mutex_lock(&mtx);
	if ((e = TAILQ_FIRST(&queue)) == NULL) {
		pthread_mutex_unlock(&mtx);
		return (0);
	}
	TAILQ_REMOVE(&queue, e, queue);
	e->state = DNS_SENT;
	e->sent = dns_now();
	memset(req, 0, sizeof(*req));
	req->id = e->id;
	req->kind = e->kind;
	req->flags = e->flags;
	req->timeout_ms = timeout_ms;
	strlcpy(req->name, e->name, sizeof(req->name));
	pthread_mutex_unlock(&mtx);
	return (1);
}

/*
 * Event thread, mtx not held: the entry answered, waiters woken, then
 * the notifiers called without the lock (they may ask again).
 */
static void
dns_answered(struct dns_entry *e, const struct dns_answer *ans)
{
	struct dns_notifiers	 ns;
	struct dns_notifier	*n;
	struct dns_entry	*old;
	struct dns_answer	 copy;
	uint32_t		 ttl;

	pthread_mutex_lock(&mtx);
	if (e->in_ids) {
		RB_REMOVE(dns_ids, &ids, e);
		e->in_ids = 0;
	}
	if (e->state == DNS_QUEUED)
		TAILQ_REMOVE(&queue, e, queue);
	e->answer = *ans;
	ttl = ans->ttl > DNS_TTL_MAX ? DNS_TTL_MAX : ans->ttl;
	if (ans->result == DNS_TEMPFAIL && ttl > DNS_TTL_TEMPFAIL)
		ttl = DNS_TTL_TEMPFAIL;
	e->answer.ttl = ttl;
	e->expires = dns_now() + ttl;
	e->state = DNS_DONE;
	if (ans->result == DNS_TEMPFAIL)
		STAT_INC(tempfail);
	/* A fresh answer replaces a cached one, not a lookup in flight. */
	if (!e->in_keys && ttl > 0) {
		if ((old = RB_FIND(dns_keys, &keys, e)) != NULL &&
		    old->state == DNS_DONE) {
			dns_unkey(old);
			dns_maybe_free(old);
			old = NULL;
		}
		if (old == NULL && dns_make_room()) {
			RB_INSERT(dns_keys, &keys, e);
			e->in_keys = 1;
			nkeys++;
		}
	}
	if (e->in_keys)
		TAILQ_INSERT_TAIL(&lru, e, lru);
	pthread_cond_broadcast(&e->cond);
	ns = e->notifiers;
	SLIST_INIT(&e->notifiers);
	copy = e->answer;
	dns_maybe_free(e);
	pthread_mutex_unlock(&mtx);

	while ((n = SLIST_FIRST(&ns)) != NULL) {
		SLIST_REMOVE_HEAD(&ns, entry);
		n->done(n->arg, &copy);
		free(n);
	}
}

int
dns_done(const struct dns_res *res)
{
	struct dns_entry	 key, *e;

	pthread_mutex_lock(&mtx);
	key.id = res->id;
	e = RB_FIND(dns_ids, &ids, &key);
	pthread_mutex_unlock(&mtx);
	if (e == NULL)
		return (0);
	/* Only the event thread takes entries out of ids: e stays valid. */
	dns_answered(e, &res->answer);
	return (1);
}

size_t
dns_sweep(void)
{
	struct dns_entry	*e, *lost[64];
	struct dns_answer	 ans;
	time_t			 before;
	size_t			 i, n = 0;

	pthread_mutex_lock(&mtx);
	before = dns_now() - timeout_ms / 1000 - DNS_LOST_MARGIN;
	RB_FOREACH(e, dns_ids, &ids) {
		if (n == sizeof(lost) / sizeof(lost[0]))
			break;
		if (e->state == DNS_SENT && e->sent < before)
			lost[n++] = e;
	}
	pthread_mutex_unlock(&mtx);
	for (i = 0; i < n; i++) {
		log_warnx("dns: lookup %u (%s %s) had no answer from the "
		    "prober", lost[i]->id, dns_kind_name(lost[i]->kind),
		    lost[i]->name);
		dns_tempfail(&ans, lost[i]->name);
		dns_answered(lost[i], &ans);
	}
	return (n);
}

/*
 * A new prober (restarted by a reload) knows nothing of the lookups the
 * old one had: they go to it again.
 */
size_t
dns_requeue(void)
{
	struct dns_entry	*e;
	size_t			 n = 0;

	pthread_mutex_lock(&mtx);
	RB_FOREACH(e, dns_ids, &ids)
		if (e->state == DNS_SENT) {
			e->state = DNS_QUEUED;
			TAILQ_INSERT_TAIL(&queue, e, queue);
			n++;
		}
	pthread_mutex_unlock(&mtx);
	return (n);
}

size_t
dns_expire(void)
{
	struct dns_entry	*e, *next;
	time_t			 now = dns_now();
	size_t			 n = 0;

	pthread_mutex_lock(&mtx);
	for (e = TAILQ_FIRST(&lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->expires > now)
			continue;
		dns_unkey(e);
		dns_maybe_free(e);
		n++;
	}
	pthread_mutex_unlock(&mtx);
	return (n);
}

/* Other resolvers may answer otherwise: forget every answer. */
void
dns_flush(void)
{
	struct dns_entry	*e;

	pthread_mutex_lock(&mtx);
	while ((e = TAILQ_FIRST(&lru)) != NULL) {
		dns_unkey(e);
		dns_maybe_free(e);
	}
	pthread_mutex_unlock(&mtx);
}

void
dns_get_stats(struct dns_stats *s)
{
	s->lookups = STAT_GET(lookups);
	s->hits = STAT_GET(hits);
	s->merged = STAT_GET(merged);
	s->sent = STAT_GET(sent);
	s->tempfail = STAT_GET(tempfail);
	s->timed_out = STAT_GET(timed_out);
	pthread_mutex_lock(&mtx);
	s->entries = nkeys;
	pthread_mutex_unlock(&mtx);
}

/*
 * An answer from another process: strings ended, counts within bounds,
 * a known result.  0 when it cannot be made sane.
 */
int
dns_answer_sane(struct dns_answer *ans)
{
	uint32_t	i;

	switch (ans->result) {
	case DNS_OK:
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_NULLMX:
	case DNS_TEMPFAIL:
		break;
	default:
		return (0);
	}
	if (ans->naddrs > DNS_ADDRS_MAX || ans->nnames > DNS_NAMES_MAX)
		return (0);
	for (i = 0; i < ans->naddrs; i++)
		if (ans->addrs[i].af != AF_INET && ans->addrs[i].af != AF_INET6)
			return (0);
	ans->name[sizeof(ans->name) - 1] = '\0';
	for (i = 0; i < ans->nnames; i++)
		ans->names[i][sizeof(ans->names[i]) - 1] = '\0';
	return (1);
}
