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
 * Test hooks of the sandbox, only in the binary that the tests in
 * regress/sandbox build with sandbox_test.c and --wrap=pledge
 * --wrap=unveil: the hooks run inside the daemon's own pledge(2) and
 * unveil(2) calls, so neither the daemon's files nor a production build
 * hold any of it.
 */

#ifndef SANDBOX_TEST_H
#define SANDBOX_TEST_H

/* Where a process calls the hook. */
#define SANDBOX_TEST_UNVEILED	1	/* Landlock committed, no seccomp yet */
#define SANDBOX_TEST_PLEDGED	2	/* fully confined */

void	sandbox_test(const char *, int);

#endif /* SANDBOX_TEST_H */
