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
 * scambackctl show rules and check rules, in the engine's event thread
 * (the thread that replaces the configuration, so it reads it, through
 * access_conf(), without the lock).  check rules walks the rules for a made-up session; each DNS
 * answer a walk misses is asked anew (live DNS, no cache) and the walk
 * starts again when it comes, so the event thread never waits.
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

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "policy.h"
#include "table.h"
#include "rules.h"
#include "dns.h"
#include "access.h"

struct rcheck {
	struct walk		 w;		/* first: walk_eval's arg */
	struct access		*a;
	struct ctl_check_rules	 q;
	uint32_t		 peerid;
	void			(*done)(uint32_t, struct ctl_rules_result *);
	struct walk_answer	 asked;
	int			 nasked;
};

static void	rcheck_walk(struct rcheck *);
static void	rcheck_dns(void *, const struct dns_answer *);

/* Each rule with its counters, through emit(arg, rule). */
void
rulesctl_show(void (*emit)(void *, struct ctl_rule *), void *arg)
{
	const struct scamback_conf	*conf = access_conf();
	const struct rule_conf		*r;
	struct ctl_rule			 cr;
	struct rule_counters		 sum;

	TAILQ_FOREACH(r, &conf->rules, entry) {
		memset(&cr, 0, sizeof(cr));
		cr.nr = r->nr;
		cr.dryrun = conf->rules_dryrun;
		rules_counters(r, &sum);
		cr.evaluations = sum.evaluations;
		cr.matches = sum.matches;
		cr.refused = sum.refused;
		cr.deferred = sum.deferred;
		cr.last = sum.last;
		rules_text(conf, r, cr.text, sizeof(cr.text));
		emit(arg, &cr);
	}
}

/*
 * check rules: done(peerid, result) runs once, in the event thread, also
 * when the query makes no sense (result.note says why).
 */
void
rulesctl_check(const struct ctl_check_rules *q, uint32_t peerid,
    void (*done)(uint32_t, struct ctl_rules_result *))
{
	struct access_macros	 m;
	struct client_addr	 c;
	struct rcheck		*rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL ||
	    (rc->a = access_new()) == NULL)
		fatal(NULL);
	rc->q = *q;
	rc->q.client[sizeof(rc->q.client) - 1] = '\0';
	rc->q.name[sizeof(rc->q.name) - 1] = '\0';
	rc->q.helo[sizeof(rc->q.helo) - 1] = '\0';
	rc->q.sender[sizeof(rc->q.sender) - 1] = '\0';
	rc->q.rcpt[sizeof(rc->q.rcpt) - 1] = '\0';
	rc->peerid = peerid;
	rc->done = done;
	rc->w.fresh = 1;

	/* The session as an MTA would describe it. */
	memset(&m, 0, sizeof(m));
	if (client_from_string(&c, rc->q.client) == 0)
		access_client(rc->a, &c);
	m.client_addr = rc->q.client;
	if (rc->q.name[0] != '\0') {
		m.client_name = m.client_ptr = rc->q.name;
		m.client_resolve = "OK";
	} else if (rc->q.unknown) {
		m.client_name = "unknown";
		m.client_resolve = "FAIL";
	}
	access_macros(rc->a, &m);
	if (rc->q.helo[0] != '\0')
		access_helo(rc->a, rc->q.helo);
	if (rc->q.sender_set)
		access_mail(rc->a, rc->q.sender);
	rcheck_walk(rc);
}

static void
rcheck_walk(struct rcheck *rc)
{
	const struct scamback_conf	*conf = access_conf();
	struct ctl_rules_result		 out;
	struct rules_session		 s;
	struct rules_result		 res;
	struct access_reply		 reply;
	const struct rule_conf		*r;
	char				 rcpt[ADDR_LEN];
	size_t				 domoff;

	if (addr_normalise(rc->q.rcpt, rcpt, sizeof(rcpt), &domoff,
	    NULL) != ADDR_OK)
		strlcpy(rcpt, rc->q.rcpt, sizeof(rcpt));
	access_session(rc->a, STAGE_RCPT, rcpt, &s);
	walk_eval(rc, conf, &s, 0, NULL, &res);
	if (rc->w.missing && rc->nasked < WALK_ANSWERS) {
		rc->asked = rc->w.miss;
		rc->nasked++;
		dns_notify(rc->asked.kind, rc->asked.flags | DNS_FRESH,
		    rc->asked.dom, rcheck_dns, rc);
		return;
	}

	memset(&out, 0, sizeof(out));
	r = res.rule;
	out.dryrun = conf->rules_dryrun;
	if (res.permanent != NULL)
		out.permanent = res.permanent->nr;
	if (r != NULL) {
		out.nr = r->nr;
		rules_text(conf, r, out.rule, sizeof(out.rule));
		out.noverify = (r->flags & RULE_F_NOVERIFY) != 0;
	}
	if (res.value != NULL)
		strlcpy(out.value, res.value, sizeof(out.value));
	(void)access_reply_of(rc->a, &res, STAGE_RCPT, rcpt, &reply,
	    out.reply, sizeof(out.reply));
	switch (res.verdict) {
	case RV_NONE:
		strlcpy(out.verdict, "none", sizeof(out.verdict));
		break;
	case RV_PASS:
		strlcpy(out.verdict, "pass", sizeof(out.verdict));
		break;
	case RV_DEFER:
		strlcpy(out.verdict, "defer", sizeof(out.verdict));
		strlcpy(out.note, "undecided for now (DNS or the client's "
		    "name): 4xx, unless the backend says the recipient does "
		    "not exist", sizeof(out.note));
		break;
	case RV_DISCONNECT:
		strlcpy(out.verdict, "disconnect", sizeof(out.verdict));
		break;
	default:
		strlcpy(out.verdict, reply.action == ACC_TEMPFAIL ?
		    "tempfail" : "reject", sizeof(out.verdict));
		if (r->flags & RULE_F_SAVE)
			strlcpy(out.note, "accepted at RCPT, the message "
			    "kept and refused at end of data",
			    sizeof(out.note));
		break;
	}
	if (out.note[0] == '\0' && rc->q.name[0] == '\0' && !rc->q.unknown)
		strlcpy(out.note, "no client name given: from known, from "
		    "unknown and from rdns do not hold", sizeof(out.note));
	rc->done(rc->peerid, &out);
	access_free(rc->a);
	free(rc);
}

static void
rcheck_dns(void *arg, const struct dns_answer *ans)
{
	struct rcheck	*rc = arg;

	walk_answer(&rc->w, &rc->asked, ans);
	rcheck_walk(rc);
}
