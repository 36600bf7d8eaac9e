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
 * Unit test of smtp.c, the prober's SMTP client without sockets: the reply
 * parser fed byte streams cut every possible way, the verdicts of SPEC
 * section 6, and whole dialogues (greeting, EHLO/HELO, STARTTLS, MAIL,
 * RCPT, pipelining, transaction resets, refusals).  A failed check prints
 * its line and expression and exits 1.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "smtp.h"

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

#define NRESULTS	64

__dead static void	 fail(int, const char *);
static void	 ok(const char *);
static int	 parse_all(const char *, size_t, size_t, struct smtp_reply *,
		    int);
static void	 rcpt_cb(struct smtp *, void *, int,
		    const struct smtp_reply *);
static void	 session(struct smtp *, int, int, int);
static int	 feed(struct smtp *, const char *);
static int	 expect_out(struct smtp *, const char *);
static void	 test_parser(void);
static void	 test_parser_split(void);
static void	 test_parser_errors(void);
static void	 test_verdict(void);
static void	 test_address(void);
static void	 test_dialogue(void);
static void	 test_helo(void);
static void	 test_starttls(void);
static void	 test_refusals(void);
static void	 test_pipelining(void);
static void	 test_nodrain(void);
static void	 test_reset(void);
static void	 test_452(void);
static void	 test_session_split(void);

static struct {
	void			*tag;
	int			 how;
	struct smtp_reply	 reply;
} results[NRESULTS];
static int	nresults;

int
main(void)
{
	test_parser();
	test_parser_split();
	test_parser_errors();
	test_verdict();
	test_address();
	test_dialogue();
	test_helo();
	test_starttls();
	test_refusals();
	test_pipelining();
	test_nodrain();
	test_reset();
	test_452();
	test_session_split();
	return (0);
}

__dead static void
fail(int line, const char *what)
{
	fprintf(stderr, "test_smtp.c:%d: check failed: %s\n", line, what);
	exit(1);
}

static void
ok(const char *what)
{
	printf("ok: %s\n", what);
}

/*
 * Feed buf in pieces of chunk bytes; collect up to max replies.  Returns
 * the number of replies, or -1 after a parse error.
 */
static int
parse_all(const char *buf, size_t len, size_t chunk, struct smtp_reply *out,
    int max)
{
	struct smtp_parser	 p;
	const char		*b;
	size_t			 off, n, used, left;
	int			 got = 0;

	smtp_parser_init(&p);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		b = buf + off;
		left = n;
		while (left > 0) {
			switch (smtp_parse(&p, b, left, &used, &out[got])) {
			case SMTP_PARSE_ERROR:
				return (-1);
			case SMTP_PARSE_REPLY:
				if (++got == max)
					return (got);
				break;
			case SMTP_PARSE_MORE:
				CHECK(used == left);
				break;
			}
			CHECK(used <= left);
			b += used;
			left -= used;
		}
	}
	return (got);
}

static void
test_parser(void)
{
	struct smtp_reply	r[4];
	const char		*ml;

	CHECK(parse_all("220 mx.test ESMTP\r\n", 19, 100, r, 4) == 1);
	CHECK(r[0].code == 220 && r[0].nlines == 1);
	CHECK(strcmp(r[0].text, "mx.test ESMTP") == 0);
	CHECK(r[0].enhanced[0] == '\0');

	/* bare LF, a bare code, and two replies in one read */
	CHECK(parse_all("250 2.1.5 Ok\n354\r\n", 18, 100, r, 4) == 2);
	CHECK(r[0].code == 250 && strcmp(r[0].enhanced, "2.1.5") == 0);
	CHECK(strcmp(r[0].text, "Ok") == 0);
	CHECK(r[1].code == 354 && r[1].text[0] == '\0');

	/* multi-line: text joined, enhanced code from the first line */
	ml = "550-5.1.1 The account does not exist.\r\n"
	    "550-5.1.1 Please check\r\n"
	    "550 5.1.1 the address.\r\n";
	CHECK(parse_all(ml, strlen(ml), 100, r, 4) == 1);
	CHECK(r[0].code == 550 && r[0].nlines == 3);
	CHECK(strcmp(r[0].enhanced, "5.1.1") == 0);
	CHECK(strcmp(r[0].text,
	    "The account does not exist. Please check the address.") == 0);

	/* an enhanced code of another class is text, not a status */
	CHECK(parse_all("250 5.1.1 odd\r\n", 15, 100, r, 4) == 1);
	CHECK(r[0].enhanced[0] == '\0' && strcmp(r[0].text, "5.1.1 odd") == 0);
	CHECK(parse_all("550 5.1.1234 x\r\n", 16, 100, r, 4) == 1);
	CHECK(r[0].enhanced[0] == '\0');
	CHECK(parse_all("451 4.7.1\r\n", 11, 100, r, 4) == 1);
	CHECK(strcmp(r[0].enhanced, "4.7.1") == 0 && r[0].text[0] == '\0');

	/* EHLO keywords, case-insensitive, not on the first line */
	ml = "250-mx.test hello PIPELINING\r\n"
	    "250-SIZE 1000\r\n"
	    "250-pipelining\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250 STARTTLS\r\n";
	CHECK(parse_all(ml, strlen(ml), 100, r, 4) == 1);
	CHECK(r[0].caps == (SMTP_CAP_PIPELINING | SMTP_CAP_STARTTLS |
	    SMTP_CAP_ENHANCED));
	ml = "250-mx.test\r\n250-STARTTLSX\r\n250 PIPELINING2\r\n";
	CHECK(parse_all(ml, strlen(ml), 100, r, 4) == 1);
	CHECK(r[0].caps == 0);

	/* control characters and 8-bit bytes never reach the text */
	CHECK(parse_all("250 a\tb\033[31mc\x01\xff\r\n", 17, 100, r, 4) == 1);
	CHECK(strcmp(r[0].text, "a b?[31mc??") == 0);

	/* a NUL byte inside a line is a byte like others */
	CHECK(parse_all("250 a\0b\r\n", 9, 100, r, 4) == 1);
	CHECK(strcmp(r[0].text, "a?b") == 0);

	/* long text is cut, not overflowed */
	{
		char	buf[1100];

		memset(buf, 'x', sizeof(buf));
		memcpy(buf, "250-", 4);
		memcpy(buf + 500, "\r\n250 ", 6);
		memcpy(buf + 1000, "\r\n", 2);
		CHECK(parse_all(buf, 1002, 100, r, 4) == 1);
		CHECK(strlen(r[0].text) == REPLY_TEXT_LEN - 1);
	}
	ok("parser: lines, multi-line, enhanced codes, keywords, text");
}

/* The same stream cut at every chunk size must give the same replies. */
static void
test_parser_split(void)
{
	struct smtp_reply	 want[4], got[4];
	const char		*s;
	size_t			 chunk;
	int			 i, n;

	s = "220-first\r\n220 second\n"
	    "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
	    "550 5.1.1 <x@y>: no such user\r\n";
	n = parse_all(s, strlen(s), 1000, want, 4);
	CHECK(n == 3);
	for (chunk = 1; chunk < strlen(s); chunk++) {
		CHECK(parse_all(s, strlen(s), chunk, got, 4) == n);
		for (i = 0; i < n; i++)
			CHECK(memcmp(&got[i], &want[i], sizeof(got[i])) == 0);
	}
	CHECK(want[1].caps == SMTP_CAP_PIPELINING);
	ok("parser: replies split across reads at every byte");
}

static void
test_parser_errors(void)
{
	struct smtp_reply	 r[2];
	struct smtp_parser	 p;
	char			 buf[SMTP_LINE_MAX + 10];
	size_t			 used;

	CHECK(parse_all("hello\r\n", 7, 100, r, 2) == -1);
	CHECK(parse_all("25\r\n", 4, 100, r, 2) == -1);
	CHECK(parse_all("2500 x\r\n", 8, 100, r, 2) == -1);
	CHECK(parse_all("150 x\r\n", 7, 100, r, 2) == -1);
	CHECK(parse_all("650 x\r\n", 7, 100, r, 2) == -1);
	CHECK(parse_all("\r\n", 2, 100, r, 2) == -1);
	CHECK(parse_all("250-a\r\n550 b\r\n", 14, 100, r, 2) == -1);

	/* overlong: bounded, refused before the line ends */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "250 ", 4);
	smtp_parser_init(&p);
	CHECK(smtp_parse(&p, buf, sizeof(buf), &used, &r[0]) ==
	    SMTP_PARSE_ERROR);
	CHECK(used < sizeof(buf));
	/* ... and stays failed */
	CHECK(smtp_parse(&p, "250 ok\r\n", 8, &used, &r[0]) ==
	    SMTP_PARSE_ERROR);

	/* the longest line allowed passes */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "250 ", 4);
	memcpy(buf + SMTP_LINE_MAX - 2, "\r\n", 2);
	CHECK(parse_all(buf, SMTP_LINE_MAX, 100, r, 2) == 1);

	/* endless continuation lines are bounded too */
	{
		struct smtp_parser	 q;
		int			 i, rv = SMTP_PARSE_MORE;

		smtp_parser_init(&q);
		for (i = 0; i < 1000 && rv == SMTP_PARSE_MORE; i++)
			rv = smtp_parse(&q, "250-x\r\n", 7, &used, &r[0]);
		CHECK(rv == SMTP_PARSE_ERROR && i == SMTP_REPLY_LINES_MAX + 1);
	}
	ok("parser: garbage, overlong lines, endless replies");
}

static void
test_verdict(void)
{
	static const struct {
		const char	*reply;
		enum verdict	 v;
	} t[] = {
		{ "250 2.1.5 Ok\r\n", VERDICT_VALID },
		{ "251 will forward\r\n", VERDICT_VALID },
		{ "252 cannot verify\r\n", VERDICT_VALID },
		{ "550 5.1.1 unknown\r\n", VERDICT_INVALID },
		{ "550 no such user\r\n", VERDICT_INVALID },
		{ "551 not local\r\n", VERDICT_INVALID },
		{ "553 bad mailbox\r\n", VERDICT_INVALID },
		{ "554 5.1.10 null mx\r\n", VERDICT_INVALID },
		{ "552 5.1.2 bad domain\r\n", VERDICT_INVALID },
		{ "554 5.7.1 policy\r\n", VERDICT_UNKNOWN },
		{ "552 5.2.2 mailbox full\r\n", VERDICT_UNKNOWN },
		{ "554 rejected\r\n", VERDICT_UNKNOWN },
		{ "450 4.1.1 try later\r\n", VERDICT_UNKNOWN },
		{ "451 4.7.1 greylisted\r\n", VERDICT_UNKNOWN },
		{ "452 too many\r\n", VERDICT_UNKNOWN },
		{ "421 closing\r\n", VERDICT_UNKNOWN },
		{ "354 go on\r\n", VERDICT_UNKNOWN },
	};
	struct smtp_reply	r;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(parse_all(t[i].reply, strlen(t[i].reply), 100, &r,
		    1) == 1);
		if (smtp_verdict(&r) != t[i].v) {
			fprintf(stderr, "%s", t[i].reply);
			CHECK(smtp_verdict(&r) == t[i].v);
		}
	}
	ok("verdicts of SPEC section 6");
}

static void
test_address(void)
{
	char	long_addr[ADDR_LEN + 1];

	CHECK(smtp_address_ok("alice@example.net"));
	CHECK(smtp_address_ok(""));
	CHECK(smtp_address_ok("\"john smith\"@example.net"));
	CHECK(!smtp_address_ok("a@b>\r\nDATA"));
	CHECK(!smtp_address_ok("a\r\n@b"));
	CHECK(!smtp_address_ok("a@b\n"));
	CHECK(!smtp_address_ok("<a@b>"));
	CHECK(!smtp_address_ok("a\x7f@b"));
	/* '<' and '>' inside a quoted local part end nothing. */
	CHECK(smtp_address_ok("\"x>y\"@example.net"));
	CHECK(smtp_address_ok("\"x<y\"@example.net"));
	CHECK(smtp_address_ok("\"a\\\">\"@example.net"));
	CHECK(!smtp_address_ok("\"x\">y@example.net"));
	CHECK(!smtp_address_ok("\"x>y@example.net"));
	CHECK(!smtp_address_ok("\"x\\\"@b>"));
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	CHECK(!smtp_address_ok(long_addr));
	ok("addresses that could inject commands are refused");
}

static void
rcpt_cb(struct smtp *s, void *tag, int how, const struct smtp_reply *r)
{
	CHECK(nresults < NRESULTS);
	results[nresults].tag = tag;
	results[nresults].how = how;
	results[nresults].reply = *r;
	nresults++;
}

static void
session(struct smtp *s, int esmtp, int tls, int pipelining)
{
	smtp_init(s, esmtp, tls, "gw.test", "", rcpt_cb, NULL);
	nresults = 0;
	CHECK(s->outlen == 0);
	CHECK(smtp_waiting(s));
	CHECK(!smtp_can_rcpt(s));
	(void)pipelining;
}

static int
feed(struct smtp *s, const char *str)
{
	return (smtp_feed(s, str, strlen(str)));
}

/* The queued output is exactly want; it is consumed. */
static int
expect_out(struct smtp *s, const char *want)
{
	int	ok = s->outlen == strlen(want) &&
	    memcmp(s->out, want, s->outlen) == 0;

	if (!ok)
		fprintf(stderr, "output: '%.*s', want '%s'\n",
		    (int)s->outlen, s->out, want);
	smtp_consume(s, s->outlen);
	return (ok);
}

static void
test_dialogue(void)
{
	struct smtp	s;
	int		a, b;

	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 mx.test ESMTP\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\n"));
	CHECK(feed(&s, "250-mx.test\r\n250-SIZE\r\n250 8BITMIME\r\n") ==
	    SMTP_OK);
	CHECK(expect_out(&s, "MAIL FROM:<>\r\n"));
	CHECK(!smtp_can_rcpt(&s));
	CHECK(feed(&s, "250 2.1.0 Ok\r\n") == SMTP_OK);
	CHECK(smtp_can_rcpt(&s) && smtp_idle(&s) && !smtp_waiting(&s));
	CHECK(s.outlen == 0);

	/* one probe on the open session: one RCPT, one reply, nothing else */
	smtp_rcpt(&s, "alice@example.net", &a);
	CHECK(expect_out(&s, "RCPT TO:<alice@example.net>\r\n"));
	CHECK(!smtp_can_rcpt(&s) && smtp_waiting(&s));
	CHECK(smtp_awaiting(&s) == SMTP_CMD_RCPT);
	CHECK(feed(&s, "250 2.1.5 Ok\r\n") == SMTP_OK);
	CHECK(nresults == 1 && results[0].tag == &a);
	CHECK(results[0].how == SMTP_RCPT_DONE);
	CHECK(smtp_verdict(&results[0].reply) == VERDICT_VALID);
	CHECK(s.outlen == 0 && smtp_idle(&s));

	smtp_rcpt(&s, "bob@example.net", &b);
	CHECK(expect_out(&s, "RCPT TO:<bob@example.net>\r\n"));
	CHECK(feed(&s, "550 5.1.1 <bob@example.net>: Recipient address "
	    "rejected: User unknown\r\n") == SMTP_OK);
	CHECK(nresults == 2 && results[1].tag == &b);
	CHECK(smtp_verdict(&results[1].reply) == VERDICT_INVALID);
	CHECK(s.outlen == 0 && smtp_can_rcpt(&s));

	/* the path as RFC 5321 wants it: quoted as given, or quoted */
	smtp_rcpt(&s, "\"x>y\"@example.net", &b);
	CHECK(expect_out(&s, "RCPT TO:<\"x>y\"@example.net>\r\n"));
	CHECK(feed(&s, "250 2.1.5 Ok\r\n") == SMTP_OK);
	smtp_rcpt(&s, "a..b@example.net", &b);
	CHECK(expect_out(&s, "RCPT TO:<\"a..b\"@example.net>\r\n"));
	CHECK(feed(&s, "250 2.1.5 Ok\r\n") == SMTP_OK);
	CHECK(nresults == 4 && s.outlen == 0 && smtp_can_rcpt(&s));
	nresults = 2;

	/* a probe given up on is answered with a NULL tag */
	smtp_rcpt(&s, "carol@example.net", &a);
	smtp_forget(&s, &a);
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
	CHECK(nresults == 3 && results[2].tag == NULL);

	smtp_quit(&s);
	CHECK(expect_out(&s, "RCPT TO:<carol@example.net>\r\nQUIT\r\n"));
	CHECK(smtp_waiting(&s) && !smtp_can_rcpt(&s));
	CHECK(feed(&s, "221 bye\r\n") == SMTP_CLOSED);

	/* a sender */
	smtp_init(&s, 1, TLSMODE_NO, "gw.test", "probe@gw.test", rcpt_cb,
	    NULL);
	CHECK(feed(&s, "220 x\r\n250 x\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\nMAIL FROM:<probe@gw.test>\r\n"));
	ok("dialogue: greeting, EHLO, MAIL once, one RCPT per probe, QUIT");
}

static void
test_helo(void)
{
	struct smtp	s;

	session(&s, 0, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 old\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "HELO gw.test\r\n"));
	CHECK(feed(&s, "250 old\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "MAIL FROM:<>\r\n"));
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK && smtp_can_rcpt(&s));

	/* an old server that rejects EHLO gets HELO */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 old\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\n"));
	CHECK(feed(&s, "502 what\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "HELO gw.test\r\n"));
	CHECK(feed(&s, "250 old\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "MAIL FROM:<>\r\n"));

	/* but a 554 to EHLO is a refusal */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n554 5.7.1 go away\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_REFUSED);
	CHECK(strcmp(s.errtext, "EHLO: 554 5.7.1 go away") == 0);
	ok("HELO with protocol smtp, and as fallback");
}

static void
test_starttls(void)
{
	struct smtp	s;

	/* tls yes, offered */
	session(&s, 1, TLSMODE_YES, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\nSTARTTLS\r\n"));
	CHECK(feed(&s, "220 2.0.0 go ahead\r\n") == SMTP_STARTTLS);
	CHECK(s.state == SMTP_ST_TLS && !smtp_waiting(&s));
	smtp_tls_done(&s);
	CHECK(expect_out(&s, "EHLO gw.test\r\n"));
	CHECK(feed(&s, "250-x\r\n250-STARTTLS\r\n250 PIPELINING\r\n") ==
	    SMTP_OK);
	CHECK(expect_out(&s, "MAIL FROM:<>\r\n"));
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK && smtp_can_rcpt(&s));
	CHECK(s.tls_active);

	/* plaintext injected after the 220 is an attack: drop */
	session(&s, 1, TLSMODE_YES, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n") == SMTP_OK);
	CHECK(feed(&s, "220 go\r\n250 injected\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_TLS);
	session(&s, 1, TLSMODE_YES, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n") == SMTP_OK);
	CHECK(feed(&s, "220 go\r\n") == SMTP_STARTTLS);
	CHECK(feed(&s, "250 late\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_TLS);

	/* tls yes, not offered: plaintext */
	session(&s, 1, TLSMODE_YES, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\nMAIL FROM:<>\r\n"));

	/* tls yes, refused: plaintext */
	session(&s, 1, TLSMODE_YES, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n454 no\r\n") ==
	    SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\nSTARTTLS\r\nMAIL FROM:<>\r\n"));

	/* tls require, not offered or refused: fail */
	session(&s, 1, TLSMODE_REQUIRE, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_TLS);
	session(&s, 1, TLSMODE_REQUIRE, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 no\r\n") ==
	    SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_TLS);
	CHECK(strcmp(s.errtext, "STARTTLS: 454 4.7.0 no") == 0);
	session(&s, 0, TLSMODE_REQUIRE, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_TLS);

	/* tls no: STARTTLS ignored */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 STARTTLS\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "EHLO gw.test\r\nMAIL FROM:<>\r\n"));
	ok("STARTTLS: yes, require, no, and injection");
}

static void
test_refusals(void)
{
	struct smtp	s;

	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "554 5.7.1 no service\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_REFUSED);
	CHECK(strcmp(s.errtext, "greeting: 554 5.7.1 no service") == 0);
	CHECK(feed(&s, "220 x\r\n") == SMTP_FAIL);

	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "421 4.3.2 busy\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_REFUSED);

	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n550 5.7.1 no null sender\r\n") ==
	    SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_MAIL);
	CHECK(strcmp(s.errtext, "MAIL FROM: 550 5.7.1 no null sender") == 0);

	/* garbage at any point */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\nGARBAGE\r\n") == SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_PROTOCOL);

	/* a reply nobody asked for */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n250 extra\r\n") ==
	    SMTP_FAIL);
	CHECK(s.error == SMTP_ERR_PROTOCOL);

	/* 421 to a RCPT: answered, then the session is gone */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n") == SMTP_OK);
	smtp_rcpt(&s, "a@b", &s);
	CHECK(feed(&s, "421 4.4.2 timeout\r\n") == SMTP_FAIL);
	CHECK(nresults == 1 && results[0].tag == &s);
	CHECK(smtp_verdict(&results[0].reply) == VERDICT_UNKNOWN);
	ok("refusals: greeting, 421, MAIL FROM, garbage, unsolicited");
}

static void
test_pipelining(void)
{
	struct smtp	s;
	int		tags[SMTP_PIPELINE_MAX], i;
	char		want[4096];

	session(&s, 1, TLSMODE_NO, 1);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 PIPELINING\r\n250 ok\r\n") ==
	    SMTP_OK);
	smtp_consume(&s, s.outlen);
	want[0] = '\0';
	for (i = 0; i < SMTP_PIPELINE_MAX; i++) {
		char	addr[32], line[64];

		CHECK(smtp_can_rcpt(&s));
		snprintf(addr, sizeof(addr), "u%d@example.net", i);
		smtp_rcpt(&s, addr, &tags[i]);
		snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", addr);
		strlcat(want, line, sizeof(want));
	}
	CHECK(!smtp_can_rcpt(&s));
	CHECK(expect_out(&s, want));
	CHECK(feed(&s, "250 a\r\n550 b\r\n250 c\r\n") == SMTP_OK);
	CHECK(nresults == 3 && results[1].tag == &tags[1]);
	CHECK(smtp_verdict(&results[1].reply) == VERDICT_INVALID);
	CHECK(smtp_can_rcpt(&s));

	/* without PIPELINING: one at a time */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n") == SMTP_OK);
	smtp_rcpt(&s, "a@b", &tags[0]);
	CHECK(!smtp_can_rcpt(&s));
	ok("pipelining: up to SMTP_PIPELINE_MAX RCPTs in flight");
}

/*
 * A backend that answers RCPTs it never read: the output is never
 * consumed.  RCPTs stop once SMTP_OUT_STALL is unsent, smtp_stalled()
 * says so, and a command that does not fit fails the session instead of
 * the process.
 */
static void
test_nodrain(void)
{
	struct smtp	s;
	char		addr[ADDR_LEN];
	int		tag, n = 0;

	/* The longest address: 242 + 12 = 254 octets. */
	memset(addr, 'x', 242);
	strlcpy(addr + 242, "@example.net", sizeof(addr) - 242);
	session(&s, 1, TLSMODE_NO, 1);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 PIPELINING\r\n250 ok\r\n") ==
	    SMTP_OK);
	smtp_consume(&s, s.outlen);
	while (smtp_can_rcpt(&s)) {
		CHECK(!smtp_stalled(&s));
		smtp_rcpt(&s, addr, &tag);
		n++;
		if (s.nrcpt == SMTP_PIPELINE_MAX)
			CHECK(feed(&s, "250 ok\r\n250 ok\r\n250 ok\r\n"
			    "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
			    "250 ok\r\n") == SMTP_OK);
	}
	CHECK(s.state == SMTP_ST_READY && smtp_stalled(&s));
	CHECK(s.outlen > SMTP_OUT_STALL && s.outlen < SMTP_OUT_MAX);
	CHECK(n > SMTP_PIPELINE_MAX && n < SMTP_TX_RCPT_MAX);
	/* Forced past the gate: the session fails, nothing else. */
	while (s.state != SMTP_ST_FAILED)
		smtp_rcpt(&s, addr, &tag);
	CHECK(s.error == SMTP_ERR_STALLED && smtp_stalled(&s));
	CHECK(s.outlen < SMTP_OUT_MAX);
	CHECK(feed(&s, "250 ok\r\n") == SMTP_FAIL);
	ok("output that does not drain: no RCPTs, then the session fails");
}

static void
test_reset(void)
{
	struct smtp	s;
	int		i, tag;

	/* with PIPELINING: RSET and MAIL go together */
	session(&s, 1, TLSMODE_NO, 1);
	CHECK(feed(&s, "220 x\r\n250-x\r\n250 PIPELINING\r\n250 ok\r\n") ==
	    SMTP_OK);
	smtp_consume(&s, s.outlen);
	for (i = 0; i < SMTP_TX_RCPT_MAX; i++) {
		CHECK(smtp_can_rcpt(&s));
		smtp_rcpt(&s, "a@b", &tag);
		smtp_consume(&s, s.outlen);
		if (i < SMTP_TX_RCPT_MAX - 1) {
			CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
			CHECK(s.outlen == 0);
		}
	}
	CHECK(!smtp_can_rcpt(&s));
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "RSET\r\nMAIL FROM:<>\r\n"));
	CHECK(!smtp_can_rcpt(&s) && !smtp_idle(&s));
	CHECK(feed(&s, "250 reset\r\n") == SMTP_OK && !smtp_can_rcpt(&s));
	CHECK(feed(&s, "250 sender ok\r\n") == SMTP_OK && smtp_can_rcpt(&s));
	CHECK(nresults == SMTP_TX_RCPT_MAX);

	/* without: MAIL after the RSET reply */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n") == SMTP_OK);
	smtp_consume(&s, s.outlen);
	for (i = 0; i < SMTP_TX_RCPT_MAX; i++) {
		smtp_rcpt(&s, "a@b", &tag);
		CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
	}
	smtp_consume(&s, strlen("RCPT TO:<a@b>\r\n") * SMTP_TX_RCPT_MAX);
	CHECK(expect_out(&s, "RSET\r\n"));
	CHECK(feed(&s, "250 reset\r\n") == SMTP_OK);
	CHECK(expect_out(&s, "MAIL FROM:<>\r\n"));
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK && smtp_can_rcpt(&s));

	/* a refused RSET ends the session */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n") == SMTP_OK);
	for (i = 0; i < SMTP_TX_RCPT_MAX; i++) {
		smtp_rcpt(&s, "a@b", &tag);
		CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
	}
	CHECK(feed(&s, "500 what\r\n") == SMTP_FAIL);
	ok("transactions reset every SMTP_TX_RCPT_MAX recipients");
}

static void
test_452(void)
{
	struct smtp	s;
	int		a, b;

	/* 452 after another recipient: retry it on a fresh transaction */
	session(&s, 1, TLSMODE_NO, 0);
	CHECK(feed(&s, "220 x\r\n250 x\r\n250 ok\r\n") == SMTP_OK);
	smtp_consume(&s, s.outlen);
	smtp_rcpt(&s, "a@b", &a);
	CHECK(feed(&s, "250 ok\r\n") == SMTP_OK);
	smtp_rcpt(&s, "b@b", &b);
	smtp_consume(&s, s.outlen);
	CHECK(feed(&s, "452 4.5.3 Too many recipients\r\n") == SMTP_OK);
	CHECK(nresults == 2 && results[1].tag == &b);
	CHECK(results[1].how == SMTP_RCPT_RETRY);
	CHECK(expect_out(&s, "RSET\r\n"));
	CHECK(feed(&s, "250 ok\r\n250 ok\r\n") == SMTP_OK);
	CHECK(smtp_can_rcpt(&s));

	/* 452 to the first recipient is an answer: unknown */
	smtp_rcpt(&s, "c@b", &a);
	CHECK(feed(&s, "452 4.2.2 mailbox full\r\n") == SMTP_OK);
	CHECK(nresults == 3 && results[2].how == SMTP_RCPT_DONE);
	CHECK(smtp_verdict(&results[2].reply) == VERDICT_UNKNOWN);
	CHECK(smtp_can_rcpt(&s));
	ok("452 too many recipients: reset and retry");
}

/* A whole dialogue from the backend, one byte per read. */
static void
test_session_split(void)
{
	struct smtp	 s;
	const char	*in = "220-mx\r\n220 hi\n250-mx\r\n250-PIPELINING\r\n"
	    "250 STARTTLS\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
	    "550-5.1.1 no\r\n550 5.1.1 such user\r\n221 bye\r\n";
	size_t		 i;
	int		 rv = SMTP_OK, a, b;

	session(&s, 1, TLSMODE_NO, 1);
	for (i = 0; in[i] != '\0' && rv == SMTP_OK; i++) {
		rv = smtp_feed(&s, in + i, 1);
		if (smtp_can_rcpt(&s) && nresults == 0 &&
		    s.nrcpt == 0) {
			smtp_rcpt(&s, "a@x", &a);
			smtp_rcpt(&s, "b@x", &b);
			smtp_quit(&s);
		}
	}
	CHECK(rv == SMTP_CLOSED && in[i] == '\0');
	CHECK(nresults == 2);
	CHECK(smtp_verdict(&results[0].reply) == VERDICT_VALID);
	CHECK(smtp_verdict(&results[1].reply) == VERDICT_INVALID);
	CHECK(strcmp(results[1].reply.text, "no such user") == 0);
	CHECK(expect_out(&s, "EHLO gw.test\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nQUIT\r\n"));
	ok("a whole session fed one byte at a time");
}
