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
 * The SMTP client state machine of the prober.  It knows nothing of
 * sockets, TLS or time: the prober feeds it what the backend sent and
 * writes out what it queued, so that every byte stream a backend can
 * produce is testable without a network.
 *
 * A session greets once, opens a transaction at once (MAIL FROM) and then
 * serves probes with one RCPT each: on an open session a probe costs one
 * round trip.  With PIPELINING several RCPTs are in flight.  Every
 * SMTP_TX_RCPT_MAX recipients, or when the backend says 452 too many
 * recipients, the transaction is reset.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "log.h"
#include "policy.h"
#include "smtp.h"

static enum smtp_parse_result smtp_parse_line(struct smtp_parser *);
static size_t	 smtp_enhanced_len(const char *, size_t, char);
static int	 smtp_keyword(const char *, size_t);
static void	 smtp_text_append(struct smtp_parser *, const char *, size_t);
static void	 smtp_printf(struct smtp *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 smtp_push(struct smtp *, enum smtp_cmd, void *, int);
static int	 smtp_fail(struct smtp *, enum smtp_error,
		    const struct smtp_reply *, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
static int	 smtp_handle(struct smtp *, struct smtp_pending *,
		    const struct smtp_reply *);
static void	 smtp_send_helo(struct smtp *);
static int	 smtp_after_helo(struct smtp *);
static void	 smtp_send_mail(struct smtp *);
static void	 smtp_maybe_reset(struct smtp *);

static const char *const smtp_cmd_names[] = {
	[SMTP_CMD_BANNER] = "greeting",
	[SMTP_CMD_EHLO] = "EHLO",
	[SMTP_CMD_HELO] = "HELO",
	[SMTP_CMD_STARTTLS] = "STARTTLS",
	[SMTP_CMD_MAIL] = "MAIL FROM",
	[SMTP_CMD_RCPT] = "RCPT TO",
	[SMTP_CMD_RSET] = "RSET",
	[SMTP_CMD_QUIT] = "QUIT",
};

#define IS2XX(c)	((c) >= 200 && (c) < 300)

void
smtp_parser_init(struct smtp_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/*
 * Consume bytes up to the end of the first complete reply.  A reply may
 * arrive split across any number of reads, several may arrive in one read;
 * lines end in CRLF or a bare LF.  Once broken, the parser stays broken:
 * nothing after garbage can be trusted to line up with our commands.
 */
enum smtp_parse_result
smtp_parse(struct smtp_parser *p, const char *buf, size_t len, size_t *used,
    struct smtp_reply *out)
{
	enum smtp_parse_result	 r;
	size_t			 i;

	*used = 0;
	if (p->failed)
		return (SMTP_PARSE_ERROR);

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (p->len >= sizeof(p->line) - 1) {
				p->failed = 1;
				snprintf(p->error, sizeof(p->error),
				    "reply line longer than %d octets",
				    SMTP_LINE_MAX);
				*used = i;
				return (SMTP_PARSE_ERROR);
			}
			p->line[p->len++] = buf[i];
			continue;
		}
		if (p->len > 0 && p->line[p->len - 1] == '\r')
			p->len--;
		r = smtp_parse_line(p);
		p->len = 0;
		if (r == SMTP_PARSE_MORE)
			continue;
		*used = i + 1;
		if (r == SMTP_PARSE_REPLY) {
			*out = p->reply;
			memset(&p->reply, 0, sizeof(p->reply));
			p->textlen = 0;
		}
		return (r);
	}
	*used = len;
	return (SMTP_PARSE_MORE);
}

/* One line without its line end: "250-text", "250 text" or "250". */
static enum smtp_parse_result
smtp_parse_line(struct smtp_parser *p)
{
	struct smtp_reply	*r = &p->reply;
	const char		*l = p->line, *text;
	size_t			 n = p->len, tlen, elen;
	int			 code;

	if (n < 3 || l[0] < '2' || l[0] > '5' ||
	    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]) ||
	    (n > 3 && l[3] != ' ' && l[3] != '-')) {
		p->failed = 1;
		strlcpy(p->error, "malformed reply line", sizeof(p->error));
		return (SMTP_PARSE_ERROR);
	}
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (r->nlines > 0 && code != r->code) {
		p->failed = 1;
		strlcpy(p->error, "reply code changes inside a multi-line "
		    "reply", sizeof(p->error));
		return (SMTP_PARSE_ERROR);
	}
	if (++r->nlines > SMTP_REPLY_LINES_MAX) {
		p->failed = 1;
		snprintf(p->error, sizeof(p->error), "reply longer than %d "
		    "lines", SMTP_REPLY_LINES_MAX);
		return (SMTP_PARSE_ERROR);
	}
	r->code = code;

	text = n > 4 ? l + 4 : "";
	tlen = n > 4 ? n - 4 : 0;
	if ((elen = smtp_enhanced_len(text, tlen, l[0])) > 0) {
		if (r->nlines == 1)
			memcpy(r->enhanced, text, elen);	/* elen < 12 */
		text += elen;
		tlen -= elen;
		while (tlen > 0 && *text == ' ') {
			text++;
			tlen--;
		}
	}
	if (r->nlines > 1)
		r->caps |= smtp_keyword(text, tlen);
	smtp_text_append(p, text, tlen);

	return (n > 3 && l[3] == '-' ? SMTP_PARSE_MORE : SMTP_PARSE_REPLY);
}

/*
 * RFC 3463: class.subject.detail, the class matching the reply's first
 * digit, then a space or the end.  Returns its length, 0 if none.
 */
static size_t
smtp_enhanced_len(const char *s, size_t len, char class)
{
	size_t	i = 0, part, digits;

	if (len < 5 || s[0] != class || s[1] != '.')
		return (0);
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < len && isdigit((unsigned char)s[i]);
		    digits++)
			i++;
		if (digits < 1 || digits > 3)
			return (0);
		if (part == 0) {
			if (i >= len || s[i] != '.')
				return (0);
			i++;
		}
	}
	if (i < len && s[i] != ' ')
		return (0);
	return (i);
}

static int
smtp_keyword(const char *s, size_t len)
{
	static const struct {
		const char	*word;
		int		 cap;
	} words[] = {
		{ "PIPELINING",		 SMTP_CAP_PIPELINING },
		{ "STARTTLS",		 SMTP_CAP_STARTTLS },
		{ "ENHANCEDSTATUSCODES", SMTP_CAP_ENHANCED },
	};
	size_t	i, wlen;

	for (wlen = 0; wlen < len && s[wlen] != ' '; wlen++)
		;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == wlen &&
		    strncasecmp(words[i].word, s, wlen) == 0)
			return (words[i].cap);
	return (0);
}

/* The text goes to logs and scambackctl: printable ASCII only, bounded. */
static void
smtp_text_append(struct smtp_parser *p, const char *s, size_t len)
{
	struct smtp_reply	*r = &p->reply;
	size_t			 i;
	unsigned char		 c;

	if (len == 0)
		return;
	if (p->textlen > 0 && p->textlen < sizeof(r->text) - 1)
		r->text[p->textlen++] = ' ';
	for (i = 0; i < len && p->textlen < sizeof(r->text) - 1; i++) {
		c = s[i];
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		r->text[p->textlen++] = c;
	}
	r->text[p->textlen] = '\0';
}

/*
 * SPEC section 6: 2xx valid; 550, 551, 553 or any 5xx with an enhanced
 * status 5.1.x invalid; everything else unknown.
 */
enum verdict
smtp_verdict(const struct smtp_reply *r)
{
	if (IS2XX(r->code))
		return (VERDICT_VALID);
	if (r->code == 550 || r->code == 551 || r->code == 553)
		return (VERDICT_INVALID);
	if (r->code >= 500 && r->code < 600 &&
	    strncmp(r->enhanced, "5.1.", 4) == 0)
		return (VERDICT_INVALID);
	return (VERDICT_UNKNOWN);
}

/*
 * What may go between <> in a command: nothing that ends the line, and
 * '<' or '>' only inside a quoted string ("x>y"@example.net), so that no
 * address can smuggle a command to the backend or end its path early.
 */
int
smtp_address_ok(const char *s)
{
	const unsigned char	*u;
	int			 inq = 0;

	if (strlen(s) >= ADDR_LEN)
		return (0);
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return (0);
		if (inq) {
			if (*u == '\\' && u[1] != '\0')
				u++;
			else if (*u == '"')
				inq = 0;
		} else if (*u == '"')
			inq = 1;
		else if (*u == '<' || *u == '>')
			return (0);
	}
	return (!inq);
}

const char *
smtp_cmd_name(enum smtp_cmd cmd)
{
	return (smtp_cmd_names[cmd]);
}

void
smtp_init(struct smtp *s, int esmtp, int tls_want, const char *helo,
    const char *sender, void (*cb)(struct smtp *, void *, int,
    const struct smtp_reply *), void *arg)
{
	memset(s, 0, sizeof(*s));
	s->state = SMTP_ST_GREETING;
	s->esmtp = esmtp;
	s->tls_want = tls_want;
	s->helo = helo;
	s->sender = sender;
	s->rcpt_cb = cb;
	s->arg = arg;
	smtp_parser_init(&s->parser);
	smtp_push(s, SMTP_CMD_BANNER, NULL, 0);
}

static void
smtp_printf(struct smtp *s, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (s->state == SMTP_ST_FAILED)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->out + s->outlen, sizeof(s->out) - s->outlen, fmt, ap);
	va_end(ap);
	/*
	 * Commands are bounded, and smtp_can_rcpt() takes no RCPT once
	 * SMTP_OUT_STALL is unsent, so only a backend that answers what it
	 * never read gets here: that ends its session, not the prober.
	 */
	if (n < 0 || (size_t)n >= sizeof(s->out) - s->outlen) {
		s->out[s->outlen] = '\0';
		(void)smtp_fail(s, SMTP_ERR_STALLED, NULL,
		    "output not draining");
		return;
	}
	s->outlen += n;
}

void
smtp_consume(struct smtp *s, size_t n)
{
	if (n >= s->outlen) {
		s->outlen = 0;
		return;
	}
	memmove(s->out, s->out + n, s->outlen - n);
	s->outlen -= n;
}

static void
smtp_push(struct smtp *s, enum smtp_cmd cmd, void *tag, int nth)
{
	struct smtp_pending	*p;

	if (s->state == SMTP_ST_FAILED)
		return;
	/* Bounded by smtp_can_rcpt() as well: never more than this. */
	if (s->npending == SMTP_PENDING_MAX) {
		(void)smtp_fail(s, SMTP_ERR_PROTOCOL, NULL,
		    "too many commands in flight");
		return;
	}
	p = &s->pending[(s->pstart + s->npending) % SMTP_PENDING_MAX];
	p->cmd = cmd;
	p->tag = tag;
	p->nth = nth;
	s->npending++;
}

static int
smtp_fail(struct smtp *s, enum smtp_error error, const struct smtp_reply *r,
    const char *fmt, ...)
{
	va_list	ap;
	char	what[128];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	s->state = SMTP_ST_FAILED;
	s->error = error;
	if (r != NULL) {
		s->last = *r;
		/* A long reply text is cut: the start says enough. */
		if (snprintf(s->errtext, sizeof(s->errtext), "%s: %d%s%s%s%s",
		    what, r->code, r->enhanced[0] != '\0' ? " " : "",
		    r->enhanced, r->text[0] != '\0' ? " " : "", r->text) < 0)
			strlcpy(s->errtext, what, sizeof(s->errtext));
	} else
		strlcpy(s->errtext, what, sizeof(s->errtext));
	return (SMTP_FAIL);
}

/*
 * Bytes from the backend.  Returns SMTP_OK, SMTP_STARTTLS (the caller
 * starts the handshake; nothing may follow the 220 in plaintext),
 * SMTP_CLOSED after the QUIT reply, or SMTP_FAIL.
 */
int
smtp_feed(struct smtp *s, const char *buf, size_t len)
{
	struct smtp_reply	 r;
	struct smtp_pending	 pend;
	enum smtp_parse_result	 pr;
	size_t			 used;
	int			 rv;

	while (len > 0) {
		switch (s->state) {
		case SMTP_ST_FAILED:
			return (SMTP_FAIL);
		case SMTP_ST_CLOSED:
			return (SMTP_CLOSED);
		case SMTP_ST_TLS:
			return (smtp_fail(s, SMTP_ERR_TLS, NULL,
			    "plaintext after the STARTTLS reply"));
		default:
			break;
		}

		pr = smtp_parse(&s->parser, buf, len, &used, &r);
		buf += used;
		len -= used;
		if (pr == SMTP_PARSE_MORE)
			break;
		if (pr == SMTP_PARSE_ERROR)
			return (smtp_fail(s, SMTP_ERR_PROTOCOL, NULL, "%s",
			    s->parser.error));
		if (s->npending == 0)
			return (smtp_fail(s, r.code == 421 ? SMTP_ERR_REFUSED :
			    SMTP_ERR_PROTOCOL, &r, "unexpected reply"));

		s->nreplies++;
		pend = s->pending[s->pstart];
		s->pstart = (s->pstart + 1) % SMTP_PENDING_MAX;
		s->npending--;

		if ((rv = smtp_handle(s, &pend, &r)) == SMTP_STARTTLS &&
		    (len > 0 || s->parser.len > 0))
			return (smtp_fail(s, SMTP_ERR_TLS, NULL,
			    "plaintext after the STARTTLS reply"));
		if (rv != SMTP_OK)
			return (rv);
	}
	return (s->state == SMTP_ST_FAILED ? SMTP_FAIL : SMTP_OK);
}

static int
smtp_handle(struct smtp *s, struct smtp_pending *pend,
    const struct smtp_reply *r)
{
	switch (pend->cmd) {
	case SMTP_CMD_BANNER:
		if (!IS2XX(r->code))
			return (smtp_fail(s, SMTP_ERR_REFUSED, r, "greeting"));
		smtp_send_helo(s);
		break;
	case SMTP_CMD_EHLO:
		if (IS2XX(r->code)) {
			s->caps = r->caps;
			return (smtp_after_helo(s));
		}
		/* An old server that does not know EHLO: try HELO. */
		if (r->code >= 500 && r->code != 554 && !s->tls_active) {
			s->esmtp = 0;
			smtp_send_helo(s);
			break;
		}
		return (smtp_fail(s, SMTP_ERR_REFUSED, r, "EHLO"));
	case SMTP_CMD_HELO:
		if (!IS2XX(r->code))
			return (smtp_fail(s, SMTP_ERR_REFUSED, r, "HELO"));
		s->caps = 0;
		return (smtp_after_helo(s));
	case SMTP_CMD_STARTTLS:
		if (r->code == 220) {
			s->state = SMTP_ST_TLS;
			return (SMTP_STARTTLS);
		}
		if (s->tls_want == TLSMODE_REQUIRE)
			return (smtp_fail(s, SMTP_ERR_TLS, r, "STARTTLS"));
		smtp_send_mail(s);
		break;
	case SMTP_CMD_MAIL:
		if (!IS2XX(r->code))
			return (smtp_fail(s, SMTP_ERR_MAIL, r, "MAIL FROM"));
		s->state = SMTP_ST_READY;
		s->tx_rcpts = 0;
		s->tx_full = 0;
		break;
	case SMTP_CMD_RCPT:
		s->nrcpt--;
		/*
		 * 452 after other recipients of this transaction is the
		 * backend's recipient limit, not an answer about this one.
		 */
		if (r->code == 452 && pend->nth > 0) {
			s->tx_full = 1;
			s->rcpt_cb(s, pend->tag, SMTP_RCPT_RETRY, r);
		} else
			s->rcpt_cb(s, pend->tag, SMTP_RCPT_DONE, r);
		if (r->code == 421)
			return (smtp_fail(s, SMTP_ERR_REFUSED, r, "RCPT TO"));
		smtp_maybe_reset(s);
		break;
	case SMTP_CMD_RSET:
		if (!IS2XX(r->code))
			return (smtp_fail(s, SMTP_ERR_REFUSED, r, "RSET"));
		if ((s->caps & SMTP_CAP_PIPELINING) == 0)
			smtp_send_mail(s);
		break;
	case SMTP_CMD_QUIT:
		s->state = SMTP_ST_CLOSED;
		return (SMTP_CLOSED);
	}
	return (SMTP_OK);
}

static void
smtp_send_helo(struct smtp *s)
{
	if (s->esmtp) {
		smtp_printf(s, "EHLO %s\r\n", s->helo);
		smtp_push(s, SMTP_CMD_EHLO, NULL, 0);
	} else {
		smtp_printf(s, "HELO %s\r\n", s->helo);
		smtp_push(s, SMTP_CMD_HELO, NULL, 0);
	}
}

static int
smtp_after_helo(struct smtp *s)
{
	if (s->tls_want != TLSMODE_NO && !s->tls_active) {
		if (s->caps & SMTP_CAP_STARTTLS) {
			smtp_printf(s, "STARTTLS\r\n");
			smtp_push(s, SMTP_CMD_STARTTLS, NULL, 0);
			return (SMTP_OK);
		}
		if (s->tls_want == TLSMODE_REQUIRE)
			return (smtp_fail(s, SMTP_ERR_TLS, NULL,
			    "STARTTLS required but not offered"));
	}
	smtp_send_mail(s);
	return (SMTP_OK);
}

static void
smtp_send_mail(struct smtp *s)
{
	smtp_printf(s, "MAIL FROM:<%s>\r\n", s->sender);
	smtp_push(s, SMTP_CMD_MAIL, NULL, 0);
}

/* A full transaction is reset once its last RCPT is answered. */
static void
smtp_maybe_reset(struct smtp *s)
{
	if (s->state != SMTP_ST_READY || s->nrcpt > 0 ||
	    (!s->tx_full && s->tx_rcpts < SMTP_TX_RCPT_MAX))
		return;
	s->state = SMTP_ST_RESET;
	smtp_printf(s, "RSET\r\n");
	smtp_push(s, SMTP_CMD_RSET, NULL, 0);
	if (s->caps & SMTP_CAP_PIPELINING)
		smtp_send_mail(s);
}

/* The handshake succeeded: greet again, as RFC 3207 wants. */
void
smtp_tls_done(struct smtp *s)
{
	s->tls_active = 1;
	s->caps = 0;
	s->state = SMTP_ST_GREETING;
	smtp_send_helo(s);
}

int
smtp_can_rcpt(const struct smtp *s)
{
	int	max = (s->caps & SMTP_CAP_PIPELINING) ? SMTP_PIPELINE_MAX : 1;

	return (s->state == SMTP_ST_READY && !s->tx_full &&
	    s->tx_rcpts < SMTP_TX_RCPT_MAX && s->nrcpt < max &&
	    s->outlen <= SMTP_OUT_STALL);
}

/*
 * More output unsent than any backend that reads can leave us with (see
 * SMTP_OUT_STALL), or no room for a command at all: end the session.
 */
int
smtp_stalled(const struct smtp *s)
{
	return (s->outlen > SMTP_OUT_STALL ||
	    (s->state == SMTP_ST_FAILED && s->error == SMTP_ERR_STALLED));
}

/*
 * The caller checked smtp_can_rcpt() and smtp_address_ok().  A local part
 * that needs quotes gets them on the wire (addr_path); the address is
 * still the engine's key everywhere else.
 */
void
smtp_rcpt(struct smtp *s, const char *address, void *tag)
{
	char	path[2 * ADDR_LEN + 3];

	if (addr_path(address, path, sizeof(path)) == -1)
		strlcpy(path, address, sizeof(path));
	smtp_printf(s, "RCPT TO:<%s>\r\n", path);
	smtp_push(s, SMTP_CMD_RCPT, tag, s->tx_rcpts);
	s->tx_rcpts++;
	s->nrcpt++;
}

/* The caller gave up on this RCPT; its reply will come with a NULL tag. */
void
smtp_forget(struct smtp *s, void *tag)
{
	int	i;

	for (i = 0; i < s->npending; i++)
		if (s->pending[(s->pstart + i) % SMTP_PENDING_MAX].tag == tag)
			s->pending[(s->pstart + i) % SMTP_PENDING_MAX].tag =
			    NULL;
}

void
smtp_quit(struct smtp *s)
{
	smtp_printf(s, "QUIT\r\n");
	smtp_push(s, SMTP_CMD_QUIT, NULL, 0);
	if (s->state != SMTP_ST_FAILED)
		s->state = SMTP_ST_QUIT;
}

/* Replies awaited: the caller keeps a reply timer running while so. */
int
smtp_waiting(const struct smtp *s)
{
	return (s->npending > 0 && s->state != SMTP_ST_TLS);
}

/* The command whose reply is awaited (for error messages). */
enum smtp_cmd
smtp_awaiting(const struct smtp *s)
{
	return (s->npending > 0 ? s->pending[s->pstart].cmd : SMTP_CMD_QUIT);
}

/* Open transaction, nothing in flight: the session may be closed. */
int
smtp_idle(const struct smtp *s)
{
	return (s->state == SMTP_ST_READY && s->nrcpt == 0);
}
