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
 * The shared cache in the store (SPEC section 12): what the gateways
 * keep there and how they take turns, over store.c's connection.
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

#include <hiredis/hiredis.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"

#define STORE_POLL_MS		10	/* between looks at another's lock */
#define STORE_RTTS		1024	/* round trips kept for the p99 */

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

/* For show stats and show backends. */
static struct {
	uint64_t		 lookups, hits, catchall_hits, misses;
	uint64_t		 lock_waits, alone, stored, flushed;
	uint64_t		 rtt_sum, rtt_n;
	uint32_t		 rtt[STORE_RTTS];
} fig;

struct store_lookup *
store_lookup(const char *address, const char *domain,
    void (*done)(void *, const struct store_answer *), void *arg)
{
	struct store_lookup	*l;

	if (!store_usable()) {
		if (store_configured())
			fig.alone++;
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
		fig.alone++;
		return (NULL);
	}
	fig.lookups++;
	return (l);
}

void
store_cancel(struct store_lookup *l)
{
	if (l->cmd != NULL)
		store_forget(l->cmd);
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
	snprintf(ms, sizeof(ms), "%u", store_lock_ms());
	argv[0] = "EVAL";
	argv[1] = lookup_script;
	argv[2] = "4";
	argv[3] = k[0];
	argv[4] = k[1];
	argv[5] = k[2];
	argv[6] = k[3];
	argv[7] = ms;
	argv[8] = store_owner();
	argv[9] = l->domain[0] != '\0' ? "1" : "0";
	l->sent = store_now_us();
	if ((l->cmd = store_send(STORE_WAIT_MS, lookup_reply, l, 10,
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
	us = store_now_us() - l->sent;
	fig.rtt[fig.rtt_n % STORE_RTTS] = us > UINT32_MAX ? UINT32_MAX : us;
	fig.rtt_n++;
	fig.rtt_sum += us;
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
			fig.lock_waits++;
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
		fig.alone++;
		break;
	case STORE_HIT:
		fig.hits++;
		break;
	case STORE_CATCHALL:
		fig.catchall_hits++;
		break;
	case STORE_PROBE:
		fig.misses++;
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
	argv[7] = store_owner();
	if (store_send(STORE_WAIT_MS, store_checked, NULL, 8,
	    argv) != NULL && value[0] != '\0')
		fig.stored++;
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

	if (!store_configured()) {
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
	if ((fl->cmd = store_send(STORE_FLUSH_MS, flush_reply, fl,
	    argc, argv)) == NULL)
		return (-1);
	return (0);
}

static void
flush_reply(void *arg, redisReply *r)
{
	struct store_flush	*fl = arg;

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
	fig.flushed += fl->count;
	if ((fl->cmd = store_publish(&fl->filter, flush_published,
	    fl)) == NULL)
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

	store_link_figures(cs);
	cs->lookups = fig.lookups;
	cs->hits = fig.hits;
	cs->catchall_hits = fig.catchall_hits;
	cs->misses = fig.misses;
	cs->lock_waits = fig.lock_waits;
	cs->alone = fig.alone;
	cs->stored = fig.stored;
	cs->flushed = fig.flushed;
	if (fig.rtt_n > 0) {
		cs->rtt_mean_us = fig.rtt_sum / fig.rtt_n;
		n = fig.rtt_n < STORE_RTTS ? fig.rtt_n : STORE_RTTS;
		memcpy(rtt, fig.rtt, n * sizeof(rtt[0]));
		qsort(rtt, n, sizeof(rtt[0]), rtt_cmp);
		cs->rtt_p99_us = rtt[(n * 99 + 99) / 100 - 1];
	}
}
