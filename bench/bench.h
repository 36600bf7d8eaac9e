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
 * What the two load generators (loadgen.c: milter protocol, smtpload.c:
 * SMTP) share, so that both draw the same recipients and report the same
 * figures: the recipient set, the latency histogram and the result line.
 * Each bench tool is one program built from one .c file; this header is
 * included by the two that use all of it (they define BENCH_LOAD first,
 * for the run they share), by fastbackend and cachebench for the clock
 * and the histogram, and by the milters for own_session().
 *
 * Recipients: index i in the set gives "v-<i>@<domain>" when i % 5 == 0
 * (20 %, a mailbox that exists: fastbackend answers 250 for "v-" local
 * parts) and "u-<i>@<domain>" otherwise (80 %, unknown), the mix
 * scam-backscatter's statistics report.  run.sh writes cache files and
 * recipient lists with the same rule.
 */

#ifndef BENCH_H
#define BENCH_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 1 us buckets up to 1 s; beyond, only count and max. */
#define HIST_BUCKETS	1000000

struct hist {
	uint32_t	*bucket;
	uint64_t	 n;
	uint64_t	 over;		/* beyond the buckets */
	uint64_t	 over10ms;	/* waits longer than 10 ms */
	uint64_t	 max_ns;
	uint64_t	 sum_ns;
};

/* How the recipients are drawn. */
struct rcptset {
	uint64_t	 size;		/* random pick among 0 .. size-1 */
	int		 unique;	/* every recipient new: 0, 1, 2, ... */
	int		 sequential;	/* each of 0 .. size-1 once, then stop */
	const char	*tag;		/* put into unique local parts */
	const char	*domain;
	const char	*fixed;		/* this recipient every time */
	uint64_t	 next;
	uint64_t	 rnd;
};

/* What the reply said, counted per class. */
enum verdict_class {
	V_CONTINUE,	/* milter continue / SMTP 2xx */
	V_REJECT,	/* milter reject or 5xx reply code / SMTP 5xx */
	V_TEMPFAIL,	/* milter tempfail or 4xx reply code / SMTP 4xx */
	V_DISCARD,
	V_ACCEPT,
	V_OTHER,
	V_MAX
};

static const char *verdict_names[V_MAX] __unused = {
	"continue", "reject", "tempfail", "discard", "accept", "other"
};

/*
 * A process that stands for a daemon (a milter, the backend) takes a
 * session of its own, as a daemon has and as scam-back's engine and
 * prober have.  Linux's autogroup scheduling shares the CPU between
 * sessions first: a milter left in the driver's session would be measured
 * under other conditions than scam-back (on a loaded machine, the null
 * milter answered twice as fast as the same milter in a session of its
 * own).  Not a group leader when started with "&" by run.sh, so setsid(2)
 * works; if it cannot, the process stays where it is.
 */
static __unused void
own_session(void)
{
	(void)setsid();
}

static __unused uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static __unused void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	if ((h->bucket = calloc(HIST_BUCKETS, sizeof(*h->bucket))) == NULL) {
		perror("calloc");
		exit(1);
	}
}

static __unused void
hist_add(struct hist *h, uint64_t ns)
{
	uint64_t	us = ns / 1000;

	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns > 10000000)
		h->over10ms++;
	if (us < HIST_BUCKETS)
		h->bucket[us]++;
	else
		h->over++;
}

/* The q-quantile in milliseconds (upper edge of its 1 us bucket). */
static __unused double
hist_quantile_ms(const struct hist *h, double q)
{
	uint64_t	want, seen = 0;
	size_t		i;

	if (h->n == 0)
		return (0.0);
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > want)
			return ((double)(i + 1) / 1000.0);
	}
	return ((double)h->max_ns / 1e6);
}

/* xorshift64*: cheap, and the same sequence for the same seed. */
static __unused uint64_t
rcpt_random(struct rcptset *rs)
{
	rs->rnd ^= rs->rnd >> 12;
	rs->rnd ^= rs->rnd << 25;
	rs->rnd ^= rs->rnd >> 27;
	return (rs->rnd * 2685821657736338717ULL);
}

/*
 * Write the next recipient into buf; 0 when a sequential pass is over.
 */
static __unused int
rcpt_next(struct rcptset *rs, char *buf, size_t len)
{
	uint64_t	i;

	if (rs->unique || rs->sequential) {
		if (rs->sequential && rs->next >= rs->size)
			return (0);
		i = rs->next++;
	} else
		i = rcpt_random(rs) % rs->size;
	if (rs->fixed != NULL) {
		snprintf(buf, len, "%s", rs->fixed);
		return (1);
	}
	snprintf(buf, len, "%c-%s%" PRIu64 "@%s", i % 5 == 0 ? 'v' : 'u',
	    rs->unique ? rs->tag : "", i, rs->domain);
	return (1);
}

/*
 * One JSON object on stdout: what run.sh reads.  Rates are over the
 * measured window only (after the warm-up).
 */
static __unused void
print_result(const char *tool, int sessions, double secs,
    const struct hist *h, const uint64_t count[V_MAX], uint64_t errors)
{
	int	i;

	printf("{\"tool\": \"%s\", \"sessions\": %d, \"seconds\": %.3f, "
	    "\"verdicts\": %" PRIu64 ", \"per_s\": %.1f, ",
	    tool, sessions, secs, h->n, secs > 0 ? (double)h->n / secs : 0.0);
	printf("\"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
	    "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, ",
	    h->n ? (double)h->sum_ns / (double)h->n / 1e6 : 0.0,
	    hist_quantile_ms(h, 0.50), hist_quantile_ms(h, 0.90),
	    hist_quantile_ms(h, 0.99), hist_quantile_ms(h, 0.999),
	    (double)h->max_ns / 1e6);
	printf("\"over_10ms\": %" PRIu64 ", ", h->over10ms);
	for (i = 0; i < V_MAX; i++)
		printf("\"%s\": %" PRIu64 ", ", verdict_names[i], count[i]);
	printf("\"errors\": %" PRIu64 "}\n", errors);
	fflush(stdout);
}

#ifdef BENCH_LOAD
/*
 * The run of a load generator: nsessions sessions, a warm-up, the
 * measured window (a sequential pass is measured whole), then 2 s of
 * grace for the answers under way, and the result line.  The tool counts
 * verdicts into count[] and hist while measuring, and complains of
 * errors.
 */
#include <err.h>
#include <event.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>

static int		 nsessions = 10;
static int		 per_mail = 100;
static int		 open_sessions;
static double		 warmup = 1.0, duration = 3.0;
static int		 measuring, stopping;
static uint64_t		 measure_start, measure_end;
static struct rcptset	 rs = {
	.size = 1000, .domain = "example.net", .rnd = 88172645463325252ULL
};
static struct hist	 hist;
static uint64_t		 count[V_MAX];
static uint64_t		 errors;
static struct event	 phase_ev;
static const char	*client_base = "192.0.2.";

static void	 complain(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 phase_timer(int, short, void *);
static void	 run(const char *, void (*)(int));
static int	 run_option(int, const char *);

/* The options both take; 0 for one that is the tool's own. */
#define RUN_OPTIONS	"a:c:d:n:r:St:U:w:x:"

static int
run_option(int ch, const char *arg)
{
	const char	*errstr;

	switch (ch) {
	case 'a':
		client_base = arg;
		break;
	case 'c':
		nsessions = strtonum(arg, 1, 10000, &errstr);
		if (errstr != NULL)
			errx(1, "sessions %s: %s", arg, errstr);
		break;
	case 'd':
		rs.domain = arg;
		break;
	case 'n':
		rs.size = strtonum(arg, 1, LLONG_MAX, &errstr);
		if (errstr != NULL)
			errx(1, "set size %s: %s", arg, errstr);
		break;
	case 'r':
		per_mail = strtonum(arg, 1, 100000, &errstr);
		if (errstr != NULL)
			errx(1, "rcpts per mail %s: %s", arg, errstr);
		break;
	case 'S':
		rs.sequential = 1;
		break;
	case 't':
		duration = strtod(arg, NULL);
		break;
	case 'U':
		rs.unique = 1;
		rs.tag = arg;
		break;
	case 'w':
		warmup = strtod(arg, NULL);
		break;
	case 'x':
		rs.rnd = strtoull(arg, NULL, 0) | 1;
		break;
	default:
		return (0);
	}
	return (1);
}

/* Count every error; show the first few, not a flood. */
static void
complain(const char *fmt, ...)
{
	va_list	ap;

	if (errors++ < 5) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	} else if (errors == 6)
		warnx("more errors: only counted");
}

/* Warm-up over: measure.  Measuring over: stop.  Then a grace period. */
static void
phase_timer(int fd, short event, void *arg)
{
	struct timeval	tv;

	if (!measuring && !stopping) {
		measuring = 1;
		measure_start = now_ns();
		tv.tv_sec = (time_t)duration;
		tv.tv_usec = (suseconds_t)((duration - tv.tv_sec) * 1e6);
		evtimer_add(&phase_ev, &tv);
		return;
	}
	if (stopping) {
		/* Sessions still waiting for an answer are left behind. */
		event_loopexit(NULL);
		return;
	}
	measuring = 0;
	stopping = 1;
	measure_end = now_ns();
	tv.tv_sec = 2;
	tv.tv_usec = 0;
	evtimer_add(&phase_ev, &tv);
}

/* start(i) opens session i; then the run, and its result line. */
static void
run(const char *tool, void (*start)(int))
{
	struct timeval	 tv;
	double		 secs;
	int		 i;

	signal(SIGPIPE, SIG_IGN);
	hist_init(&hist);
	event_init();
	for (i = 0; i < nsessions; i++)
		start(i);

	evtimer_set(&phase_ev, phase_timer, NULL);
	if (rs.sequential) {
		measuring = 1;
		measure_start = now_ns();
	} else {
		tv.tv_sec = (time_t)warmup;
		tv.tv_usec = (suseconds_t)((warmup - tv.tv_sec) * 1e6);
		evtimer_add(&phase_ev, &tv);
	}
	event_dispatch();

	if (measure_end == 0)
		measure_end = now_ns();
	secs = measure_start ? (double)(measure_end - measure_start) / 1e9 : 0;
	print_result(tool, nsessions, secs, &hist, count, errors);
}
#endif /* BENCH_LOAD */

#endif /* BENCH_H */
