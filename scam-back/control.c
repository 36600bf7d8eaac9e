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
 * The control socket: created by the parent outside the chroot, served by
 * the engine from its event thread.  Each request gets one message per
 * item and IMSG_CTL_END.  Requests that other processes answer (reload by
 * the parent, show backends by the prober, save cache by both) carry the
 * connection's id there and back, so an answer for a client that has gone
 * is dropped.  A client is never trusted: a malformed request closes its
 * connection and nothing else.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"
#include "engine.h"
#include "cache.h"
#include "policy.h"
#include "table.h"
#include "rules.h"
#include "dns.h"
#include "access.h"
#include "printable.h"

/*
 * At most this many clients at once: a new one closes the oldest idle
 * one, or the oldest of all (its answer, when it comes, is dropped).
 */
#define CONTROL_MAX_CONNS	32

/* A show cache walk pauses while this many replies wait to be written. */
#define CONTROL_QUEUE_HIGH	128
#define CONTROL_WALK_SLICE	128

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct imsgev		 iev;
	uint32_t		 id;
	int			 busy;		/* answering a request */
	int			 walking;	/* show cache in progress */
	int			 walk_failed;	/* out of memory: give up */
	int			 stats;		/* show stats: the store, END */
	uint64_t		 flushed;	/* flush: entries of the cache */
	uint64_t		 cursor;
	time_t			 now;
	struct ctl_filter	 filter;
	struct event		 walk_ev;
};
TAILQ_HEAD(ctl_conns, ctl_conn);

static void		 control_accept(int, short, void *);
static void		 control_resume(int, short, void *);
static void		 control_dispatch_imsg(int, short, void *);
static int		 control_io(struct ctl_conn *, short);
static int		 control_request(struct ctl_conn *, struct imsg *);
static int		 control_filter(struct imsg *, struct ctl_filter *);
static void		 control_walk(int, short, void *);
static int		 control_walk_entry(const struct cache_info *, void *);
static void		 control_check_done(uint32_t, struct ctl_check *);
static void		 control_rule(void *, struct ctl_rule *);
static void		 control_rules_done(uint32_t,
			    struct ctl_rules_result *);
static void		 control_simple(struct ctl_conn *, int, uint64_t,
			    const char *, ...)
			    __attribute__((__format__ (printf, 4, 5)));
static void		 control_end(struct ctl_conn *);
static void		 control_close(struct ctl_conn *);
static struct ctl_conn	*control_byid(uint32_t);

static struct ctl_conns	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static int		 ctl_nconns;
static uint32_t		 ctl_lastid;
static int		 ctl_fd = -1;
static struct event	 ctl_ev;
static struct event	 ctl_pause_ev;
static struct control_engine engine;	/* what the engine lends us */

/*
 * Create the listening socket, root-only (0600).  A socket that answers
 * belongs to a running daemon: refuse to start rather than steal it
 * (sockfile.c).  *sb gets its inode, for the parent to remove it at a
 * clean stop.
 */
int
control_init(const char *path, struct stat *sb)
{
	struct sockplace	 sp;
	struct sockaddr_un	 sun;
	mode_t			 omask;
	int			 fd;

	if (sock_prepare(&sp, path, "control socket") == -1)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sp.tmp, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("%s: socket", __func__);
		sock_abort(&sp);
		return (-1);
	}
	omask = umask(S_IRWXG | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1) {
		log_warn("control socket %s", path);
		umask(omask);
		close(fd);
		sock_abort(&sp);
		return (-1);
	}
	umask(omask);
	if (sock_place(&sp, (uid_t)-1, (gid_t)-1, S_IRUSR | S_IWUSR,
	    sb) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}


/* Engine side: called from the event thread once the loop exists. */
void
control_listen(int fd, const struct control_engine *e)
{
	engine = *e;
	ctl_fd = fd;
	event_set(&ctl_ev, ctl_fd, EV_READ | EV_PERSIST, control_accept, NULL);
	event_add(&ctl_ev, NULL);
	evtimer_set(&ctl_pause_ev, control_resume, NULL);
}

/* Accepting again after running out of descriptors or connections. */
static void
control_resume(int fd, short event, void *arg)
{
	event_add(&ctl_ev, NULL);
}

static void
control_accept(int fd, short event, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	struct ctl_conn	*c;
	int		 cfd;

	if (ctl_nconns >= CONTROL_MAX_CONNS) {
		/*
		 * Clients that connect and say nothing, or never read, must
		 * not lock the administrator out.
		 */
		TAILQ_FOREACH(c, &ctl_conns, entry)
			if (!c->busy)
				break;
		if (c == NULL)
			c = TAILQ_FIRST(&ctl_conns);
		log_debug("control: too many clients, closing the oldest");
		control_close(c);
	}
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		switch (errno) {
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			log_warn("control: accept");
			event_del(&ctl_ev);
			evtimer_add(&ctl_pause_ev, &tv);
			break;
		case EINTR:
		case EAGAIN:
		case ECONNABORTED:
			break;
		default:
			log_warn("control: accept");
			break;
		}
		return;
	}

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control: calloc");
		close(cfd);
		return;
	}
	/* Ids are never 0: 0 means "nobody waits" in the other processes. */
	if (++ctl_lastid == 0)
		ctl_lastid = 1;
	c->id = ctl_lastid;
	if (imsgbuf_init(&c->iev.ibuf, cfd) == -1) {
		log_warn("control: imsgbuf_init");
		close(cfd);
		free(c);
		return;
	}
	evtimer_set(&c->walk_ev, control_walk, c);
	imsgev_set(&c->iev, control_dispatch_imsg, c);
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
}

static void
control_close(struct ctl_conn *c)
{
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	evtimer_del(&c->walk_ev);
	imsgev_clear(&c->iev);
	free(c);
}

static struct ctl_conn *
control_byid(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (c->id == id)
			return (c);
	return (NULL);
}

static void
control_dispatch_imsg(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct ctl_conn	*c = iev->data;
	struct imsg	 imsg;
	ssize_t		 n;
	size_t		 len;

	if (!control_io(c, event)) {
		control_close(c);
		return;
	}
	for (;;) {
		if ((n = imsg_get(&c->iev.ibuf, &imsg)) == -1) {
			log_debug("control: bad message from a client");
			control_close(c);
			return;
		}
		if (n == 0)
			break;
		len = imsg_get_len(&imsg);
		if (control_request(c, &imsg) == -1) {
			log_debug("control: bad request %u (%zu bytes) from a "
			    "client", imsg_get_type(&imsg), len);
			imsg_free(&imsg);
			control_close(c);
			return;
		}
		imsg_free(&imsg);
	}
	/* Written out enough of a long show cache: go on (it may close c). */
	if (c->walking && imsgbuf_queuelen(&c->iev.ibuf) <
	    CONTROL_QUEUE_HIGH / 2 && !evtimer_pending(&c->walk_ev, NULL))
		control_walk(-1, 0, c);
	else
		imsgev_add(&c->iev);
}

/*
 * Read and write as libevent says; 0 when the client has gone.  A client
 * that resets or goes away is its own business: no warning for it.
 */
static int
control_io(struct ctl_conn *c, short event)
{
	if (event & EV_READ) {
		switch (imsgbuf_read(&c->iev.ibuf)) {
		case -1:
			log_debug("control: client read error (errno %d)",
			    errno);
			return (0);
		case 0:
			return (0);
		}
	}
	if ((event & EV_WRITE) && imsgbuf_write(&c->iev.ibuf) == -1) {
		log_debug("control: client write error (errno %d)", errno);
		return (0);
	}
	return (1);
}

/* One request.  -1: malformed, the client goes. */
static int
control_request(struct ctl_conn *c, struct imsg *imsg)
{
	struct timeval		 now = { 0, 0 };
	struct ctl_stats	 st;
	struct ctl_filter	 f;
	struct ctl_check_rules	 cr;
	size_t			 n;
	int			 v;
	char			 buf[ADDR_LEN], name[NAME_LEN];

	/* scambackctl asks one thing per connection. */
	if (c->busy)
		return (-1);

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_CACHE:
		if (control_filter(imsg, &c->filter) == -1)
			return (-1);
		c->busy = c->walking = 1;
		c->cursor = 0;
		c->now = time(NULL);
		/* From the event loop: a walk may close the connection. */
		evtimer_add(&c->walk_ev, &now);
		break;
	case IMSG_CTL_SHOW_BACKENDS:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		c->busy = 1;
		if (imsgev_compose(engine.prober, IMSG_PROBE_BACKENDS, c->id,
		    0, -1, NULL, 0) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_FLUSH_BACKOFF:
		if (imsg_get_data(imsg, name, sizeof(name)) == -1)
			return (-1);
		name[sizeof(name) - 1] = '\0';
		c->busy = 1;
		if (imsgev_compose(engine.prober, IMSG_PROBE_UNBACKOFF, c->id,
		    0, -1, name, sizeof(name)) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_SHOW_STATS:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		engine.stats(&st);
		imsgev_compose(&c->iev, IMSG_CTL_STATS, 0, 0, -1, &st,
		    sizeof(st));
		if (!engine.shared()) {
			control_end(c);
			break;
		}
		/* The shared store's figures are the prober's. */
		c->busy = c->stats = 1;
		if (imsgev_compose(engine.prober, IMSG_PROBE_STORE_REQ, c->id,
		    0, -1, NULL, 0) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_FLUSH_CACHE:
		if (control_filter(imsg, &f) == -1)
			return (-1);
		n = cache_flush(engine.cache, f.state, f.match);
		log_info("control: flushed %zu cache entr%s%s%s%s", n,
		    n == 1 ? "y" : "ies",
		    f.state == CTL_STATE_VALID ? " valid" :
		    f.state == CTL_STATE_INVALID ? " invalid" : "",
		    f.match[0] != '\0' ? " matching " : "",
		    printable(f.match, buf, sizeof(buf)));
		if (!engine.shared()) {
			control_simple(c, 1, n, "%zu cache entr%s flushed", n,
			    n == 1 ? "y" : "ies");
			break;
		}
		/* The store and the other gateways too, by the prober. */
		c->busy = 1;
		c->flushed = n;
		if (imsgev_compose(engine.prober, IMSG_PROBE_FLUSH, c->id, 0,
		    -1, &f, sizeof(f)) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_SAVE_CACHE:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		c->busy = 1;
		/* The parent opens a file and hands it to the engine. */
		if (imsgev_compose(engine.parent, IMSG_CACHE_SAVE_REQ, c->id,
		    0, -1, NULL, 0) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_CHECK:
		if (control_filter(imsg, &f) == -1 || f.match[0] == '\0' ||
		    f.match[0] == '@' || strchr(f.match, '@') == NULL)
			return (-1);
		c->busy = 1;
		engine.check(f.match, c->id, control_check_done);
		break;
	case IMSG_CTL_SHOW_RULES:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		rulesctl_show(control_rule, c);
		control_end(c);
		break;
	case IMSG_CTL_CHECK_RULES:
		if (imsg_get_data(imsg, &cr, sizeof(cr)) == -1 ||
		    memchr(cr.client, '\0', sizeof(cr.client)) == NULL ||
		    memchr(cr.rcpt, '\0', sizeof(cr.rcpt)) == NULL ||
		    cr.rcpt[0] == '\0')
			return (-1);
		c->busy = 1;
		rulesctl_check(&cr, c->id, control_rules_done);
		break;
	case IMSG_CTL_RELOAD:
		if (imsg_get_len(imsg) != 0)
			return (-1);
		c->busy = 1;
		if (imsgev_compose(engine.parent, IMSG_RELOAD_REQ, c->id, 0,
		    -1, NULL, 0) == -1)
			fatal("%s: imsg_compose", __func__);
		break;
	case IMSG_CTL_LOG_VERBOSE:
		if (imsg_get_data(imsg, &v, sizeof(v)) == -1 || v < 0 ||
		    v > 3)
			return (-1);
		log_setverbose(v);
		/* The parent sets its own and tells the prober. */
		if (imsgev_compose(engine.parent, IMSG_LOG_VERBOSE, 0, 0, -1,
		    &v, sizeof(v)) == -1)
			fatal("%s: imsg_compose", __func__);
		log_info("control: logging %s", v ? "verbose" : "brief");
		control_simple(c, 1, 0, "logging %s",
		    v ? "verbose" : "brief");
		break;
	default:
		return (-1);
	}
	return (0);
}

/* A filter from a client: a known state, a terminated string. */
static int
control_filter(struct imsg *imsg, struct ctl_filter *f)
{
	if (imsg_get_data(imsg, f, sizeof(*f)) == -1)
		return (-1);
	if (memchr(f->match, '\0', sizeof(f->match)) == NULL)
		return (-1);
	switch (f->state) {
	case CTL_STATE_ANY:
	case CTL_STATE_VALID:
	case CTL_STATE_INVALID:
		break;
	default:
		return (-1);
	}
	return (0);
}

/*
 * show cache: a slice of the cache per turn of the event loop, and none
 * while the client is slow to read what it was sent.
 */
static void
control_walk(int fd, short event, void *arg)
{
	struct timeval	 tv = { 0, 0 };
	struct ctl_conn	*c = arg;

	if (imsgbuf_queuelen(&c->iev.ibuf) >= CONTROL_QUEUE_HIGH) {
		imsgev_add(&c->iev);
		return;
	}
	c->cursor = cache_walk(engine.cache, c->cursor, CONTROL_WALK_SLICE,
	    control_walk_entry, c);
	if (c->walk_failed) {
		/* A partial list must not look like a whole one. */
		log_warnx("control: show cache: out of memory");
		control_close(c);
		return;
	}
	if (c->cursor == 0) {
		c->walking = 0;
		control_end(c);
		return;
	}
	imsgev_add(&c->iev);
	evtimer_add(&c->walk_ev, &tv);
}

/*
 * One entry of a show cache walk, copied out by cache_walk(): no lock is
 * held here, a lookup never waits for this.
 */
static int
control_walk_entry(const struct cache_info *ci, void *arg)
{
	struct ctl_conn		*c = arg;
	struct ctl_cache_entry	 e;

	if (ci->expires <= c->now ||
	    !cache_match(ci->address, ci->state, c->filter.state,
	    c->filter.match))
		return (0);
	memset(&e, 0, sizeof(e));
	strlcpy(e.address, ci->address, sizeof(e.address));
	e.state = ci->state;
	e.expires = ci->expires;
	e.hits = ci->hits;
	if (imsg_compose(&c->iev.ibuf, IMSG_CTL_CACHE_ENTRY, 0, 0, -1, &e,
	    sizeof(e)) == -1) {
		c->walk_failed = 1;
		return (-1);
	}
	return (0);
}

/*
 * A check's result, logged as a verdict line is (scambackctl check can
 * fill and change the cache), and sent to the client if it is still
 * there.
 */
static void
control_check_done(uint32_t id, struct ctl_check *cc)
{
	struct ctl_conn		*c;
	const struct probe_res	*r = &cc->res;
	char			 abuf[ADDR_LEN], tbuf[REPLY_TEXT_LEN];

	if (cc->backend[0] == '\0')
		log_info("check to=<%s> verdict=%s why=\"%s\"",
		    printable(cc->address, abuf, sizeof(abuf)),
		    policy_verdict_name(r->verdict),
		    printable_text(r->text, tbuf, sizeof(tbuf)));
	else
		log_info("check to=<%s> verdict=%s backend=%s reply=\"%d%s%s "
		    "%s\" elapsed=%ums", printable(cc->address, abuf,
		    sizeof(abuf)), policy_verdict_name(r->verdict),
		    cc->backend, r->code, r->enhanced[0] != '\0' ? " " : "",
		    r->enhanced, printable_text(r->text, tbuf, sizeof(tbuf)),
		    cc->elapsed_ms);
	if ((c = control_byid(id)) == NULL)
		return;
	imsgev_compose(&c->iev, IMSG_CTL_CHECK_RESULT, 0, 0, -1, cc,
	    sizeof(*cc));
	control_end(c);
}

/* show rules: one message a rule. */
static void
control_rule(void *arg, struct ctl_rule *r)
{
	struct ctl_conn	*c = arg;

	imsgev_compose(&c->iev, IMSG_CTL_RULE, 0, 0, -1, r, sizeof(*r));
}

static void
control_rules_done(uint32_t id, struct ctl_rules_result *rr)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) == NULL)
		return;
	imsgev_compose(&c->iev, IMSG_CTL_RULES_RESULT, 0, 0, -1, rr,
	    sizeof(*rr));
	control_end(c);
}

void
control_result(uint32_t id, const struct ctl_result *res)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) == NULL)
		return;
	imsgev_compose(&c->iev, IMSG_CTL_RESULT, 0, 0, -1, res, sizeof(*res));
	control_end(c);
}

static void
control_simple(struct ctl_conn *c, int ok, uint64_t count, const char *fmt,
    ...)
{
	struct ctl_result	 res;
	va_list			 ap;

	memset(&res, 0, sizeof(res));
	res.ok = ok;
	res.count = count;
	va_start(ap, fmt);
	vsnprintf(res.text, sizeof(res.text), fmt, ap);
	va_end(ap);
	control_result(c->id, &res);
}

static void
control_end(struct ctl_conn *c)
{
	c->busy = 0;
	imsgev_compose(&c->iev, IMSG_CTL_END, 0, 0, -1, NULL, 0);
}

/* The prober's figures of one backend, for show backends. */
void
control_backend(uint32_t id, const struct ctl_backend *b)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) != NULL)
		imsgev_compose(&c->iev, IMSG_CTL_BACKEND, 0, 0, -1, b,
		    sizeof(*b));
}

void
control_backends_end(uint32_t id)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) != NULL)
		control_end(c);
}

/*
 * The shared store's figures, after show stats' or show backends' own
 * (show backends' end comes from the prober after them).
 */
void
control_store(uint32_t id, const struct ctl_store *cs)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) == NULL)
		return;
	imsgev_compose(&c->iev, IMSG_CTL_STORE, 0, 0, -1, cs, sizeof(*cs));
	if (c->stats) {
		c->stats = 0;
		control_end(c);
	}
}

/* The store's part of a flush: the answer says both. */
void
control_flushed(uint32_t id, const struct ctl_result *res)
{
	struct ctl_conn	*c;

	if ((c = control_byid(id)) == NULL)
		return;
	if (res->ok)
		control_simple(c, 1, c->flushed, "%llu cache entr%s flushed, "
		    "%llu from the shared store",
		    (unsigned long long)c->flushed,
		    c->flushed == 1 ? "y" : "ies",
		    (unsigned long long)res->count);
	else
		control_simple(c, 1, c->flushed, "%llu cache entr%s flushed; "
		    "%s", (unsigned long long)c->flushed,
		    c->flushed == 1 ? "y" : "ies", res->text);
}
