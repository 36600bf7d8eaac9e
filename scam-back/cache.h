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
 * The recipient cache (cache.c): a hash table keyed by the normalised
 * address, expiry per entry, LRU eviction at the configured size.  Safe to
 * call from any thread: libmilter's threads look up, the engine's event
 * thread inserts, flushes and walks.
 */

#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cache;

struct cache_info {
	const char	*address;
	enum verdict	 state;		/* VERDICT_VALID or VERDICT_INVALID */
	time_t		 expires;
	uint32_t	 hits;
};

struct cache	*cache_new(uint32_t);
void		 cache_free(struct cache *);
void		 cache_resize(struct cache *, uint32_t);
/* Room for about this many entries, made at once (before a load). */
void		 cache_reserve(struct cache *, uint32_t);
size_t		 cache_count(struct cache *);

/*
 * A live entry: 1 and *state set (the entry's hit count and LRU place
 * updated); 0 on a miss or an expired entry.
 */
int		 cache_lookup(struct cache *, const char *, time_t,
		    enum verdict *);

/*
 * Insert or replace, with the absolute expiry (UNIX time; stored as 32
 * bits, saturated).  UNKNOWN is never stored (callers must not pass it).
 */
void		 cache_put(struct cache *, const char *, enum verdict, time_t);

/*
 * Whether an entry passes a filter of show and flush cache: its state,
 * and "" (any), "address" (the domain's case ignored) or "@domain".
 */
int		 cache_match(const char *, enum verdict, enum ctl_state_filter,
		    const char *);

/* Remove entries by state and/or "address" / "@domain"; returns how many. */
size_t		 cache_flush(struct cache *, enum ctl_state_filter,
		    const char *);

/* Remove entries for which keep() says 0 (reload); returns how many. */
size_t		 cache_filter(struct cache *, int (*)(const char *, void *),
		    void *);

/* Drop expired entries; returns how many. */
size_t		 cache_expire(struct cache *, time_t);

/*
 * Walk in slices so that a walk over a million entries never holds a lock
 * long: start with cursor 0, each call visits at most max entries (locking
 * only the part of the table it reads) and returns the cursor to pass next,
 * or 0 when the walk is complete.  cb returning -1 stops the walk (returns
 * 0).  Entries added or removed during a walk may or may not be seen.
 */
uint64_t	 cache_walk(struct cache *, uint64_t, size_t,
		    int (*)(const struct cache_info *, void *), void *);

#endif /* CACHE_H */
