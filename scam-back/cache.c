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
 * The recipient cache.  The table is split into shards, each with its own
 * mutex, hash buckets and LRU list, so that libmilter's threads looking up
 * different addresses rarely wait for each other.  The size limit is
 * global; when it is passed the shard being written gives up its least
 * recently used entry, which approximates a global LRU closely enough for
 * a large cache (a small cache has one shard and an exact LRU).
 *
 * An entry is one allocation holding its key, a few words of links and
 * the expiry as 32-bit UNIX time, to stay well below SPEC section 9's
 * 120 bytes per entry.  Bucket arrays only grow (doubling), which lets a
 * walk in slices use the reverse-binary cursor of Redis' SCAN and see
 * every entry that stays in the cache exactly once.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <pthread.h>
#include <siphash.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "log.h"
#include "cache.h"

#define CACHE_SHARDS_SMALL	1
#define CACHE_SHARDS_LARGE	64	/* a power of two */
#define CACHE_LARGE		4096	/* entries from which to shard */
#define CACHE_MIN_BUCKETS	16
#define WALK_CHUNK		64	/* entries copied under one lock */
#define WALK_KEYS		(WALK_CHUNK * 64) /* octets of their keys */

struct centry {
	struct centry		*hnext;		/* bucket chain */
	TAILQ_ENTRY(centry)	 lru;		/* head: most recently used */
	uint32_t		 hash;
	uint32_t		 expires;	/* UNIX time, saturated */
	uint32_t		 hits;
	uint8_t			 state;		/* enum verdict */
	char			 key[];
};
TAILQ_HEAD(centry_list, centry);

struct shard {
	pthread_mutex_t		 lock;
	struct centry		**buckets;
	uint32_t		 nbuckets;	/* a power of two */
	uint32_t		 count;
	struct centry_list	 lru;
};

struct cache {
	struct shard		*shards;
	uint32_t		 nshards;	/* a power of two */
	uint32_t		 size;		/* most entries, >= 1 */
	uint64_t		 count;		/* atomic */
	SIPHASH_KEY		 key;	/* addresses come from strangers */
};

/* What cache_flush() and cache_filter() hand to cache_remove(). */
struct flush_filter {
	enum ctl_state_filter	 state;
	const char		*match;
};

struct filter_keep {
	int			(*keep)(const char *, void *);
	void			*arg;
};

static uint32_t	 cache_hash(const struct cache *, const char *, size_t);
static uint32_t	 cache_time(time_t);
static struct shard *cache_shard(struct cache *, uint32_t);
static struct centry **shard_find(struct shard *, const char *, uint32_t);
static void	 shard_unlink(struct cache *, struct shard *, struct centry *);
static void	 shard_grow(struct shard *);
static void	 shard_rehash(struct shard *, uint32_t);
static int	 shard_evict_one(struct cache *, struct shard *);
static void	 cache_shrink_to_size(struct cache *, struct shard *);
static size_t	 cache_remove(struct cache *,
		    int (*)(const struct centry *, void *), void *);
static int	 flush_gone(const struct centry *, void *);
static int	 filter_gone(const struct centry *, void *);
static int	 expire_gone(const struct centry *, void *);
static void	 walk_copy(struct cache_info *, size_t *, char *, size_t *,
		    const struct centry *);
static uint32_t	 bitrev32(uint32_t);

struct cache *
cache_new(uint32_t size)
{
	struct cache	*c;
	struct shard	*s;
	uint32_t	 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal(NULL);
	c->size = size > 0 ? size : 1;
	c->nshards = c->size >= CACHE_LARGE ? CACHE_SHARDS_LARGE :
	    CACHE_SHARDS_SMALL;
	if ((c->shards = calloc(c->nshards, sizeof(*c->shards))) == NULL)
		fatal(NULL);
	arc4random_buf(&c->key, sizeof(c->key));
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		if (pthread_mutex_init(&s->lock, NULL) != 0)
			fatalx("%s: pthread_mutex_init", __func__);
		s->nbuckets = CACHE_MIN_BUCKETS;
		if ((s->buckets = calloc(s->nbuckets,
		    sizeof(*s->buckets))) == NULL)
			fatal(NULL);
		TAILQ_INIT(&s->lru);
	}
	return (c);
}

void
cache_free(struct cache *c)
{
	struct shard	*s;
	struct centry	*e;
	uint32_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		while ((e = TAILQ_FIRST(&s->lru)) != NULL) {
			TAILQ_REMOVE(&s->lru, e, lru);
			free(e);
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(c->shards);
	free(c);
}

/*
 * Room for n entries (at most the size) without growing: a load that
 * knows about how many are coming spares the table its doublings, each
 * of which visits every entry again.  The buckets are those the entries
 * would have grown to.
 */
void
cache_reserve(struct cache *c, uint32_t n)
{
	struct shard	*s;
	uint32_t	 i, per, want;

	if (n > c->size)
		n = c->size;
	per = n / c->nshards;
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		/* What growth would reach: nbuckets >= count. */
		for (want = s->nbuckets; want < per && want <= UINT32_MAX / 2;
		    want *= 2)
			;
		if (want > s->nbuckets)
			shard_rehash(s, want);
		pthread_mutex_unlock(&s->lock);
	}
}

/* A new limit; the least recently used entries go if there are too many. */
void
cache_resize(struct cache *c, uint32_t size)
{
	__atomic_store_n(&c->size, size > 0 ? size : 1, __ATOMIC_RELAXED);
	cache_shrink_to_size(c, NULL);
}

size_t
cache_count(struct cache *c)
{
	return ((size_t)__atomic_load_n(&c->count, __ATOMIC_RELAXED));
}

int
cache_lookup(struct cache *c, const char *address, time_t now,
    enum verdict *state)
{
	struct shard	*s;
	struct centry	**ep, *e;
	uint32_t	 h;
	int		 found = 0;

	h = cache_hash(c, address, strlen(address));
	s = cache_shard(c, h);
	pthread_mutex_lock(&s->lock);
	if ((ep = shard_find(s, address, h)) != NULL) {
		e = *ep;
		if (e->expires <= cache_time(now)) {
			/* Dead weight: drop it while we hold the lock. */
			shard_unlink(c, s, e);
			free(e);
		} else {
			*state = e->state;
			if (e->hits < UINT32_MAX)
				e->hits++;
			if (TAILQ_FIRST(&s->lru) != e) {
				TAILQ_REMOVE(&s->lru, e, lru);
				TAILQ_INSERT_HEAD(&s->lru, e, lru);
			}
			found = 1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return (found);
}

void
cache_put(struct cache *c, const char *address, enum verdict state,
    time_t expires)
{
	struct shard	*s;
	struct centry	**ep, *e;
	size_t		 len;
	uint32_t	 h;

	if (state != VERDICT_VALID && state != VERDICT_INVALID)
		fatalx("%s: verdict %d cannot be cached", __func__, state);
	len = strlen(address);
	h = cache_hash(c, address, len);
	s = cache_shard(c, h);

	pthread_mutex_lock(&s->lock);
	if ((ep = shard_find(s, address, h)) != NULL) {
		e = *ep;
		e->state = state;
		e->expires = cache_time(expires);
		if (TAILQ_FIRST(&s->lru) != e) {
			TAILQ_REMOVE(&s->lru, e, lru);
			TAILQ_INSERT_HEAD(&s->lru, e, lru);
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}

	if ((e = malloc(offsetof(struct centry, key) + len + 1)) == NULL)
		fatal(NULL);
	memcpy(e->key, address, len + 1);
	e->hash = h;
	e->expires = cache_time(expires);
	e->hits = 0;
	e->state = state;
	if (s->count >= s->nbuckets)
		shard_grow(s);
	e->hnext = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	TAILQ_INSERT_HEAD(&s->lru, e, lru);
	s->count++;
	__atomic_add_fetch(&c->count, 1, __ATOMIC_RELAXED);

	/* Over the limit: this shard's oldest entries go first. */
	while (__atomic_load_n(&c->count, __ATOMIC_RELAXED) >
	    __atomic_load_n(&c->size, __ATOMIC_RELAXED) && s->count > 1)
		(void)shard_evict_one(c, s);
	pthread_mutex_unlock(&s->lock);

	/* A shard holding only the new entry: another shard gives way. */
	if (__atomic_load_n(&c->count, __ATOMIC_RELAXED) >
	    __atomic_load_n(&c->size, __ATOMIC_RELAXED))
		cache_shrink_to_size(c, s);
}

/*
 * Remove every entry gone() says should go, a shard locked at a time;
 * returns how many.  gone() runs with the shard locked: it must not call
 * back into the cache.
 */
static size_t
cache_remove(struct cache *c, int (*gone)(const struct centry *, void *),
    void *arg)
{
	struct shard	*s;
	struct centry	*e, *next;
	uint32_t	 i;
	size_t		 n = 0;

	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		TAILQ_FOREACH_SAFE(e, &s->lru, lru, next) {
			if (!gone(e, arg))
				continue;
			shard_unlink(c, s, e);
			free(e);
			n++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	return (n);
}

size_t
cache_flush(struct cache *c, enum ctl_state_filter filter, const char *match)
{
	struct flush_filter	 f;

	f.state = filter;
	f.match = match != NULL ? match : "";
	return (cache_remove(c, flush_gone, &f));
}

static int
flush_gone(const struct centry *e, void *arg)
{
	const struct flush_filter	*f = arg;

	return (cache_match(e->key, e->state, f->state, f->match));
}

/* keep() runs with a shard locked: it must not call back into the cache. */
size_t
cache_filter(struct cache *c, int (*keep)(const char *, void *), void *arg)
{
	struct filter_keep	 k;

	k.keep = keep;
	k.arg = arg;
	return (cache_remove(c, filter_gone, &k));
}

static int
filter_gone(const struct centry *e, void *arg)
{
	const struct filter_keep	*k = arg;

	return (!k->keep(e->key, k->arg));
}

size_t
cache_expire(struct cache *c, time_t now)
{
	uint32_t	t = cache_time(now);

	return (cache_remove(c, expire_gone, &t));
}

static int
expire_gone(const struct centry *e, void *arg)
{
	return (e->expires <= *(const uint32_t *)arg);
}

/*
 * The cursor holds the shard in its upper 32 bits and the bucket cursor
 * in the lower ones.  Bucket cursors advance in reverse-binary order, so
 * a table that doubles between two slices neither repeats nor skips an
 * entry.  A bucket is never split between slices: a slice may visit a
 * few more than max entries when its last bucket is a long one.
 *
 * The callback never runs under the shard's lock: entries are copied out
 * a few buckets at a time (at most WALK_CHUNK entries, WALK_KEYS octets
 * of keys) and the lock is let go while cb formats them, so a lookup
 * waits for a short copy at most, never for a slice's worth of work.
 */
uint64_t
cache_walk(struct cache *c, uint64_t cursor, size_t max,
    int (*cb)(const struct cache_info *, void *), void *arg)
{
	struct cache_info	 info[WALK_CHUNK];
	char			 keys[WALK_KEYS];
	struct cache_info	 one;
	struct shard		*s;
	struct centry		*e;
	uint32_t		 si, v, mask;
	size_t			 seen = 0, n, i, klen, cnt, bytes;

	si = cursor >> 32;
	v = cursor & 0xffffffff;
	if (max == 0)
		max = 1;
	while (si < c->nshards && seen < max) {
		s = &c->shards[si];
		n = klen = 0;
		pthread_mutex_lock(&s->lock);
		mask = s->nbuckets - 1;
		do {
			/* Whole buckets only: does this one fit? */
			cnt = bytes = 0;
			for (e = s->buckets[v & mask]; e != NULL;
			    e = e->hnext) {
				cnt++;
				bytes += strlen(e->key) + 1;
			}
			if (n + cnt <= WALK_CHUNK && klen + bytes <= WALK_KEYS)
				for (e = s->buckets[v & mask]; e != NULL;
				    e = e->hnext)
					walk_copy(info, &n, keys, &klen, e);
			else if (n > 0)
				break;		/* in the next chunk */
			else {
				/* Longer than a chunk: under the lock. */
				for (e = s->buckets[v & mask]; e != NULL;
				    e = e->hnext) {
					one.address = e->key;
					one.state = e->state;
					one.expires = e->expires;
					one.hits = e->hits;
					seen++;
					if (cb(&one, arg) == -1) {
						pthread_mutex_unlock(&s->lock);
						return (0);
					}
				}
			}
			/* Next bucket cursor in reverse-binary order. */
			v |= ~mask;
			v = bitrev32(v);
			v++;
			v = bitrev32(v);
		} while (v != 0 && seen + n < max && n < WALK_CHUNK);
		pthread_mutex_unlock(&s->lock);

		for (i = 0; i < n; i++) {
			seen++;
			if (cb(&info[i], arg) == -1)
				return (0);
		}
		if (v == 0)
			si++;
	}
	if (si >= c->nshards)
		return (0);
	return (((uint64_t)si << 32) | v);
}

/* Copy an entry for a walk; the caller has made room. */
static void
walk_copy(struct cache_info *info, size_t *n, char *keys, size_t *klen,
    const struct centry *e)
{
	size_t	len = strlen(e->key) + 1;

	memcpy(keys + *klen, e->key, len);
	info[*n].address = keys + *klen;
	info[*n].state = e->state;
	info[*n].expires = e->expires;
	info[*n].hits = e->hits;
	*klen += len;
	(*n)++;
}

static uint32_t
cache_hash(const struct cache *c, const char *key, size_t len)
{
	return ((uint32_t)SipHash24(&c->key, key, len));
}

/* UNIX time as stored: 32 bits unsigned, saturated, good until 2106. */
static uint32_t
cache_time(time_t t)
{
	if (t <= 0)
		return (0);
	if ((uint64_t)t > UINT32_MAX)
		return (UINT32_MAX);
	return ((uint32_t)t);
}

static struct shard *
cache_shard(struct cache *c, uint32_t h)
{
	/* The bucket index uses the low bits, the shard the high ones. */
	return (&c->shards[(h >> 26) & (c->nshards - 1)]);
}

/* Returns the link that points at the entry, or NULL. */
static struct centry **
shard_find(struct shard *s, const char *key, uint32_t h)
{
	struct centry	**ep;

	for (ep = &s->buckets[h & (s->nbuckets - 1)]; *ep != NULL;
	    ep = &(*ep)->hnext)
		if ((*ep)->hash == h && strcmp((*ep)->key, key) == 0)
			return (ep);
	return (NULL);
}

/* Take an entry out of its bucket and the LRU list; the caller frees it. */
static void
shard_unlink(struct cache *c, struct shard *s, struct centry *e)
{
	struct centry	**ep;

	for (ep = &s->buckets[e->hash & (s->nbuckets - 1)]; *ep != e;
	    ep = &(*ep)->hnext)
		if (*ep == NULL)
			fatalx("%s: entry not in its bucket", __func__);
	*ep = e->hnext;
	TAILQ_REMOVE(&s->lru, e, lru);
	s->count--;
	__atomic_sub_fetch(&c->count, 1, __ATOMIC_RELAXED);
}

static void
shard_grow(struct shard *s)
{
	if (s->nbuckets <= UINT32_MAX / 2)
		shard_rehash(s, s->nbuckets * 2);
}

/* n buckets, a power of two: every entry is visited, and moved. */
static void
shard_rehash(struct shard *s, uint32_t n)
{
	struct centry	**nb, *e, *next;
	uint32_t	 i;

	if ((nb = calloc(n, sizeof(*nb))) == NULL) {
		/* Longer chains are slower, not wrong. */
		log_warn("%s", __func__);
		return;
	}
	for (i = 0; i < s->nbuckets; i++) {
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* With the shard locked: drop its least recently used entry. */
static int
shard_evict_one(struct cache *c, struct shard *s)
{
	struct centry	*e;

	if ((e = TAILQ_LAST(&s->lru, centry_list)) == NULL)
		return (0);
	shard_unlink(c, s, e);
	free(e);
	return (1);
}

/*
 * Evict round robin over the shards, one lock at a time, until the cache
 * fits; start after the shard "from" so that it is spared if possible.
 */
static void
cache_shrink_to_size(struct cache *c, struct shard *from)
{
	struct shard	*s;
	uint32_t	 i, start, empty = 0;

	start = from == NULL ? 0 : (uint32_t)(from - c->shards) + 1;
	for (i = start; empty < c->nshards; i++) {
		if (__atomic_load_n(&c->count, __ATOMIC_RELAXED) <=
		    __atomic_load_n(&c->size, __ATOMIC_RELAXED))
			return;
		s = &c->shards[i & (c->nshards - 1)];
		pthread_mutex_lock(&s->lock);
		if (shard_evict_one(c, s))
			empty = 0;
		else
			empty++;
		pthread_mutex_unlock(&s->lock);
	}
}

/* The control filters: state, and "" (all), "address" or "@domain". */
int
cache_match(const char *key, enum verdict state, enum ctl_state_filter filter,
    const char *match)
{
	const char	*at;

	if (filter == CTL_STATE_VALID && state != VERDICT_VALID)
		return (0);
	if (filter == CTL_STATE_INVALID && state != VERDICT_INVALID)
		return (0);
	if (match[0] == '\0')
		return (1);
	if (match[0] == '@') {
		if ((at = strrchr(key, '@')) == NULL)
			return (0);
		return (strcasecmp(at + 1, match + 1) == 0);
	}
	/* Keys have a lowercase domain; the local part keeps its case. */
	if ((at = strrchr(match, '@')) == NULL)
		return (strcmp(key, match) == 0);
	return (strncmp(key, match, at - match + 1) == 0 &&
	    strcasecmp(key + (at - match) + 1, at + 1) == 0);
}

static uint32_t
bitrev32(uint32_t v)
{
	v = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1);
	v = ((v >> 2) & 0x33333333) | ((v & 0x33333333) << 2);
	v = ((v >> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
	v = ((v >> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
	return ((v >> 16) | (v << 16));
}
