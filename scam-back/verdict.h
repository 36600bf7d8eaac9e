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
 * verdict.c: SPEC section 6's line for a verdict, from engine.c: the
 * action, both addresses, the client, the verdict, key=value (source=,
 * reason= ...), why and the queue id.  verdict_rcpt() makes a recipient
 * as the MTA gave it fit between the line's brackets.  Needs policy.h.
 */

#ifndef VERDICT_H
#define VERDICT_H

struct rcpt_query;

void		 verdict_log(enum policy_action, const char *, const char *,
		    const struct rcpt_query *, const char *, const char *,
		    const char *, const char *);
const char	*verdict_rcpt(const char *, char *, size_t);

#endif /* VERDICT_H */
