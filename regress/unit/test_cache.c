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
 * Unit test of the recipient cache (scam-back/cache.c): lookups, expiry,
 * LRU eviction order, resize, flush filters, reload filtering, walks in
 * slices while the table grows, room reserved before a load, a thread
 * stress test, and the memory an entry costs at a million entries.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "cache.h"

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

#define NOW		1700000000

/* Sanitizers multiply the memory an allocation costs. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER	1
#endif
#endif

__dead static void	 fail(int, const char *);
static void	 ok(const char *);
static int	 has(struct cache *, const char *, enum verdict);
static int	 count_cb(const struct cache_info *, void *);
static int	 stop_cb(const struct cache_info *, void *);
static int	 keep_not_example(const char *, void *);
static long	 rss_kb(void);
static void	*stress_reader(void *);
static void	 test_basic(void);
static void	 test_expiry(void);
static void	 test_lru(void);
static void	 test_resize(void);
static void	 test_flush(void);
static void	 test_filter(void);
static void	 test_walk(void);
static void	 test_reserve(void);
static void	 test_large(void);
static void	 test_stress(void);
static void	 test_memory(void);

__dead static void
fail(int line, const char *what)
{
	fprintf(stderr, "FAIL line %d: %s\n", line, what);
	exit(1);
}

static void
ok(const char *what)
{
	printf("ok %s\n", what);
}

static int
has(struct cache *c, const char *a, enum verdict want)
{
	enum verdict	v = VERDICT_UNKNOWN;

	return (cache_lookup(c, a, NOW, &v) == 1 && v == want);
}

static void
test_basic(void)
{
	struct cache	*c;
	enum verdict	 v;

	c = cache_new(100);
	CHECK(cache_count(c) == 0);
	CHECK(cache_lookup(c, "a@example.net", NOW, &v) == 0);
	cache_put(c, "a@example.net", VERDICT_VALID, NOW + 10);
	cache_put(c, "b@example.net", VERDICT_INVALID, NOW + 10);
	CHECK(cache_count(c) == 2);
	CHECK(has(c, "a@example.net", VERDICT_VALID));
	CHECK(has(c, "b@example.net", VERDICT_INVALID));
	/* Keys are exact: the local part keeps its case. */
	CHECK(cache_lookup(c, "A@example.net", NOW, &v) == 0);
	/* Replacing changes the state, not the count. */
	cache_put(c, "b@example.net", VERDICT_VALID, NOW + 10);
	CHECK(cache_count(c) == 2);
	CHECK(has(c, "b@example.net", VERDICT_VALID));
	cache_free(c);
	ok("basic");
}

static void
test_expiry(void)
{
	struct cache	*c;
	enum verdict	 v;

	c = cache_new(100);
	cache_put(c, "a@example.net", VERDICT_VALID, NOW + 10);
	cache_put(c, "b@example.net", VERDICT_INVALID, NOW + 20);
	cache_put(c, "c@example.net", VERDICT_INVALID, NOW + 30);
	CHECK(cache_lookup(c, "a@example.net", NOW + 9, &v) == 1);
	/* Expired at its expiry second; the lookup drops it. */
	CHECK(cache_lookup(c, "a@example.net", NOW + 10, &v) == 0);
	CHECK(cache_count(c) == 2);
	CHECK(cache_expire(c, NOW + 20) == 1);
	CHECK(cache_count(c) == 1);
	CHECK(cache_lookup(c, "c@example.net", NOW + 29, &v) == 1);
	CHECK(v == VERDICT_INVALID);
	/* An expiry far in the future or in the past is clamped, not wrapped. */
	cache_put(c, "far@example.net", VERDICT_VALID, (time_t)1 << 40);
	CHECK(cache_lookup(c, "far@example.net", NOW, &v) == 1);
	cache_put(c, "past@example.net", VERDICT_VALID, -5);
	CHECK(cache_lookup(c, "past@example.net", NOW, &v) == 0);
	cache_free(c);
	ok("expiry");
}

static void
test_lru(void)
{
	struct cache	*c;
	char		 a[64];
	int		 i;

	c = cache_new(3);
	cache_put(c, "1@x.test", VERDICT_VALID, NOW + 100);
	cache_put(c, "2@x.test", VERDICT_VALID, NOW + 100);
	cache_put(c, "3@x.test", VERDICT_VALID, NOW + 100);
	/* A lookup makes 1 the most recently used: 2 goes first. */
	CHECK(has(c, "1@x.test", VERDICT_VALID));
	cache_put(c, "4@x.test", VERDICT_VALID, NOW + 100);
	CHECK(cache_count(c) == 3);
	CHECK(!has(c, "2@x.test", VERDICT_VALID));
	CHECK(has(c, "1@x.test", VERDICT_VALID));
	CHECK(has(c, "3@x.test", VERDICT_VALID));
	CHECK(has(c, "4@x.test", VERDICT_VALID));
	/* Oldest first now: 1 3 4.  Replacing 1 refreshes it: 3 goes. */
	cache_put(c, "1@x.test", VERDICT_INVALID, NOW + 100);
	cache_put(c, "5@x.test", VERDICT_VALID, NOW + 100);
	CHECK(!has(c, "3@x.test", VERDICT_VALID));
	CHECK(has(c, "1@x.test", VERDICT_INVALID));
	CHECK(has(c, "4@x.test", VERDICT_VALID));
	cache_free(c);

	/* A long run keeps exactly the last size entries. */
	c = cache_new(1000);
	for (i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		cache_put(c, a, VERDICT_INVALID, NOW + 100);
	}
	CHECK(cache_count(c) == 1000);
	for (i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		CHECK(has(c, a, VERDICT_INVALID) == (i >= 4000));
	}
	cache_free(c);
	ok("lru eviction order");
}

static void
test_resize(void)
{
	struct cache	*c;
	char		 a[64];
	int		 i;

	c = cache_new(100);
	for (i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		cache_put(c, a, VERDICT_VALID, NOW + 100);
	}
	cache_resize(c, 10);
	CHECK(cache_count(c) == 10);
	for (i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		CHECK(has(c, a, VERDICT_VALID) == (i >= 90));
	}
	cache_resize(c, 200);
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof(a), "v%d@x.test", i);
		cache_put(c, a, VERDICT_VALID, NOW + 100);
	}
	CHECK(cache_count(c) == 200);
	cache_free(c);

	/* A sharded cache shrunk below its shard count still obeys. */
	c = cache_new(100000);
	for (i = 0; i < 20000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		cache_put(c, a, VERDICT_VALID, NOW + 100);
	}
	cache_resize(c, 5);
	CHECK(cache_count(c) == 5);
	cache_put(c, "new@x.test", VERDICT_VALID, NOW + 100);
	CHECK(cache_count(c) == 5);
	CHECK(has(c, "new@x.test", VERDICT_VALID));
	cache_free(c);
	ok("resize");
}

static void
test_flush(void)
{
	struct cache	*c;

	c = cache_new(100);
	cache_put(c, "a@example.net", VERDICT_VALID, NOW + 100);
	cache_put(c, "b@example.net", VERDICT_INVALID, NOW + 100);
	cache_put(c, "c@example.net", VERDICT_INVALID, NOW + 100);
	cache_put(c, "a@other.test", VERDICT_VALID, NOW + 100);
	cache_put(c, "Mixed@other.test", VERDICT_INVALID, NOW + 100);
	cache_put(c, "x@sub.example.net", VERDICT_INVALID, NOW + 100);

	CHECK(cache_flush(c, CTL_STATE_ANY, "nobody@example.net") == 0);
	/* The domain of a match is compared without case, the local part with. */
	CHECK(cache_flush(c, CTL_STATE_ANY, "mixed@other.test") == 0);
	CHECK(cache_flush(c, CTL_STATE_ANY, "Mixed@OTHER.test") == 1);
	CHECK(cache_flush(c, CTL_STATE_VALID, "b@example.net") == 0);
	CHECK(cache_flush(c, CTL_STATE_INVALID, "@EXAMPLE.net") == 2);
	CHECK(has(c, "a@example.net", VERDICT_VALID));
	CHECK(has(c, "x@sub.example.net", VERDICT_INVALID));
	CHECK(cache_flush(c, CTL_STATE_VALID, "") == 2);
	CHECK(cache_count(c) == 1);
	CHECK(cache_flush(c, CTL_STATE_ANY, NULL) == 1);
	CHECK(cache_count(c) == 0);
	cache_free(c);
	ok("flush filters");
}

static int
keep_not_example(const char *a, void *arg)
{
	const char	*at = strrchr(a, '@');

	(*(int *)arg)++;
	return (at == NULL || strcmp(at, "@example.net") != 0);
}

static void
test_filter(void)
{
	struct cache	*c;
	int		 calls = 0;

	c = cache_new(100);
	cache_put(c, "a@example.net", VERDICT_VALID, NOW + 100);
	cache_put(c, "b@example.net", VERDICT_INVALID, NOW + 100);
	cache_put(c, "a@other.test", VERDICT_VALID, NOW + 100);
	CHECK(cache_filter(c, keep_not_example, &calls) == 2);
	CHECK(calls == 3);
	CHECK(cache_count(c) == 1);
	CHECK(has(c, "a@other.test", VERDICT_VALID));
	cache_free(c);
	ok("filter");
}

struct walkstate {
	unsigned char	*seen;
	size_t		 n;
	size_t		 visits;
	int		 dups;
	struct cache	*c;
	int		 grow;		/* add entries during the walk */
	int		 next;
};

/* n entries w0..w<n-1>, state and expiry a function of the number. */
static void
walk_fill(struct walkstate *w, struct cache *c, size_t n)
{
	char	a[64];
	size_t	i;

	memset(w, 0, sizeof(*w));
	w->n = n;
	if ((w->seen = calloc(w->n, 1)) == NULL)
		fail(__LINE__, "calloc");
	for (i = 0; i < w->n; i++) {
		snprintf(a, sizeof(a), "w%zu@x.test", i);
		cache_put(c, a, i % 2 ? VERDICT_INVALID : VERDICT_VALID,
		    NOW + 100 + i);
	}
}

static int
count_cb(const struct cache_info *ci, void *arg)
{
	struct walkstate	*w = arg;
	unsigned int		 i;

	w->visits++;
	if (sscanf(ci->address, "w%u@", &i) == 1 && i < w->n) {
		if (w->seen[i])
			w->dups++;
		w->seen[i] = 1;
		if (ci->state != (i % 2 ? VERDICT_INVALID : VERDICT_VALID) ||
		    ci->expires != NOW + 100 + i)
			w->dups += 1000;
	}
	return (0);
}

static int
stop_cb(const struct cache_info *ci, void *arg)
{
	(*(int *)arg)++;
	return (-1);
}

static void
test_walk(void)
{
	struct walkstate	 w;
	struct cache		*c;
	char			 a[64];
	uint64_t		 cur;
	size_t			 i, sizes[] = { 100, 50000 };
	unsigned int		 k;
	int			 n, slices;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		c = cache_new(sizes[k] * 4);
		walk_fill(&w, c, sizes[k]);
		/*
		 * Walk in small slices and grow the table between slices:
		 * every original entry is seen exactly once.
		 */
		cur = 0;
		slices = 0;
		do {
			cur = cache_walk(c, cur, 7, count_cb, &w);
			slices++;
			for (n = 0; n < 5; n++) {
				snprintf(a, sizeof(a), "g%d@x.test", w.next++);
				cache_put(c, a, VERDICT_VALID, NOW + 100);
			}
		} while (cur != 0);
		CHECK(w.dups == 0);
		for (i = 0; i < w.n; i++)
			CHECK(w.seen[i] == 1);
		CHECK(slices > 1);
		free(w.seen);

		/* A callback returning -1 stops the walk. */
		n = 0;
		CHECK(cache_walk(c, 0, 1000, stop_cb, &n) == 0);
		CHECK(n == 1);
		cache_free(c);
	}

	/* An empty cache: one call, done. */
	c = cache_new(10);
	n = 0;
	CHECK(cache_walk(c, 0, 10, stop_cb, &n) == 0);
	CHECK(n == 0);
	cache_free(c);
	ok("walk in slices");
}

/*
 * Room made before a load (cache_reserve): every entry put afterwards is
 * found, and a walk in slices sees each once; a reservation beyond the
 * size stops at the size.
 */
static void
test_reserve(void)
{
	struct walkstate	 w;
	struct cache		*c;
	char			 a[64];
	uint64_t		 cur = 0;
	size_t			 i;
	int			 found = 0;

	c = cache_new(200000);
	cache_reserve(c, 100000);
	walk_fill(&w, c, 100000);
	CHECK(cache_count(c) == w.n);
	for (i = 0; i < w.n; i++) {
		snprintf(a, sizeof(a), "w%zu@x.test", i);
		found += has(c, a, i % 2 ? VERDICT_INVALID : VERDICT_VALID);
	}
	CHECK(found == 100000);
	do {
		cur = cache_walk(c, cur, 500, count_cb, &w);
	} while (cur != 0);
	CHECK(w.dups == 0);
	CHECK(w.visits == w.n);
	for (i = 0; i < w.n; i++)
		CHECK(w.seen[i] == 1);
	free(w.seen);
	cache_free(c);

	c = cache_new(1000);
	cache_reserve(c, UINT32_MAX);
	for (i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "r%zu@x.test", i);
		cache_put(c, a, VERDICT_VALID, NOW + 100);
	}
	CHECK(cache_count(c) == 1000);
	CHECK(has(c, "r999@x.test", VERDICT_VALID));
	cache_free(c);
	ok("room reserved before a load");
}

static void
test_large(void)
{
	struct cache	*c;
	char		 a[64];
	int		 i, kept = 0;

	/* A sharded cache: the limit holds, recent entries survive. */
	c = cache_new(10000);
	for (i = 0; i < 40000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		cache_put(c, a, VERDICT_VALID, NOW + 100);
		CHECK(cache_count(c) <= 10000);
	}
	CHECK(cache_count(c) == 10000);
	for (i = 39000; i < 40000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		kept += has(c, a, VERDICT_VALID);
	}
	/* LRU is per shard here: nearly all of the newest 1000 stay. */
	CHECK(kept >= 990);
	kept = 0;
	for (i = 0; i < 20000; i++) {
		snprintf(a, sizeof(a), "u%d@x.test", i);
		kept += has(c, a, VERDICT_VALID);
	}
	CHECK(kept < 200);
	cache_free(c);
	ok("large sharded cache");
}

#define STRESS_THREADS	4
#define STRESS_KEYS	2000
#define STRESS_ROUNDS	200000

struct stress {
	struct cache	*c;
	int		 id;
	volatile int	*stop;
	long		 bad;
	long		 hits;
};

/*
 * Readers look up addresses whose state is a function of the address:
 * a hit with another state would mean a torn or mixed-up entry.
 */
static void *
stress_reader(void *arg)
{
	struct stress	*s = arg;
	enum verdict	 v;
	char		 a[64];
	unsigned int	 r = s->id * 7919 + 1;
	int		 i;

	for (i = 0; i < STRESS_ROUNDS && !*s->stop; i++) {
		r = r * 1103515245 + 12345;
		snprintf(a, sizeof(a), "s%u@x.test", (r >> 8) % STRESS_KEYS);
		if (cache_lookup(s->c, a, NOW, &v)) {
			s->hits++;
			if (v != (((r >> 8) % STRESS_KEYS) % 3 == 0 ?
			    VERDICT_INVALID : VERDICT_VALID))
				s->bad++;
		}
	}
	return (NULL);
}

static void
test_stress(void)
{
	pthread_t	 t[STRESS_THREADS];
	struct stress	 s[STRESS_THREADS];
	struct cache	*c;
	volatile int	 stop = 0;
	char		 a[64];
	uint64_t	 cur;
	unsigned int	 k, r = 1;
	int		 i, n;

	/* Smaller than the key set: eviction runs all the time. */
	c = cache_new(STRESS_KEYS / 2 + 4096);
	for (i = 0; i < STRESS_THREADS; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].c = c;
		s[i].id = i;
		s[i].stop = &stop;
		if (pthread_create(&t[i], NULL, stress_reader, &s[i]) != 0)
			fail(__LINE__, "pthread_create");
	}
	/* The writer inserts, flushes and walks as the event thread would. */
	for (i = 0; i < 200000; i++) {
		r = r * 1103515245 + 12345;
		k = (r >> 8) % STRESS_KEYS;
		snprintf(a, sizeof(a), "s%u@x.test", k);
		cache_put(c, a, k % 3 == 0 ? VERDICT_INVALID : VERDICT_VALID,
		    NOW + 100);
		if (i % 20000 == 0) {
			cache_resize(c, (i / 20000) % 2 ? 500 : 5000);
			(void)cache_flush(c, CTL_STATE_INVALID, "");
			n = 0;
			cur = 0;
			do {
				cur = cache_walk(c, cur, 100, count_cb,
				    &(struct walkstate){ .n = 0 });
			} while (cur != 0 && ++n < 100000);
		}
	}
	stop = 1;
	for (i = 0; i < STRESS_THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(s[i].bad == 0);
	}
	CHECK(cache_count(c) <= 5000);
	cache_free(c);
	ok("thread stress");
}

static long
rss_kb(void)
{
	FILE	*f;
	char	 line[256];
	long	 kb = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return (kb);
}

/* SPEC section 9: at most 100 bytes of resident memory per cached entry. */
static void
test_memory(void)
{
	struct cache	*c;
	char		 a[64];
	long		 before, after;
	double		 per;
	int		 i;

#ifdef UNDER_SANITIZER
	ok("memory per entry (skipped under a sanitizer)");
	return;
#endif
	if ((before = rss_kb()) == -1) {
		ok("memory per entry (no /proc)");
		return;
	}
	c = cache_new(1000000);
	for (i = 0; i < 1000000; i++) {
		/* Typical addresses: 20 to 30 octets. */
		snprintf(a, sizeof(a), "user%07d@example.net", i);
		cache_put(c, a, i % 5 ? VERDICT_INVALID : VERDICT_VALID,
		    NOW + 100);
	}
	CHECK(cache_count(c) == 1000000);
	after = rss_kb();
	per = (after - before) * 1024.0 / 1000000;
	printf("memory: %.1f bytes per entry at 1000000 entries\n", per);
	CHECK(per <= 100.0);
	CHECK(has(c, "user0000000@example.net", VERDICT_VALID));
	cache_free(c);
	ok("memory per entry");
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_basic();
	test_expiry();
	test_lru();
	test_resize();
	test_flush();
	test_filter();
	test_walk();
	test_reserve();
	test_large();
	test_stress();
	test_memory();
	return (0);
}
