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
 * The connection to the shared cache's store, a Redis (or Valkey) server,
 * through hiredis on the prober's event loop: one connection for
 * commands, one subscribed to the channel on which the gateways tell one
 * another of flushes.  share.c says what is kept there.
 *
 * Every command has a deadline, STORE_WAIT_MS for what a verdict waits
 * for: a store that misses one, refuses a command or drops the connection
 * is closed, the waiting lookups go on alone at once, the change is
 * logged once, and it is tried again after STORE_RETRY_MIN seconds,
 * doubled after each failure up to STORE_RETRY_MAX.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <ctype.h>
#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#include "resolvconf.h"

#define STORE_CONNECT_MS	1000	/* to connect and authenticate */

/* A command sent and not answered yet; replies come in order. */
struct store_cmd {
	TAILQ_ENTRY(store_cmd)	 entry;
	uint64_t		 sent;		/* us, monotonic */
	uint64_t		 deadline;	/* us; 0: its store is gone */
	void			(*fn)(void *, redisReply *);
	void			*arg;		/* NULL: nobody waits */
};
TAILQ_HEAD(store_cmds, store_cmd);

static void	 store_connect(void);
static redisAsyncContext *store_open(void);
static void	 store_close(void);
static void	 store_up(void);
static void	 store_retry(int, short, void *);
static void	 store_connected(const redisAsyncContext *, int);
static void	 store_disconnected(const redisAsyncContext *, int);
static int	 store_gone(const redisAsyncContext *);
static struct store_cmd *store_command(redisAsyncContext *, uint32_t,
		    void (*)(void *, redisReply *), void *, int,
		    const char **);
static void	 store_reply(redisAsyncContext *, void *, void *);
static void	 store_watch(void);
static void	 store_watchdog(int, short, void *);
static void	 store_ping_done(void *, redisReply *);
static void	 store_sub_message(redisAsyncContext *, void *, void *);
static socklen_t store_salen(void);

static struct {
	struct event_base	*base;
	void			(*on_flush)(const struct ctl_filter *);
	struct share_conf	 conf;
	struct sockaddr_storage	 sa;		/* conf's address and port */
	uint32_t		 lock_ms;
	char			 owner[HOSTNAME_LEN + 32];
	char			 channel[STORE_KEY_LEN];

	redisAsyncContext	*ac;		/* commands */
	redisAsyncContext	*sub;		/* the flush channel */
	struct store_cmds	 cmds;
	struct event		 watch_ev;
	struct event		 retry_ev;
	enum store_state	 state;
	int			 fresh;		/* no failure since configured */
	int			 quiet;		/* connecting again after idling */
	int64_t			 idle_since;	/* the last such reconnect */
	uint32_t		 retry_secs;
	int64_t			 since;
	int64_t			 retry_at;
	char			 last_error[REPLY_TEXT_LEN];
	uint64_t		 errors;
} st;

void
store_init(struct event_base *base, const char *name,
    void (*flushed)(const struct ctl_filter *))
{
	size_t	i;

	st.base = base;
	st.on_flush = flushed;
	TAILQ_INIT(&st.cmds);
	evtimer_set(&st.watch_ev, store_watchdog, NULL);
	evtimer_set(&st.retry_ev, store_retry, NULL);
	/* Locks name their gateway: readable in the store, unique. */
	snprintf(st.owner, sizeof(st.owner), "%s/%ld/%08x", name,
	    (long)getpid(), arc4random());
	for (i = 0; st.owner[i] != '\0'; i++)
		if (!isgraph((unsigned char)st.owner[i]))
			st.owner[i] = '_';
}

void
store_configure(const struct share_conf *conf, uint32_t lock_secs)
{
	st.lock_ms = lock_secs * 1000;
	if (conf->type == st.conf.type &&
	    strcmp(conf->address, st.conf.address) == 0 &&
	    conf->port == st.conf.port &&
	    strcmp(conf->password, st.conf.password) == 0 &&
	    strcmp(conf->prefix, st.conf.prefix) == 0)
		return;

	if (conf->type == SHARE_NONE && st.state != STORE_NONE)
		log_info("shared store %s port %u: no longer in the "
		    "configuration; working alone", st.conf.address,
		    st.conf.port);
	store_close();
	evtimer_del(&st.retry_ev);
	dest_clear(DEST_STORE);
	st.conf = *conf;
	st.last_error[0] = '\0';
	st.retry_secs = STORE_RETRY_MIN;
	st.since = time(NULL);
	st.retry_at = 0;
	if (conf->type == SHARE_NONE) {
		st.state = STORE_NONE;
		return;
	}
	/* The parser took an address literal only. */
	if (!resolve_literal(conf->address, conf->port, &st.sa) ||
	    dest_add(DEST_STORE, (struct sockaddr *)&st.sa,
	    store_salen()) == -1)
		fatalx("%s: store %s", __func__, conf->address);
	store_key(st.channel, "flush", "");
	/* A trailing ':' of the channel's name is no use. */
	st.channel[strlen(st.channel) - 1] = '\0';
	st.fresh = 1;
	store_connect();
}

uint64_t
store_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static socklen_t
store_salen(void)
{
	return (st.sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

/* prefix + kind + ':' + name, cut at STORE_KEY_LEN (names are shorter). */
void
store_key(char *buf, const char *kind, const char *name)
{
	snprintf(buf, STORE_KEY_LEN, "%s%s:%s", st.conf.prefix, kind, name);
}

/* Two connections: one for commands, one subscribed to the flush channel. */
static void
store_connect(void)
{
	const char	*argv[2];

	st.state = st.fresh ? STORE_CONNECTING : STORE_DOWN;
	log_debug("shared store %s port %u: connecting", st.conf.address,
	    st.conf.port);
	if ((st.ac = store_open()) == NULL || (st.sub = store_open()) == NULL)
		return;
	if (st.conf.password[0] != '\0') {
		argv[0] = "AUTH";
		argv[1] = st.conf.password;
		if (store_command(st.ac, STORE_CONNECT_MS, store_checked,
		    "AUTH refused: ", 2, argv) == NULL ||
		    store_command(st.sub, STORE_CONNECT_MS, store_checked,
		    "AUTH refused: ", 2, argv) == NULL)
			return;
	}
	argv[0] = "SUBSCRIBE";
	argv[1] = st.channel;
	if (redisAsyncCommandArgv(st.sub, store_sub_message, NULL, 2, argv,
	    NULL) != REDIS_OK) {
		store_fail("cannot subscribe");
		return;
	}
	argv[0] = "PING";
	(void)store_command(st.ac, STORE_CONNECT_MS, store_ping_done, NULL, 1,
	    argv);
}

/* A context on the event loop, or NULL and the store failed. */
static redisAsyncContext *
store_open(void)
{
	redisAsyncContext	*ac;
	char			 err[REPLY_TEXT_LEN];

	/*
	 * hiredis connects by itself: before hiredis 1.0 an asynchronous
	 * context cannot start from a descriptor connected elsewhere, so
	 * dest_connect() cannot do it.  dest.c checks the address that
	 * hiredis is given, a literal that its getaddrinfo(3) turns into
	 * the same address without reading a file or asking a resolver
	 * (which the sandbox would refuse).
	 */
	if (!dest_allowed((struct sockaddr *)&st.sa, store_salen())) {
		store_fail("not an address of the configuration");
		return (NULL);
	}
	if ((ac = redisAsyncConnect(st.conf.address, st.conf.port)) == NULL) {
		store_fail("cannot connect: out of memory");
		return (NULL);
	}
	if (ac->err) {
		strlcpy(err, ac->errstr, sizeof(err));
		redisAsyncFree(ac);
		store_fail("cannot connect: %s", err);
		return (NULL);
	}
	if (redisLibeventAttach(ac, st.base) != REDIS_OK)
		fatalx("%s: redisLibeventAttach", __func__);
	redisAsyncSetConnectCallback(ac, store_connected);
	redisAsyncSetDisconnectCallback(ac, store_disconnected);
	return (ac);
}

/*
 * Close both connections.  hiredis answers what was pending with NULL
 * replies (at once, or after the callback we may be in): lookups go on
 * alone.
 */
static void
store_close(void)
{
	redisAsyncContext	*ac = st.ac, *sub = st.sub;
	struct store_cmd	*c;

	st.ac = st.sub = NULL;
	TAILQ_FOREACH(c, &st.cmds, entry)
		c->deadline = 0;
	evtimer_del(&st.watch_ev);
	if (ac != NULL)
		redisAsyncFree(ac);
	if (sub != NULL)
		redisAsyncFree(sub);
}

/* The store failed: close, say so once, try again later. */
void
store_fail(const char *fmt, ...)
{
	struct timeval	 tv;
	va_list		 ap;
	char		 why[REPLY_TEXT_LEN];

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	st.errors++;
	st.quiet = 0;
	store_close();
	if (st.state != STORE_DOWN) {
		st.since = time(NULL);
		log_warnx("shared store %s port %u: %s; working alone, trying "
		    "again in %u s", st.conf.address, st.conf.port, why,
		    st.retry_secs);
	} else
		log_debug("shared store %s port %u: %s", st.conf.address,
		    st.conf.port, why);
	strlcpy(st.last_error, why, sizeof(st.last_error));
	st.state = STORE_DOWN;
	st.fresh = 0;
	if (!evtimer_pending(&st.retry_ev, NULL)) {
		tv.tv_sec = st.retry_secs;
		tv.tv_usec = 0;
		evtimer_add(&st.retry_ev, &tv);
		st.retry_at = time(NULL) + st.retry_secs;
		st.retry_secs = st.retry_secs * 2 > STORE_RETRY_MAX ?
		    STORE_RETRY_MAX : st.retry_secs * 2;
	}
}

static void
store_retry(int fd, short event, void *arg)
{
	st.retry_at = 0;
	store_connect();
}

static void
store_up(void)
{
	if (st.state == STORE_DOWN)
		log_warnx("shared store %s port %u: answering again; sharing "
		    "verdicts", st.conf.address, st.conf.port);
	else if (!st.quiet)
		log_info("shared store %s port %u: sharing verdicts",
		    st.conf.address, st.conf.port);
	if (!st.quiet)
		st.since = time(NULL);
	st.quiet = 0;
	st.state = STORE_UP;
	st.retry_secs = STORE_RETRY_MIN;
}

/*
 * Up, or connecting for the first time: commands wait in hiredis's
 * buffer then, bounded like any.  After a failure only a store that
 * answered again is asked: verdicts do not wait for a dead one.
 */
int
store_usable(void)
{
	return (st.ac != NULL && (st.state == STORE_UP ||
	    (st.state == STORE_CONNECTING && st.fresh)));
}

/* hiredis frees ac after this callback: forget it.  0: not ours. */
static int
store_gone(const redisAsyncContext *ac)
{
	if (ac == st.ac)
		st.ac = NULL;
	else if (ac == st.sub)
		st.sub = NULL;
	else
		return (0);
	return (1);
}

static void
store_connected(const redisAsyncContext *ac, int status)
{
	if (status == REDIS_OK || !store_gone(ac))
		return;
	store_fail("cannot connect: %s", ac->errstr);
}

/*
 * Closed by us, or lost.  A store with a "timeout" closes a command
 * connection that idled that long: nothing was lost, so connect again at
 * once, quietly, as at start (a failure to is one like any).  Once a
 * second at most, lest a store that closes every connection keep the
 * prober busy.
 */
static void
store_disconnected(const redisAsyncContext *ac, int status)
{
	int	idle;

	idle = ac == st.ac && st.state == STORE_UP && TAILQ_EMPTY(&st.cmds) &&
	    time(NULL) - st.idle_since >= 1;
	if (!store_gone(ac))
		return;
	if (idle) {
		log_debug("shared store %s port %u: idle connection closed by "
		    "the store; connecting again", st.conf.address,
		    st.conf.port);
		st.idle_since = time(NULL);
		store_close();
		st.fresh = st.quiet = 1;
		store_connect();
		return;
	}
	store_fail("connection lost%s%s", ac->errstr[0] != '\0' ? ": " : "",
	    ac->errstr);
}

/* Send a command with its deadline; NULL when it could not be. */
static struct store_cmd *
store_command(redisAsyncContext *ac, uint32_t bound_ms,
    void (*fn)(void *, redisReply *), void *arg, int argc, const char **argv)
{
	struct store_cmd	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return (NULL);
	}
	c->sent = store_now_us();
	c->deadline = c->sent + (uint64_t)bound_ms * 1000;
	c->fn = fn;
	c->arg = arg;
	if (redisAsyncCommandArgv(ac, store_reply, c, argc, argv, NULL) !=
	    REDIS_OK) {
		free(c);
		store_fail("cannot send a command");
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&st.cmds, c, entry);
	store_watch();
	return (c);
}

/* hiredis: a reply, or NULL when the connection is gone. */
static void
store_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct store_cmd	*c = privdata;

	TAILQ_REMOVE(&st.cmds, c, entry);
	if (c->fn != NULL)
		c->fn(c->arg, r);
	free(c);
	store_watch();
}

/* One timer for the earliest deadline of the commands in flight. */
static void
store_watch(void)
{
	struct store_cmd	*c;
	struct timeval		 tv;
	uint64_t		 first = 0, now;

	TAILQ_FOREACH(c, &st.cmds, entry)
		if (c->deadline != 0 && (first == 0 || c->deadline < first))
			first = c->deadline;
	if (first == 0) {
		evtimer_del(&st.watch_ev);
		return;
	}
	now = store_now_us();
	first = first > now ? first - now : 0;
	tv.tv_sec = first / 1000000;
	tv.tv_usec = first % 1000000;
	evtimer_add(&st.watch_ev, &tv);
}

static void
store_watchdog(int fd, short event, void *arg)
{
	struct store_cmd	*c;
	uint64_t		 now = store_now_us();

	TAILQ_FOREACH(c, &st.cmds, entry)
		if (c->deadline != 0 && c->deadline <= now) {
			store_fail("no answer in %llu ms",
			    (unsigned long long)(c->deadline - c->sent) / 1000);
			return;
		}
	store_watch();
}

/*
 * An error reply fails the store; arg says what was refused.  NULL
 * replies need no word: the failure that caused them had one.
 */
void
store_checked(void *arg, redisReply *r)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		store_fail("%s%s", arg != NULL ? (char *)arg : "", r->str);
}

static void
store_ping_done(void *arg, redisReply *r)
{
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR)
		store_fail("PING refused: %s", r->str);
	else if (st.state != STORE_UP)
		store_up();
}

/*
 * The flush channel: "OWNER STATE MATCH" from a gateway that flushed.
 * Ours are ours; a malformed one is some other program's, ignored.
 */
static void
store_sub_message(redisAsyncContext *ac, void *reply, void *privdata)
{
	redisReply		*r = reply, *m;
	struct ctl_filter	 f;
	const char		*p, *q;
	char			*ep;
	long			 state;

	if (r == NULL || ac != st.sub)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		store_fail("SUBSCRIBE refused: %s", r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0)
		return;
	m = r->element[2];
	if (m->type != REDIS_REPLY_STRING || memchr(m->str, '\0', m->len))
		return;
	if ((p = strchr(m->str, ' ')) == NULL ||
	    ((size_t)(p - m->str) == strlen(st.owner) &&
	    strncmp(m->str, st.owner, p - m->str) == 0))
		return;
	state = strtol(p + 1, &ep, 10);
	if (ep == p + 1 || *ep != ' ' || (state != CTL_STATE_ANY &&
	    state != CTL_STATE_VALID && state != CTL_STATE_INVALID))
		return;
	q = ep + 1;
	memset(&f, 0, sizeof(f));
	f.state = state;
	if (strlcpy(f.match, q, sizeof(f.match)) >= sizeof(f.match))
		return;
	log_info("shared store: another gateway flushed%s%s%s%s",
	    state == CTL_STATE_VALID ? " valid" :
	    state == CTL_STATE_INVALID ? " invalid" : "",
	    f.match[0] != '\0' ? " " : "", f.match,
	    state == CTL_STATE_ANY && f.match[0] == '\0' ? " everything" : "");
	st.on_flush(&f);
}

/* The commands' connection, for share.c. */
struct store_cmd *
store_send(uint32_t bound_ms, void (*fn)(void *, redisReply *), void *arg,
    int argc, const char **argv)
{
	return (store_command(st.ac, bound_ms, fn, arg, argc, argv));
}

/*
 * Tell the other gateways what was flushed, on the flush channel:
 * "OWNER STATE MATCH", as store_sub_message() reads it.
 */
struct store_cmd *
store_publish(const struct ctl_filter *f, void (*fn)(void *, redisReply *),
    void *arg)
{
	const char	*argv[3];
	char		 msg[ADDR_LEN + sizeof(st.owner) + 16];

	snprintf(msg, sizeof(msg), "%s %d %s", st.owner, f->state, f->match);
	argv[0] = "PUBLISH";
	argv[1] = st.channel;
	argv[2] = msg;
	return (store_send(STORE_WAIT_MS, fn, arg, 3, argv));
}

/* Its reply will come to nobody. */
void
store_forget(struct store_cmd *c)
{
	c->arg = NULL;
}

int
store_configured(void)
{
	return (st.state != STORE_NONE);
}

const char *
store_owner(void)
{
	return (st.owner);
}

/*
 * How long a lock in the store may last: as long as a probe may take,
 * but no longer than a RCPT waits (prober_apply).
 */
uint32_t
store_lock_ms(void)
{
	return (st.lock_ms > 0 ? st.lock_ms : 1000);
}

/* The connection's part of show stats and show backends. */
void
store_link_figures(struct ctl_store *cs)
{
	memset(cs, 0, sizeof(*cs));
	strlcpy(cs->address, st.conf.address, sizeof(cs->address));
	cs->port = st.conf.port;
	strlcpy(cs->prefix, st.conf.prefix, sizeof(cs->prefix));
	cs->state = st.state;
	cs->since = st.since;
	cs->retry_at = st.state == STORE_DOWN ? st.retry_at : 0;
	strlcpy(cs->last_error, st.last_error, sizeof(cs->last_error));
	cs->errors = st.errors;
}
