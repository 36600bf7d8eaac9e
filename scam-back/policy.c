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
 * The verification policy of SPEC section 6, in one place: which
 * recipients are verified, against which backend, and what the MTA is told
 * for each verdict.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "policy.h"


/* Without skip daemon: Postfix's and Sendmail's submission services. */
const char *const policy_default_skip_daemons[] = {
	"MSA", "ORIGINATING", NULL
};

/* One name of the configuration, with its exact and subdomains entries. */
struct dnode {
	RB_ENTRY(dnode)			 entry;
	const char			*name;
	const struct domain_conf	*exact;
	const struct domain_conf	*sub;
};
RB_HEAD(dtree, dnode);

struct domain_index {
	struct dtree			 tree;
	const struct domain_conf	*all;
};

static int	dnode_cmp(struct dnode *, struct dnode *);
RB_PROTOTYPE_STATIC(dtree, dnode, entry, dnode_cmp)
RB_GENERATE_STATIC(dtree, dnode, entry, dnode_cmp)

static const struct domain_conf *domain_scan(const struct scamback_conf *,
		    const char *);
static int	skip_daemon(const struct scamback_conf *, const char *);

static int
dnode_cmp(struct dnode *a, struct dnode *b)
{
	return (strcmp(a->name, b->name));
}

/*
 * The index points into conf, which must outlive it.  The first entry
 * for a name wins, as in the list.
 */
struct domain_index *
domain_index_new(const struct scamback_conf *conf)
{
	struct domain_index		*idx;
	const struct domain_conf	*d;
	struct dnode			 key, *n;

	if ((idx = calloc(1, sizeof(*idx))) == NULL)
		return (NULL);
	RB_INIT(&idx->tree);
	TAILQ_FOREACH(d, &conf->domains, entry) {
		if (d->match == DOMAIN_ALL) {
			if (idx->all == NULL)
				idx->all = d;
			continue;
		}
		key.name = d->name;
		if ((n = RB_FIND(dtree, &idx->tree, &key)) == NULL) {
			if ((n = calloc(1, sizeof(*n))) == NULL) {
				domain_index_free(idx);
				return (NULL);
			}
			n->name = d->name;
			RB_INSERT(dtree, &idx->tree, n);
		}
		if (d->match == DOMAIN_EXACT && n->exact == NULL)
			n->exact = d;
		else if (d->match == DOMAIN_SUBDOMAINS && n->sub == NULL)
			n->sub = d;
	}
	return (idx);
}

void
domain_index_free(struct domain_index *idx)
{
	struct dnode	*n;

	if (idx == NULL)
		return;
	while ((n = RB_MIN(dtree, &idx->tree)) != NULL) {
		RB_REMOVE(dtree, &idx->tree, n);
		free(n);
	}
	free(idx);
}

/*
 * The domain entry that verifies a (lowercase) domain: an exact entry
 * beats a subdomains entry (the longest wins), which beats "domain all".
 * With an index: the name itself, then each parent, longest first.
 */
const struct domain_conf *
policy_domain(const struct scamback_conf *conf,
    const struct domain_index *idx, const char *domain)
{
	struct dnode	 key, *n;
	struct dtree	*t;
	const char	*s;

	if (idx == NULL)
		return (domain_scan(conf, domain));
	/* RB_FIND only reads, but its prototype wants a mutable head. */
	t = (struct dtree *)&idx->tree;
	key.name = domain;
	if ((n = RB_FIND(dtree, t, &key)) != NULL &&
	    n->exact != NULL)
		return (n->exact);
	for (s = domain; *s != '\0'; s++) {
		key.name = s;
		if ((n = RB_FIND(dtree, t, &key)) != NULL && n->sub != NULL)
			return (n->sub);
		if ((s = strchr(s, '.')) == NULL)
			break;
	}
	return (idx->all);
}

static const struct domain_conf *
domain_scan(const struct scamback_conf *conf, const char *domain)
{
	const struct domain_conf	*d, *sub = NULL, *all = NULL;
	size_t				 sublen = 0, len;

	TAILQ_FOREACH(d, &conf->domains, entry) {
		switch (d->match) {
		case DOMAIN_EXACT:
			if (strcmp(d->name, domain) == 0)
				return (d);
			break;
		case DOMAIN_SUBDOMAINS:
			len = strlen(d->name);
			if ((sub == NULL || len > sublen) &&
			    addr_domain_match(domain, d->name, 1)) {
				sub = d;
				sublen = len;
			}
			break;
		case DOMAIN_ALL:
			if (all == NULL)
				all = d;
			break;
		}
	}
	return (sub != NULL ? sub : all);
}

static int
skip_daemon(const struct scamback_conf *conf, const char *daemon)
{
	const struct skip_daemon	*sd;
	size_t				 i;

	if (daemon == NULL || *daemon == '\0')
		return (0);
	if (!conf->skip_daemon_set) {
		for (i = 0; policy_default_skip_daemons[i] != NULL; i++)
			if (strcasecmp(daemon,
			    policy_default_skip_daemons[i]) == 0)
				return (1);
		return (0);
	}
	TAILQ_FOREACH(sd, &conf->skip_daemons, entry)
		if (strcasecmp(daemon, sd->name) == 0)
			return (1);
	return (0);
}

/* Verify this recipient, or why not.  The session's rules come first. */
void
policy_decide(const struct scamback_conf *conf,
    const struct domain_index *idx, const struct rcpt_query *q,
    struct rcpt_decision *dec)
{
	const struct domain_conf	*d;
	const struct skip_net		*n;
	size_t				 domoff;

	memset(dec, 0, sizeof(*dec));
	TAILQ_FOREACH(n, &conf->skip_from, entry)
		if (client_in_net(q->client, n)) {
			dec->skip = SKIP_FROM;
			return;
		}
	if (conf->skip_local && client_is_local(q->client)) {
		dec->skip = SKIP_LOCAL;
		return;
	}
	if (skip_daemon(conf, q->daemon)) {
		dec->skip = SKIP_DAEMON;
		return;
	}
	if (conf->skip_authenticated && q->auth != NULL && *q->auth != '\0') {
		dec->skip = SKIP_AUTH;
		return;
	}
	switch (addr_normalise(q->rcpt, dec->address, sizeof(dec->address),
	    &domoff, &dec->impossible)) {
	case ADDR_OK:
	case ADDR_IMPOSSIBLE:
		break;
	case ADDR_NODOMAIN:
		dec->skip = SKIP_NODOMAIN;
		return;
	default:
		dec->skip = SKIP_BAD;
		return;
	}
	/*
	 * In a verified domain no form is waved through: what cannot be
	 * a mailbox is refused.  Elsewhere it is not ours to judge.
	 */
	if ((d = policy_domain(conf, idx, dec->address + domoff)) == NULL) {
		dec->skip = dec->impossible != NULL ? SKIP_BAD :
		    SKIP_UNMATCHED;
		return;
	}
	dec->skip = SKIP_NONE;
	dec->backend_id = d->backend_id;
	strlcpy(dec->backend, d->backend, sizeof(dec->backend));
}

/*
 * scambackctl check, before its probe: the address normalised into cc,
 * and the domain conf that verifies it; NULL when there is no probe to
 * make, and cc says why (or refuses it, as an RCPT would be).
 */
const struct domain_conf *
policy_check(const struct scamback_conf *conf,
    const struct domain_index *idx, const char *address,
    struct ctl_check *cc)
{
	const struct domain_conf	*d;
	const char			*why;
	size_t				 domoff;

	memset(cc, 0, sizeof(*cc));
	strlcpy(cc->address, address, sizeof(cc->address));
	cc->res.verdict = VERDICT_UNKNOWN;
	switch (addr_normalise(address, cc->address, sizeof(cc->address),
	    &domoff, &why)) {
	case ADDR_OK:
		break;
	case ADDR_IMPOSSIBLE:
		/* As an RCPT: refused in a verified domain, no probe. */
		if (policy_domain(conf, idx, cc->address) != NULL) {
			cc->res.verdict = VERDICT_INVALID;
			snprintf(cc->res.text, sizeof(cc->res.text),
			    "cannot be a mailbox (%s): refused with 550 "
			    "5.1.3, no probe", why);
		} else
			snprintf(cc->res.text, sizeof(cc->res.text),
			    "not a usable address (%s)", why);
		strlcpy(cc->address, address, sizeof(cc->address));
		return (NULL);
	case ADDR_NODOMAIN:
		strlcpy(cc->res.text,
		    "address without a domain: not verified",
		    sizeof(cc->res.text));
		return (NULL);
	default:
		strlcpy(cc->res.text, "not a usable address",
		    sizeof(cc->res.text));
		return (NULL);
	}
	if ((d = policy_domain(conf, idx, cc->address + domoff)) == NULL) {
		strlcpy(cc->res.text, "domain not verified by any backend",
		    sizeof(cc->res.text));
		return (NULL);
	}
	strlcpy(cc->backend, d->backend, sizeof(cc->backend));
	return (d);
}

/* Is a cache key (a normalised address) in a domain conf verifies? */
int
policy_verifies(const struct scamback_conf *conf,
    const struct domain_index *idx, const char *address)
{
	const char	*at;

	if ((at = strrchr(address, '@')) == NULL)
		return (0);
	return (policy_domain(conf, idx, at + 1) != NULL);
}

/*
 * Verdict to milter answer.  The address goes into the reply text, where
 * libmilter wants '%' doubled.
 */
void
policy_reply(const struct scamback_conf *conf, enum verdict v,
    const char *address, struct policy_reply *r)
{
	char		 esc[2 * ADDR_LEN];
	const char	*a;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	switch (v) {
	case VERDICT_VALID:
		r->action = ACTION_CONTINUE;
		return;
	case VERDICT_INVALID:
		if (conf->invalid == INVALID_DISCARD) {
			r->action = ACTION_DISCARD;
			return;
		}
		r->action = ACTION_REJECT;
		r->rcode = "550";
		r->xcode = "5.1.1";
		for (a = address, i = 0; *a != '\0' && i + 2 < sizeof(esc);
		    a++) {
			if (*a == '%')
				esc[i++] = '%';
			esc[i++] = *a;
		}
		esc[i] = '\0';
		(void)snprintf(r->text, sizeof(r->text),
		    "<%s>: Recipient address rejected: User unknown", esc);
		return;
	default:
		if (conf->unreachable == UNREACHABLE_TEMPFAIL) {
			r->action = ACTION_TEMPFAIL;
			r->rcode = "451";
			r->xcode = "4.4.3";
			strlcpy(r->text,
			    "Recipient verification temporarily unavailable",
			    sizeof(r->text));
		} else
			r->action = ACTION_CONTINUE;
		return;
	}
}

/*
 * An address that cannot be a mailbox, in a verified domain: refused as
 * Postfix refuses bad syntax (5.1.3), or dropped like an invalid one in
 * discard mode.  The address stays out of the text: it may be anything.
 */
void
policy_reply_impossible(const struct scamback_conf *conf,
    struct policy_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (conf->invalid == INVALID_DISCARD) {
		r->action = ACTION_DISCARD;
		return;
	}
	r->action = ACTION_REJECT;
	r->rcode = "550";
	r->xcode = "5.1.3";
	strlcpy(r->text, "Bad recipient address syntax", sizeof(r->text));
}

/*
 * How long a RCPT waits for a probe: a connect and two replies (RCPT may
 * need MAIL first on a fresh session) and a second of margin, never as
 * long as the MTA's own milter timeout.
 */
uint32_t
policy_wait_ms(const struct scamback_conf *conf)
{
	uint64_t	ms;

	ms = ((uint64_t)conf->timeout_connect + 2 *
	    (uint64_t)conf->timeout_reply + 1) * 1000;
	return (ms > POLICY_WAIT_CAP_MS ? POLICY_WAIT_CAP_MS : (uint32_t)ms);
}

const char *
policy_skip_name(enum policy_skip s)
{
	switch (s) {
	case SKIP_NONE:
		return ("none");
	case SKIP_FROM:
		return ("from");
	case SKIP_LOCAL:
		return ("local");
	case SKIP_DAEMON:
		return ("daemon");
	case SKIP_AUTH:
		return ("authenticated");
	case SKIP_NODOMAIN:
		return ("nodomain");
	case SKIP_UNMATCHED:
		return ("unmatched");
	case SKIP_BAD:
		return ("bad-address");
	}
	return ("?");
}

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case ACTION_CONTINUE:
		return ("accept");
	case ACTION_REJECT:
		return ("reject");
	case ACTION_TEMPFAIL:
		return ("tempfail");
	case ACTION_DISCARD:
		return ("discard");
	}
	return ("?");
}

const char *
policy_verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_VALID:
		return ("valid");
	case VERDICT_INVALID:
		return ("invalid");
	default:
		return ("unknown");
	}
}
