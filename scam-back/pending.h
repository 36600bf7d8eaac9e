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
 * Probes in flight (pending.c): libmilter's threads wait here, bounded,
 * for the answer to a cache miss; concurrent misses for one address share
 * one probe.  The engine's event thread takes the queued requests, sends
 * them, and hands the answers back.  Knows nothing of imsg or libmilter,
 * so coalescing and the bounded wait are unit-tested on their own.
 */

#ifndef PENDING_H
#define PENDING_H

#include <stdint.h>
#include <time.h>

struct cache;

/* How a wait ended. */
enum pending_source {
	SOURCE_CACHE,		/* the answer was in the cache after all */
	SOURCE_PROBE,		/* this wait started the probe */
	SOURCE_COALESCED,	/* joined a probe already in flight */
	SOURCE_SHARED,		/* this wait's probe: the shared store knew */
	SOURCE_TIMEOUT,		/* deadline passed: verdict unknown */
	SOURCE_CATCHALL		/* the prober knew the domain takes all */
};

/* Why a verdict is unknown, for its log line */
#define PENDING_WHY_LEN	160

/*
 * wake() runs in a waiting thread, without locks, after queueing onto an
 * empty queue: the event thread must then take until pending_take() says
 * the queue is empty.
 */
void		 pending_init(struct cache *, void (*)(void));
/*
 * Address, backend id and name, milliseconds: the probe's verdict; why
 * (PENDING_WHY_LEN) gets the reason of an unknown one, "" otherwise.
 */
enum verdict	 pending_wait(const char *, uint32_t, const char *, uint32_t,
		    enum pending_source *, char *);
/* A probe that bypasses coalescing (scambackctl check); arg comes back. */
void		 pending_check(const char *, uint32_t, const char *, void *);
/* Event thread: the next queued request, 1 if there was one. */
int		 pending_take(struct probe_req *);
/*
 * Event thread: an answer.  Fills the cache (lifetimes in seconds, or the
 * answer's own), then wakes the waiters.  Returns 0 for an unknown id, else 1 with *checkarg
 * set to a check's arg (NULL for a RCPT probe).
 */
int		 pending_done(const struct probe_res *, uint32_t, uint32_t,
		    void **);
/* Ids sent before the given time and still unanswered (at most max). */
size_t		 pending_lost(time_t, uint32_t *, size_t);
/* Event thread: every probe sent and not answered is queued again. */
size_t		 pending_requeue(void);
uint64_t	 pending_count(void);
/* The deadline of a bounded wait (dns.c's too): ms from now, monotonic. */
void		 pending_deadline(struct timespec *, uint32_t);
const char	*pending_source_name(enum pending_source);

#endif /* PENDING_H */
