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
 * Unit test of scam-back/pending.c: concurrent misses for one address
 * make one probe and every waiter gets its answer; a wait is bounded and
 * a late answer still fills the cache; a check is a probe of its own even
 * while a RCPT probe for the address is in flight; nothing is left behind
 * after a storm of threads and addresses.  A thread plays the engine's
 * event thread (the prober's answers).
 *
 * The outcomes do not depend on timing: where an answer must come before
 * or after something, the fake prober holds it (hold) until the test has
 * seen that something happen.  The time bounds checked are a wait's own
 * deadline (it never ends early) and a generous "it ends" (seconds late
 * at most, for a loaded machine).
 */

#include <sys/types.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "cache.h"
#include "pending.h"

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

/* The test's knobs and counters are shared with the prober thread. */
#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

__dead static void	 fail(int, const char *);
static void	 wake(void);
static void	*prober(void *);
static void	*waiter(void *);
static long	 ms_since(struct timespec *);
static void	 wait_until(int *, int);
static void	 wait_drained(void);

__dead static void
fail(int line, const char *what)
{
	fprintf(stderr, "FAIL line %d: %s\n", line, what);
	exit(1);
}

static struct cache	*c;

/* The fake event thread: takes requests, answers after a delay. */
static pthread_mutex_t	 pmtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pcond = PTHREAD_COND_INITIALIZER;
static int		 woken;
static int		 probes;		/* requests taken */
static int		 answer_ms = 100;
static int		 silent;		/* take requests, answer none */
static int		 quit;
static int		 bypassed;
static int		 hold;			/* take requests, answer later */
static int		 entered;		/* waiters about to wait */

/* A wait that ended this late has not ended by its deadline. */
#define LATE_MS		2000

static void
wake(void)
{
	pthread_mutex_lock(&pmtx);
	woken++;
	pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&pmtx);
}

/* Answers by the address: "bad*" invalid, "tmp*" unknown, else valid. */
static void *
prober(void *arg)
{
	struct probe_req	 req;
	struct probe_res	 res;
	void			*ck;

	for (;;) {
		pthread_mutex_lock(&pmtx);
		while (!woken && !quit)
			pthread_cond_wait(&pcond, &pmtx);
		woken = 0;
		pthread_mutex_unlock(&pmtx);
		if (quit)
			return (NULL);
		while (pending_take(&req)) {
			__atomic_add_fetch(&probes, 1, __ATOMIC_SEQ_CST);
			CHECK(strcmp(req.backend, "b") == 0);
			if (req.bypass)
				__atomic_add_fetch(&bypassed, 1,
				    __ATOMIC_SEQ_CST);
			if (LOAD(silent))
				continue;
			while (LOAD(hold))
				usleep(1000);
			usleep(LOAD(answer_ms) * 1000);
			memset(&res, 0, sizeof(res));
			res.id = req.id;
			if (strncmp(req.address, "bad", 3) == 0)
				res.verdict = VERDICT_INVALID;
			else if (strncmp(req.address, "tmp", 3) == 0)
				res.verdict = VERDICT_UNKNOWN;
			else
				res.verdict = VERDICT_VALID;
			CHECK(pending_done(&res, 100, 100, &ck) == 1);
			CHECK(ck == (req.bypass ? (void *)&bypassed : NULL));
		}
	}
}

struct w {
	const char		*address;
	uint32_t		 ms;
	enum verdict		 v;
	enum pending_source	 src;
	char			 why[PENDING_WHY_LEN];
	long			 took_ms;
};

static void *
waiter(void *arg)
{
	struct w	*w = arg;
	struct timespec	 t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	__atomic_add_fetch(&entered, 1, __ATOMIC_SEQ_CST);
	w->v = pending_wait(w->address, 0, "b", w->ms, &w->src, w->why);
	w->took_ms = ms_since(&t0);
	return (NULL);
}

static long
ms_since(struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Until *v reaches want: a state, not a time, bounded for a hung test. */
static void
wait_until(int *v, int want)
{
	int	i;

	for (i = 0; i < 10000 && LOAD(*v) < want; i++)
		usleep(1000);
	CHECK(LOAD(*v) >= want);
}

/* Until every probe is answered. */
static void
wait_drained(void)
{
	int	i;

	for (i = 0; i < 10000 && pending_count() != 0; i++)
		usleep(1000);
	CHECK(pending_count() == 0);
}

#define NW	100

static void
start_waiters(const char *address, uint32_t ms, struct w *w, pthread_t *t,
    int n)
{
	int	i;

	STORE(entered, 0);
	for (i = 0; i < n; i++) {
		w[i].address = address;
		w[i].ms = ms;
		if (pthread_create(&t[i], NULL, waiter, &w[i]) != 0)
			fail(__LINE__, "pthread_create");
	}
}

static void
join_waiters(pthread_t *t, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void
run_waiters(const char *address, uint32_t ms, struct w *w, int n)
{
	pthread_t	t[NW];

	start_waiters(address, ms, w, t, n);
	join_waiters(t, n);
}

static void
test_coalesce(void)
{
	pthread_t	t[NW];
	struct w	w[NW];
	enum verdict	v;
	int		i, nprobe = 0, ncoal = 0, before;

	/*
	 * 100 threads miss one address at once: one probe, 100 answers.
	 * The answer is held until every thread is about to wait and the
	 * probe is taken, so that others join it.
	 */
	STORE(probes, 0);
	STORE(answer_ms, 0);
	STORE(hold, 1);
	start_waiters("bad@example.net", 5000, w, t, NW);
	wait_until(&entered, NW);
	wait_until(&probes, 1);
	STORE(hold, 0);
	join_waiters(t, NW);
	CHECK(LOAD(probes) == 1);
	for (i = 0; i < NW; i++) {
		CHECK(w[i].v == VERDICT_INVALID);
		CHECK(w[i].src == SOURCE_PROBE ||
		    w[i].src == SOURCE_COALESCED ||
		    w[i].src == SOURCE_CACHE);
		nprobe += w[i].src == SOURCE_PROBE;
		ncoal += w[i].src == SOURCE_COALESCED;
	}
	CHECK(nprobe == 1);
	CHECK(ncoal > 0);
	CHECK(cache_lookup(c, "bad@example.net", time(NULL), &v) && v ==
	    VERDICT_INVALID);
	CHECK(pending_count() == 0);

	/* The second round is a cache hit here, no probe. */
	run_waiters("bad@example.net", 5000, w, 10);
	CHECK(LOAD(probes) == 1);
	for (i = 0; i < 10; i++)
		CHECK(w[i].src == SOURCE_CACHE && w[i].v == VERDICT_INVALID);

	/*
	 * Unknown is never cached: every wait that comes after an answer
	 * probes again, one probe each.
	 */
	before = LOAD(probes);
	for (i = 1; i <= 3; i++) {
		run_waiters("tmp@example.net", 5000, w, 1);
		CHECK(LOAD(probes) == before + i);
		CHECK(w[0].src == SOURCE_PROBE && w[0].v == VERDICT_UNKNOWN);
		CHECK(!cache_lookup(c, "tmp@example.net", time(NULL), &v));
	}
	CHECK(pending_count() == 0);
	printf("ok coalescing: 100 waiters, 1 probe\n");
}

static void
test_timeout(void)
{
	pthread_t	t[NW];
	struct w	w[NW];
	enum verdict	v;
	int		i;

	/*
	 * The answer is held until the waits, of 200 ms, have given up:
	 * each ends at its deadline, not before, with verdict unknown.
	 */
	STORE(probes, 0);
	STORE(answer_ms, 0);
	STORE(hold, 1);
	run_waiters("slow@example.net", 200, w, 10);
	CHECK(LOAD(probes) == 1);
	for (i = 0; i < 10; i++) {
		CHECK(w[i].v == VERDICT_UNKNOWN);
		CHECK(w[i].src == SOURCE_TIMEOUT);
		CHECK(w[i].took_ms >= 190 && w[i].took_ms < 200 + LATE_MS);
	}
	/* The probe is still in flight; a new wait joins it. */
	CHECK(pending_count() == 1);
	start_waiters("slow@example.net", 5000, w, t, 1);
	wait_until(&entered, 1);
	STORE(hold, 0);
	join_waiters(t, 1);
	CHECK(w[0].src == SOURCE_COALESCED && w[0].v == VERDICT_VALID);
	CHECK(LOAD(probes) == 1);
	CHECK(pending_count() == 0);

	/* No answer at all: bounded wait, the probe stays until swept. */
	STORE(silent, 1);
	run_waiters("lost@example.net", 100, w, 5);
	for (i = 0; i < 5; i++)
		CHECK(w[i].src == SOURCE_TIMEOUT &&
		    w[i].took_ms >= 90 && w[i].took_ms < 100 + LATE_MS);
	CHECK(pending_count() == 1);
	STORE(silent, 0);
	{
		uint32_t		 lost[4];
		struct probe_res	 res;
		void			*ck;

		/* Sent "before" now + 1 s: the sweep's view of it. */
		CHECK(pending_lost(time(NULL) + 1, lost, 4) == 1);
		CHECK(pending_lost(time(NULL) - 60, lost, 4) == 0);
		pending_lost(time(NULL) + 1, lost, 4);
		memset(&res, 0, sizeof(res));
		res.id = lost[0];
		res.verdict = VERDICT_UNKNOWN;
		CHECK(pending_done(&res, 1, 1, &ck) == 1 && ck == NULL);
		/* A second answer for the same id is refused. */
		CHECK(pending_done(&res, 1, 1, &ck) == 0);
		res.id = 0;
		CHECK(pending_done(&res, 1, 1, &ck) == 0);
	}
	CHECK(pending_count() == 0);
	CHECK(!cache_lookup(c, "lost@example.net", time(NULL), &v));
	printf("ok bounded wait, late answer fills the cache\n");
}

static void
test_check(void)
{
	pthread_t	t[1];
	struct w	w[1];

	/*
	 * A check is a probe of its own even while a RCPT probe for the
	 * address is in flight: the RCPT's answer is held until the check
	 * is queued, and both reach the prober, the check as a bypass.
	 */
	STORE(probes, 0);
	STORE(bypassed, 0);
	STORE(answer_ms, 0);
	STORE(hold, 1);
	start_waiters("chk@example.net", 5000, w, t, 1);
	wait_until(&probes, 1);
	pending_check("chk@example.net", 0, "b", &bypassed);
	wake();
	STORE(hold, 0);
	join_waiters(t, 1);
	CHECK(w[0].v == VERDICT_VALID && w[0].src == SOURCE_PROBE);
	wait_drained();
	CHECK(LOAD(probes) == 2);
	CHECK(LOAD(bypassed) == 1);
	printf("ok check bypasses coalescing\n");
}

struct storm {
	int	id;
	int	bad;
};

static void *
storm_thread(void *arg)
{
	struct storm		*s = arg;
	enum pending_source	 src;
	enum verdict		 v;
	char			 a[64], why[PENDING_WHY_LEN];
	unsigned int		 r = s->id + 1;
	int			 i;

	for (i = 0; i < 300; i++) {
		r = r * 1103515245 + 12345;
		snprintf(a, sizeof(a), "%s%u@example.net",
		    (r >> 8) % 2 ? "bad" : "ok", (r >> 9) % 50);
		v = pending_wait(a, 0, "b", (r >> 4) % 3 ? 2000 : 1, &src,
		    why);
		if (src != SOURCE_TIMEOUT && v != ((r >> 8) % 2 ?
		    VERDICT_INVALID : VERDICT_VALID))
			s->bad++;
	}
	return (NULL);
}

static void
test_storm(void)
{
	pthread_t	t[16];
	struct storm	s[16];
	int		i;

	STORE(answer_ms, 0);
	cache_flush(c, CTL_STATE_ANY, "");
	STORE(probes, 0);
	for (i = 0; i < 16; i++) {
		s[i].id = i;
		s[i].bad = 0;
		if (pthread_create(&t[i], NULL, storm_thread, &s[i]) != 0)
			fail(__LINE__, "pthread_create");
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		CHECK(s[i].bad == 0);
	}
	/* 100 addresses; lifetimes outlast the test: at most 100 probes. */
	CHECK(LOAD(probes) <= 100);
	/* Let the last answers land. */
	wait_drained();
	printf("ok storm: 16 threads, 4800 waits, %d probes, nothing left\n",
	    LOAD(probes));
}

int
main(void)
{
	pthread_t	pt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	c = cache_new(1000);
	pending_init(c, wake);
	if (pthread_create(&pt, NULL, prober, NULL) != 0)
		fail(__LINE__, "pthread_create");
	test_coalesce();
	test_timeout();
	test_check();
	test_storm();
	pthread_mutex_lock(&pmtx);
	quit = 1;
	pthread_cond_signal(&pcond);
	pthread_mutex_unlock(&pmtx);
	pthread_join(pt, NULL);
	cache_free(c);
	return (0);
}
