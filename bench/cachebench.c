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
 * cachebench: the recipient cache (cache.h, linked from libscamback.a)
 * alone, without libmilter or the daemon, so that a daemon figure that
 * falls short can be pinned on the cache or cleared of it.  For 1,000
 * and for -n entries (bench.h's recipients): lookups per second from one
 * thread, the resident bytes one entry adds, the time to insert all (a
 * load's share) and to walk all in slices (a save's share), and the
 * longest lookup while another thread walks.  One JSON object.
 */

#include <sys/types.h>

#include <err.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "cache.h"
#include "bench.h"

#define SLICE		1024	/* entries per cache_walk call, as a save */

struct lookups {
	double		 per_s;
	double		 max_us;
};

static __dead void usage(void);
static long	 rss_kb(void);
static void	 fill(struct cache *, uint64_t, time_t);
static struct lookups lookups(struct cache *, uint64_t, double, time_t);
static int	 walk_cb(const struct cache_info *, void *);
static double	 walk_all(struct cache *);
static void	*walker(void *);

static volatile int	 walking;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: cachebench [-n entries] [-t seconds]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct cache	*small, *big;
	struct lookups	 ls, lb, lw;
	pthread_t	 tid;
	const char	*errstr;
	uint64_t	 n = 1000000, t0, t1;
	double		 secs = 1.0, walk_s;
	long		 rss0, rss1;
	time_t		 now = time(NULL);
	int		 ch;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 2000, 100000000, &errstr);
			if (errstr != NULL)
				errx(1, "entries %s: %s", optarg, errstr);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (argc != optind || secs <= 0)
		usage();

	small = cache_new(2 * n);
	fill(small, 1000, now);
	ls = lookups(small, 1000, secs, now);

	rss0 = rss_kb();
	big = cache_new(2 * n);
	t0 = now_ns();
	/* As a load does: room for the entries first. */
	cache_reserve(big, n);
	fill(big, n, now);
	t1 = now_ns();
	rss1 = rss_kb();
	lb = lookups(big, n, secs, now);
	walk_s = walk_all(big);

	/* The longest lookup while a save walks the cache. */
	walking = 1;
	if (pthread_create(&tid, NULL, walker, big) != 0)
		errx(1, "pthread_create");
	lw = lookups(big, n, secs, now);
	walking = 0;
	pthread_join(tid, NULL);

	printf("{\"tool\": \"cachebench\", \"entries\": %llu, "
	    "\"lookups_per_s_1k\": %.0f, \"lookups_per_s_big\": %.0f, "
	    "\"ratio_big_vs_1k\": %.3f, \"max_lookup_us_big\": %.1f, "
	    "\"bytes_per_entry\": %.1f, \"insert_all_s\": %.3f, "
	    "\"walk_all_s\": %.3f, \"max_lookup_us_during_walk\": %.1f, "
	    "\"lookups_per_s_during_walk\": %.0f}\n",
	    (unsigned long long)n, ls.per_s, lb.per_s, lb.per_s / ls.per_s,
	    lb.max_us, (double)(rss1 - rss0) * 1024.0 / (double)n,
	    (double)(t1 - t0) / 1e9, walk_s, lw.max_us, lw.per_s);
	cache_free(big);
	cache_free(small);
	return (0);
}

static long
rss_kb(void)
{
	FILE	*fp;
	long	 pages = 0, resident = 0;

	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return (0);
	if (fscanf(fp, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(fp);
	return (resident * (sysconf(_SC_PAGESIZE) / 1024));
}

static void
fill(struct cache *c, uint64_t n, time_t now)
{
	struct rcptset	rs;
	char		addr[64];

	memset(&rs, 0, sizeof(rs));
	rs.size = n;
	rs.sequential = 1;
	rs.domain = "example.net";
	while (rcpt_next(&rs, addr, sizeof(addr)))
		cache_put(c, addr, addr[0] == 'v' ? VERDICT_VALID :
		    VERDICT_INVALID, now + 86400);
}

/* Random lookups among the n entries for secs, checked against the rule. */
static struct lookups
lookups(struct cache *c, uint64_t n, double secs, time_t now)
{
	struct lookups	 l;
	struct rcptset	 rs;
	enum verdict	 v;
	char		 addr[64];
	uint64_t	 start, end, t, prev, worst = 0, count = 0;

	memset(&rs, 0, sizeof(rs));
	rs.size = n;
	rs.domain = "example.net";
	rs.rnd = 88172645463325252ULL;
	start = prev = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	do {
		rcpt_next(&rs, addr, sizeof(addr));
		if (!cache_lookup(c, addr, now, &v) ||
		    v != (addr[0] == 'v' ? VERDICT_VALID : VERDICT_INVALID))
			errx(1, "%s: wrong answer from the cache", addr);
		count++;
		t = now_ns();
		if (t - prev > worst)
			worst = t - prev;
		prev = t;
	} while (t < end);
	l.per_s = (double)count / ((double)(t - start) / 1e9);
	l.max_us = (double)worst / 1e3;
	return (l);
}

static int
walk_cb(const struct cache_info *ci, void *arg)
{
	size_t	*n = arg;

	*n += strlen(ci->address);
	return (0);
}

static double
walk_all(struct cache *c)
{
	uint64_t	cursor = 0, t0;
	size_t		bytes = 0;

	t0 = now_ns();
	do {
		cursor = cache_walk(c, cursor, SLICE, walk_cb, &bytes);
	} while (cursor != 0);
	return ((double)(now_ns() - t0) / 1e9);
}

static void *
walker(void *arg)
{
	while (walking)
		walk_all(arg);
	return (NULL);
}
