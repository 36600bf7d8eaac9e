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
 * smtpload: an SMTP client that loads a real MTA the way loadgen loads a
 * milter: N sessions, each EHLO, optionally XCLIENT (so the MTA and its
 * milters see a remote client, 192.0.2.x, not loopback), then MAIL and
 * many RCPTs, RSET and MAIL again every -r recipients.  Closed loop, one
 * command at a time per session, no DATA: RCPT/s is what the MTA with its
 * milters sustains.  A session the MTA drops is opened again and counted
 * as an error.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_LOAD
#include "bench.h"

#define MAXLINE		2048

enum state {
	S_BANNER,
	S_EHLO,
	S_XCLIENT,
	S_EHLO2,
	S_MAIL,
	S_RCPT,
	S_RSET,
	S_CLOSED
};

struct session {
	int			 id;
	int			 fd;
	struct bufferevent	*bev;
	enum state		 state;
	int			 rcpts;
	unsigned int		 gen;		/* opened how many times */
	uint64_t		 sent;
	char			 client[INET_ADDRSTRLEN];
};

static __dead void usage(void);
static void	 session_begin(int);
static void	 session_open(struct session *);
static void	 session_close(struct session *, int);
static void	 session_send(struct session *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 session_next(struct session *);
static void	 session_reply(struct session *, int);
static void	 session_read(struct bufferevent *, void *);
static void	 session_error(struct bufferevent *, short, void *);

static struct sockaddr_in server;
static struct session	*sessions;
static int		 xclient;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: smtpload [-SX] [-a client-prefix] "
	    "[-c sessions] [-d domain] [-n setsize]\n\t[-r rcpts-per-mail] "
	    "[-t seconds] [-U tag] [-w warmup] [-x seed] -p port\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	int		 ch, port = 0;

	while ((ch = getopt(argc, argv, "p:X" RUN_OPTIONS)) != -1) {
		switch (ch) {
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "port %s: %s", optarg, errstr);
			break;
		case 'X':
			xclient = 1;
			break;
		default:
			if (!run_option(ch, optarg))
				usage();
		}
	}
	if (port == 0 || argc != optind || duration <= 0 || warmup < 0)
		usage();
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons(port);
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if ((sessions = calloc(nsessions, sizeof(*sessions))) == NULL)
		err(1, "calloc");
	run("smtpload", session_begin);
	return (0);
}

/* Session i, from client_base plus 1 to 250. */
static void
session_begin(int i)
{
	sessions[i].id = i;
	snprintf(sessions[i].client, sizeof(sessions[i].client), "%s%d",
	    client_base, 1 + i % 250);
	session_open(&sessions[i]);
}

static void
session_open(struct session *s)
{
	if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(s->fd, (struct sockaddr *)&server, sizeof(server)) == -1)
		err(1, "connect 127.0.0.1:%d", ntohs(server.sin_port));
	if (fcntl(s->fd, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
	if ((s->bev = bufferevent_new(s->fd, session_read, NULL,
	    session_error, s)) == NULL)
		errx(1, "bufferevent_new");
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->state = S_BANNER;
	s->gen++;
	open_sessions++;
}

/* again: open a new session in its place (the MTA dropped this one). */
static void
session_close(struct session *s, int again)
{
	if (s->state == S_CLOSED)
		return;
	s->state = S_CLOSED;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	bufferevent_free(s->bev);
	close(s->fd);
	open_sessions--;
	if (again && !stopping)
		session_open(s);
	else if (open_sessions == 0)
		event_loopexit(NULL);
}

static void
session_send(struct session *s, const char *fmt, ...)
{
	char	buf[MAXLINE];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 2)
		errx(1, "command too long");
	memcpy(buf + n, "\r\n", 2);
	bufferevent_write(s->bev, buf, n + 2);
}

/* After a MAIL or RCPT answer: the next RCPT, or RSET, or QUIT. */
static void
session_next(struct session *s)
{
	char	rcpt[300];

	if (stopping || (s->rcpts < per_mail &&
	    !rcpt_next(&rs, rcpt, sizeof(rcpt)))) {
		if (EVBUFFER_LENGTH(EVBUFFER_OUTPUT(s->bev)) == 0)
			(void)write(s->fd, "QUIT\r\n", 6);
		session_close(s, 0);
		return;
	}
	if (s->rcpts >= per_mail) {
		session_send(s, "RSET");
		s->state = S_RSET;
		return;
	}
	s->sent = now_ns();
	session_send(s, "RCPT TO:<%s>", rcpt);
	s->rcpts++;
	s->state = S_RCPT;
}

static void
session_reply(struct session *s, int code)
{
	enum verdict_class	v;

	switch (s->state) {
	case S_BANNER:
	case S_XCLIENT:
		if (code != 220)
			break;
		session_send(s, "EHLO client.bench");
		s->state = s->state == S_BANNER ? S_EHLO : S_EHLO2;
		return;
	case S_EHLO:
		if (code != 250)
			break;
		if (xclient) {
			session_send(s, "XCLIENT ADDR=%s NAME=client.bench "
			    "HELO=client.bench", s->client);
			s->state = S_XCLIENT;
			return;
		}
		/* FALLTHROUGH */
	case S_EHLO2:
	case S_RSET:
		if (code != 250)
			break;
		session_send(s, "MAIL FROM:<sender@remote.test>");
		s->state = S_MAIL;
		s->rcpts = 0;
		return;
	case S_MAIL:
		if (code != 250)
			break;
		session_next(s);
		return;
	case S_RCPT:
		v = code / 100 == 2 ? V_CONTINUE : code / 100 == 5 ? V_REJECT :
		    code / 100 == 4 ? V_TEMPFAIL : V_OTHER;
		if (measuring) {
			hist_add(&hist, now_ns() - s->sent);
			count[v]++;
		}
		/* 421: the MTA is closing the session. */
		if (code == 421)
			break;
		session_next(s);
		return;
	case S_CLOSED:
		return;
	}
	if (!stopping)
		complain("session %d: unexpected reply %d in state %d", s->id,
		    code, s->state);
	session_close(s, 1);
}

static void
session_read(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*in = EVBUFFER_INPUT(bev);
	u_char		*p, *nl;
	size_t		 len;
	unsigned int	 gen = s->gen;
	int		 code;

	while (s->state != S_CLOSED && EVBUFFER_LENGTH(in) > 0) {
		p = EVBUFFER_DATA(in);
		len = EVBUFFER_LENGTH(in);
		if ((nl = memchr(p, '\n', len)) == NULL) {
			if (len > MAXLINE) {
				complain("session %d: reply line too long",
				    s->id);
				session_close(s, 1);
			}
			return;
		}
		if (nl - p < 3 || p[0] < '1' || p[0] > '5') {
			complain("session %d: bad reply", s->id);
			session_close(s, 1);
			return;
		}
		code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		/* "250-": more lines to come; "250 " ends the reply. */
		len = nl - p + 1;
		if (nl - p > 3 && p[3] == '-') {
			evbuffer_drain(in, len);
			continue;
		}
		evbuffer_drain(in, len);
		session_reply(s, code);
		/* Closed, perhaps opened again: in is gone. */
		if (s->gen != gen)
			return;
	}
}

static void
session_error(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (!stopping)
		complain("session %d: connection %s", s->id,
		    what & EVBUFFER_EOF ? "closed by the server" : "failed");
	session_close(s, 1);
}
