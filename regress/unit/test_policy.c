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
 * Unit test of scam-back/policy.c: every row of SPEC section 6 that does
 * not need a backend: skip rules and their order, domain matching with
 * its precedence, verdict to milter reply, the bounded wait.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"

static int	failures;

#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #e);	\
		failures++;						\
	}								\
} while (0)

static void
add_domain(struct scamback_conf *conf, const char *name,
    enum domain_match m, uint32_t backend)
{
	struct domain_conf	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		exit(2);
	strlcpy(d->name, name, sizeof(d->name));
	d->match = m;
	d->backend_id = backend;
	snprintf(d->backend, sizeof(d->backend), "b%u", backend);
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);
}

static void
add_net(struct scamback_conf *conf, const char *s, int len)
{
	struct skip_net	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		exit(2);
	if (inet_pton(AF_INET, s, &n->addr.v4) == 1)
		n->af = AF_INET;
	else if (inet_pton(AF_INET6, s, &n->addr.v6) == 1)
		n->af = AF_INET6;
	n->prefixlen = len;
	TAILQ_INSERT_TAIL(&conf->skip_from, n, entry);
}

static void
add_daemon(struct scamback_conf *conf, const char *name)
{
	struct skip_daemon	*sd;

	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		exit(2);
	strlcpy(sd->name, name, sizeof(sd->name));
	TAILQ_INSERT_TAIL(&conf->skip_daemons, sd, entry);
	conf->skip_daemon_set = 1;
}

/* Decide for a recipient from a client; returns the skip reason. */
static enum policy_skip
decide(struct scamback_conf *conf, const char *client, const char *daemon,
    const char *auth, const char *rcpt, struct rcpt_decision *dec)
{
	struct rcpt_decision	 d0, d1;
	struct client_addr	 c;
	struct rcpt_query	 q;
	struct domain_index	*idx;

	if (dec == NULL)
		dec = &d0;
	(void)client_from_string(&c, client);
	q.client = &c;
	q.daemon = daemon;
	q.auth = auth;
	q.qid = NULL;
	q.rcpt = rcpt;
	policy_decide(conf, NULL, &q, dec);
	/* The index must decide alike. */
	if ((idx = domain_index_new(conf)) == NULL)
		exit(2);
	policy_decide(conf, idx, &q, &d1);
	domain_index_free(idx);
	CHECK(d1.skip == dec->skip && d1.backend_id == dec->backend_id &&
	    d1.impossible == dec->impossible &&
	    strcmp(d1.address, dec->address) == 0 &&
	    strcmp(d1.backend, dec->backend) == 0);
	return (dec->skip);
}

/* Domain matching, by the list and by the index: both must agree. */
static const struct domain_conf *
pdomain(struct scamback_conf *conf, const char *domain)
{
	const struct domain_conf	*d;
	struct domain_index		*idx;

	if ((idx = domain_index_new(conf)) == NULL)
		exit(2);
	d = policy_domain(conf, NULL, domain);
	CHECK(policy_domain(conf, idx, domain) == d);
	domain_index_free(idx);
	return (d);
}

static int
pverifies(struct scamback_conf *conf, const char *address)
{
	struct domain_index	*idx;
	int			 v;

	if ((idx = domain_index_new(conf)) == NULL)
		exit(2);
	v = policy_verifies(conf, NULL, address);
	CHECK(policy_verifies(conf, idx, address) == v);
	domain_index_free(idx);
	return (v);
}

/*
 * A mailertable's worth of domains: the index answers as the list does,
 * and fast (the list would take seconds for this many lookups).
 */
static void
test_index(void)
{
	struct scamback_conf		*conf;
	struct domain_index		*idx;
	const struct domain_conf	*a, *b;
	char				 name[64];
	struct timespec			 t0, t1;
	long				 ms;
	int				 i, j;

	conf = config_new();
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "d%d.test", i);
		add_domain(conf, name, i % 3 ? DOMAIN_EXACT :
		    DOMAIN_SUBDOMAINS, i);
		/* Duplicates: the first entry wins in both. */
		if (i % 100 == 0)
			add_domain(conf, name, DOMAIN_EXACT, i + 100000);
	}
	add_domain(conf, "sub.d1.test", DOMAIN_SUBDOMAINS, 7);
	if ((idx = domain_index_new(conf)) == NULL)
		exit(2);
	for (i = 0; i < 5200; i += 7) {
		for (j = 0; j < 4; j++) {
			switch (j) {
			case 0:
				snprintf(name, sizeof(name), "d%d.test", i);
				break;
			case 1:
				snprintf(name, sizeof(name), "x.d%d.test", i);
				break;
			case 2:
				snprintf(name, sizeof(name), "a.sub.d%d.test",
				    i % 10);
				break;
			default:
				snprintf(name, sizeof(name), "d%d.testx", i);
				break;
			}
			a = policy_domain(conf, NULL, name);
			b = policy_domain(conf, idx, name);
			CHECK(a == b);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "mx.d%d.test", i % 6000);
		(void)policy_domain(conf, idx, name);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("index: 200000 lookups among 5000 domains in %ld ms\n", ms);
	CHECK(ms < 2000);
	domain_index_free(idx);
	config_free(conf);
	printf("ok domain index\n");
}

static void
test_domains(void)
{
	struct scamback_conf		*conf;
	const struct domain_conf	*d;
	struct rcpt_decision		 dec;

	conf = config_new();
	CHECK(pdomain(conf, "example.net") == NULL);
	add_domain(conf, "example.net", DOMAIN_SUBDOMAINS, 1);
	add_domain(conf, "mx.example.net", DOMAIN_EXACT, 2);
	add_domain(conf, "deep.sub.example.net", DOMAIN_SUBDOMAINS, 3);
	add_domain(conf, "other.test", DOMAIN_EXACT, 4);

	CHECK((d = pdomain(conf, "example.net")) && d->backend_id == 1);
	CHECK((d = pdomain(conf, "a.example.net")) && d->backend_id == 1);
	/* Exact beats subdomains. */
	CHECK((d = pdomain(conf, "mx.example.net")) && d->backend_id == 2);
	CHECK((d = pdomain(conf, "a.mx.example.net")) &&
	    d->backend_id == 1);
	/* The longest subdomains entry wins. */
	CHECK((d = pdomain(conf, "x.deep.sub.example.net")) &&
	    d->backend_id == 3);
	CHECK((d = pdomain(conf, "sub.example.net")) &&
	    d->backend_id == 1);
	CHECK((d = pdomain(conf, "other.test")) && d->backend_id == 4);
	CHECK(pdomain(conf, "a.other.test") == NULL);
	CHECK(pdomain(conf, "badexample.net") == NULL);
	CHECK(pdomain(conf, "unrelated.test") == NULL);

	/* "all" comes last, after everything else. */
	add_domain(conf, "", DOMAIN_ALL, 5);
	CHECK((d = pdomain(conf, "unrelated.test")) &&
	    d->backend_id == 5);
	CHECK((d = pdomain(conf, "mx.example.net")) &&
	    d->backend_id == 2);
	CHECK((d = pdomain(conf, "a.example.net")) &&
	    d->backend_id == 1);

	/* The decision carries the backend and the normalised address. */
	CHECK(decide(conf, "203.0.113.5", NULL, NULL,
	    "<Bob@MX.Example.NET>", &dec) == SKIP_NONE);
	CHECK(strcmp(dec.address, "Bob@mx.example.net") == 0);
	CHECK(dec.backend_id == 2);
	CHECK(strcmp(dec.backend, "b2") == 0);

	CHECK(pverifies(conf, "x@anything.test"));
	config_free(conf);

	conf = config_new();
	add_domain(conf, "example.net", DOMAIN_EXACT, 0);
	CHECK(pverifies(conf, "x@example.net"));
	CHECK(!pverifies(conf, "x@sub.example.net"));
	CHECK(!pverifies(conf, "x@other.test"));
	CHECK(!pverifies(conf, "nodomain"));
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<x@other.test>", NULL) ==
	    SKIP_UNMATCHED);
	config_free(conf);
	printf("ok domain matching\n");
}

/*
 * No form is waved through in a verified domain: what cannot be a
 * mailbox is refused there (5.1.3) and only skipped elsewhere.
 */
static void
test_impossible(void)
{
	struct scamback_conf	*conf;
	struct rcpt_decision	 dec;
	struct policy_reply	 r;
	char			 longer[300];

	conf = config_new();
	add_domain(conf, "example.net", DOMAIN_EXACT, 0);
	add_domain(conf, "example.org", DOMAIN_SUBDOMAINS, 1);

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer + sizeof(longer) - 14, "@example.net>", 14);
	longer[0] = '<';
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, longer, &dec) ==
	    SKIP_NONE && dec.impossible != NULL &&
	    strcmp(dec.impossible, "too-long") == 0 &&
	    strcmp(dec.backend, "b0") == 0);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<a\r@example.net>",
	    &dec) == SKIP_NONE &&
	    strcmp(dec.impossible, "control-character") == 0);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<@example.net>",
	    &dec) == SKIP_NONE &&
	    strcmp(dec.impossible, "no-local-part") == 0);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<a b@mx.Example.ORG>",
	    &dec) == SKIP_NONE && strcmp(dec.impossible, "syntax") == 0 &&
	    strcmp(dec.backend, "b1") == 0);
	/* Another domain: not ours to judge, skipped and logged. */
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<a\r@other.test>",
	    &dec) == SKIP_BAD && dec.impossible != NULL);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<\"x>y\"@example.net>",
	    &dec) == SKIP_NONE && dec.impossible == NULL &&
	    strcmp(dec.address, "\"x>y\"@example.net") == 0);
	/* The skip statements still come first. */
	CHECK(decide(conf, "192.0.2.1", "MSA", NULL, longer, &dec) ==
	    SKIP_DAEMON);

	policy_reply_impossible(conf, &r);
	CHECK(r.action == ACTION_REJECT && strcmp(r.rcode, "550") == 0 &&
	    strcmp(r.xcode, "5.1.3") == 0 && strchr(r.text, '%') == NULL);
	conf->invalid = INVALID_DISCARD;
	policy_reply_impossible(conf, &r);
	CHECK(r.action == ACTION_DISCARD && r.rcode == NULL);
	config_free(conf);
	printf("ok impossible addresses\n");
}

static void
test_skips(void)
{
	struct scamback_conf	*conf;
	const char		*r = "<alice@example.net>";

	conf = config_new();
	add_domain(conf, "example.net", DOMAIN_EXACT, 0);

	/* Defaults: local and unknown clients, MSA, ORIGINATING, AUTH. */
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "203.0.113.5", "", "", r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "127.0.0.1", NULL, NULL, r, NULL) == SKIP_LOCAL);
	CHECK(decide(conf, "::1", NULL, NULL, r, NULL) == SKIP_LOCAL);
	CHECK(decide(conf, NULL, NULL, NULL, r, NULL) == SKIP_LOCAL);
	CHECK(decide(conf, "203.0.113.5", "MSA", NULL, r, NULL) ==
	    SKIP_DAEMON);
	CHECK(decide(conf, "203.0.113.5", "ORIGINATING", NULL, r, NULL) ==
	    SKIP_DAEMON);
	CHECK(decide(conf, "203.0.113.5", "MTA", NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "203.0.113.5", NULL, "alice", r, NULL) == SKIP_AUTH);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, "<postmaster>", NULL) ==
	    SKIP_NODOMAIN);
	CHECK(decide(conf, "203.0.113.5", NULL, NULL, NULL, NULL) == SKIP_BAD);

	/* skip local no, skip authenticated no: verified after all. */
	conf->skip_local = 0;
	conf->skip_authenticated = 0;
	CHECK(decide(conf, "127.0.0.1", NULL, NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, NULL, NULL, NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "203.0.113.5", NULL, "alice", r, NULL) ==
	    SKIP_NONE);
	conf->skip_local = 1;

	/* skip from, v4 and v6; it comes before local. */
	add_net(conf, "192.0.2.0", 24);
	add_net(conf, "2001:db8::", 32);
	add_net(conf, "127.0.0.0", 8);
	CHECK(decide(conf, "192.0.2.200", NULL, NULL, r, NULL) == SKIP_FROM);
	CHECK(decide(conf, "192.0.3.1", NULL, NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "IPv6:2001:db8:1::1", NULL, NULL, r, NULL) ==
	    SKIP_FROM);
	CHECK(decide(conf, "2001:db9::1", NULL, NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "127.0.0.1", NULL, NULL, r, NULL) == SKIP_FROM);

	/* A daemon list of one's own replaces the defaults. */
	add_daemon(conf, "submission");
	CHECK(decide(conf, "203.0.113.5", "MSA", NULL, r, NULL) == SKIP_NONE);
	CHECK(decide(conf, "203.0.113.5", "submission", NULL, r, NULL) ==
	    SKIP_DAEMON);
	config_free(conf);
	printf("ok skip rules\n");
}

static void
test_replies(void)
{
	struct scamback_conf	*conf;
	struct policy_reply	 r;

	conf = config_new();
	policy_reply(conf, VERDICT_VALID, "a@example.net", &r);
	CHECK(r.action == ACTION_CONTINUE && r.rcode == NULL);

	policy_reply(conf, VERDICT_INVALID, "b@example.net", &r);
	CHECK(r.action == ACTION_REJECT);
	CHECK(strcmp(r.rcode, "550") == 0 && strcmp(r.xcode, "5.1.1") == 0);
	CHECK(strcmp(r.text,
	    "<b@example.net>: Recipient address rejected: User unknown") == 0);

	/* libmilter formats the text: a '%' must be doubled. */
	policy_reply(conf, VERDICT_INVALID, "b%c@example.net", &r);
	CHECK(strcmp(r.text,
	    "<b%%c@example.net>: Recipient address rejected: User unknown") ==
	    0);

	/* Unknown never becomes a 5xx. */
	policy_reply(conf, VERDICT_UNKNOWN, "c@example.net", &r);
	CHECK(r.action == ACTION_CONTINUE);
	conf->unreachable = UNREACHABLE_TEMPFAIL;
	policy_reply(conf, VERDICT_UNKNOWN, "c@example.net", &r);
	CHECK(r.action == ACTION_TEMPFAIL);
	CHECK(strcmp(r.rcode, "451") == 0 && strcmp(r.xcode, "4.4.3") == 0);
	CHECK(strcmp(r.text,
	    "Recipient verification temporarily unavailable") == 0);
	policy_reply(conf, VERDICT_VALID, "a@example.net", &r);
	CHECK(r.action == ACTION_CONTINUE);

	conf->invalid = INVALID_DISCARD;
	policy_reply(conf, VERDICT_INVALID, "b@example.net", &r);
	CHECK(r.action == ACTION_DISCARD && r.rcode == NULL);
	config_free(conf);
	printf("ok replies\n");
}

static void
test_wait(void)
{
	struct scamback_conf	*conf;

	conf = config_new();
	/* Defaults 2 + 2 * 3 + 1 = 9 s: below sendmail's 10 s. */
	CHECK(policy_wait_ms(conf) == 9000);
	conf->timeout_connect = 1;
	conf->timeout_reply = 1;
	CHECK(policy_wait_ms(conf) == 4000);
	conf->timeout_connect = 30;
	conf->timeout_reply = 60;
	CHECK(policy_wait_ms(conf) == 9000);
	conf->timeout_connect = UINT32_MAX;
	conf->timeout_reply = UINT32_MAX;
	CHECK(policy_wait_ms(conf) == 9000);
	config_free(conf);
	printf("ok bounded wait\n");
}

int
main(void)
{
	test_domains();
	test_index();
	test_skips();
	test_impossible();
	test_replies();
	test_wait();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return (1);
	}
	return (0);
}
