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
 * loadgen: the MTA side of the milter protocol as a load generator.  N
 * sessions, each one negotiation, CONNECT, HELO, then MAIL and many RCPTs
 * (an ABORT and a new MAIL every -r recipients), each RCPT with a fresh
 * {rcpt_addr}.  Closed loop: a session sends its next RCPT when the
 * answer to the last one is in, so verdicts/s is what the milter
 * sustains and the latency is the milter's alone.  One event loop, one
 * thread: the generator costs little next to the milter it measures.
 *
 * The steps and "no reply" flags the milter asks for in negotiation are
 * honoured; the macros of every stage are sent whether or not the stage's
 * command is, as the MTAs do, so {client_addr} is known at RCPT.  The
 * client address is not loopback (192.0.2.x) so that a milter that skips
 * local submission verifies these recipients.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* The milter protocol, version 6 (libmilter/mfdef.h spells the same). */
#define MILTER_VERSION	6
#define MAXPACKET	(64 * 1024)

#define P_NOCONNECT	0x00000001
#define P_NOHELO	0x00000002
#define P_NOMAIL	0x00000004
#define P_NORCPT	0x00000008
#define P_NR_CONN	0x00001000
#define P_NR_HELO	0x00002000
#define P_NR_MAIL	0x00004000
#define P_NR_RCPT	0x00008000
#define P_OFFER		0x001fffff	/* every flag of version 6 */
#define A_OFFER		0x000001ff

enum step {
	ST_NEG,
	ST_CONNECT,
	ST_HELO,
	ST_MAIL,
	ST_RCPT,
	ST_DONE
};

struct session {
	int			 id;
	int			 fd;
	struct bufferevent	*bev;
	enum step		 step;
	int			 waiting;	/* for a reply to step */
	uint32_t		 pflags;	/* the milter's answer */
	int			 rcpts;		/* in this MAIL */
	uint64_t		 sent;		/* when the RCPT went out */
	char			 client[INET_ADDRSTRLEN];
};

static __dead void usage(void);
static void	 session_begin(int);
static int	 milter_connect(const char *);
static void	 session_start(struct session *);
static void	 session_advance(struct session *);
static void	 session_close(struct session *);
static void	 session_quit(struct session *);
static void	 session_read(struct bufferevent *, void *);
static void	 session_error(struct bufferevent *, short, void *);
static void	 send_pkt(struct session *, char, const void *, size_t);
static void	 send_macros(struct session *, int, ...);
static void	 reply(struct session *, char, const char *, size_t);
static void	 slow_verdict(struct session *, uint64_t);

static const char	*spec;
static struct session	*sessions;
static uint64_t		 slow_ms;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: loadgen [-S] [-A address] [-a client-prefix] "
	    "[-c sessions] [-d domain]\n\t[-n setsize] [-r rcpts-per-mail] "
	    "[-t seconds] [-U tag] [-v slow-ms] [-w warmup]\n\t[-x seed] "
	    "-s conn\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	int		 ch;

	while ((ch = getopt(argc, argv, "A:s:v:" RUN_OPTIONS)) != -1) {
		switch (ch) {
		case 'A':
			rs.fixed = optarg;
			break;
		case 's':
			spec = optarg;
			break;
		case 'v':
			slow_ms = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(1, "slow %s: %s", optarg, errstr);
			break;
		default:
			if (!run_option(ch, optarg))
				usage();
		}
	}
	if (spec == NULL || argc != optind || duration <= 0 || warmup < 0)
		usage();

	if ((sessions = calloc(nsessions, sizeof(*sessions))) == NULL)
		err(1, "calloc");
	run("loadgen", session_begin);
	return (0);
}

/* Session i, from client_base plus 1 to 250. */
static void
session_begin(int i)
{
	sessions[i].id = i;
	snprintf(sessions[i].client, sizeof(sessions[i].client), "%s%d",
	    client_base, 1 + i % 250);
	session_start(&sessions[i]);
}

/* "unix:/path", "local:/path" or "inet:port@host", as libmilter spells. */
static int
milter_connect(const char *conn)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	const char		*p;
	char			 host[64];
	int			 fd;

	if ((p = strchr(conn, ':')) == NULL)
		errx(1, "bad connection spec %s", conn);
	if (strncmp(conn, "unix:", 5) == 0 || strncmp(conn, "local:", 6) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlcpy(sun.sun_path, p + 1, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path))
			errx(1, "socket path too long");
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			err(1, "socket");
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			err(1, "connect %s", conn);
	} else if (strncmp(conn, "inet:", 5) == 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(atoi(p + 1));
		if ((p = strchr(p, '@')) == NULL ||
		    strlcpy(host, p + 1, sizeof(host)) >= sizeof(host) ||
		    inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			errx(1, "bad connection spec %s", conn);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			err(1, "socket");
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			err(1, "connect %s", conn);
	} else
		errx(1, "bad connection spec %s", conn);
	return (fd);
}

static void
session_start(struct session *s)
{
	uint32_t	neg[3];

	s->fd = milter_connect(spec);
	if (fcntl(s->fd, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
	if ((s->bev = bufferevent_new(s->fd, session_read, NULL,
	    session_error, s)) == NULL)
		errx(1, "bufferevent_new");
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	open_sessions++;

	neg[0] = htonl(MILTER_VERSION);
	neg[1] = htonl(A_OFFER);
	neg[2] = htonl(P_OFFER);
	send_pkt(s, 'O', neg, sizeof(neg));
	s->step = ST_NEG;
	s->waiting = 1;
}

static void
session_close(struct session *s)
{
	if (s->step == ST_DONE)
		return;
	s->step = ST_DONE;
	/* Off the event loop now: libevent frees lazily, after the close. */
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	bufferevent_free(s->bev);
	close(s->fd);
	if (--open_sessions == 0)
		event_loopexit(NULL);
}

/*
 * Nothing is left to send when a session ends after an answer: write the
 * QUIT at once, then close.
 */
static void
session_quit(struct session *s)
{
	static const u_char	quit[5] = { 0, 0, 0, 1, 'Q' };

	if (EVBUFFER_LENGTH(EVBUFFER_OUTPUT(s->bev)) == 0)
		(void)write(s->fd, quit, sizeof(quit));
	session_close(s);
}

static void
send_pkt(struct session *s, char cmd, const void *data, size_t len)
{
	uint32_t	n = htonl((uint32_t)len + 1);

	bufferevent_write(s->bev, &n, sizeof(n));
	bufferevent_write(s->bev, &cmd, 1);
	if (len > 0)
		bufferevent_write(s->bev, data, len);
}

/* A 'D' packet for stage: name, value, ..., NULL. */
static void
send_macros(struct session *s, int stage, ...)
{
	char		 buf[1024];
	const char	*str;
	size_t		 len = 0, n;
	va_list		 ap;

	buf[len++] = stage;
	va_start(ap, stage);
	while ((str = va_arg(ap, const char *)) != NULL) {
		n = strlen(str) + 1;
		if (len + n > sizeof(buf))
			errx(1, "macros too long");
		memcpy(buf + len, str, n);
		len += n;
	}
	va_end(ap);
	send_pkt(s, 'D', buf, len);
}

/*
 * Send what comes next until a reply is due: steps the milter does not
 * want, or does not answer, are passed over at once.
 */
static void
session_advance(struct session *s)
{
	char		buf[512], rcpt[300];
	uint16_t	port;
	size_t		len;

	while (!s->waiting && s->step != ST_DONE) {
		switch (s->step) {
		case ST_NEG:
			s->step = ST_CONNECT;
			break;
		case ST_CONNECT:
			snprintf(buf, sizeof(buf), "client.bench [%s]",
			    s->client);
			send_macros(s, 'C', "j", "mx.bench",
			    "{daemon_name}", "MTA", "_", buf,
			    "{client_addr}", s->client,
			    "{client_name}", "client.bench", NULL);
			s->step = ST_HELO;
			if (s->pflags & P_NOCONNECT)
				break;
			len = strlcpy(buf, "client.bench", sizeof(buf)) + 1;
			buf[len++] = '4';
			port = htons(40000 + s->id);
			memcpy(buf + len, &port, sizeof(port));
			len += sizeof(port);
			len += strlcpy(buf + len, s->client,
			    sizeof(buf) - len) + 1;
			send_pkt(s, 'C', buf, len);
			s->waiting = !(s->pflags & P_NR_CONN);
			break;
		case ST_HELO:
			s->step = ST_MAIL;
			if (s->pflags & P_NOHELO)
				break;
			send_pkt(s, 'H', "client.bench", sizeof("client.bench"));
			s->waiting = !(s->pflags & P_NR_HELO);
			break;
		case ST_MAIL:
			send_macros(s, 'M', "i", "BENCHQID",
			    "{mail_addr}", "sender@remote.test", NULL);
			s->step = ST_RCPT;
			s->rcpts = 0;
			if (s->pflags & P_NOMAIL)
				break;
			send_pkt(s, 'M', "<sender@remote.test>",
			    sizeof("<sender@remote.test>"));
			s->waiting = !(s->pflags & P_NR_MAIL);
			break;
		case ST_RCPT:
			if (stopping) {
				session_quit(s);
				return;
			}
			if (s->rcpts >= per_mail) {
				send_pkt(s, 'A', NULL, 0);
				s->step = ST_MAIL;
				break;
			}
			if (!rcpt_next(&rs, rcpt, sizeof(rcpt))) {
				/* The sequential pass is done. */
				session_quit(s);
				return;
			}
			snprintf(buf, sizeof(buf), "<%s>", rcpt);
			send_macros(s, 'R', "{rcpt_addr}", rcpt,
			    "{rcpt_host}", "example.net",
			    "{rcpt_mailer}", "smtp", NULL);
			if (s->pflags & (P_NORCPT | P_NR_RCPT))
				errx(1, "the milter does not answer RCPT");
			s->sent = now_ns();
			send_pkt(s, 'R', buf, strlen(buf) + 1);
			s->rcpts++;
			s->waiting = 1;
			break;
		case ST_DONE:
			break;
		}
	}
}

static void
reply(struct session *s, char cmd, const char *data, size_t len)
{
	enum verdict_class	 v;
	uint64_t		 wait;
	uint32_t		 w[3];

	if (cmd == 'p')		/* progress: the answer is still to come */
		return;
	if (s->step == ST_NEG) {
		if (cmd != 'O' || len < sizeof(w))
			errx(1, "session %d: bad negotiation reply '%c'",
			    s->id, cmd);
		memcpy(w, data, sizeof(w));
		s->pflags = ntohl(w[2]);
		s->waiting = 0;
		return;
	}
	switch (cmd) {
	case 'c':
		v = V_CONTINUE;
		break;
	case 'r':
		v = V_REJECT;
		break;
	case 't':
		v = V_TEMPFAIL;
		break;
	case 'd':
		v = V_DISCARD;
		break;
	case 'a':
		v = V_ACCEPT;
		break;
	case 'y':
		v = len > 0 && data[0] == '5' ? V_REJECT :
		    len > 0 && data[0] == '4' ? V_TEMPFAIL : V_OTHER;
		break;
	default:
		v = V_OTHER;
		break;
	}
	/* step has moved past the command that was answered. */
	if (s->step == ST_RCPT && s->rcpts > 0 && measuring) {
		wait = now_ns() - s->sent;
		hist_add(&hist, wait);
		if (slow_ms > 0 && wait >= slow_ms * 1000000ULL)
			slow_verdict(s, wait);
		count[v]++;
	}
	s->waiting = 0;
}

/*
 * -v: show each verdict that took longer than slow_ms, with the wall
 * clock time it was asked at, to find it in the milter's own traces.
 */
static void
slow_verdict(struct session *s, uint64_t wait)
{
	struct timespec	ts;
	struct tm	tm;
	char		when[32];
	uint64_t	asked;

	clock_gettime(CLOCK_REALTIME, &ts);
	asked = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec - wait;
	ts.tv_sec = asked / 1000000000ULL;
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "slow: session %d (fd %d) asked at %s.%06llu, "
	    "answered after %.3f ms\n", s->id, s->fd, when,
	    (unsigned long long)(asked % 1000000000ULL) / 1000,
	    (double)wait / 1e6);
}

static void
session_read(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct evbuffer	*in = EVBUFFER_INPUT(bev);
	uint32_t	 n;
	u_char		*p;

	while (s->step != ST_DONE && EVBUFFER_LENGTH(in) >= 5) {
		p = EVBUFFER_DATA(in);
		memcpy(&n, p, sizeof(n));
		n = ntohl(n);
		if (n == 0 || n > MAXPACKET) {
			complain("session %d: bad packet length %u", s->id, n);
			session_close(s);
			return;
		}
		if (EVBUFFER_LENGTH(in) < 4 + n)
			break;
		if (!s->waiting)
			complain("session %d: unexpected '%c'", s->id, p[4]);
		else
			reply(s, (char)p[4], (char *)p + 5, n - 1);
		evbuffer_drain(in, 4 + n);
		session_advance(s);
	}
}

static void
session_error(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (!stopping)
		complain("session %d: connection %s", s->id,
		    what & EVBUFFER_EOF ? "closed by the milter" : "failed");
	session_close(s);
}
