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
 * The shared cache: a Redis (or Valkey) store that the gateways of one
 * domain share, spoken to through hiredis on the prober's event loop.
 *
 * Keys, below the configured prefix:
 *	rcpt:ADDRESS		"valid" or "invalid", expiring with the verdict
 *	rcpt-lock:ADDRESS	the gateway that probes it now
 *	domain:DOMAIN		"catchall" or "normal", the catch-all check
 *	domain-lock:DOMAIN	the gateway that checks it now
 * and the channel "flush", on which a gateway tells the others what it
 * flushed.  A lookup is one script: the verdict with its time left, or the
 * lock (SET NX PX, no longer than a probe may take), in one round trip.
 * A gateway that finds the lock taken looks again every STORE_POLL_MS
 * until the verdict is there or the lock is free (the other gateway's
 * probe said nothing usable, or it died): polling costs the store nothing
 * unless two gateways want the same new address at once, where telling
 * every gateway of every verdict would cost a message each time (the
 * bench measures both; bench/README).
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

#define STORE_POLL_MS		10	/* between looks at another's lock */
#define STORE_CONNECT_MS	1000	/* to connect and authenticate */
#define STORE_KEY_LEN		(SHARE_PREFIX_LEN + 16 + ADDR_LEN)
#define STORE_RTTS		1024	/* round trips kept for the p99 */

/* A command sent and not answered yet; replies come in order. */
struct store_cmd {
	TAILQ_ENTRY(store_cmd)	 entry;
	uint64_t		 sent;		/* us, monotonic */
	uint64_t		 deadline;	/* us; 0: its store is gone */
	void			(*fn)(void *, redisReply *);
	void			*arg;		/* NULL: nobody waits */
};
TAILQ_HEAD(store_cmds, store_cmd);

struct store_lookup {
	struct store_cmd	*cmd;		/* in flight */
	struct event		 poll_ev;	/* the next look at a lock */
	struct event		 done_ev;
	void			(*done)(void *, const struct store_answer *);
	void			*arg;
	struct store_answer	 ans;
	uint64_t		 sent;
	char			 address[ADDR_LEN];
	char			 domain[HOSTNAME_LEN];	/* "": not asked */
};

struct store_flush {
	struct store_cmd	*cmd;
	struct event		 done_ev;
	void			(*done)(void *, int, uint64_t, const char *);
	void			*arg;
	struct ctl_filter	 filter;
	char			 key[STORE_KEY_LEN];	/* one address */
	char			 pattern[STORE_KEY_LEN + ADDR_LEN];
	const char		*value;			/* "": any */
	char			 cursor[32];
	uint64_t		 count;
	int			 ok;
	char			 text[REPLY_TEXT_LEN];
};

static void	 store_connect(void);
static redisAsyncContext *store_open(void);
static void	 store_close(void);
static void	 store_fail(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 store_up(void);
static int	 store_usable(void);
static void	 store_retry(int, short, void *);
static void	 store_connected(const redisAsyncContext *, int);
static void	 store_disconnected(const redisAsyncContext *, int);
static struct store_cmd *store_send(redisAsyncContext *, uint32_t,
		    void (*)(void *, redisReply *), void *, int,
		    const char **);
static void	 store_reply(redisAsyncContext *, void *, void *);
static void	 store_watch(void);
static void	 store_watchdog(int, short, void *);
static void	 store_checked(void *, redisReply *);
static void	 store_ping_done(void *, redisReply *);
static void	 store_sub_message(redisAsyncContext *, void *, void *);
static void	 store_key(char *, const char *, const char *);
static socklen_t store_salen(void);
static uint64_t	 now_us(void);

static int	 lookup_send(struct store_lookup *);
static void	 lookup_reply(void *, redisReply *);
static void	 lookup_poll(int, short, void *);
static void	 lookup_finish(struct store_lookup *, enum store_outcome);
static void	 lookup_done(int, short, void *);
static void	 store_put(const char *, const char *, const char *,
		    const char *, uint32_t);

static int	 flush_send(struct store_flush *);
static void	 flush_reply(void *, redisReply *);
static void	 flush_published(void *, redisReply *);
static void	 flush_finish(struct store_flush *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 flush_done(int, short, void *);

/*
 * The lookup: the verdict and its time left; else a catch-all domain;
 * else the lock (ours already counts: a retried probe must not wait for
 * itself) and, when the domain is unknown, its lock too.
 * KEYS: rcpt, rcpt-lock, domain, domain-lock.  ARGV: lock ms, owner,
 * "1" to ask for the domain.
 */
static const char lookup_script[] =
"local v = redis.call('GET', KEYS[1])\n"
"local t = -2\n"
"if v then t = redis.call('PTTL', KEYS[1]) end\n"
"local dv, dt, l, dl = false, -2, 0, 0\n"
"if ARGV[3] == '1' then\n"
"  dv = redis.call('GET', KEYS[3])\n"
"  if dv then dt = redis.call('PTTL', KEYS[3]) end\n"
"end\n"
"if v or dv == 'catchall' then return {v, t, 0, dv, dt, 0} end\n"
"if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[1]) or\n"
"    redis.call('GET', KEYS[2]) == ARGV[2] then l = 1 end\n"
"if l == 1 and ARGV[3] == '1' and not dv and\n"
"    redis.call('SET', KEYS[4], ARGV[2], 'NX', 'PX', ARGV[1]) then dl = 1 end\n"
"return {v, t, l, dv, dt, dl}\n";

/*
 * A result: stored ("" stores nothing) and the lock released if it is
 * still ours.  KEYS: the key, its lock.  ARGV: value, ms, owner.
 */
static const char put_script[] =
"if ARGV[1] ~= '' then\n"
"  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
"end\n"
"if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end\n"
"return 1\n";

/*
 * A flush step: one key (KEYS[1]), or a SCAN step from the cursor ARGV[1]
 * over the pattern ARGV[2]; ARGV[3] is the value to remove ("": any).
 * Returns the next cursor ("0": done) and how many keys went.
 */
static const char flush_script[] =
"local n = 0\n"
"if #KEYS == 1 then\n"
"  if ARGV[3] == '' or redis.call('GET', KEYS[1]) == ARGV[3] then\n"
"    n = redis.call('DEL', KEYS[1])\n"
"  end\n"
"  return {'0', n}\n"
"end\n"
"local r = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', 1000)\n"
"for _, k in ipairs(r[2]) do\n"
"  if ARGV[3] == '' or redis.call('GET', k) == ARGV[3] then\n"
"    n = n + redis.call('DEL', k)\n"
"  end\n"
"end\n"
"return {r[1], n}\n";

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
	uint32_t		 retry_secs;
	int64_t			 since;
	int64_t			 retry_at;
	char			 last_error[REPLY_TEXT_LEN];

	uint64_t		 lookups, hits, catchall_hits, misses;
	uint64_t		 lock_waits, alone, stored, flushed, errors;
	uint64_t		 rtt_sum, rtt_n;
	uint32_t		 rtt[STORE_RTTS];
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

static uint64_t
now_us(void)
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
static void
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
		if (store_send(st.ac, STORE_CONNECT_MS, store_checked,
		    "AUTH refused: ", 2, argv) == NULL ||
		    store_send(st.sub, STORE_CONNECT_MS, store_checked,
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
	(void)store_send(st.ac, STORE_CONNECT_MS, store_ping_done, NULL, 1,
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
static void
store_fail(const char *fmt, ...)
{
	struct timeval	 tv;
	va_list		 ap;
	char		 why[REPLY_TEXT_LEN];

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	st.errors++;
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
	else
		log_info("shared store %s port %u: sharing verdicts",
		    st.conf.address, st.conf.port);
	st.state = STORE_UP;
	st.since = time(NULL);
	st.retry_secs = STORE_RETRY_MIN;
}

/*
 * Up, or connecting for the first time: commands wait in hiredis's
 * buffer then, bounded like any.  After a failure only a store that
 * answered again is asked: verdicts do not wait for a dead one.
 */
static int
store_usable(void)
{
	return (st.ac != NULL && (st.state == STORE_UP ||
	    (st.state == STORE_CONNECTING && st.fresh)));
}

static void
store_connected(const redisAsyncContext *ac, int status)
{
	if (status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	if (ac == st.ac)
		st.ac = NULL;
	else if (ac == st.sub)
		st.sub = NULL;
	else
		return;
	store_fail("cannot connect: %s", ac->errstr);
}

static void
store_disconnected(const redisAsyncContext *ac, int status)
{
	/* Closed by us, or lost; either way hiredis frees it now. */
	if (ac == st.ac)
		st.ac = NULL;
	else if (ac == st.sub)
		st.sub = NULL;
	else
		return;
	store_fail("connection lost%s%s", ac->errstr[0] != '\0' ? ": " : "",
	    ac->errstr);
}

/* Send a command with its deadline; NULL when it could not be. */
static struct store_cmd *
store_send(redisAsyncContext *ac, uint32_t bound_ms,
    void (*fn)(void *, redisReply *), void *arg, int argc, const char **argv)
{
	struct store_cmd	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return (NULL);
	}
	c->sent = now_us();
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
	now = now_us();
	first = first > now ? first - now : 0;
	tv.tv_sec = first / 1000000;
	tv.tv_usec = first % 1000000;
	evtimer_add(&st.watch_ev, &tv);
}

static void
store_watchdog(int fd, short event, void *arg)
{
	struct store_cmd	*c;
	uint64_t		 now = now_us();

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
static void
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

struct store_lookup *
store_lookup(const char *address, const char *domain,
    void (*done)(void *, const struct store_answer *), void *arg)
{
	struct store_lookup	*l;

	if (!store_usable()) {
		if (st.state != STORE_NONE)
			st.alone++;
		return (NULL);
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("%s", __func__);
		return (NULL);
	}
	l->done = done;
	l->arg = arg;
	strlcpy(l->address, address, sizeof(l->address));
	if (domain != NULL)
		strlcpy(l->domain, domain, sizeof(l->domain));
	evtimer_set(&l->poll_ev, lookup_poll, l);
	event_set(&l->done_ev, -1, 0, lookup_done, l);
	if (lookup_send(l) == -1) {
		free(l);
		st.alone++;
		return (NULL);
	}
	st.lookups++;
	return (l);
}

void
store_cancel(struct store_lookup *l)
{
	if (l->cmd != NULL)
		l->cmd->arg = NULL;
	evtimer_del(&l->poll_ev);
	event_del(&l->done_ev);
	free(l);
}

static int
lookup_send(struct store_lookup *l)
{
	char		 k[4][STORE_KEY_LEN], ms[16];
	const char	*argv[10];

	store_key(k[0], "rcpt", l->address);
	store_key(k[1], "rcpt-lock", l->address);
	store_key(k[2], "domain", l->domain);
	store_key(k[3], "domain-lock", l->domain);
	snprintf(ms, sizeof(ms), "%u", st.lock_ms > 0 ? st.lock_ms : 1000);
	argv[0] = "EVAL";
	argv[1] = lookup_script;
	argv[2] = "4";
	argv[3] = k[0];
	argv[4] = k[1];
	argv[5] = k[2];
	argv[6] = k[3];
	argv[7] = ms;
	argv[8] = st.owner;
	argv[9] = l->domain[0] != '\0' ? "1" : "0";
	l->sent = now_us();
	if ((l->cmd = store_send(st.ac, STORE_WAIT_MS, lookup_reply, l, 10,
	    argv)) == NULL)
		return (-1);
	return (0);
}

/* Milliseconds left (PTTL) as whole seconds, rounded up; 0: no expiry. */
static uint32_t
lookup_ttl(redisReply *r)
{
	if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0)
		return (0);
	if (r->integer / 1000 >= UINT32_MAX)
		return (UINT32_MAX);
	return ((r->integer + 999) / 1000);
}

static void
lookup_reply(void *arg, redisReply *r)
{
	struct store_lookup	*l = arg;
	redisReply		**e;
	struct timeval		 tv = { 0, STORE_POLL_MS * 1000 };
	uint64_t		 us;

	if (l == NULL)
		return;		/* cancelled */
	l->cmd = NULL;
	if (r == NULL) {
		lookup_finish(l, STORE_ALONE);
		return;
	}
	us = now_us() - l->sent;
	st.rtt[st.rtt_n % STORE_RTTS] = us > UINT32_MAX ? UINT32_MAX : us;
	st.rtt_n++;
	st.rtt_sum += us;
	if (r->type == REDIS_REPLY_ERROR) {
		lookup_finish(l, STORE_ALONE);
		store_fail("%s", r->str);
		return;
	}
	e = r->element;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    e[2]->type != REDIS_REPLY_INTEGER ||
	    e[5]->type != REDIS_REPLY_INTEGER) {
		lookup_finish(l, STORE_ALONE);
		store_fail("unexpected answer to a lookup");
		return;
	}
	if (e[0]->type == REDIS_REPLY_STRING) {
		if (strcmp(e[0]->str, "valid") == 0)
			l->ans.verdict = VERDICT_VALID;
		else if (strcmp(e[0]->str, "invalid") == 0)
			l->ans.verdict = VERDICT_INVALID;
		else {
			/* Not ours to trust; probe, and overwrite it. */
			log_debug("shared store: %s: \"%s\" is no verdict",
			    l->address, e[0]->str);
			lookup_finish(l, STORE_ALONE);
			return;
		}
		l->ans.ttl = lookup_ttl(e[1]);
		lookup_finish(l, STORE_HIT);
	} else if (e[3]->type == REDIS_REPLY_STRING &&
	    strcmp(e[3]->str, "catchall") == 0) {
		l->ans.verdict = VERDICT_VALID;
		l->ans.ttl = lookup_ttl(e[4]);
		lookup_finish(l, STORE_CATCHALL);
	} else if (e[2]->integer == 1) {
		if (e[3]->type == REDIS_REPLY_STRING &&
		    strcmp(e[3]->str, "normal") == 0) {
			l->ans.domain = STORE_DOMAIN_NORMAL;
			l->ans.dttl = lookup_ttl(e[4]);
		} else if (e[5]->integer == 1)
			l->ans.domain = STORE_DOMAIN_DETECT;
		lookup_finish(l, STORE_PROBE);
	} else {
		/* Another gateway probes it: look again soon. */
		if (!l->ans.waited) {
			l->ans.waited = 1;
			st.lock_waits++;
		}
		evtimer_add(&l->poll_ev, &tv);
	}
}

static void
lookup_poll(int fd, short event, void *arg)
{
	struct store_lookup	*l = arg;

	if (!store_usable() || lookup_send(l) == -1)
		lookup_finish(l, STORE_ALONE);
}

/* done() from the loop: never inside hiredis, never inside our caller. */
static void
lookup_finish(struct store_lookup *l, enum store_outcome outcome)
{
	l->ans.outcome = outcome;
	switch (outcome) {
	case STORE_ALONE:
		st.alone++;
		break;
	case STORE_HIT:
		st.hits++;
		break;
	case STORE_CATCHALL:
		st.catchall_hits++;
		break;
	case STORE_PROBE:
		st.misses++;
		break;
	}
	event_active(&l->done_ev, EV_TIMEOUT, 1);
}

static void
lookup_done(int fd, short event, void *arg)
{
	struct store_lookup	*l = arg;

	l->done(l->arg, &l->ans);
	free(l);
}

void
store_verdict(const char *address, enum verdict v, uint32_t lifetime)
{
	store_put("rcpt", "rcpt-lock", address, v == VERDICT_VALID ? "valid" :
	    v == VERDICT_INVALID ? "invalid" : "", lifetime);
}

void
store_domain(const char *domain, enum verdict v, uint32_t lifetime)
{
	store_put("domain", "domain-lock", domain, v == VERDICT_VALID ?
	    "catchall" : v == VERDICT_INVALID ? "normal" : "", lifetime);
}

/* Fire and forget: a failure shows in the figures and the log. */
static void
store_put(const char *kind, const char *lockkind, const char *name,
    const char *value, uint32_t lifetime)
{
	char		 k[2][STORE_KEY_LEN], ms[24];
	const char	*argv[8];

	if (!store_usable())
		return;
	store_key(k[0], kind, name);
	store_key(k[1], lockkind, name);
	snprintf(ms, sizeof(ms), "%llu",
	    (unsigned long long)(lifetime > 0 ? lifetime : 1) * 1000);
	argv[0] = "EVAL";
	argv[1] = put_script;
	argv[2] = "2";
	argv[3] = k[0];
	argv[4] = k[1];
	argv[5] = value;
	argv[6] = ms;
	argv[7] = st.owner;
	if (store_send(st.ac, STORE_WAIT_MS, store_checked, NULL, 8,
	    argv) != NULL && value[0] != '\0')
		st.stored++;
}

/*
 * A flush: the keys of one address, or a SCAN over the prefix (a whole
 * flush, a domain) step by step, never KEYS; then the other gateways are
 * told.  The store's glob characters in a domain are escaped.
 */
void
store_flush(const struct ctl_filter *filter,
    void (*done)(void *, int, uint64_t, const char *), void *arg)
{
	struct store_flush	*fl;
	const char		*at, *s;
	char			 name[ADDR_LEN], *p;
	size_t			 n;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		fatal(NULL);
	fl->done = done;
	fl->arg = arg;
	fl->filter = *filter;
	event_set(&fl->done_ev, -1, 0, flush_done, fl);
	fl->value = filter->state == CTL_STATE_VALID ? "valid" :
	    filter->state == CTL_STATE_INVALID ? "invalid" : "";
	strlcpy(fl->cursor, "0", sizeof(fl->cursor));

	if (st.state == STORE_NONE) {
		flush_finish(fl, 1, "%s", "");
		return;
	}
	if (!store_usable()) {
		flush_finish(fl, 0, "the shared store is not answering: its "
		    "entries stay until they expire");
		return;
	}

	/* The domain as cached: lowercase. */
	strlcpy(name, filter->match, sizeof(name));
	if ((at = strrchr(name, '@')) != NULL)
		for (p = name + (at - name); *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
	if (name[0] != '\0' && name[0] != '@')
		store_key(fl->key, "rcpt", name);
	else {
		store_key(fl->pattern, "rcpt", "*");
		n = strlen(fl->pattern);
		for (s = name; *s != '\0' && n + 2 < sizeof(fl->pattern);
		    s++) {
			if (strchr("*?[]\\", *s) != NULL)
				fl->pattern[n++] = '\\';
			fl->pattern[n++] = *s;
		}
		fl->pattern[n] = '\0';
	}
	if (flush_send(fl) == -1)
		flush_finish(fl, 0, "the shared store is not answering: its "
		    "entries stay until they expire");
}

static int
flush_send(struct store_flush *fl)
{
	const char	*argv[7];
	int		 argc = 0;

	argv[argc++] = "EVAL";
	argv[argc++] = flush_script;
	if (fl->key[0] != '\0') {
		argv[argc++] = "1";
		argv[argc++] = fl->key;
	} else
		argv[argc++] = "0";
	argv[argc++] = fl->cursor;
	argv[argc++] = fl->pattern;
	argv[argc++] = fl->value;
	if ((fl->cmd = store_send(st.ac, STORE_FLUSH_MS, flush_reply, fl,
	    argc, argv)) == NULL)
		return (-1);
	return (0);
}

static void
flush_reply(void *arg, redisReply *r)
{
	struct store_flush	*fl = arg;
	const char		*argv[3];
	char			 msg[ADDR_LEN + sizeof(st.owner) + 16];

	fl->cmd = NULL;
	if (r == NULL) {
		flush_finish(fl, 0, "the shared store failed during the flush");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		flush_finish(fl, 0, "the shared store refused the flush: %s",
		    r->str);
		store_fail("%s", r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[0]->len >= sizeof(fl->cursor)) {
		flush_finish(fl, 0, "unexpected answer to a flush");
		store_fail("unexpected answer to a flush");
		return;
	}
	fl->count += r->element[1]->integer;
	strlcpy(fl->cursor, r->element[0]->str, sizeof(fl->cursor));
	if (strcmp(fl->cursor, "0") != 0) {
		if (flush_send(fl) == -1)
			flush_finish(fl, 0, "the shared store failed during "
			    "the flush");
		return;
	}
	st.flushed += fl->count;
	snprintf(msg, sizeof(msg), "%s %d %s", st.owner, fl->filter.state,
	    fl->filter.match);
	argv[0] = "PUBLISH";
	argv[1] = st.channel;
	argv[2] = msg;
	if ((fl->cmd = store_send(st.ac, STORE_WAIT_MS, flush_published, fl,
	    3, argv)) == NULL)
		flush_finish(fl, 0, "the other gateways could not be told");
}

static void
flush_published(void *arg, redisReply *r)
{
	struct store_flush	*fl = arg;

	fl->cmd = NULL;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		flush_finish(fl, 0, "the other gateways could not be told");
	else
		flush_finish(fl, 1, "%s", "");
}

static void
flush_finish(struct store_flush *fl, int ok, const char *fmt, ...)
{
	va_list	ap;

	fl->ok = ok;
	va_start(ap, fmt);
	(void)vsnprintf(fl->text, sizeof(fl->text), fmt, ap);
	va_end(ap);
	event_active(&fl->done_ev, EV_TIMEOUT, 1);
}

static void
flush_done(int fd, short event, void *arg)
{
	struct store_flush	*fl = arg;

	fl->done(fl->arg, fl->ok, fl->count, fl->text);
	free(fl);
}

static int
rtt_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

void
store_figures(struct ctl_store *cs)
{
	uint32_t	rtt[STORE_RTTS];
	size_t		n;

	memset(cs, 0, sizeof(*cs));
	strlcpy(cs->address, st.conf.address, sizeof(cs->address));
	cs->port = st.conf.port;
	strlcpy(cs->prefix, st.conf.prefix, sizeof(cs->prefix));
	cs->state = st.state;
	cs->since = st.since;
	cs->retry_at = st.state == STORE_DOWN ? st.retry_at : 0;
	strlcpy(cs->last_error, st.last_error, sizeof(cs->last_error));
	cs->lookups = st.lookups;
	cs->hits = st.hits;
	cs->catchall_hits = st.catchall_hits;
	cs->misses = st.misses;
	cs->lock_waits = st.lock_waits;
	cs->alone = st.alone;
	cs->stored = st.stored;
	cs->flushed = st.flushed;
	cs->errors = st.errors;
	if (st.rtt_n > 0) {
		cs->rtt_mean_us = st.rtt_sum / st.rtt_n;
		n = st.rtt_n < STORE_RTTS ? st.rtt_n : STORE_RTTS;
		memcpy(rtt, st.rtt, n * sizeof(rtt[0]));
		qsort(rtt, n, sizeof(rtt[0]), rtt_cmp);
		cs->rtt_p99_us = rtt[(n * 99 + 99) / 100 - 1];
	}
}
