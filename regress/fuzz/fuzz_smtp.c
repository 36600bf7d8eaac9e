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
 * Fuzz target for the SMTP reply parser and the prober's SMTP client
 * (SPEC section 10: backend replies multi-line, overlong, binary, split
 * across reads).
 *
 *	clang -fsanitize=fuzzer,address ...	libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The first byte chooses how the rest is cut into reads and how the
 * session is set up (EHLO or HELO, tls no/yes/require); the rest is what
 * the backend sends.  The same bytes go through the bare parser and
 * through a whole session that asks for recipients whenever it may.
 * Every reply handed on must be well-formed, and the session's own
 * bookkeeping must stay within its bounds.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_reply(const struct smtp_reply *);
static void	rcpt_cb(struct smtp *, void *, int, const struct smtp_reply *);
static void	check_session(const struct smtp *);

static int	tags[SMTP_PENDING_MAX * 4];
static int	outstanding;

static void
check_reply(const struct smtp_reply *r)
{
	size_t	i, len;

	if (r->code < 200 || r->code > 599 || r->nlines < 1 ||
	    r->nlines > SMTP_REPLY_LINES_MAX)
		abort();
	if ((len = strnlen(r->text, sizeof(r->text))) == sizeof(r->text))
		abort();
	for (i = 0; i < len; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
	if (r->enhanced[0] != '\0' && (r->enhanced[0] != '0' + r->code / 100 ||
	    r->enhanced[1] != '.' ||
	    strnlen(r->enhanced, sizeof(r->enhanced)) > 9))
		abort();
	switch (smtp_verdict(r)) {
	case VERDICT_VALID:
		if (r->code >= 300)
			abort();
		break;
	case VERDICT_INVALID:
		if (r->code < 500)
			abort();
		break;
	default:
		if (r->code < 300)
			abort();
		break;
	}
}

static void
rcpt_cb(struct smtp *s, void *tag, int how, const struct smtp_reply *r)
{
	check_reply(r);
	if (how < SMTP_RCPT_DONE || how > SMTP_RCPT_RETRY)
		abort();
	if (--outstanding < 0)
		abort();
}

static void
check_session(const struct smtp *s)
{
	if (s->npending < 0 || s->npending > SMTP_PENDING_MAX ||
	    s->nrcpt < 0 || s->nrcpt > SMTP_PIPELINE_MAX ||
	    s->nrcpt != outstanding || s->outlen > sizeof(s->out) ||
	    s->tx_rcpts > SMTP_TX_RCPT_MAX ||
	    s->parser.len >= sizeof(s->parser.line))
		abort();
	if (s->state == SMTP_ST_FAILED &&
	    strnlen(s->errtext, sizeof(s->errtext)) == sizeof(s->errtext))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_parser	 p;
	struct smtp_reply	 r;
	struct smtp		 s;
	const char		*buf, *b;
	size_t			 len, chunk, n, used, off, left;
	int			 rv = SMTP_OK, tls, i = 0;

	if (size < 1)
		return (0);
	chunk = data[0] % 16 + 1;
	tls = (data[0] >> 4) % 3;	/* TLSMODE_NO, _YES, _REQUIRE */
	buf = (const char *)data + 1;
	len = size - 1;

	/* The parser alone, in reads of chunk bytes. */
	smtp_parser_init(&p);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		b = buf + off;
		left = n;
		while (left > 0) {
			switch (smtp_parse(&p, b, left, &used, &r)) {
			case SMTP_PARSE_REPLY:
				check_reply(&r);
				break;
			case SMTP_PARSE_ERROR:
				if (p.error[0] == '\0')
					abort();
				goto session;
			case SMTP_PARSE_MORE:
				if (used != left)
					abort();
				break;
			}
			if (used > left)
				abort();
			b += used;
			left -= used;
		}
	}

 session:
	/* A whole session: RCPTs whenever it may take them. */
	outstanding = 0;
	smtp_init(&s, !(data[0] & 0x80), tls, "gw.test", "", rcpt_cb, NULL);
	for (off = 0; off < len && rv != SMTP_FAIL && rv != SMTP_CLOSED;
	    off += n) {
		n = len - off < chunk ? len - off : chunk;
		rv = smtp_feed(&s, buf + off, n);
		check_session(&s);
		if (rv == SMTP_STARTTLS)
			smtp_tls_done(&s);
		while (rv == SMTP_OK && smtp_can_rcpt(&s)) {
			smtp_rcpt(&s, "a@example.net",
			    &tags[i++ % (sizeof(tags) / sizeof(tags[0]))]);
			outstanding++;
			if (i % 7 == 0)
				smtp_forget(&s, &tags[(i - 1) %
				    (sizeof(tags) / sizeof(tags[0]))]);
		}
		if (rv == SMTP_OK && smtp_idle(&s) && i > 60)
			smtp_quit(&s);
		check_session(&s);
		smtp_consume(&s, s.outlen);
	}
	return (0);
}

#include "fuzzmain.h"
