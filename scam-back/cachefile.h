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
 * The cache file (SPEC section 7): its format, shared by the engine that
 * reads and writes it (cachefile.c), the parent that owns the files
 * (parent_cache.c), the unit test and the fuzz target.
 */

#ifndef CACHEFILE_H
#define CACHEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CACHEFILE_HEADER	"# scam-back cache v1"

/* Longer lines are malformed: an address is at most 254 octets. */
#define CACHEFILE_LINE_MAX	512

/* IMSG_CACHE_SAVE_DONE, engine -> parent */
struct cache_save_done {
	int		 error;		/* 0: written, else an errno */
	uint64_t	 entries;	/* lines written */
};

struct cachefile_stats {
	size_t		 lines;
	size_t		 loaded;	/* handed to put() */
	size_t		 legacy;	/* of which in BackList format */
	size_t		 expired;	/* dropped */
	size_t		 malformed;	/* skipped */
};

/*
 * Read a cache file from fd, calling put() for every live entry.  Both
 * formats are read: v1 lines "address valid|invalid expiry", and legacy
 * BackList lines "0|1 address" (1 = invalid), which get a fresh lifetime.
 * An expiry beyond now plus the configured lifetime is cut to it.
 * Returns 0, or -1 with errno when reading failed (the entries before the
 * failure have been put).
 */
int	cachefile_parse(int, time_t, uint32_t, uint32_t,
	    void (*)(const char *, enum verdict, time_t, void *), void *,
	    struct cachefile_stats *);

/* One line of the file, with its newline, in buf; its length, or 0. */
size_t	cachefile_format(char *, size_t, const char *, enum verdict, time_t);

#endif /* CACHEFILE_H */
