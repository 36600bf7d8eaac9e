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
 * Fuzz target for the cache file loader (SPEC section 10).
 *
 *	clang -fsanitize=fuzzer,address ...	libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The loader reads from a descriptor, so each input goes through a pipe
 * (small inputs) or a temporary file, exactly as a cache file would.
 * Every entry handed on must be a well-formed cache key and verdict.
 */

#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "cachefile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *address, enum verdict v, time_t expires, void *arg)
{
	time_t		 now = *(time_t *)arg;
	const char	*at;
	size_t		 len = strlen(address);

	if (len == 0 || len > 254 || (at = strrchr(address, '@')) == NULL ||
	    at[1] == '\0')
		abort();
	if (v != VERDICT_VALID && v != VERDICT_INVALID)
		abort();
	if (expires <= now || expires > now + 86400)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cachefile_stats	 st;
	FILE			*f;
	time_t			 now = 1000000000;
	int			 fd;

	if ((f = tmpfile()) == NULL)
		err(1, "tmpfile");
	if (size > 0 && fwrite(data, 1, size, f) != size)
		err(1, "fwrite");
	if (fflush(f) == EOF)
		err(1, "fflush");
	fd = fileno(f);
	if (lseek(fd, 0, SEEK_SET) == -1)
		err(1, "lseek");
	if (cachefile_parse(fd, now, 86400, 3000, check, &now, &st) == -1)
		err(1, "cachefile_parse");
	if (st.loaded + st.expired + st.malformed > st.lines)
		abort();
	fclose(f);
	return (0);
}

#include "fuzzmain.h"
