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
 * The walk of the rule list.  Each condition is true, false or, when it
 * rests on an answer that failed for now (the MTA's TEMP for the client's
 * name, a DNS timeout), undecided.  A rule with a false condition does
 * not match; one with an undecided condition does not decide either, but
 * is remembered: a reject that could not be decided answers 4xx unless a
 * later rule rejects for sure (Postfix's defer_if_permit), and a pass that
 * could not be decided turns a later 5xx into a 4xx (defer_if_reject).
 * A temporary failure therefore never becomes a 5xx.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

#define C_FALSE		0
#define C_TRUE		1
#define C_TEMP		2

/*
 * What a walk looks up, each made (lowercased, hashed) at its first use
 * and kept for every later rule and table.
 */
enum { K_CLIENT, K_PTR, K_HELO, K_AUTH, K_SENDER, K_RCPT, K_MAX };

struct walk_keys {
	struct table_key	 k[K_MAX];
	int			 made;		/* 1 << K_* */
	int			 local[2];	/* sender, rcpt in <domains>:
						   -1 not asked yet */
};

/* What one rule's conditions came to. */
struct cond_state {
	const char	*value;		/* the first table value matched */
	enum rules_temp	 temp;
	int		 nullmx;
};

static int	 is_dns(enum cond_type);
static const char *domain_of(const char *);
static const char *client_name(const struct rules_session *);
static const char *ptr_name(const struct rules_session *);
static int	 servers_match(const struct table *,
		    const struct rule_servers *);
static struct table_key *key_of(struct walk_keys *, int,
		    const struct rules_session *);
static int	 cond_eval(const struct rule_cond *,
		    const struct atable_list *, const struct rules_session *,
		    const struct rules_env *, struct walk_keys *,
		    struct cond_state *);
static int	 rule_eval(const struct rule_conf *,
		    const struct atable_list *, const struct rules_session *,
		    const struct rules_env *, struct walk_keys *,
		    struct cond_state *);
static void	 count(const struct rule_conf *, unsigned int, size_t);
static unsigned int shard(void);

const char *
rules_action_name(enum rule_action a)
{
	switch (a) {
	case RULE_PASS:
		return ("pass");
	case RULE_REJECT:
		return ("reject");
	case RULE_DISCONNECT:
		return ("disconnect");
	default:
		return ("match");
	}
}

const char *
rules_stage_name(enum rule_stage s)
{
	switch (s) {
	case STAGE_CONNECT:
		return ("connect");
	case STAGE_HELO:
		return ("helo");
	case STAGE_MAIL:
		return ("mail");
	case STAGE_RCPT:
		return ("rcpt");
	default:
		return ("data");
	}
}

/* The first stage at which what a condition looks at is known. */
enum rule_stage
rules_cond_stage(enum cond_type t)
{
	switch (t) {
	case COND_HELO:
		return (STAGE_HELO);
	case COND_AUTH:
	case COND_MAIL_TABLE:
	case COND_MAIL_UNQUALIFIED:
	case COND_MAIL_UNRESOLVABLE:
	case COND_MAIL_MX:
	case COND_MAIL_NS:
		return (STAGE_MAIL);
	case COND_RCPT:
		return (STAGE_RCPT);
	default:
		return (STAGE_CONNECT);
	}
}

/*
 * {client_resolve} as Postfix and sendmail write it; without it, what
 * {client_name} says: "unknown" or "[address]" is a client whose name did
 * not verify.
 */
enum client_resolve
rules_resolve(const char *resolve, const char *name)
{
	if (resolve != NULL && *resolve != '\0') {
		if (strcasecmp(resolve, "OK") == 0)
			return (RESOLVE_OK);
		if (strcasecmp(resolve, "FORGED") == 0)
			return (RESOLVE_FORGED);
		if (strncasecmp(resolve, "TEMP", 4) == 0)
			return (RESOLVE_TEMP);
		return (RESOLVE_FAIL);
	}
	if (name == NULL || *name == '\0')
		return (RESOLVE_NONE);
	if (strcasecmp(name, "unknown") == 0 || name[0] == '[')
		return (RESOLVE_FAIL);
	return (RESOLVE_OK);
}

struct atable_conf *
rules_table_byid(const struct atable_list *tables, uint32_t id)
{
	struct atable_conf	*t;

	TAILQ_FOREACH(t, tables, entry)
		if (t->id == id)
			return (t);
	return (NULL);
}

/* Only a save rule needs the message: without one, no header or body. */
int
rules_need_body(const struct rule_list *rules)
{
	const struct rule_conf	*r;

	TAILQ_FOREACH(r, rules, entry)
		if (r->flags & RULE_F_SAVE)
			return (1);
	return (0);
}

static int
is_dns(enum cond_type t)
{
	return (t == COND_MAIL_UNRESOLVABLE || t == COND_MAIL_MX ||
	    t == COND_MAIL_NS);
}

/* The domain of an address, or NULL. */
static const char *
domain_of(const char *addr)
{
	const char	*at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    at[1] == '\0')
		return (NULL);
	return (at + 1);
}

/* The client's verified host name, or NULL. */
static const char *
client_name(const struct rules_session *s)
{
	const char	*n = s->client_name;

	if (s->resolve != RESOLVE_OK && s->resolve != RESOLVE_NONE)
		return (NULL);
	if (n == NULL || *n == '\0' || n[0] == '[' ||
	    strcasecmp(n, "unknown") == 0)
		return (NULL);
	return (n);
}

/*
 * The client's reverse (PTR) name, verified or not, or NULL: Postfix's
 * {client_ptr}; without it (sendmail) the name, unless it did not
 * resolve at all.
 */
static const char *
ptr_name(const struct rules_session *s)
{
	const char	*n = s->client_ptr;

	if (n == NULL) {
		if (s->resolve == RESOLVE_FAIL || s->resolve == RESOLVE_TEMP)
			return (NULL);
		n = s->client_name;
	}
	if (n == NULL || *n == '\0' || n[0] == '[' ||
	    strcasecmp(n, "unknown") == 0)
		return (NULL);
	return (n);
}

static int
servers_match(const struct table *t, const struct rule_servers *srv)
{
	size_t	i;

	for (i = 0; i < srv->nnames && i < RULE_MAX_SERVERS; i++)
		if (table_match_host(t, srv->names[i], NULL, NULL))
			return (1);
	for (i = 0; i < srv->naddrs && i < RULE_MAX_SERVER_ADDRS; i++)
		if (table_match_host(t, NULL, &srv->addrs[i], NULL))
			return (1);
	return (0);
}

/* The walk's key for what which names, made now if not yet. */
static struct table_key *
key_of(struct walk_keys *wk, int which, const struct rules_session *s)
{
	struct table_key	*k = &wk->k[which];

	if (wk->made & (1 << which))
		return (k);
	switch (which) {
	case K_CLIENT:
		table_key_client(k, s->client, client_name(s));
		break;
	case K_PTR:
		table_key_host(k, ptr_name(s), NULL);
		break;
	case K_HELO:
		table_key_host(k, s->helo, NULL);
		break;
	case K_AUTH:
		table_key_string(k, s->auth);
		break;
	default:
		table_key_mail(k, which == K_RCPT ? s->rcpt : s->sender);
		break;
	}
	wk->made |= 1 << which;
	return (k);
}

/* One condition, before its '!'. */
static int
cond_eval(const struct rule_cond *c, const struct atable_list *tables,
    const struct rules_session *s, const struct rules_env *env,
    struct walk_keys *wk, struct cond_state *st)
{
	static struct rule_servers	 nosrv;
	struct rule_servers		 srv;
	const struct atable_conf	*tc = NULL;
	const struct table		*t = NULL;
	const char			*dom, *name, *v = NULL;
	enum rdns_status		 ds;
	int				 r = C_FALSE, local, *lp;

	if (c->table != 0 && c->table != RULE_TABLE_DOMAINS &&
	    (t = c->t) == NULL) {
		if ((tc = rules_table_byid(tables, c->table - 1)) == NULL ||
		    (t = tc->table) == NULL)
			return (C_FALSE);
	}

	switch (c->type) {
	case COND_FROM_ANY:
		return (C_TRUE);
	case COND_FROM_LOCAL:
		return (s->client != NULL && client_is_local(s->client) ?
		    C_TRUE : C_FALSE);
	case COND_FROM_KNOWN:
	case COND_FROM_UNKNOWN:
		switch (s->resolve) {
		case RESOLVE_TEMP:
			st->temp = TEMP_CLIENT;
			return (C_TEMP);
		case RESOLVE_OK:
			return (c->type == COND_FROM_KNOWN ? C_TRUE : C_FALSE);
		case RESOLVE_FAIL:
		case RESOLVE_FORGED:
			return (c->type == COND_FROM_UNKNOWN ? C_TRUE :
			    C_FALSE);
		default:
			/* The MTA said nothing: no rule may guess. */
			return (C_FALSE);
		}
	case COND_FROM_RDNS:
		if ((name = ptr_name(s)) == NULL) {
			if (s->resolve == RESOLVE_TEMP) {
				st->temp = TEMP_CLIENT;
				return (C_TEMP);
			}
			return (C_FALSE);
		}
		if (t == NULL)
			return (C_TRUE);
		r = table_lookup_host(t, key_of(wk, K_PTR, s), &v) ? C_TRUE :
		    C_FALSE;
		break;
	case COND_FROM_TABLE:
		r = table_lookup_host(t, key_of(wk, K_CLIENT, s), &v) ?
		    C_TRUE : C_FALSE;
		/* The name could have matched, had it been known. */
		if (r == C_FALSE && s->resolve == RESOLVE_TEMP &&
		    table_has_names(t)) {
			st->temp = TEMP_CLIENT;
			return (C_TEMP);
		}
		break;
	case COND_HELO:
		if (s->helo == NULL || *s->helo == '\0')
			return (C_FALSE);
		r = table_lookup_host(t, key_of(wk, K_HELO, s), &v) ? C_TRUE :
		    C_FALSE;
		break;
	case COND_AUTH:
		if (s->auth == NULL || *s->auth == '\0')
			return (C_FALSE);
		if (t == NULL)
			return (C_TRUE);
		r = table_lookup_string(t, key_of(wk, K_AUTH, s), &v) ?
		    C_TRUE : C_FALSE;
		break;
	case COND_MAIL_TABLE:
	case COND_RCPT:
		name = c->type == COND_RCPT ? s->rcpt : s->sender;
		if (name == NULL)
			return (C_FALSE);
		dom = domain_of(name);
		/* Whether the domain is ours costs a lookup: when needed. */
		lp = &wk->local[c->type == COND_RCPT];
		local = 0;
		if (dom != NULL && env->protected != NULL &&
		    (c->table == RULE_TABLE_DOMAINS || table_has_words(t))) {
			if (*lp == -1)
				*lp = env->protected(env->arg, dom) != 0;
			local = *lp;
		}
		if (c->table == RULE_TABLE_DOMAINS)
			return (local ? C_TRUE : C_FALSE);
		r = table_lookup_mail(t, key_of(wk, c->type == COND_RCPT ?
		    K_RCPT : K_SENDER, s), local, &v) ? C_TRUE : C_FALSE;
		break;
	case COND_MAIL_UNQUALIFIED:
		if (s->sender == NULL || *s->sender == '\0')
			return (C_FALSE);
		if ((dom = domain_of(s->sender)) == NULL)
			return (C_TRUE);
		return (dom[0] != '[' && strchr(dom, '.') == NULL ?
		    C_TRUE : C_FALSE);
	case COND_MAIL_UNRESOLVABLE:
		if ((dom = domain_of(s->sender)) == NULL || dom[0] == '[' ||
		    env->resolvable == NULL)
			return (C_FALSE);
		switch (env->resolvable(env->arg, dom, c->parent)) {
		case RDNS_OK:
			return (C_FALSE);
		case RDNS_NULLMX:
			st->nullmx = 1;
			return (C_TRUE);
		case RDNS_NOTFOUND:
			return (C_TRUE);
		default:
			if (env->dns_failure_accept)
				return (C_FALSE);
			st->temp = TEMP_DNS_DOMAIN;
			return (C_TEMP);
		}
	case COND_MAIL_MX:
	case COND_MAIL_NS:
		if ((dom = domain_of(s->sender)) == NULL || dom[0] == '[' ||
		    env->servers == NULL)
			return (C_FALSE);
		srv = nosrv;
		ds = env->servers(env->arg, dom, c->type == COND_MAIL_NS,
		    &srv);
		if (ds == RDNS_TEMP) {
			if (env->dns_failure_accept)
				return (C_FALSE);
			st->temp = TEMP_DNS_SERVERS;
			return (C_TEMP);
		}
		if (ds != RDNS_OK)
			return (C_FALSE);
		return (servers_match(t, &srv) ? C_TRUE : C_FALSE);
	}
	if (r == C_TRUE && !c->negate && st->value == NULL && v != NULL &&
	    *v != '\0')
		st->value = v;
	return (r);
}

/*
 * All conditions must hold.  Those that need the DNS come last, so that
 * a rule another condition rules out never waits for an answer.
 */
static int
rule_eval(const struct rule_conf *r, const struct atable_list *tables,
    const struct rules_session *s, const struct rules_env *env,
    struct walk_keys *wk, struct cond_state *st)
{
	const struct rule_cond	*c;
	int			 pass, i, v, res = C_TRUE;

	memset(st, 0, sizeof(*st));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->ncond && i < RULE_MAX_CONDS; i++) {
			c = &r->cond[i];
			if (is_dns(c->type) != pass)
				continue;
			v = cond_eval(c, tables, s, env, wk, st);
			if (c->negate && v != C_TEMP)
				v = v == C_TRUE ? C_FALSE : C_TRUE;
			if (v == C_FALSE)
				return (C_FALSE);
			if (v == C_TEMP)
				res = C_TEMP;
		}
	}
	return (res);
}

/* This thread's copy of the counters: threads take turns at first use. */
static unsigned int
shard(void)
{
	static unsigned int		 next;
	static __thread unsigned int	 mine;

	if (mine == 0)
		mine = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED) %
		    RULE_SHARDS + 1;
	return (mine - 1);
}

/* Counters live in the rules; any thread adds to its shard of them. */
static void
count(const struct rule_conf *r, unsigned int sh, size_t off)
{
	struct rule_counters	*c;

	c = (struct rule_counters *)(uintptr_t)&r->counters[sh];
	__atomic_add_fetch((uint64_t *)((char *)c + off), 1,
	    __ATOMIC_RELAXED);
}

#define COUNT(r, f)	do {						\
	if (env->count)							\
		count((r), sh, offsetof(struct rule_counters, f));	\
} while (0)

/* A rule's counters, its shards added up. */
void
rules_counters(const struct rule_conf *r, struct rule_counters *sum)
{
	const struct rule_counters	*c;
	int64_t				 last;
	int				 i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < RULE_SHARDS; i++) {
		c = &r->counters[i];
		sum->evaluations += __atomic_load_n(&c->evaluations,
		    __ATOMIC_RELAXED);
		sum->matches += __atomic_load_n(&c->matches,
		    __ATOMIC_RELAXED);
		sum->refused += __atomic_load_n(&c->refused,
		    __ATOMIC_RELAXED);
		sum->deferred += __atomic_load_n(&c->deferred,
		    __ATOMIC_RELAXED);
		last = __atomic_load_n(&c->last, __ATOMIC_RELAXED);
		if (last > sum->last)
			sum->last = last;
	}
}

/* What a rule needs from outside: the DNS questions, the message. */
int
rules_flags(const struct rule_conf *r)
{
	int	i, f = 0;

	for (i = 0; i < r->ncond && i < RULE_MAX_CONDS; i++)
		switch (r->cond[i].type) {
		case COND_MAIL_UNRESOLVABLE:
			f |= r->cond[i].parent ? RF_PARENT : RF_RESOLVABLE;
			break;
		case COND_MAIL_MX:
			f |= RF_MX;
			break;
		case COND_MAIL_NS:
			f |= RF_NS;
			break;
		default:
			break;
		}
	if (r->flags & RULE_F_SAVE)
		f |= RF_SAVE;
	if (r->stage == STAGE_CONNECT)
		f |= RF_CONNECT;
	if (r->stage != STAGE_RCPT)
		f |= RF_EARLY;
	return (f);
}

/*
 * Walk the rules that can act at the session's stage, in order.  The
 * first pass, reject or disconnect that holds decides; match rules apply
 * set permanent and log and the walk goes on.  env->note is told of
 * what dry-run keeps from refusing (1, or 2 for an undecided one) and of
 * matches with log (0).
 */
void
rules_eval(const struct rule_list *rules, const struct atable_list *tables,
    const struct rules_session *s, const struct rules_env *env,
    struct rules_result *res)
{
	const struct rule_conf	*r, *deferred = NULL, *undecided = NULL;
	struct walk_keys	 wk;
	struct cond_state	 st, dst;
	unsigned int		 sh = env->count ? shard() : 0;
	int			 v;

	memset(res, 0, sizeof(*res));
	memset(&dst, 0, sizeof(dst));
	wk.made = 0;
	wk.local[0] = wk.local[1] = -1;
	TAILQ_FOREACH(r, rules, entry) {
		if (r->stage > s->stage)
			continue;
		COUNT(r, evaluations);
		if ((v = rule_eval(r, tables, s, env, &wk, &st)) == C_FALSE)
			continue;
		if (v == C_TEMP) {
			switch (r->action) {
			case RULE_REJECT:
			case RULE_DISCONNECT:
				if (env->dryrun) {
					if (env->note != NULL)
						env->note(env->arg, r, 2,
						    st.value);
				} else if (deferred == NULL) {
					deferred = r;
					dst = st;
				}
				break;
			case RULE_PASS:
				if (undecided == NULL)
					undecided = r;
				break;
			default:
				break;
			}
			continue;
		}
		COUNT(r, matches);
		if (env->count)
			__atomic_store_n((int64_t *)(uintptr_t)
			    &r->counters[sh].last, (int64_t)time(NULL),
			    __ATOMIC_RELAXED);
		switch (r->action) {
		case RULE_MATCH:
			if ((r->flags & RULE_F_LOG) && env->note != NULL)
				env->note(env->arg, r, 0, st.value);
			if (r->permanent[0] != '\0') {
				if (env->dryrun) {
					if (env->note != NULL)
						env->note(env->arg, r, 1,
						    st.value);
				} else
					res->permanent = r;
			}
			continue;
		case RULE_PASS:
			if ((r->flags & RULE_F_LOG) && env->note != NULL)
				env->note(env->arg, r, 0, st.value);
			res->verdict = RV_PASS;
			res->rule = r;
			res->value = st.value;
			break;
		default:
			if (env->dryrun) {
				if (env->note != NULL)
					env->note(env->arg, r, 1, st.value);
				continue;
			}
			res->verdict = r->action == RULE_REJECT ? RV_REJECT :
			    RV_DISCONNECT;
			res->rule = r;
			res->value = st.value;
			res->nullmx = st.nullmx;
			res->undecided_pass = undecided != NULL;
			break;
		}
		break;
	}
	/* A reject that could not be decided, and nothing sure after it. */
	if (deferred != NULL && (res->verdict == RV_NONE ||
	    res->verdict == RV_PASS)) {
		res->verdict = RV_DEFER;
		res->rule = deferred;
		res->value = dst.value;
		res->temp = dst.temp;
		res->nullmx = 0;
		COUNT(deferred, deferred);
	}
	if (res->verdict == RV_REJECT || res->verdict == RV_DISCONNECT)
		COUNT(res->rule, refused);
}
