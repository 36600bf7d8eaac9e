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
 * The prober's SMTP sessions: queued probes handed to them, or sessions
 * opened for them up to the backend's limit; connect to the backend's
 * hosts in order (their names resolved by host.c),
 * STARTTLS, read and write with or without TLS, time out, and hand each
 * RCPT reply to its probe.  The dialogue itself is smtp.c's.
 *
 * A session that fails before it is ready (refused, no banner, MAIL FROM
 * refused, TLS) answers the waiting probes when no other session works,
 * so that a dead backend answers at once instead of opening session after
 * session; a backend in backoff on every host answers at once too.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

#define SESSION_WAIT	(-2)	/* session_xfer(): it would block */

static void	session_new(struct backend *);
static struct session *session_pick(struct backend *);
static void	session_try_host(struct session *, struct host *);
static int	session_connect(struct session *);
static void	session_connected(struct session *);
static void	session_connect_failed(struct session *, const char *);
static int	session_starttls(struct session *);
static int	session_handshake(struct session *);
static void	session_tls_failed(struct session *, char *);
static void	session_io(int, short, void *);
static int	session_read(struct session *);
static int	session_write(struct session *);
static ssize_t	session_xfer(struct session *, int, void *, size_t);
static void	session_update(struct session *);
static void	session_timer_set(struct session *, enum session_timer,
		    unsigned int);
static void	session_timeout(int, short, void *);
static void	session_send(struct session *, struct probe *);
static void	session_rcpt(struct smtp *, void *, int,
		    const struct smtp_reply *);
static void	session_close(struct session *);
static void	session_fail(struct session *, const char *, int);
static void	session_stalled(struct session *);
static void	session_free(struct session *);
static void	session_host_resolved(struct host *);
static void	session_flush(int, short, void *);

/* Sessions with commands to write at the end of this turn of the loop. */
static TAILQ_HEAD(, session)	flushq = TAILQ_HEAD_INITIALIZER(flushq);
static struct event		flush_ev;

void
session_init(void)
{
	event_set(&flush_ev, -1, 0, session_flush, NULL);
	host_init(session_host_resolved);
}

static void
session_new(struct backend *b)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal(NULL);
	s->backend = b;
	s->fd = -1;
	s->state = SS_START;
	TAILQ_INIT(&s->probes);
	evtimer_set(&s->ev_timer, session_timeout, s);
	TAILQ_INSERT_TAIL(&b->sessions, s, entry);
	b->nsessions++;
	/* Connect from the event loop: failures never reach our caller. */
	session_timer_set(s, T_START, 0);
}

/* Try host h, then those after it; hosts in backoff are skipped. */
static void
session_try_host(struct session *s, struct host *h)
{
	struct backend	*b = s->backend;
	uint64_t	 now = now_ms();

	for (; h != NULL; h = TAILQ_NEXT(h, entry)) {
		if (host_in_backoff(h, now))
			continue;
		s->host = h;
		if (h->naddrs == 0) {
			host_resolve(h);
			if (h->query != NULL) {
				s->state = SS_RESOLVE;
				session_timer_set(s, T_RESOLVE,
				    prober_conf->timeout_connect +
				    prober_conf->timeout_reply);
				return;
			}
			if (h->naddrs == 0) {
				host_failed(s, h);
				continue;
			}
		}
		s->addr = 0;
		if (session_connect(s) == 0)
			return;
		host_failed(s, h);
	}
	if (s->error[0] == '\0')
		textf(s->error, sizeof(s->error), "every host of backend %s "
		    "is in backoff", b->conf.name);
	session_fail(s, s->error, 0);
}

/* Connect to the current address or the next ones; -1 if none is left. */
static int
session_connect(struct session *s)
{
	struct host		*h = s->host;
	struct sockaddr_storage	*ss;
	socklen_t		 len;
	int			 one = 1;

	for (; s->addr < h->naddrs; s->addr++) {
		ss = &h->addrs[s->addr];
		resolve_ntop(ss, s->peer, sizeof(s->peer));
		len = ss->ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if ((s->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			textf(h->last_error, sizeof(h->last_error),
			    "socket for %s: %s", s->peer, strerror(errno));
			continue;
		}
		/* Commands go out whole; Nagle would only hold them back. */
		if (setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1)
			log_warn("TCP_NODELAY");
		if (dest_connect(s->fd, (struct sockaddr *)ss, len) == -1 &&
		    errno != EINPROGRESS) {
			textf(h->last_error, sizeof(h->last_error),
			    "connect to %s: %s", s->peer, strerror(errno));
			close(s->fd);
			s->fd = -1;
			continue;
		}
		log_debug("backend %s: connecting to %s", s->backend->conf.name,
		    s->peer);
		s->state = SS_CONNECT;
		event_set(&s->ev_read, s->fd, EV_READ | EV_PERSIST,
		    session_io, s);
		event_set(&s->ev_write, s->fd, EV_WRITE, session_io, s);
		event_add(&s->ev_write, NULL);
		session_timer_set(s, T_CONNECT, prober_conf->timeout_connect);
		return (0);
	}
	return (-1);
}

static void
session_connected(struct session *s)
{
	struct backend	*b = s->backend;
	struct host	*h = s->host;
	socklen_t	 len = sizeof(int);
	int		 error, tls = b->conf.tls;
	char		 text[REPLY_TEXT_LEN];

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error != 0) {
		textf(text, sizeof(text), "connect to %s: %s", s->peer,
		    strerror(error));
		session_connect_failed(s, text);
		return;
	}
	h->backoff_until = 0;

	/* tls yes: after a failed handshake, plaintext for a while. */
	if (tls == TLSMODE_YES && (h->notls_until > now_ms() ||
	    b->tls_config == NULL))
		tls = TLSMODE_NO;
	s->state = SS_SMTP;
	smtp_init(&s->smtp, b->conf.protocol == PROTO_ESMTP, tls, b->helo,
	    b->sender, session_rcpt, s);
	event_add(&s->ev_read, NULL);
	log_debug("backend %s: connected to %s", b->conf.name, s->peer);
	session_update(s);
}

static void
session_connect_failed(struct session *s, const char *text)
{
	struct host	*h = s->host;

	strlcpy(h->last_error, text, sizeof(h->last_error));
	event_del(&s->ev_read);
	event_del(&s->ev_write);
	close(s->fd);
	s->fd = -1;
	s->addr++;
	s->state = SS_START;
	if (session_connect(s) == 0)
		return;
	host_failed(s, h);
	session_try_host(s, TAILQ_NEXT(h, entry));
}

/* Returns -1 when the session is gone. */
static int
session_starttls(struct session *s)
{
	struct backend	*b = s->backend;
	char		 text[REPLY_TEXT_LEN];

	if (b->tls_config == NULL) {
		textf(text, sizeof(text), "STARTTLS with %s: %s", s->peer,
		    b->tls_error);
		session_fail(s, text, 0);
		return (-1);
	}
	if ((s->tls = tls_client()) == NULL)
		fatalx("tls_client");
	if (tls_configure(s->tls, b->tls_config) == -1 ||
	    tls_connect_socket(s->tls, s->fd, s->host->tlsname) == -1) {
		textf(text, sizeof(text), "TLS with %s: %s", s->peer,
		    tls_error(s->tls));
		session_fail(s, text, 0);
		return (-1);
	}
	s->state = SS_HANDSHAKE;
	session_timer_set(s, T_HANDSHAKE, prober_conf->timeout_connect);
	return (session_handshake(s));
}

/* Returns -1 when the session is gone. */
static int
session_handshake(struct session *s)
{
	char		 text[REPLY_TEXT_LEN];

	switch (tls_handshake(s->tls)) {
	case 0:
		log_debug("backend %s: %s with %s", s->backend->conf.name,
		    tls_conn_version(s->tls), s->peer);
		s->state = SS_SMTP;
		evtimer_del(&s->ev_timer);
		s->timer = T_NONE;
		smtp_tls_done(&s->smtp);
		session_update(s);
		return (0);
	case TLS_WANT_POLLIN:
		return (0);
	case TLS_WANT_POLLOUT:
		event_add(&s->ev_write, NULL);
		return (0);
	}
	textf(text, sizeof(text), "TLS handshake with %s: %s", s->peer,
	    tls_error(s->tls));
	session_tls_failed(s, text);
	return (-1);
}

/* tls yes is opportunistic: after a failure the next sessions go without. */
static void
session_tls_failed(struct session *s, char *text)
{
	unsigned int	secs;

	if (s->smtp.tls_want == TLSMODE_YES) {
		secs = prober_conf->backoff > PROBER_NOTLS_MIN ?
		    prober_conf->backoff : PROBER_NOTLS_MIN;
		s->host->notls_until = now_ms() + (uint64_t)secs * 1000;
		s->tls_fallback = 1;
		strlcat(text, "; without TLS for a while", REPLY_TEXT_LEN);
	}
	session_fail(s, text, 0);
}

static void
session_io(int fd, short event, void *arg)
{
	struct session	*s = arg;
	struct backend	*b = s->backend;

	switch (s->state) {
	case SS_CONNECT:
		if (event & EV_WRITE)
			session_connected(s);
		return;
	case SS_HANDSHAKE:
		(void)session_handshake(s);
		return;
	case SS_SMTP:
	case SS_CLOSING:
		break;
	default:
		return;
	}

	/*
	 * Before its replies: once our commands pile up unread, what it
	 * says next answers nothing we can match.
	 */
	if (smtp_stalled(&s->smtp)) {
		session_stalled(s);
		return;
	}
	if (((event & EV_READ) && !s->write_wants_read) ||
	    ((event & EV_WRITE) && s->read_wants_write)) {
		if (session_read(s) == -1)
			return;
		if (s->state == SS_HANDSHAKE)
			return;
	}
	if ((event & EV_WRITE) || ((event & EV_READ) && s->write_wants_read))
		if (session_write(s) == -1)
			return;
	if (smtp_stalled(&s->smtp)) {
		session_stalled(s);
		return;
	}
	session_dispatch(b);
	session_update(s);
}

/* Returns -1 when the session is gone. */
static int
session_read(struct session *s)
{
	char		 buf[8192], text[REPLY_TEXT_LEN];
	ssize_t		 n;
	int		 drained = 0;
#ifdef TCP_QUICKACK
	int		 one = 1;
#endif

	/*
	 * Plain TCP: a read that did not fill the buffer took all there
	 * was; the next read would only say EAGAIN.
	 */
	while (!drained) {
		if ((n = session_xfer(s, 0, buf, sizeof(buf))) == SESSION_WAIT)
			break;
		if (n == -1)
			return (-1);
		if (s->tls == NULL)
			drained = n > 0 && (size_t)n < sizeof(buf);
		s->read_wants_write = 0;
		if (n == 0) {
			if (s->state == SS_CLOSING ||
			    s->smtp.state == SMTP_ST_QUIT) {
				session_free(s);
				return (-1);
			}
			textf(text, sizeof(text), "%s closed the "
			    "connection%s%s", s->peer, smtp_waiting(&s->smtp) ?
			    " instead of answering " : "",
			    smtp_waiting(&s->smtp) ?
			    smtp_cmd_name(smtp_awaiting(&s->smtp)) : "");
			session_fail(s, text, 1);
			return (-1);
		}
		switch (smtp_feed(&s->smtp, buf, n)) {
		case SMTP_OK:
#ifdef TCP_QUICKACK
			/*
			 * More replies to come: acknowledge this one now.  A
			 * backend that leaves Nagle on holds the next reply
			 * until our delayed ACK (40 ms) when the RCPTs it
			 * answers went out in separate segments.
			 */
			if (smtp_waiting(&s->smtp) && setsockopt(s->fd,
			    IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) == -1)
				log_warn("TCP_QUICKACK");
#endif
			if (s->smtp.state == SMTP_ST_READY && !s->ready_once) {
				s->ready_once = 1;
				s->backend->logged[0] = '\0';
			}
			break;
		case SMTP_STARTTLS:
			return (session_starttls(s));
		case SMTP_CLOSED:
			session_free(s);
			return (-1);
		default:
			textf(text, sizeof(text), "%s: %s", s->peer,
			    s->smtp.errtext);
			if (s->smtp.error == SMTP_ERR_TLS)
				session_tls_failed(s, text);
			else
				session_fail(s, text, 0);
			return (-1);
		}
	}
	return (0);
}

/* Returns -1 when the session is gone. */
static int
session_write(struct session *s)
{
	ssize_t		 n;

	s->write_wants_read = 0;
	while (s->smtp.outlen > 0) {
		if ((n = session_xfer(s, 1, s->smtp.out, s->smtp.outlen)) ==
		    SESSION_WAIT)
			break;
		if (n == -1)
			return (-1);
		smtp_consume(&s->smtp, n);
	}
	return (0);
}

/*
 * Commands go out once per turn of the loop, after every probe handed
 * over in it: one write for a batch of pipelined RCPTs, and no
 * writability event (two epoll_ctl and a wakeup) unless the socket is
 * full.
 */
static void
session_flush(int fd, short event, void *arg)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&flushq)) != NULL) {
		TAILQ_REMOVE(&flushq, s, flush_entry);
		s->flushing = 0;
		if (session_write(s) == -1)
			continue;
		if (s->smtp.outlen > 0 && !s->write_wants_read)
			event_add(&s->ev_write, NULL);
	}
}

/*
 * One read (or write) on the session, with TLS or without: the octets
 * moved (0 at the end of the stream), SESSION_WAIT when it would block
 * (TLS may want the other direction first: read_wants_write,
 * write_wants_read), or -1 once the session has failed.
 */
static ssize_t
session_xfer(struct session *s, int writing, void *buf, size_t len)
{
	const char	*what = writing ? "write to" : "read from";
	char		 text[REPLY_TEXT_LEN];
	ssize_t		 n;

	if (s->tls != NULL) {
		n = writing ? tls_write(s->tls, buf, len) :
		    tls_read(s->tls, buf, len);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			if (writing && n == TLS_WANT_POLLIN)
				s->write_wants_read = 1;
			else if (!writing && n == TLS_WANT_POLLOUT)
				s->read_wants_write = 1;
			return (SESSION_WAIT);
		}
		if (n == -1) {
			textf(text, sizeof(text), "TLS %s %s: %s", what,
			    s->peer, tls_error(s->tls));
			session_fail(s, text, 1);
		}
		return (n);
	}
	n = writing ? write(s->fd, buf, len) : read(s->fd, buf, len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return (SESSION_WAIT);
		textf(text, sizeof(text), "%s %s: %s", what, s->peer,
		    strerror(errno));
		session_fail(s, text, 1);
	}
	return (n);
}

/* Events and timers for what the session waits for now. */
static void
session_update(struct session *s)
{
	struct backend	*b = s->backend;

	if (s->state != SS_SMTP && s->state != SS_CLOSING)
		return;
	if (s->read_wants_write)
		event_add(&s->ev_write, NULL);
	else if (s->smtp.outlen > 0 && !s->write_wants_read &&
	    !s->flushing && !event_pending(&s->ev_write, EV_WRITE, NULL)) {
		if (TAILQ_EMPTY(&flushq))
			event_active(&flush_ev, EV_TIMEOUT, 1);
		TAILQ_INSERT_TAIL(&flushq, s, flush_entry);
		s->flushing = 1;
	}

	if (smtp_waiting(&s->smtp)) {
		/* Each reply gets the whole timeout, a drip does not. */
		if (s->timer != T_REPLY ||
		    s->timer_replies != s->smtp.nreplies) {
			s->timer_replies = s->smtp.nreplies;
			session_timer_set(s, T_REPLY,
			    prober_conf->timeout_reply);
		}
	} else if (s->state == SS_SMTP && smtp_idle(&s->smtp)) {
		if (b->retired && TAILQ_EMPTY(&b->queue))
			session_close(s);
		else if (s->timer != T_IDLE)
			session_timer_set(s, T_IDLE, PROBER_IDLE);
	}
}

static void
session_timer_set(struct session *s, enum session_timer t, unsigned int secs)
{
	struct timeval	tv;

	tv.tv_sec = secs;
	tv.tv_usec = 0;
	s->timer = t;
	evtimer_del(&s->ev_timer);
	evtimer_add(&s->ev_timer, &tv);
}

static void
session_timeout(int fd, short event, void *arg)
{
	struct session	*s = arg;
	struct host	*h = s->host;
	enum session_timer t = s->timer;
	char		 text[REPLY_TEXT_LEN];

	s->timer = T_NONE;
	switch (t) {
	case T_START:
		session_try_host(s, TAILQ_FIRST(&s->backend->hosts));
		break;
	case T_RESOLVE:
		textf(h->last_error, sizeof(h->last_error),
		    "cannot resolve %s: timed out", h->name);
		s->state = SS_START;
		host_failed(s, h);
		session_try_host(s, TAILQ_NEXT(h, entry));
		break;
	case T_CONNECT:
		textf(text, sizeof(text), "connect to %s: timed out",
		    s->peer);
		session_connect_failed(s, text);
		break;
	case T_HANDSHAKE:
		textf(h->last_error, sizeof(h->last_error), "TLS handshake "
		    "with %s: timed out", s->peer);
		host_failed(s, h);
		session_fail(s, h->last_error, 0);
		break;
	case T_REPLY:
		if (s->state == SS_CLOSING) {
			session_free(s);
			break;
		}
		/*
		 * A host that accepts and then says nothing is as down as
		 * one that refuses: it backs off, or every RCPT would wait
		 * for it.
		 */
		textf(h->last_error, sizeof(h->last_error), "%s: no %s reply "
		    "in %u s", s->peer, smtp_cmd_name(smtp_awaiting(&s->smtp)),
		    prober_conf->timeout_reply);
		host_failed(s, h);
		session_fail(s, h->last_error, 0);
		break;
	case T_IDLE:
		session_close(s);
		break;
	case T_NONE:
		break;
	}
}

static void
session_send(struct session *s, struct probe *p)
{
	p->asked = 1;
	p->where = PROBE_INFLIGHT;
	p->session = s;
	TAILQ_INSERT_TAIL(&s->probes, p, entry);
	smtp_rcpt(&s->smtp, p->address, p);
	session_update(s);
}

/* smtp.c's callback: the reply to one RCPT. */
static void
session_rcpt(struct smtp *smtp, void *tag, int how,
    const struct smtp_reply *r)
{
	struct session		*s = smtp->arg;
	struct probe		*p = tag;
	struct probe_res	 res;

	s->served++;
	if (p == NULL)
		return;		/* its deadline passed */
	TAILQ_REMOVE(&s->probes, p, entry);
	p->where = PROBE_NOWHERE;
	p->session = NULL;
	if (how == SMTP_RCPT_RETRY) {
		probe_enqueue(p, 1);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.verdict = smtp_verdict(r);
	res.code = r->code;
	strlcpy(res.enhanced, r->enhanced, sizeof(res.enhanced));
	strlcpy(res.text, r->text, sizeof(res.text));
	probe_done(p, &res);
}

/* Politely: QUIT, then close on its reply, EOF or the reply timeout. */
static void
session_close(struct session *s)
{
	if (s->state != SS_SMTP || !smtp_idle(&s->smtp)) {
		session_free(s);
		return;
	}
	log_debug("backend %s: closing idle session to %s",
	    s->backend->conf.name, s->peer);
	smtp_quit(&s->smtp);
	s->state = SS_CLOSING;
	session_update(s);
}

/*
 * The backend answers, but our commands pile up unread (smtp_stalled()):
 * it takes no more, ends, and its host counts as failed, so that one
 * backend that does not read costs only its own probes.
 */
static void
session_stalled(struct session *s)
{
	struct host	*h = s->host;

	textf(h->last_error, sizeof(h->last_error), "output to %s not "
	    "draining: it answers commands it does not read (%zu octets "
	    "unsent)", s->peer, s->smtp.outlen);
	host_failed(s, h);
	session_fail(s, h->last_error, 0);
}

/*
 * The session is unusable.  Its probes in flight are answered unknown,
 * except on a connection that served before and was lost: the backend
 * may have closed it as idle just as we wrote, so they go again, once.
 * A session that never got ready answers the waiting probes when no
 * other session works (the backend is down: no new session per probe);
 * when others work, the backend limits connections itself, and we open
 * no more than those for a while.
 */
static void
session_fail(struct session *s, const char *text, int lost)
{
	struct backend	*b = s->backend;
	struct session	*t;
	struct probe	*p;
	uint64_t	 now = now_ms();
	uint32_t	 working = 0;

	backend_log(b, text);
	while ((p = TAILQ_FIRST(&s->probes)) != NULL) {
		probe_unlink(p);
		if (lost && s->served > 0 && !p->retried) {
			p->retried = 1;
			probe_enqueue(p, 1);
		} else
			probe_unknown(p, text);
	}
	if (!s->ready_once && !s->tls_fallback) {
		TAILQ_FOREACH(t, &b->sessions, entry)
			if (t != s && t->state == SS_SMTP && t->ready_once)
				working++;
		if (working == 0)
			probe_fail_queue(b, text);
		else if (b->cap_until <= now || working < b->cap) {
			/* It has its own limit: stay below it for a while. */
			b->cap = working;
			b->cap_until = now + PROBER_CAP_TIME * 1000;
			log_info("backend %s: %u sessions for %d s (%s)",
			    b->conf.name, working, PROBER_CAP_TIME, text);
		}
	}
	session_free(s);
}

static void
session_free(struct session *s)
{
	struct backend	*b = s->backend;
	struct probe	*p;

	while ((p = TAILQ_FIRST(&s->probes)) != NULL)
		probe_unknown(p, "session closed");
	if (s->flushing)
		TAILQ_REMOVE(&flushq, s, flush_entry);
	evtimer_del(&s->ev_timer);
	if (s->fd != -1) {
		event_del(&s->ev_read);
		event_del(&s->ev_write);
		if (s->tls != NULL) {
			(void)tls_close(s->tls);
			tls_free(s->tls);
		}
		close(s->fd);
	}
	TAILQ_REMOVE(&b->sessions, s, entry);
	b->nsessions--;
	free(s);

	session_dispatch(b);
	backend_maybe_free(b);
}

/* An idle session first, else the least busy that can take a RCPT. */
static struct session *
session_pick(struct backend *b)
{
	struct session	*s, *best = NULL;

	TAILQ_FOREACH(s, &b->sessions, entry) {
		if (s->state != SS_SMTP || !smtp_can_rcpt(&s->smtp))
			continue;
		if (s->smtp.nrcpt == 0)
			return (s);
		if (best == NULL || s->smtp.nrcpt < best->smtp.nrcpt)
			best = s;
	}
	return (best);
}

/*
 * Hand queued probes to sessions that can take them; open sessions for
 * the rest, up to the limit, or answer at once when every host is in
 * backoff.
 */
void
session_dispatch(struct backend *b)
{
	struct session	*s;
	struct probe	*p;
	struct host	*h;
	uint32_t	 nsetup = 0, want, limit;
	char		 text[REPLY_TEXT_LEN];
	const char	*last = NULL;

	if (b->dispatching)
		return;
	b->dispatching = 1;

	while ((p = TAILQ_FIRST(&b->queue)) != NULL &&
	    (s = session_pick(b)) != NULL) {
		probe_unlink(p);
		session_send(s, p);
	}

	if (!TAILQ_EMPTY(&b->queue)) {
		TAILQ_FOREACH(s, &b->sessions, entry)
			if (s->state != SS_CLOSING &&
			    (s->state != SS_SMTP || !s->ready_once))
				nsetup++;
		if (TAILQ_EMPTY(&b->hosts)) {
			textf(text, sizeof(text), "backend %s has no hosts",
			    b->conf.name);
			probe_fail_queue(b, text);
		} else if (!backend_usable(b)) {
			if (TAILQ_EMPTY(&b->sessions)) {
				TAILQ_FOREACH(h, &b->hosts, entry)
					if (h->last_error[0] != '\0')
						last = h->last_error;
				textf(text, sizeof(text), "every host of "
				    "backend %s is in backoff%s%s",
				    b->conf.name, last ? "; last error: " : "",
				    last ? last : "");
				probe_fail_queue(b, text);
			}
		} else {
			/*
			 * A session per waiting probe, up to the limit; a
			 * catch-all check goes with the probe that caused it.
			 */
			want = b->nqueued - b->nqueued_internal;
			if (want == 0)
				want = 1;
			limit = b->conf.sessions;
			if (b->cap_until > now_ms() && b->cap < limit)
				limit = b->cap;
			while (b->nsessions < limit && nsetup < want) {
				session_new(b);
				nsetup++;
			}
		}
	}
	b->dispatching = 0;
}

void
session_retire(struct backend *b)
{
	struct session	*s, *next;

	log_debug("backend %s: configuration changed, retiring sessions",
	    b->conf.name);
	b->retired = 1;
	for (s = TAILQ_FIRST(&b->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state == SS_SMTP && smtp_idle(&s->smtp) &&
		    TAILQ_EMPTY(&b->queue))
			session_close(s);
	}
	backend_maybe_free(b);
}

/* host.c resolved h, or failed to: the sessions waiting for it go on. */
static void
session_host_resolved(struct host *h)
{
	struct backend	*b = h->backend;
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&b->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state != SS_RESOLVE || s->host != h)
			continue;
		s->state = SS_START;
		evtimer_del(&s->ev_timer);
		s->timer = T_NONE;
		if (h->naddrs == 0) {
			host_failed(s, h);
			session_try_host(s, TAILQ_NEXT(h, entry));
		} else
			session_try_host(s, h);
	}
}
