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
 * Unit test of scam-back/rules.c and reply.c: first match wins, stages,
 * match rules and set permanent, dry-run, every condition, undecided
 * conditions (TEMP never becomes a 5xx), DNS asked only when the other
 * conditions hold, and replies: checks, defaults, escapes.  The DNS is a
 * fake answer source.  Also what a walk costs: the bench's 50 rules and
 * 100,000-entry table for a session none of them matches.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

static int	failures;

#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #e);	\
		failures++;						\
	}								\
} while (0)

static struct rule_list		rules;
static struct atable_list	tables;
static uint32_t			nrules, ntables;

/* The fake DNS: domains by how they answer; questions counted. */
static int	dns_questions;

static enum rdns_status
fake_resolvable(void *arg, const char *dom, int parent)
{
	dns_questions++;
	if (strcmp(dom, "nxdomain.test") == 0)
		return (RDNS_NOTFOUND);
	if (strcmp(dom, "nullmx.test") == 0)
		return (RDNS_NULLMX);
	if (strcmp(dom, "servfail.test") == 0)
		return (RDNS_TEMP);
	/* a.b.chop.test does not resolve; chop.test does. */
	if (strcmp(dom, "a.b.chop.test") == 0)
		return (parent ? RDNS_OK : RDNS_NOTFOUND);
	return (RDNS_OK);
}

static enum rdns_status
fake_servers(void *arg, const char *dom, int ns, struct rule_servers *srv)
{
	dns_questions++;
	if (strcmp(dom, "servfail.test") == 0)
		return (RDNS_TEMP);
	if (strcmp(dom, "spamhost.test") != 0)
		return (RDNS_NOTFOUND);
	srv->nnames = 1;
	strlcpy(srv->names[0], ns ? "ns1.bulletproof.test" :
	    "mx.bulletproof.test", sizeof(srv->names[0]));
	srv->naddrs = 1;
	client_from_string(&srv->addrs[0], "198.51.100.25");
	return (RDNS_OK);
}

static int
fake_protected(void *arg, const char *dom)
{
	return (strcmp(dom, "example.net") == 0);
}

static int	notes[3];

static void
fake_note(void *arg, const struct rule_conf *r, int kind, const char *v)
{
	notes[kind]++;
}

static struct rules_env env = {
	NULL, fake_resolvable, fake_servers, fake_protected, 0, 0, 1,
	fake_note
};

static uint32_t
table(const char *name, const char **keys)
{
	struct atable_conf	*tc;
	const char		*err;

	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (tc->table = table_new(name)) == NULL)
		exit(2);
	strlcpy(tc->name, name, sizeof(tc->name));
	tc->id = ntables++;
	for (; *keys != NULL; keys++)
		if (table_add(tc->table, *keys, NULL, 0, &err) == -1)
			exit(2);
	TAILQ_INSERT_TAIL(&tables, tc, entry);
	return (tc->id + 1);
}

static struct rule_conf *
rule(enum rule_action a, enum rule_stage st, const char *reply)
{
	struct rule_conf	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		exit(2);
	r->nr = ++nrules;
	r->action = a;
	r->stage = st;
	if (reply != NULL)
		strlcpy(r->reply, reply, sizeof(r->reply));
	TAILQ_INSERT_TAIL(&rules, r, entry);
	return (r);
}

static void
cond(struct rule_conf *r, enum cond_type t, int neg, uint32_t tab)
{
	const struct atable_conf	*tc;

	r->cond[r->ncond].type = t;
	r->cond[r->ncond].negate = neg;
	r->cond[r->ncond].table = tab;
	/* As the engine has it: the table found once, at reload. */
	if (tab != 0 && tab != RULE_TABLE_DOMAINS &&
	    (tc = rules_table_byid(&tables, tab - 1)) != NULL)
		r->cond[r->ncond].t = tc->table;
	r->ncond++;
}

static void
clear(void)
{
	struct rule_conf	*r;
	struct atable_conf	*t;

	while ((r = TAILQ_FIRST(&rules)) != NULL) {
		TAILQ_REMOVE(&rules, r, entry);
		free(r);
	}
	while ((t = TAILQ_FIRST(&tables)) != NULL) {
		TAILQ_REMOVE(&tables, t, entry);
		table_free(t->table);
		free(t);
	}
	nrules = ntables = 0;
}

static struct client_addr	 caddr;

static struct rules_session *
sess(const char *addr, const char *name, const char *resolve,
    const char *helo, const char *from, const char *to)
{
	static struct rules_session	s;

	memset(&s, 0, sizeof(s));
	if (client_from_string(&caddr, addr) == -1)
		memset(&caddr, 0, sizeof(caddr));
	s.client = &caddr;
	s.client_name = name;
	s.client_ptr = name;
	s.resolve = rules_resolve(resolve, name);
	s.helo = helo;
	s.sender = from;
	s.rcpt = to;
	s.stage = to != NULL ? STAGE_RCPT : from != NULL ? STAGE_MAIL :
	    helo != NULL ? STAGE_HELO : STAGE_CONNECT;
	return (&s);
}

static struct rules_result	res;

static enum rules_verdict
eval(struct rules_session *s)
{
	rules_eval(&rules, &tables, s, &env, &res);
	return (res.verdict);
}

/* The SPEC's example list, row by row. */
static void
test_spec(void)
{
	const char	*internal[] = { "192.168.1.0/24", "2001:db8:1::/48",
	    "127.0.0.0/8", NULL };
	const char	*spam[] = { "spam.test", "203.0.113.7", NULL };
	const char	*pm[] = { "postmaster@", "abuse@", NULL };
	const char	*broken[] = { "*broken.test*", NULL };
	const char	*sp2[] = { "isendspam.com", NULL };
	const char	*prot[] = { "foobar.test", "*.foobar.test", NULL };
	const char	*kill[] = { "mail.rgw-express.test", NULL };
	const char	*relays[] = { "10.0.67.15", NULL };
	struct rule_counters sum;
	struct rule_conf *r;
	uint32_t	 tint, tspam, tpm, tbroken, tsp2, tprot, tkill, trel;

	tint = table("internal", internal);
	tspam = table("spam", spam);
	tpm = table("pm", pm);
	tbroken = table("broken", broken);
	tsp2 = table("spammers2", sp2);
	tprot = table("protected", prot);
	tkill = table("kill", kill);
	trel = table("relays", relays);

	r = rule(RULE_PASS, STAGE_RCPT, NULL);			/* 1 */
	cond(r, COND_FROM_TABLE, 0, tint);
	r->flags = RULE_F_NOVERIFY;
	r = rule(RULE_PASS, STAGE_RCPT, NULL);			/* 2 */
	cond(r, COND_RCPT, 0, tpm);
	r->flags = RULE_F_NOVERIFY;
	r = rule(RULE_DISCONNECT, STAGE_CONNECT, "421 4.7.0 Go away");	/* 3 */
	cond(r, COND_FROM_TABLE, 0, tspam);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 4 */
	cond(r, COND_FROM_UNKNOWN, 0, 0);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 5 */
	cond(r, COND_MAIL_UNQUALIFIED, 0, 0);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 6 */
	cond(r, COND_MAIL_TABLE, 1, tbroken);
	cond(r, COND_MAIL_UNRESOLVABLE, 0, 0);
	r->cond[1].parent = 1;
	r = rule(RULE_REJECT, STAGE_RCPT, "550 5.7.1 %F may not write to %T");
	cond(r, COND_MAIL_TABLE, 0, tsp2);			/* 7 */
	cond(r, COND_RCPT, 0, tprot);
	r = rule(RULE_MATCH, STAGE_RCPT, NULL);			/* 8 */
	cond(r, COND_FROM_TABLE, 0, tkill);
	strlcpy(r->permanent, "554 5.7.1 Rejected", sizeof(r->permanent));
	r = rule(RULE_PASS, STAGE_RCPT, NULL);			/* 9 */
	cond(r, COND_FROM_TABLE, 0, trel);
	r = rule(RULE_REJECT, STAGE_RCPT,
	    "554 5.7.1 <%T>: Relay access denied");		/* 10 */
	cond(r, COND_RCPT, 1, RULE_TABLE_DOMAINS);

	/* Internal clients pass without verification, even unknown. */
	CHECK(eval(sess("192.168.1.5", "unknown", "FAIL", "h", "a@b",
	    "x@example.net")) == RV_PASS && res.rule->nr == 1 &&
	    (res.rule->flags & RULE_F_NOVERIFY));
	/* postmaster@ goes first, whatever the client. */
	CHECK(eval(sess("203.0.113.9", "unknown", "FAIL", "h",
	    "a@nxdomain.test", "postmaster@example.net")) == RV_PASS &&
	    res.rule->nr == 2);
	/* A disconnect on connect acts at connect. */
	CHECK(eval(sess("203.0.113.7", NULL, "FAIL", NULL, NULL, NULL)) ==
	    RV_DISCONNECT && res.rule->nr == 3);
	/* Nothing at connect for others; the unknown rule waits for RCPT. */
	CHECK(eval(sess("203.0.113.9", "unknown", "FAIL", NULL, NULL, NULL))
	    == RV_NONE);
	CHECK(eval(sess("203.0.113.9", "unknown", "FAIL", "h", "a@b.test",
	    "x@example.net")) == RV_REJECT && res.rule->nr == 4);
	/* Unqualified and unresolvable senders. */
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h", "joe",
	    "x@example.net")) == RV_REJECT && res.rule->nr == 5);
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "a@nxdomain.test", "x@example.net")) == RV_REJECT &&
	    res.rule->nr == 6 && !res.nullmx);
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "a@nullmx.test", "x@example.net")) == RV_REJECT &&
	    res.rule->nr == 6 && res.nullmx);
	/* parent: a.b.chop.test resolves through chop.test. */
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "a@a.b.chop.test", "x@example.net")) == RV_NONE);
	/* The broken-from exception spares a sender the DNS refuses. */
	dns_questions = 0;
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "a@nxdomain.broken.test", "x@example.net")) == RV_NONE);
	CHECK(dns_questions == 0);
	/* SCO check_compat: spammers2 to protected only. */
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "x@isendspam.com", "y@a.foobar.test")) == RV_REJECT &&
	    res.rule->nr == 7);
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h",
	    "x@isendspam.com", "y@example.net")) == RV_NONE);
	/* kill: the walk goes on past match, set permanent is kept. */
	CHECK(eval(sess("203.0.113.9", "mail.rgw-express.test", "OK", "h",
	    "x@ok.test", "y@elsewhere.test")) == RV_REJECT &&
	    res.rule->nr == 10 && res.permanent != NULL &&
	    res.permanent->nr == 8);
	/* Relays pass; others may not relay. */
	CHECK(eval(sess("10.0.67.15", "relay.ok.test", "OK", "h", "x@ok.test",
	    "y@elsewhere.test")) == RV_PASS && res.rule->nr == 9);
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h", "x@ok.test",
	    "y@elsewhere.test")) == RV_REJECT && res.rule->nr == 10);
	CHECK(eval(sess("203.0.113.9", "mx.ok.test", "OK", "h", "x@ok.test",
	    "y@example.net")) == RV_NONE);

	/* Counters: rule 10 refused twice, was tried by every RCPT. */
	r = TAILQ_LAST(&rules, rule_list);
	rules_counters(r, &sum);
	CHECK(sum.refused == 2);
	CHECK(sum.matches == 2);
	clear();
}

/* TEMP never becomes a 5xx. */
static void
test_temp(void)
{
	const char	*names[] = { "*.dialup.test", NULL };
	struct rule_conf *r;
	uint32_t	 tn;

	tn = table("dialup", names);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 1 */
	cond(r, COND_FROM_UNKNOWN, 0, 0);
	/* Undecided: the client's name is TEMP. */
	CHECK(eval(sess("203.0.113.9", "unknown", "TEMP", "h", "a@ok.test",
	    "x@example.net")) == RV_DEFER && res.temp == TEMP_CLIENT &&
	    res.rule->nr == 1);
	/* A later sure 5xx wins over the undecided one. */
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 2 */
	cond(r, COND_MAIL_UNRESOLVABLE, 0, 0);
	CHECK(eval(sess("203.0.113.9", "unknown", "TEMP", "h",
	    "a@nxdomain.test", "x@example.net")) == RV_REJECT &&
	    res.rule->nr == 2);
	/* DNS SERVFAIL: undecided, or false with dns failure accept. */
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "h",
	    "a@servfail.test", "x@example.net")) == RV_DEFER &&
	    res.temp == TEMP_DNS_DOMAIN);
	env.dns_failure_accept = 1;
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "h",
	    "a@servfail.test", "x@example.net")) == RV_NONE);
	env.dns_failure_accept = 0;
	clear();

	/* A pass that could not be decided softens a later 5xx. */
	tn = table("dialup", names);
	r = rule(RULE_PASS, STAGE_RCPT, NULL);
	cond(r, COND_FROM_TABLE, 0, tn);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);
	cond(r, COND_MAIL_UNQUALIFIED, 0, 0);
	CHECK(eval(sess("203.0.113.9", "unknown", "TEMP", "h", "joe",
	    "x@example.net")) == RV_REJECT && res.undecided_pass);
	CHECK(eval(sess("203.0.113.9", "ppp.dialup.test", "OK", "h", "joe",
	    "x@example.net")) == RV_PASS);
	clear();
}

static void
test_conditions(void)
{
	const char	*mx[] = { "*.bulletproof.test", NULL };
	const char	*nsip[] = { "198.51.100.0/24", NULL };
	const char	*helo[] = { "localhost", "[127.0.0.1]", NULL };
	const char	*auth[] = { "alice", NULL };
	const char	*ptr[] = { ".dyn.test", NULL };
	struct rules_session *s;
	struct rule_conf *r;
	uint32_t	 tmx, tns, th, ta, tp;

	tmx = table("mx", mx);
	tns = table("nsip", nsip);
	th = table("helo", helo);
	ta = table("auth", auth);
	tp = table("ptr", ptr);
	r = rule(RULE_REJECT, STAGE_HELO, NULL);		/* 1 */
	cond(r, COND_HELO, 0, th);
	r = rule(RULE_PASS, STAGE_MAIL, NULL);			/* 2 */
	cond(r, COND_AUTH, 0, ta);
	r = rule(RULE_REJECT, STAGE_MAIL, NULL);		/* 3 */
	cond(r, COND_AUTH, 0, 0);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 4 */
	cond(r, COND_MAIL_MX, 0, tmx);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 5 */
	cond(r, COND_MAIL_NS, 0, tns);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 6 */
	cond(r, COND_FROM_RDNS, 1, 0);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 7 */
	cond(r, COND_FROM_RDNS, 0, tp);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);		/* 8 */
	cond(r, COND_FROM_LOCAL, 0, 0);

	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "LocalHost", NULL,
	    NULL)) == RV_REJECT && res.rule->nr == 1);
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "[127.0.0.1]",
	    NULL, NULL)) == RV_REJECT && res.rule->nr == 1);
	s = sess("203.0.113.9", "h.ok.test", "OK", "h", "a@ok.test", NULL);
	s->auth = "Alice";
	CHECK(eval(s) == RV_PASS && res.rule->nr == 2);
	s->auth = "mallory";
	CHECK(eval(s) == RV_REJECT && res.rule->nr == 3);
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "h",
	    "a@spamhost.test", "x@example.net")) == RV_REJECT &&
	    res.rule->nr == 4);
	/* A temporary failure of mx: undecided; the NS rule then holds. */
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "h",
	    "a@servfail.test", "x@example.net")) == RV_DEFER &&
	    res.temp == TEMP_DNS_SERVERS);
	CHECK(eval(sess("203.0.113.9", NULL, "FAIL", "h", "a@ok.test",
	    "x@example.net")) == RV_REJECT && res.rule->nr == 6);
	CHECK(eval(sess("203.0.113.9", "p1.dyn.test", "FORGED", "h",
	    "a@ok.test", "x@example.net")) == RV_REJECT && res.rule->nr == 7);
	CHECK(eval(sess("127.0.0.1", "localhost", "OK", "h", "a@ok.test",
	    "x@example.net")) == RV_REJECT && res.rule->nr == 8);
	CHECK(eval(sess("203.0.113.9", "h.ok.test", "OK", "h", "a@ok.test",
	    "x@example.net")) == RV_NONE);
	/* No {client_resolve} and no name: known and unknown are false. */
	clear();
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);
	cond(r, COND_FROM_UNKNOWN, 0, 0);
	r = rule(RULE_REJECT, STAGE_RCPT, NULL);
	cond(r, COND_FROM_KNOWN, 0, 0);
	CHECK(eval(sess("203.0.113.9", NULL, NULL, "h", "a@ok.test",
	    "x@example.net")) == RV_NONE);
	CHECK(rules_resolve(NULL, "unknown") == RESOLVE_FAIL);
	CHECK(rules_resolve(NULL, "[203.0.113.9]") == RESOLVE_FAIL);
	CHECK(rules_resolve(NULL, "mx.test") == RESOLVE_OK);
	CHECK(rules_resolve("TEMP", "mx.test") == RESOLVE_TEMP);
	CHECK(rules_resolve("FORGED", "mx.test") == RESOLVE_FORGED);
	clear();
}

static void
test_dryrun(void)
{
	struct rule_conf *r;

	r = rule(RULE_REJECT, STAGE_RCPT, NULL);
	cond(r, COND_FROM_UNKNOWN, 0, 0);
	r = rule(RULE_MATCH, STAGE_RCPT, NULL);
	cond(r, COND_FROM_ANY, 0, 0);
	r->flags = RULE_F_LOG;
	strlcpy(r->permanent, "554 5.7.1 No", sizeof(r->permanent));
	env.dryrun = 1;
	memset(notes, 0, sizeof(notes));
	CHECK(eval(sess("203.0.113.9", "unknown", "FAIL", "h", "a@ok.test",
	    "x@example.net")) == RV_NONE && res.permanent == NULL);
	CHECK(notes[1] == 2 && notes[0] == 1);
	CHECK(eval(sess("203.0.113.9", "unknown", "TEMP", "h", "a@ok.test",
	    "x@example.net")) == RV_NONE && notes[2] == 1);
	env.dryrun = 0;
	CHECK(eval(sess("203.0.113.9", "unknown", "FAIL", "h", "a@ok.test",
	    "x@example.net")) == RV_REJECT);
	CHECK(rules_need_body(&rules) == 0);
	r->flags |= RULE_F_SAVE;
	CHECK(rules_need_body(&rules) == 1);
	clear();
}

static void
test_replies(void)
{
	struct reply_parts	 p;
	struct reply_vars	 v;
	struct rule_conf	 r;
	char			 out[512], big[300];

	CHECK(reply_split("554 5.7.1 Mail from %H [%I] refused", &p) == 0 &&
	    strcmp(p.rcode, "554") == 0 && strcmp(p.xcode, "5.7.1") == 0 &&
	    strcmp(p.text, "Mail from %H [%I] refused") == 0);
	CHECK(reply_split("550 Mail from %F to %T prohibited", &p) == 0 &&
	    p.xcode[0] == '\0' && strncmp(p.text, "Mail", 4) == 0);
	CHECK(reply_split("421", &p) == 0 && *p.text == '\0');
	CHECK(reply_split("55 x", &p) == -1);
	CHECK(reply_split("text", &p) == -1);

	CHECK(reply_check("554 5.7.1 ok %F %T %H %I %U %C %% %{value} "
	    "%{rule} %{client.addr} %{client.name} %{helo} %{auth} "
	    "%{sender} %{rcpt}", RULE_REJECT, 0) == NULL);
	CHECK(reply_check("451 4.7.1 later", RULE_REJECT, 0) == NULL);
	CHECK(reply_check("250 ok", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("421 4.7.0 bye", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("421 4.7.0 bye", RULE_DISCONNECT, 0) == NULL);
	CHECK(reply_check("554 5.7.0 bye", RULE_DISCONNECT, 0) != NULL);
	CHECK(reply_check("554 4.7.1 class", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("554 5.7 short", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("554 5.7.1 %X", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("554 5.7.1 %{nope}", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("554 5.7.1 %{value", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("554 5.7.1 end%", RULE_REJECT, 0) != NULL);
	CHECK(reply_check("450 4.7.1 x", RULE_MATCH, 1) != NULL);
	CHECK(reply_check("554 5.7.1 x", RULE_MATCH, 1) == NULL);

	memset(&v, 0, sizeof(v));
	v.sender = "a@b.test";
	v.rcpt = "c@d.test";
	v.client_addr = "192.0.2.1";
	v.client_name = NULL;
	v.value = "Mail rejected, contact postmaster@x";
	v.rule = 7;
	CHECK(reply_expand("%F to %T from %H [%I] %U%C %{value} #%{rule} "
	    "100%%", &v, 0, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "a@b.test to c@d.test from unknown [192.0.2.1] "
	    "unknown: Mail rejected, contact postmaster@x #7 100%") == 0);
	/* For libmilter: every '%' doubled, the client's too. */
	v.helo = "50%\r\noff";
	CHECK(reply_expand("<%{helo}> 100%%", &v, 1, out, sizeof(out)) ==
	    0 && strcmp(out, "<50%%??off> 100%%") == 0);
	/* Values are bounded. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	v.sender = big;
	CHECK(reply_expand("<%F>", &v, 0, out, sizeof(out)) == 0 &&
	    strlen(out) == 100 + 3 + 2);
	/* The output never overflows. */
	CHECK(reply_expand("%F%F%F%F%F%F", &v, 0, out, 50) == 0 &&
	    strlen(out) == 49);

	CHECK(reply_soften("554 5.7.1 <x>: no", out, sizeof(out)) == 0 &&
	    strcmp(out, "450 4.7.1 <x>: no") == 0);
	CHECK(reply_soften("554 no", out, sizeof(out)) == 0 &&
	    strcmp(out, "450 no") == 0);
	CHECK(reply_soften("450 4.7.1 no", out, sizeof(out)) == -1);

	memset(&r, 0, sizeof(r));
	r.action = RULE_REJECT;
	r.stage = STAGE_RCPT;
	r.ncond = 2;
	r.cond[0].type = COND_MAIL_TABLE;
	r.cond[0].negate = 1;
	r.cond[1].type = COND_MAIL_UNRESOLVABLE;
	CHECK(strncmp(reply_default(&r, NULL), "550 5.1.8", 9) == 0);
	r.cond[1].type = COND_RCPT;
	r.cond[1].negate = 1;
	r.cond[1].table = RULE_TABLE_DOMAINS;
	CHECK(strstr(reply_default(&r, NULL), "Relay access denied") != NULL);
	r.cond[1].negate = 0;
	CHECK(strstr(reply_default(&r, NULL), "Recipient address") != NULL);
	r.ncond = 1;
	r.cond[0].type = COND_FROM_TABLE;
	r.cond[0].negate = 0;
	CHECK(strstr(reply_default(&r, NULL), "Client host") != NULL);
	r.action = RULE_DISCONNECT;
	CHECK(strncmp(reply_default(&r, NULL), "421 ", 4) == 0);
	CHECK(reply_check(reply_temp(TEMP_CLIENT), RULE_REJECT, 0) == NULL);
	CHECK(reply_check(reply_temp(TEMP_DNS_DOMAIN), RULE_REJECT, 0) ==
	    NULL);
	CHECK(reply_check(reply_temp(TEMP_DNS_SERVERS), RULE_REJECT, 0) ==
	    NULL);
}

/*
 * The bench's rule list (bench/run.sh, part rules): 50 rules, four
 * through a 100,000-entry table of networks, names and addresses, none
 * matching the session, so that every walk goes through them all.
 */
static void
test_walk_cost(void)
{
	struct atable_conf	*tc;
	struct rule_conf	*r;
	struct rules_session	*s;
	struct timespec		 t0, t1;
	const char		*err;
	const char		*k1[] = { "198.51.100.1", NULL };
	char			 key[64], k2[32], k3[32];
	const char		*kp2[] = { k2, NULL }, *kp3[] = { k3, NULL };
	const char		*kp4[2] = { NULL, NULL };
	uint32_t		 big, t;
	double			 ns;
	int			 i, n;

	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (tc->table = table_new("big")) == NULL)
		exit(2);
	strlcpy(tc->name, "big", sizeof(tc->name));
	tc->id = ntables++;
	for (i = 0; i < 100000; i++) {
		switch (i % 4) {
		case 0:
			snprintf(key, sizeof(key), "10.%d.%d.0/24",
			    i / 256 % 256, i % 256);
			break;
		case 1:
			snprintf(key, sizeof(key), "host%d.spam.test", i);
			break;
		case 2:
			snprintf(key, sizeof(key), "u%d@spam.test", i);
			break;
		default:
			snprintf(key, sizeof(key), "2001:db8:%x:%x::/64",
			    i / 65536, i % 65536);
			break;
		}
		if (table_add(tc->table, key, "SPAMMER", 0, &err) == -1)
			exit(2);
	}
	TAILQ_INSERT_TAIL(&tables, tc, entry);
	big = tc->id + 1;
	r = rule(RULE_REJECT, STAGE_RCPT, "550 5.7.1 %{value}");
	cond(r, COND_FROM_TABLE, 0, big);
	cond(rule(RULE_REJECT, STAGE_RCPT, NULL), COND_HELO, 0, big);
	cond(rule(RULE_REJECT, STAGE_RCPT, NULL), COND_MAIL_TABLE, 0, big);
	cond(rule(RULE_REJECT, STAGE_RCPT, NULL), COND_RCPT, 0, big);
	for (i = 1; i <= 46; i++) {
		r = rule(RULE_REJECT, STAGE_RCPT, NULL);
		switch (i % 4) {
		case 0:
			cond(r, COND_FROM_TABLE, 0, table("a", k1));
			break;
		case 1:
			snprintf(k2, sizeof(k2), "*@spam%d.test", i);
			cond(r, COND_MAIL_TABLE, 0, table("m", kp2));
			break;
		case 2:
			snprintf(k3, sizeof(k3), "@list%d.test", i);
			cond(r, COND_RCPT, 0, table("r", kp3));
			break;
		default:
			kp4[0] = ".dialup.test";
			t = table("d", kp4);
			cond(r, COND_FROM_TABLE, 0, t);
			kp4[0] = "<>";
			cond(r, COND_MAIL_TABLE, 0, table("n", kp4));
			break;
		}
	}
	/* WALKS=N in the environment: N walks (perf record ...). */
	if (getenv("WALKS") == NULL || (n = atoi(getenv("WALKS"))) <= 0)
		n = 20000;
	s = sess("192.0.2.77", "client77.example.com", "OK",
	    "client77.example.com", "sender@example.com",
	    "user77@example.net");
	CHECK(eval(s) == RV_NONE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		rules_eval(&rules, &tables, s, &env, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
	printf("50 rules, 100,000-entry table: %.0f ns a walk\n", ns);
	/* Generous: a loaded test machine, a sanitizer build. */
	CHECK(ns < 200000);
	clear();
}

int
main(void)
{
	TAILQ_INIT(&rules);
	TAILQ_INIT(&tables);
	test_spec();
	test_temp();
	test_conditions();
	test_dryrun();
	test_replies();
	test_walk_cost();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return (1);
	}
	printf("test_rules: ok\n");
	return (0);
}
