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
 * The access rules in the milter engine, for one MTA session at a time
 * (libmilter runs a thread per session, so a session's state needs no
 * lock).  The rules and their tables belong to the configuration, read
 * under the engine's lock lent to access_init(); a walk that needs a DNS answer not yet cached
 * lets the lock go while it waits, and walks again.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "policy.h"
#include "table.h"
#include "rules.h"
#include "dns.h"
#include "access.h"
#include "printable.h"
#include "save.h"

/* A rule's reply as it is logged: printable already, bounded. */
#define LOG_REPLY_LEN	256

struct access {
	struct client_addr	 client;
	char			 addr[INET6_ADDRSTRLEN];
	char			 name[HOSTNAME_LEN];	/* {client_name} */
	char			 ptr[HOSTNAME_LEN];	/* {client_ptr} */
	enum client_resolve	 resolve;
	char			 helo[HOSTNAME_LEN];
	char			 auth[ADDR_LEN];
	char			 sender[ADDR_LEN];	/* "" : <> */
	int			 sender_set;

	/* What holds for the session. */
	struct access_reply	 held;		/* refused at connect, helo */
	int			 held_set;
	char			 permanent[RULE_REPLY_LEN];

	/* The message a save rule keeps. */
	uint32_t		 save_rule;
	struct access_reply	 save_reply;
	char			 save_log[LOG_REPLY_LEN];
	char			 save_rcpt[ADDR_LEN];
	char			*msg;
	size_t			 msglen;
	size_t			 msgmax;
	int			 body;		/* the body has begun */
};

/* The engine's: its configuration, the lock on it, <domains>. */
static struct scamback_conf	**conf_p;
static pthread_rwlock_t		 *conf_lock;
static int			(*access_protected)(const char *);

/* What a walk at one stage knows, for the callbacks. */
struct walkctx {
	struct walk		 w;
	struct access		*a;
	enum rule_stage		 stage;
	const char		*rcpt;
};

static void	copy(char *, size_t, const char *);
static const struct dns_answer *walk_dns(struct walk *, enum dns_kind, int,
		    const char *);
static enum rdns_status walk_resolvable(void *, const char *, int);
static enum rdns_status walk_servers(void *, const char *, int,
		    struct rule_servers *);
static int	walk_protected(void *, const char *);
static void	vars(struct access *, const char *, const char *, uint32_t,
		    struct reply_vars *);
static void	make_reply(struct access *, const char *, const char *,
		    const char *, uint32_t, struct access_reply *, char *,
		    size_t);
static void	log_rule(struct access *, uint32_t, const char *,
		    enum rule_stage, const char *, const char *);
static void	note(void *, const struct rule_conf *, int, const char *);
static uint64_t	now_ms(void);

/* Copy a string from the MTA, cut to fit. */
static void
copy(char *dst, size_t len, const char *src)
{
	strlcpy(dst, src != NULL ? src : "", len);
}

struct access *
access_new(void)
{
	return (calloc(1, sizeof(struct access)));
}

void
access_free(struct access *a)
{
	if (a == NULL)
		return;
	free(a->msg);
	free(a);
}

/*
 * The MTA's macros at a stage.  Only those it sent replace what earlier
 * stages said: Postfix sends the client's again after XCLIENT.
 */
void
access_macros(struct access *a, const struct access_macros *m)
{
	struct client_addr	c;

	if (a == NULL)
		return;
	if (m->client_addr != NULL &&
	    client_from_string(&c, m->client_addr) == 0 &&
	    memcmp(&c, &a->client, sizeof(c)) != 0) {
		a->client = c;
		a->addr[0] = '\0';
	}
	if (a->addr[0] == '\0' &&
	    client_string(&a->client, a->addr, sizeof(a->addr)) == NULL)
		strlcpy(a->addr, "unknown", sizeof(a->addr));
	if (m->client_name != NULL)
		copy(a->name, sizeof(a->name), m->client_name);
	if (m->client_ptr != NULL)
		copy(a->ptr, sizeof(a->ptr), m->client_ptr);
	if (m->client_resolve != NULL || m->client_name != NULL)
		a->resolve = rules_resolve(m->client_resolve,
		    a->name[0] != '\0' ? a->name : NULL);
	if (m->auth != NULL)
		copy(a->auth, sizeof(a->auth), m->auth);
}

/* The client's address from the connection, before any macro. */
void
access_client(struct access *a, const struct client_addr *c)
{
	if (a == NULL)
		return;
	a->client = *c;
	if (client_string(&a->client, a->addr, sizeof(a->addr)) == NULL)
		strlcpy(a->addr, "unknown", sizeof(a->addr));
}

void
access_helo(struct access *a, const char *helo)
{
	if (a == NULL)
		return;
	copy(a->helo, sizeof(a->helo), helo);
}

/*
 * MAIL FROM: the sender, normalised as recipients are (brackets and a
 * source route gone, the domain lowercased); the DNS lookups the rules
 * will want start now, so that RCPT rarely waits.
 */
void
access_mail(struct access *a, const char *arg)
{
	const char		*at, *dom;
	size_t			 len, domoff;
	int			 flags;

	if (a == NULL)
		return;
	access_message_end(a);
	a->sender_set = 1;
	if (arg == NULL)
		arg = "";
	len = strlen(arg);
	if (addr_normalise(arg, a->sender, sizeof(a->sender), &domoff,
	    NULL) != ADDR_OK) {
		if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
			arg++;
			len -= 2;
		}
		if (len >= sizeof(a->sender))
			len = sizeof(a->sender) - 1;
		memcpy(a->sender, arg, len);
		a->sender[len] = '\0';
	}
	if ((at = strrchr(a->sender, '@')) == NULL || at[1] == '\0')
		return;
	dom = at + 1;

	pthread_rwlock_rdlock(conf_lock);
	flags = (*conf_p)->rules_flags;
	pthread_rwlock_unlock(conf_lock);
	if (flags & RF_RESOLVABLE)
		dns_prefetch(DNS_RESOLVABLE, 0, dom);
	if (flags & RF_PARENT)
		dns_prefetch(DNS_RESOLVABLE, DNS_PARENT, dom);
	if (flags & RF_MX)
		dns_prefetch(DNS_MX, 0, dom);
	if (flags & RF_NS)
		dns_prefetch(DNS_NS, 0, dom);
}

/* A message ended, was aborted, or a new one begins. */
void
access_message_end(struct access *a)
{
	if (a == NULL)
		return;
	a->save_rule = 0;
	free(a->msg);
	a->msg = NULL;
	a->msglen = a->msgmax = 0;
	a->body = 0;
	a->sender_set = 0;
	a->sender[0] = '\0';
}

/*
 * An answer this walk already has, or one from the cache; NULL when the
 * lookup has to be waited for (it has started: the caller waits, then
 * walks again).
 */
static const struct dns_answer *
walk_dns(struct walk *w, enum dns_kind kind, int flags, const char *dom)
{
	struct walk_answer	*wa;
	int			 i;

	for (i = 0; i < w->nans; i++) {
		wa = &w->ans[i];
		if (wa->kind == kind && wa->flags == flags &&
		    strcmp(wa->dom, dom) == 0)
			return (&wa->ans);
	}
	if (w->nans == WALK_ANSWERS)
		return (NULL);
	wa = &w->ans[w->nans];
	if (!w->fresh && dns_lookup(kind, flags, dom, 0, &wa->ans) == 1) {
		wa->kind = kind;
		wa->flags = flags;
		strlcpy(wa->dom, dom, sizeof(wa->dom));
		w->nans++;
		return (&wa->ans);
	}
	if (!w->missing) {
		w->missing = 1;
		w->miss.kind = kind;
		w->miss.flags = flags;
		strlcpy(w->miss.dom, dom, sizeof(w->miss.dom));
	}
	return (NULL);
}

/* An answer got outside the walk, for the next one. */
void
walk_answer(struct walk *w, const struct walk_answer *q,
    const struct dns_answer *ans)
{
	struct walk_answer	*wa;

	if (w->nans == WALK_ANSWERS)
		return;
	wa = &w->ans[w->nans++];
	wa->kind = q->kind;
	wa->flags = q->flags;
	strlcpy(wa->dom, q->dom, sizeof(wa->dom));
	wa->ans = *ans;
}

/* dns.h's results as the rules see them. */
static enum rdns_status
walk_resolvable(void *arg, const char *dom, int parent)
{
	const struct dns_answer	*ans;

	if ((ans = walk_dns(arg, DNS_RESOLVABLE, parent ? DNS_PARENT : 0,
	    dom)) == NULL)
		return (RDNS_TEMP);
	switch (ans->result) {
	case DNS_OK:
	case DNS_UNSUPPORTED:		/* no IDNA: no verdict */
		return (RDNS_OK);
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_BADNAME:
		return (RDNS_NOTFOUND);
	case DNS_NULLMX:
		return (RDNS_NULLMX);
	default:
		return (RDNS_TEMP);
	}
}

static enum rdns_status
walk_servers(void *arg, const char *dom, int ns, struct rule_servers *srv)
{
	const struct dns_answer	*ans;
	uint32_t		 i;

	if ((ans = walk_dns(arg, ns ? DNS_NS : DNS_MX, 0, dom)) == NULL)
		return (RDNS_TEMP);
	switch (ans->result) {
	case DNS_OK:
		break;
	case DNS_TEMPFAIL:
		return (RDNS_TEMP);
	default:
		return (RDNS_NOTFOUND);
	}
	srv->nnames = srv->naddrs = 0;
	for (i = 0; i < ans->nnames && i < DNS_NAMES_MAX &&
	    srv->nnames < RULE_MAX_SERVERS; i++)
		strlcpy(srv->names[srv->nnames++], ans->names[i],
		    sizeof(srv->names[0]));
	for (i = 0; i < ans->naddrs && i < DNS_ADDRS_MAX &&
	    srv->naddrs < RULE_MAX_SERVER_ADDRS; i++) {
		memset(&srv->addrs[srv->naddrs], 0, sizeof(srv->addrs[0]));
		srv->addrs[srv->naddrs].af = ans->addrs[i].af;
		if (ans->addrs[i].af == AF_INET)
			srv->addrs[srv->naddrs].a.v4 = ans->addrs[i].addr.v4;
		else
			srv->addrs[srv->naddrs].a.v6 = ans->addrs[i].addr.v6;
		srv->naddrs++;
	}
	return (RDNS_OK);
}

/* <domains>: a domain scam-back verifies.  Under conf_lock. */
static int
walk_protected(void *arg, const char *dom)
{
	return (access_protected != NULL && access_protected(dom));
}

/*
 * The engine lends what only it knows: its configuration (*confp, which
 * it replaces under lock at a reload) and whether it verifies a domain
 * (protected is called with lock held for reading).
 */
void
access_init(struct scamback_conf **confp, pthread_rwlock_t *lock,
    int (*protected)(const char *))
{
	conf_p = confp;
	conf_lock = lock;
	access_protected = protected;
}

/*
 * The running configuration, for the thread that replaces it (the
 * engine's event thread: scambackctl), which reads it without the lock.
 */
const struct scamback_conf *
access_conf(void)
{
	return (*conf_p);
}

/* The rules with what the walk knows of the DNS. */
void
walk_eval(void *arg, const struct scamback_conf *conf,
    const struct rules_session *s, int count,
    void (*notefn)(void *, const struct rule_conf *, int, const char *),
    struct rules_result *res)
{
	struct walk		*w = arg;
	struct rules_env	 env;

	memset(&env, 0, sizeof(env));
	env.arg = arg;
	env.resolvable = walk_resolvable;
	env.servers = walk_servers;
	env.protected = walk_protected;
	env.dns_failure_accept = conf->dns_failure == DNS_FAILURE_ACCEPT;
	env.dryrun = conf->rules_dryrun;
	env.count = count;
	env.note = notefn;
	w->missing = 0;
	rules_eval(&conf->rules, &conf->atables, s, &env, res);
}

/* What the rules see of the session; pointers into a. */
void
access_session(struct access *a, enum rule_stage stage, const char *rcpt,
    struct rules_session *s)
{
	memset(s, 0, sizeof(*s));
	s->stage = stage;
	s->client = &a->client;
	s->client_name = a->name[0] != '\0' ? a->name : NULL;
	s->client_ptr = a->ptr[0] != '\0' ? a->ptr : NULL;
	s->resolve = a->resolve;
	s->helo = a->helo[0] != '\0' ? a->helo : NULL;
	s->auth = a->auth[0] != '\0' ? a->auth : NULL;
	s->sender = a->sender_set ? a->sender : NULL;
	s->rcpt = rcpt;
}

static void
vars(struct access *a, const char *rcpt, const char *value, uint32_t nr,
    struct reply_vars *v)
{
	const char	*n = a->name;

	memset(v, 0, sizeof(*v));
	if (a->resolve != RESOLVE_OK && a->resolve != RESOLVE_NONE)
		n = "";
	v->sender = a->sender;
	v->rcpt = rcpt != NULL ? rcpt : "";
	v->client_addr = a->addr;
	v->client_name = n[0] != '[' && strcmp(n, "unknown") != 0 ? n : "";
	v->helo = a->helo;
	v->auth = a->auth;
	v->value = value != NULL ? value : "";
	v->rule = nr;
}

/*
 * A reply from its template: the code and enhanced code as written, the
 * text expanded twice, '%' doubled for libmilter and plain for the log.
 */
static void
make_reply(struct access *a, const char *tmpl, const char *rcpt,
    const char *value, uint32_t nr, struct access_reply *r, char *logtext,
    size_t loglen)
{
	struct reply_parts	p;
	struct reply_vars	v;
	char			text[sizeof(r->text)];

	if (reply_split(tmpl, &p) == -1)
		reply_split("554 5.7.1 Access denied", &p);
	vars(a, rcpt, value, nr, &v);
	strlcpy(r->rcode, p.rcode, sizeof(r->rcode));
	strlcpy(r->xcode, p.xcode, sizeof(r->xcode));
	(void)reply_expand(p.text, &v, 1, r->text, sizeof(r->text));
	(void)reply_expand(p.text, &v, 0, text, sizeof(text));
	if (p.rcode[0] == '5')
		r->action = ACC_REJECT;
	else if (strcmp(p.rcode, "421") == 0)
		r->action = ACC_DISCONNECT;
	else
		r->action = ACC_TEMPFAIL;
	if (logtext != NULL)
		snprintf(logtext, loglen, "%s%s%s %s", r->rcode,
		    r->xcode[0] != '\0' ? " " : "", r->xcode, text);
}

/*
 * SPEC section 11: one line per refusal, naming the rule.  What came
 * from the MTA is made printable.
 */
static void
log_rule(struct access *a, uint32_t nr, const char *what,
    enum rule_stage stage, const char *rcpt, const char *reply)
{
	char	name[HOSTNAME_LEN], helo[HOSTNAME_LEN], from[ADDR_LEN];
	char	to[ADDR_LEN];
	int	unverified;

	unverified = a->resolve != RESOLVE_OK && a->resolve != RESOLVE_NONE;
	log_info("rule %u %s stage=%s client=%s name=%s helo=%s from=<%s> "
	    "to=<%s>%s%s%s", nr, what, rules_stage_name(stage), a->addr,
	    a->name[0] != '\0' && !unverified ? printable(a->name, name,
	    sizeof(name)) : "unknown",
	    a->helo[0] != '\0' ? printable(a->helo, helo, sizeof(helo)) : "",
	    a->sender_set ? printable(a->sender, from, sizeof(from)) : "",
	    rcpt != NULL ? printable(rcpt, to, sizeof(to)) : "",
	    reply != NULL ? " reply=\"" : "", reply != NULL ? reply : "",
	    reply != NULL ? "\"" : "");
}

/* What dry-run keeps from refusing, and matches of rules with log. */
static void
note(void *arg, const struct rule_conf *r, int kind, const char *value)
{
	struct walkctx		*ctx = arg;
	struct access_reply	 reply;
	struct rules_result	 res;
	const char		*tmpl;
	char			 text[LOG_REPLY_LEN];

	switch (kind) {
	case 0:
		log_rule(ctx->a, r->nr, rules_action_name(r->action),
		    ctx->stage, ctx->rcpt, NULL);
		return;
	case 1:
		if (r->action == RULE_MATCH) {
			log_rule(ctx->a, r->nr, "would set permanent",
			    ctx->stage, ctx->rcpt, r->permanent);
			return;
		}
		memset(&res, 0, sizeof(res));
		tmpl = r->reply[0] != '\0' ? r->reply :
		    reply_default(r, &res);
		make_reply(ctx->a, tmpl, ctx->rcpt, value, r->nr, &reply,
		    text, sizeof(text));
		log_rule(ctx->a, r->nr, r->action == RULE_DISCONNECT ?
		    "would disconnect" : (r->flags & RULE_F_SAVE) ?
		    "would save and reject" : "would reject", ctx->stage,
		    ctx->rcpt, text);
		return;
	default:
		log_rule(ctx->a, r->nr, "would defer", ctx->stage, ctx->rcpt,
		    NULL);
		return;
	}
}

/*
 * What a walk's result tells the MTA: 0 when nothing (no rule, or a pass
 * that verifies), else 1 with *reply, and the plain text in logtext.
 */
int
access_reply_of(struct access *a, const struct rules_result *res,
    enum rule_stage stage, const char *rcpt, struct access_reply *reply,
    char *logtext, size_t loglen)
{
	const struct rule_conf	*r = res->rule;
	const char		*tmpl;
	char			 soft[RULE_REPLY_LEN];

	memset(reply, 0, sizeof(*reply));
	if (logtext != NULL && loglen > 0)
		logtext[0] = '\0';
	switch (res->verdict) {
	case RV_NONE:
		return (0);
	case RV_PASS:
		if (stage != STAGE_RCPT || !(r->flags & RULE_F_NOVERIFY))
			return (0);
		reply->action = ACC_NOVERIFY;
		return (1);
	case RV_DEFER:
		make_reply(a, reply_temp(res->temp), rcpt, res->value, r->nr,
		    reply, logtext, loglen);
		if (stage == STAGE_RCPT)
			reply->action = ACC_DEFER;
		return (1);
	default:
		tmpl = r->reply[0] != '\0' ? r->reply :
		    reply_default(r, res);
		/* defer_if_reject; else kill-mail's 5xx for a 4xx */
		if (res->undecided_pass && reply_soften(tmpl, soft,
		    sizeof(soft)) == 0)
			tmpl = soft;
		else if (a->permanent[0] != '\0' && tmpl[0] == '4' &&
		    res->verdict == RV_REJECT)
			tmpl = a->permanent;
		make_reply(a, tmpl, rcpt, res->value, r->nr, reply, logtext,
		    loglen);
		return (1);
	}
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * The rules at a stage.  Returns 1 with *reply set when the MTA is to
 * be told something (or, at RCPT, ACC_NOVERIFY, ACC_SAVE or ACC_DEFER),
 * 0 when the session goes on as without rules.  budget_ms bounds the
 * DNS waits and the delay together.
 */
int
access_stage(struct access *a, enum rule_stage stage, const char *rcpt,
    uint32_t budget_ms, struct access_reply *reply)
{
	struct walkctx		 ctx;
	struct rules_session	 s;
	struct rules_result	 res;
	struct dns_answer	 ans;
	const struct rule_conf	*r;
	char			 rbuf[ADDR_LEN], logtext[LOG_REPLY_LEN];
	uint64_t		 deadline = now_ms() + budget_ms, left;
	uint32_t		 nr, delay = 0, wait;
	size_t			 domoff;
	int			 tries, answer;

	memset(reply, 0, sizeof(*reply));
	if (a == NULL)
		return (0);
	if (a->held_set) {
		*reply = a->held;
		return (1);
	}
	if (rcpt != NULL && addr_normalise(rcpt, rbuf, sizeof(rbuf), &domoff,
	    NULL) == ADDR_OK)
		rcpt = rbuf;
	memset(&ctx, 0, sizeof(ctx));
	ctx.a = a;
	ctx.stage = stage;
	ctx.rcpt = rcpt;
	access_session(a, stage, rcpt, &s);

	pthread_rwlock_rdlock(conf_lock);
	if (TAILQ_EMPTY(&(*conf_p)->rules)) {
		pthread_rwlock_unlock(conf_lock);
		return (0);
	}
	/*
	 * Without DNS conditions one walk does.  With them, walk without
	 * counting until no DNS answer is missing (each one missing is
	 * waited for with the configuration let go); the last walk counts
	 * and logs.
	 */
	for (tries = 0; tries <= WALK_ANSWERS &&
	    ((*conf_p)->rules_flags & RF_DNS); tries++) {
		walk_eval(&ctx, *conf_p, &s, 0, NULL, &res);
		if (!ctx.w.missing)
			break;
		wait = dns_wait_ms(*conf_p);
		pthread_rwlock_unlock(conf_lock);
		left = deadline > now_ms() ? deadline - now_ms() : 0;
		if (wait > left)
			wait = left;
		(void)dns_lookup(ctx.w.miss.kind, ctx.w.miss.flags,
		    ctx.w.miss.dom, wait, &ans);
		walk_answer(&ctx.w, &ctx.w.miss, &ans);
		pthread_rwlock_rdlock(conf_lock);
	}
	walk_eval(&ctx, *conf_p, &s, 1, note, &res);

	if (res.permanent != NULL)
		strlcpy(a->permanent, res.permanent->permanent,
		    sizeof(a->permanent));
	r = res.rule;
	nr = r != NULL ? r->nr : 0;
	answer = access_reply_of(a, &res, stage, rcpt, reply, logtext,
	    sizeof(logtext));
	switch (res.verdict) {
	case RV_NONE:
	case RV_PASS:
		break;
	case RV_DEFER:
		log_rule(a, nr, stage == STAGE_RCPT ? "defer" : "tempfail",
		    stage, rcpt, logtext);
		break;
	default:
		delay = r->delay;
		if (stage == STAGE_RCPT && (r->flags & RULE_F_SAVE) &&
		    (*conf_p)->save_size > 0) {
			/* Accepted now; refused with this at end of data. */
			a->save_rule = nr;
			a->save_reply = *reply;
			strlcpy(a->save_log, logtext, sizeof(a->save_log));
			copy(a->save_rcpt, sizeof(a->save_rcpt), rcpt);
			a->msgmax = (*conf_p)->save_size;
			reply->action = ACC_SAVE;
			delay = 0;
			log_debug("rule %u: message to be saved and refused",
			    nr);
			break;
		}
		log_rule(a, nr, res.verdict == RV_DISCONNECT ? "disconnect" :
		    reply->action == ACC_TEMPFAIL ? "tempfail" : "reject",
		    stage, rcpt, logtext);
		break;
	}
	pthread_rwlock_unlock(conf_lock);

	/* A refusal at connect or HELO stands for the whole session. */
	if (answer && stage < STAGE_MAIL && reply->action != ACC_CONTINUE) {
		a->held = *reply;
		a->held_set = 1;
	}
	/* Obtuse's noto_delay: hold the reply, within what the MTA waits. */
	if (delay > 0) {
		left = deadline > now_ms() ? deadline - now_ms() : 0;
		if ((uint64_t)delay * 1000 < left)
			left = (uint64_t)delay * 1000;
		if (left > 0)
			usleep(left * 1000);
	}
	return (answer);
}

/*
 * Verification's 4xx (unreachable tempfail) in a session where set
 * permanent holds: smap's kill-mail makes it the permanent 5xx.
 */
int
access_permanent(struct access *a, const char *rcpt, struct access_reply *r)
{
	char	logtext[LOG_REPLY_LEN];

	if (a == NULL || a->permanent[0] == '\0' ||
	    r->action != ACC_TEMPFAIL)
		return (0);
	make_reply(a, a->permanent, rcpt, NULL, 0, r, logtext,
	    sizeof(logtext));
	log_rule(a, 0, "permanent", STAGE_RCPT, rcpt, logtext);
	return (1);
}

int
access_saving(struct access *a)
{
	return (a != NULL && a->save_rule != 0);
}

/* The message's start, as the MTA passes it: headers, a blank line, body. */
static void
append(struct access *a, const void *data, size_t len)
{
	size_t	room;

	if (a->msg == NULL && (a->msg = malloc(a->msgmax)) == NULL) {
		log_warn("%s", __func__);
		a->msgmax = 0;
		return;
	}
	room = a->msgmax - a->msglen;
	if (len > room)
		len = room;
	memcpy(a->msg + a->msglen, data, len);
	a->msglen += len;
}

void
access_save_header(struct access *a, const char *name, const char *value)
{
	if (a->save_rule == 0 || a->msglen >= a->msgmax)
		return;
	append(a, name, strlen(name));
	append(a, ": ", 2);
	append(a, value, strlen(value));
	append(a, "\r\n", 2);
}

void
access_save_body(struct access *a, const unsigned char *data, size_t len)
{
	if (a->save_rule == 0)
		return;
	if (!a->body) {
		a->body = 1;
		append(a, "\r\n", 2);
	}
	if (a->msglen < a->msgmax)
		append(a, data, len);
}

/*
 * End of data with a save rule: the parent gets the message's start, the
 * MTA the rule's reply.  Returns 1 with *r set, or 0 without a save.
 */
int
access_save_eom(struct access *a, struct access_reply *r)
{
	if (a == NULL || a->save_rule == 0)
		return (0);
	if (!a->body)
		append(a, "\r\n", 2);
	save_enqueue(a->save_rule, a->msg, a->msglen, a->sender,
	    a->save_rcpt, a->addr);
	*r = a->save_reply;
	log_rule(a, a->save_rule, "reject", STAGE_DATA, a->save_rcpt,
	    a->save_log);
	a->save_rule = 0;
	free(a->msg);
	a->msg = NULL;
	a->msglen = 0;
	a->body = 0;
	return (1);
}

/*
 * The HELO step and the client's macros are wanted whenever there are
 * rules: a refusal at connect is repeated there, log lines carry the
 * HELO name.
 */
int
access_have_rules(void)
{
	int	yes;

	pthread_rwlock_rdlock(conf_lock);
	yes = !TAILQ_EMPTY(&(*conf_p)->rules);
	pthread_rwlock_unlock(conf_lock);
	return (yes);
}

/* The rules' RF_ flags: which stages and lookups they need. */
int
access_rules_flags(void)
{
	int	f;

	pthread_rwlock_rdlock(conf_lock);
	f = (*conf_p)->rules_flags;
	pthread_rwlock_unlock(conf_lock);
	return (f);
}

/* A rule as -nv prints it, for scambackctl; cut to fit. */
int
rules_text(const struct scamback_conf *conf, const struct rule_conf *r,
    char *buf, size_t len)
{
	FILE	*fp;

	memset(buf, 0, len);
	if ((fp = fmemopen(buf, len - 1, "w")) == NULL)
		return (-1);
	print_rule(fp, conf, r);
	fclose(fp);
	buf[len - 1] = '\0';
	return (0);
}
