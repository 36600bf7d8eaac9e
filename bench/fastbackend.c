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
 * fastbackend: the mailbox server the benchmarks probe.  One event loop
 * answers every SMTP command -d milliseconds after it was read, in order
 * (commands that arrive pipelined together are answered together, as a
 * real server answers a batch it has read), and advertises PIPELINING
 * unless -n.  A recipient exists when its local part starts with "v-"
 * (250), otherwise 550 5.1.1: the rule of bench/bench.h.
 *
 * "-d 1" means 1 ms: the timers run on libevent's precise clock (its
 * default, CLOCK_MONOTONIC_COARSE, moves in 4 ms steps here and made the
 * replies come 1 to 4 ms late), a reply whose timer fires early waits
 * for the rest, and the delay each reply really had, from the read of
 * its command to its write, is measured and reported.
 *
 * It counts connections: open now, the peak, the total.  SIGUSR1 writes
 * the counts and the reply delays (p50, p99, max since the last SIGUSR1)
 * to the -o file (atomically, through a rename) and starts a new peak
 * from the connections open now and new delay figures, so run.sh can
 * read those of one run.  SIGTERM writes them and exits.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bench.h"

#define MAXLINE		1000

struct reply {
	TAILQ_ENTRY(reply)	 entry;
	uint64_t		 read;		/* when its command was read */
	uint64_t		 due;		/* read + delay */
	size_t			 len;
	char			 text[];
};

struct conn {
	int			 fd;
	struct bufferevent	*bev;
	struct event		 timer;
	TAILQ_HEAD(, reply)	 replies;
	int			 closing;
};

static __dead void usage(void);
static void	 accept_cb(int, short, void *);
static void	 conn_read(struct bufferevent *, void *);
static void	 conn_written(struct bufferevent *, void *);
static void	 conn_error(struct bufferevent *, short, void *);
static void	 conn_free(struct conn *);
static void	 conn_command(struct conn *, char *, uint64_t);
static void	 conn_queue(struct conn *, const char *, int, uint64_t);
static void	 conn_flush(int, short, void *);
static void	 stats_write(void);
static void	 sig_usr1(int, short, void *);
static void	 sig_term(int, short, void *);

static struct timeval	 delay;
static uint64_t		 delay_ns;
static struct hist	 delays;	/* read to write, per reply */
static int		 pipelining = 1;
static const char	*statsfile;
static uint64_t		 conns_now, conns_peak, conns_total;
static uint64_t		 commands, rcpt_valid, rcpt_invalid;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: fastbackend [-n] [-d delay-ms] [-l address] "
	    "[-o statsfile] -p port\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct event		 ev_accept, ev_usr1, ev_term, ev_int;
	const char		*errstr, *addr = "127.0.0.1";
	double			 ms = 0;
	int			 ch, fd, port = 0, on = 1;

	while ((ch = getopt(argc, argv, "d:l:no:p:")) != -1) {
		switch (ch) {
		case 'd':
			ms = strtod(optarg, NULL);
			if (ms < 0 || ms > 600000)
				errx(1, "bad delay %s", optarg);
			break;
		case 'l':
			addr = optarg;
			break;
		case 'n':
			pipelining = 0;
			break;
		case 'o':
			statsfile = optarg;
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "port %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (port == 0 || argc != optind)
		usage();
	delay_ns = (uint64_t)(ms * 1e6);
	delay.tv_sec = delay_ns / 1000000000ULL;
	delay.tv_usec = delay_ns % 1000000000ULL / 1000;
	hist_init(&delays);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		errx(1, "bad address %s", addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		err(1, "setsockopt");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind %s:%d", addr, port);
	if (listen(fd, 512) == -1)
		err(1, "listen");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");

	/* Another machine's server, in truth. */
	own_session();
	signal(SIGPIPE, SIG_IGN);
	/* Before the base exists: libevent reads it there (timerfd on Linux). */
	if (setenv("EVENT_PRECISE_TIMER", "1", 1) == -1)
		err(1, "setenv");
	event_init();
	event_set(&ev_accept, fd, EV_READ | EV_PERSIST, accept_cb, NULL);
	event_add(&ev_accept, NULL);
	signal_set(&ev_usr1, SIGUSR1, sig_usr1, NULL);
	signal_add(&ev_usr1, NULL);
	signal_set(&ev_term, SIGTERM, sig_term, NULL);
	signal_add(&ev_term, NULL);
	signal_set(&ev_int, SIGINT, sig_term, NULL);
	signal_add(&ev_int, NULL);
	event_dispatch();
	return (0);
}

static void
accept_cb(int lfd, short event, void *arg)
{
	struct conn	*c;
	int		 fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			warn("accept");
		return;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		warn("new connection");
		close(fd);
		return;
	}
	c->fd = fd;
	TAILQ_INIT(&c->replies);
	evtimer_set(&c->timer, conn_flush, c);
	if ((c->bev = bufferevent_new(fd, conn_read, conn_written,
	    conn_error, c)) == NULL) {
		warnx("bufferevent_new");
		close(fd);
		free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (++conns_now > conns_peak)
		conns_peak = conns_now;
	conns_total++;
	conn_queue(c, "220 fastbackend ESMTP", 0, now_ns());
	if (delay_ns == 0)
		conn_flush(-1, 0, c);
}

static void
conn_free(struct conn *c)
{
	struct reply	*r;

	while ((r = TAILQ_FIRST(&c->replies)) != NULL) {
		TAILQ_REMOVE(&c->replies, r, entry);
		free(r);
	}
	evtimer_del(&c->timer);
	/* Off the event loop now: libevent frees lazily, after the close. */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_free(c->bev);
	close(c->fd);
	free(c);
	conns_now--;
}

static void
conn_error(struct bufferevent *bev, short what, void *arg)
{
	conn_free(arg);
}

static void
conn_written(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->closing && TAILQ_EMPTY(&c->replies))
		conn_free(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = EVBUFFER_INPUT(bev);
	char		 line[MAXLINE + 1];
	u_char		*p, *nl;
	size_t		 len;
	uint64_t	 now = now_ns();

	while (!c->closing && EVBUFFER_LENGTH(in) > 0) {
		p = EVBUFFER_DATA(in);
		if ((nl = memchr(p, '\n', EVBUFFER_LENGTH(in))) == NULL) {
			if (EVBUFFER_LENGTH(in) > MAXLINE) {
				evbuffer_drain(in, EVBUFFER_LENGTH(in));
				conn_queue(c, "500 5.5.2 Line too long", 0,
				    now);
			}
			break;
		}
		len = nl - p;
		if (len > MAXLINE)
			len = MAXLINE;
		memcpy(line, p, len);
		line[len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		evbuffer_drain(in, nl - p + 1);
		conn_command(c, line, now);
	}
	/* A batch read together is answered together. */
	if (delay_ns == 0)
		conn_flush(-1, 0, c);
}

/* A command read at time now. */
static void
conn_command(struct conn *c, char *line, uint64_t now)
{
	char	 buf[MAXLINE + 100];
	char	*a, *e;

	commands++;
	if (strncasecmp(line, "EHLO", 4) == 0)
		conn_queue(c, pipelining ?
		    "250-fastbackend\r\n250-PIPELINING\r\n"
		    "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME" :
		    "250-fastbackend\r\n250-ENHANCEDSTATUSCODES\r\n"
		    "250 8BITMIME", 0, now);
	else if (strncasecmp(line, "HELO", 4) == 0)
		conn_queue(c, "250 fastbackend", 0, now);
	else if (strncasecmp(line, "MAIL", 4) == 0)
		conn_queue(c, "250 2.1.0 Ok", 0, now);
	else if (strncasecmp(line, "RCPT", 4) == 0) {
		if ((a = strchr(line, '<')) == NULL ||
		    (e = strchr(a, '>')) == NULL) {
			conn_queue(c, "501 5.1.3 Bad recipient address "
			    "syntax", 0, now);
			return;
		}
		*e = '\0';
		a++;
		if (strncmp(a, "v-", 2) == 0) {
			rcpt_valid++;
			conn_queue(c, "250 2.1.5 Ok", 0, now);
		} else {
			rcpt_invalid++;
			snprintf(buf, sizeof(buf), "550 5.1.1 <%s>: Recipient "
			    "address rejected: User unknown", a);
			conn_queue(c, buf, 0, now);
		}
	} else if (strncasecmp(line, "RSET", 4) == 0 ||
	    strncasecmp(line, "NOOP", 4) == 0)
		conn_queue(c, "250 2.0.0 Ok", 0, now);
	else if (strncasecmp(line, "QUIT", 4) == 0)
		conn_queue(c, "221 2.0.0 Bye", 1, now);
	else if (strncasecmp(line, "DATA", 4) == 0)
		conn_queue(c, "554 5.5.1 No valid recipients", 0, now);
	else
		conn_queue(c, "502 5.5.2 Command not recognized", 0, now);
}

/*
 * The reply to a command read at time now goes out delay after it, and
 * after the replies before it.
 */
static void
conn_queue(struct conn *c, const char *text, int close_after, uint64_t now)
{
	struct reply	*r;
	size_t		 len = strlen(text);

	if ((r = malloc(sizeof(*r) + len + 3)) == NULL)
		err(1, "malloc");
	memcpy(r->text, text, len);
	memcpy(r->text + len, "\r\n", 3);
	r->len = len + 2;
	if (close_after)
		c->closing = 1;
	r->read = now;
	r->due = now + delay_ns;
	TAILQ_INSERT_TAIL(&c->replies, r, entry);
	/* Without a delay, the caller flushes once it has read all. */
	if (delay_ns > 0 && !evtimer_pending(&c->timer, NULL))
		evtimer_add(&c->timer, &delay);
}

static void
conn_flush(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	struct reply	*r;
	struct timeval	 left;
	TAILQ_HEAD(, reply) sent = TAILQ_HEAD_INITIALIZER(sent);
	uint64_t	 now = now_ns();

	while ((r = TAILQ_FIRST(&c->replies)) != NULL) {
		/* A timer that fired early: wait for the rest. */
		if (r->due > now) {
			left.tv_sec = (r->due - now) / 1000000000ULL;
			left.tv_usec = (r->due - now) % 1000000000ULL / 1000;
			if (left.tv_sec == 0 && left.tv_usec == 0)
				left.tv_usec = 1;
			evtimer_add(&c->timer, &left);
			break;
		}
		TAILQ_REMOVE(&c->replies, r, entry);
		bufferevent_write(c->bev, r->text, r->len);
		TAILQ_INSERT_TAIL(&sent, r, entry);
	}
	/*
	 * Out now, not on the loop's next turn; the bufferevent writes
	 * what the socket does not take.  The delay counts to here.
	 */
	if (TAILQ_EMPTY(&sent))
		return;
	(void)evbuffer_write(EVBUFFER_OUTPUT(c->bev), c->fd);
	now = now_ns();
	while ((r = TAILQ_FIRST(&sent)) != NULL) {
		TAILQ_REMOVE(&sent, r, entry);
		hist_add(&delays, now - r->read);
		free(r);
	}
	/* After QUIT's reply: the client closes, and conn_error frees. */
	if (c->closing && TAILQ_EMPTY(&c->replies) &&
	    EVBUFFER_LENGTH(EVBUFFER_OUTPUT(c->bev)) == 0)
		(void)shutdown(c->fd, SHUT_WR);
}

static void
stats_write(void)
{
	char	 tmp[1024];
	FILE	*fp;

	if (statsfile == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", statsfile);
	if ((fp = fopen(tmp, "w")) == NULL) {
		warn("%s", tmp);
		return;
	}
	fprintf(fp, "{\"conns_now\": %llu, \"conns_peak\": %llu, "
	    "\"conns_total\": %llu, \"commands\": %llu, "
	    "\"rcpt_valid\": %llu, \"rcpt_invalid\": %llu, "
	    "\"delay_ms\": %.3f, \"replies\": %llu, \"reply_p50_ms\": %.3f, "
	    "\"reply_p99_ms\": %.3f, \"reply_max_ms\": %.3f}\n",
	    (unsigned long long)conns_now, (unsigned long long)conns_peak,
	    (unsigned long long)conns_total, (unsigned long long)commands,
	    (unsigned long long)rcpt_valid, (unsigned long long)rcpt_invalid,
	    (double)delay_ns / 1e6, (unsigned long long)delays.n,
	    hist_quantile_ms(&delays, 0.50), hist_quantile_ms(&delays, 0.99),
	    (double)delays.max_ns / 1e6);
	if (fclose(fp) == EOF || rename(tmp, statsfile) == -1)
		warn("%s", statsfile);
}

static void
sig_usr1(int sig, short event, void *arg)
{
	stats_write();
	conns_peak = conns_now;
	free(delays.bucket);
	hist_init(&delays);
}

static void
sig_term(int sig, short event, void *arg)
{
	stats_write();
	exit(0);
}
