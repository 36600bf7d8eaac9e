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
 * The SMTP client of the prober, without sockets: bytes from the backend go
 * in through smtp_feed(), commands to send come out of smtp->out, RCPT
 * answers come back through a callback.  Include "scam-back.h" first.
 */

#ifndef SMTP_H
#define SMTP_H

#define SMTP_LINE_MAX		1024	/* longest reply line, CRLF included */
#define SMTP_REPLY_LINES_MAX	100	/* lines of one multi-line reply */
#define SMTP_PIPELINE_MAX	8	/* RCPTs in flight with PIPELINING */
#define SMTP_TX_RCPT_MAX	50	/* RCPTs per transaction, then RSET */
#define SMTP_PENDING_MAX	16	/* replies awaited, at most */
#define SMTP_OUT_MAX		8192	/* every command that can be queued */
/*
 * Unsent output beyond this is more than one pipeline of RCPTs with a
 * RSET and a MAIL: a backend answers only what it has read, so one that
 * leaves this much unread while it answers is not reading at all.
 */
#define SMTP_OUT_STALL		(SMTP_OUT_MAX / 2)

/* EHLO keywords the prober cares about. */
#define SMTP_CAP_PIPELINING	0x01
#define SMTP_CAP_STARTTLS	0x02
#define SMTP_CAP_ENHANCED	0x04

struct smtp_reply {
	int			 code;
	int			 nlines;
	int			 caps;		/* EHLO keywords, lines 2.. */
	char			 enhanced[16];	/* "5.1.1" or "" */
	char			 text[REPLY_TEXT_LEN];	/* printable, joined */
};

enum smtp_parse_result {
	SMTP_PARSE_MORE,	/* everything used, the reply is incomplete */
	SMTP_PARSE_REPLY,	/* one whole reply, *used bytes used */
	SMTP_PARSE_ERROR	/* garbage or overlong: drop the session */
};

struct smtp_parser {
	char			 line[SMTP_LINE_MAX];
	size_t			 len;
	size_t			 textlen;
	int			 failed;
	struct smtp_reply	 reply;		/* being assembled */
	char			 error[64];
};

enum smtp_cmd {
	SMTP_CMD_BANNER,	/* not a command: the greeting */
	SMTP_CMD_EHLO,
	SMTP_CMD_HELO,
	SMTP_CMD_STARTTLS,
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_RSET,
	SMTP_CMD_QUIT
};

enum smtp_state {
	SMTP_ST_GREETING,	/* banner, EHLO/HELO, STARTTLS, first MAIL */
	SMTP_ST_TLS,		/* the caller runs the TLS handshake */
	SMTP_ST_READY,		/* a transaction is open: RCPTs may go */
	SMTP_ST_RESET,		/* RSET and a new MAIL FROM under way */
	SMTP_ST_QUIT,
	SMTP_ST_CLOSED,
	SMTP_ST_FAILED
};

/* Why a session failed; the prober logs some of them once per backend. */
enum smtp_error {
	SMTP_ERR_NONE,
	SMTP_ERR_PROTOCOL,	/* garbage, overlong, out of order */
	SMTP_ERR_REFUSED,	/* banner, EHLO/HELO or RSET not accepted, 421 */
	SMTP_ERR_MAIL,		/* MAIL FROM refused */
	SMTP_ERR_TLS,		/* tls require and no STARTTLS, or plaintext
				   after its 220 */
	SMTP_ERR_STALLED	/* our commands are not read: no room left */
};

/* smtp_feed() results */
#define SMTP_OK		0
#define SMTP_STARTTLS	1	/* run the handshake, then smtp_tls_done() */
#define SMTP_CLOSED	2	/* QUIT answered: close */
#define SMTP_FAIL	(-1)	/* see error, errtext: close */

/* the third argument of rcpt_cb */
#define SMTP_RCPT_DONE	0	/* the reply to this RCPT */
#define SMTP_RCPT_RETRY	1	/* 452 too many recipients: ask again later */

struct smtp_pending {
	enum smtp_cmd		 cmd;
	void			*tag;		/* RCPT: the caller's */
	int			 nth;		/* RCPT: index in transaction */
};

struct smtp {
	enum smtp_state		 state;
	int			 esmtp;		/* EHLO, else HELO */
	int			 tls_want;	/* TLSMODE_* */
	int			 tls_active;
	int			 caps;		/* SMTP_CAP_*, from EHLO */
	const char		*helo;		/* owned by the caller */
	const char		*sender;	/* "" for <> */

	struct smtp_parser	 parser;
	struct smtp_pending	 pending[SMTP_PENDING_MAX];
	int			 pstart;
	int			 npending;
	int			 nrcpt;		/* RCPTs awaiting a reply */
	int			 tx_rcpts;	/* RCPTs sent in this transaction */
	int			 tx_full;	/* backend said 452 */
	unsigned int		 nreplies;	/* replies received so far */

	char			 out[SMTP_OUT_MAX];
	size_t			 outlen;

	void			(*rcpt_cb)(struct smtp *, void *, int,
				    const struct smtp_reply *);
	void			*arg;

	enum smtp_error		 error;
	struct smtp_reply	 last;		/* the reply that failed us */
	char			 errtext[REPLY_TEXT_LEN];
};

/* smtp.c */
void		 smtp_parser_init(struct smtp_parser *);
enum smtp_parse_result smtp_parse(struct smtp_parser *, const char *, size_t,
		    size_t *, struct smtp_reply *);
enum verdict	 smtp_verdict(const struct smtp_reply *);
int		 smtp_address_ok(const char *);

void		 smtp_init(struct smtp *, int, int, const char *, const char *,
		    void (*)(struct smtp *, void *, int,
		    const struct smtp_reply *), void *);
int		 smtp_feed(struct smtp *, const char *, size_t);
void		 smtp_tls_done(struct smtp *);
int		 smtp_can_rcpt(const struct smtp *);
int		 smtp_stalled(const struct smtp *);
void		 smtp_rcpt(struct smtp *, const char *, void *);
void		 smtp_forget(struct smtp *, void *);
void		 smtp_quit(struct smtp *);
int		 smtp_waiting(const struct smtp *);
int		 smtp_idle(const struct smtp *);
void		 smtp_consume(struct smtp *, size_t);
const char	*smtp_cmd_name(enum smtp_cmd);
enum smtp_cmd	 smtp_awaiting(const struct smtp *);

#endif /* SMTP_H */
