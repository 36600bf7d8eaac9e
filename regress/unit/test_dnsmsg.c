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
 * Unit test of what the resolver reads: DNS answers (dnsmsg.c: records
 * through CNAMEs, the smallest TTL, the null MX, NXDOMAIN and NODATA
 * with the SOA's negative TTL, truncated and failed answers, garbage),
 * resolv.conf and the hosts file (resolvconf.c).  The answers are the
 * seeds of regress/fuzz/corpus_dns, made with dnslib, and answers built
 * here byte by byte.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "dnsmsg.h"
#include "resolvconf.h"

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

__dead static void	 fail(int, const char *);
static size_t	 seed(const char *, unsigned char *, size_t);

__dead static void
fail(int line, const char *what)
{
	fprintf(stderr, "FAIL line %d: %s\n", line, what);
	exit(1);
}

static size_t
seed(const char *name, unsigned char *buf, size_t size)
{
	char	 path[256];
	FILE	*f;
	size_t	 len;

	snprintf(path, sizeof(path), "regress/fuzz/corpus_dns/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s (run from the top of the tree)", path);
	len = fread(buf, 1, size, f);
	fclose(f);
	return (len);
}

static void
test_answers(void)
{
	unsigned char	 buf[4096], b[4096];
	struct dnsmsg	 m;
	size_t		 len, i;
	char		 a[INET6_ADDRSTRLEN];

	len = seed("mx", buf, sizeof(buf));
	dnsmsg_parse(buf, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_OK && m.nrr == 2 && m.ttl == 300);
	CHECK(m.rrs[0].pref == 10 &&
	    strcmp(m.rrs[0].host, "mx1.example.net") == 0);
	CHECK(m.rrs[1].pref == 20 &&
	    strcmp(m.rrs[1].host, "mx2.example.net") == 0);
	/* Another name's answer has nothing for us; nor has another type. */
	dnsmsg_parse(buf, len, "example.org", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_NODATA && m.nrr == 0);
	dnsmsg_parse(buf, len, "EXAMPLE.NET", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_OK && m.nrr == 2);
	dnsmsg_parse(buf, len, "example.net", ns_t_a, &m);
	CHECK(m.status == DNSMSG_NODATA);

	len = seed("nullmx", buf, sizeof(buf));
	dnsmsg_parse(buf, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_OK && m.nrr == 1 && m.rrs[0].pref == 0 &&
	    m.rrs[0].host[0] == '\0' && m.ttl == 60);

	/* Through the CNAME; the TTL is the smaller of the two. */
	len = seed("cname", buf, sizeof(buf));
	dnsmsg_parse(buf, len, "example.net", ns_t_a, &m);
	CHECK(m.status == DNSMSG_OK && m.nrr == 1 && m.ttl == 30);
	inet_ntop(AF_INET, &m.rrs[0].addr.v4, a, sizeof(a));
	CHECK(strcmp(a, "192.0.2.1") == 0);

	/* NXDOMAIN: the SOA's minimum (120) below its TTL (600). */
	len = seed("nxdomain", buf, sizeof(buf));
	dnsmsg_parse(buf, len, "example.net", ns_t_aaaa, &m);
	CHECK(m.status == DNSMSG_NXDOMAIN && m.has_ttl && m.ttl == 120);

	len = seed("ns", buf, sizeof(buf));
	dnsmsg_parse(buf, len, "example.net", ns_t_ns, &m);
	CHECK(m.status == DNSMSG_OK && m.nrr == 2 && m.ttl == 86400);
	CHECK(strcmp(m.rrs[1].host, "ns2.example.org") == 0);

	/* SERVFAIL, a truncated answer, a query: no answer at all. */
	len = seed("mx", buf, sizeof(buf));
	memcpy(b, buf, len);
	b[3] = (b[3] & 0xf0) | ns_r_servfail;
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);
	memcpy(b, buf, len);
	b[2] |= 0x02;
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);
	memcpy(b, buf, len);
	b[2] &= 0x7f;
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);

	/* Every prefix of an answer is a broken answer, never a crash. */
	for (i = 0; i < len; i++) {
		dnsmsg_parse(buf, i, "example.net", ns_t_mx, &m);
		CHECK(m.status == DNSMSG_TEMPFAIL);
	}
	printf("ok answers: MX, null MX, CNAME, NXDOMAIN, NS, failures\n");
}

/* An answer built by hand: header, question, then the records given. */
static size_t
build(unsigned char *b, uint16_t an, const unsigned char *rrs, size_t rlen)
{
	static const unsigned char head[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		0, 15, 0, 1
	};

	memcpy(b, head, sizeof(head));
	b[6] = an >> 8;
	b[7] = an & 0xff;
	memcpy(b + sizeof(head), rrs, rlen);
	return (sizeof(head) + rlen);
}

static void
test_hostile(void)
{
	/* MX 10 "bad_name": a pointer to the question, then a bad name. */
	static const unsigned char bad[] = {
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 12,
		0, 10, 8, 'b', 'a', 'd', '_', 'n', 'a', 'm', 'e', 0
	};
	/* A name that points at itself. */
	static const unsigned char loop[] = {
		0xc0, 29, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 41
	};
	/* rdlength past the end. */
	static const unsigned char longrd[] = {
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0xff, 0xff, 0, 10, 0
	};
	/* A TTL with its top bit set counts as 0 (RFC 2181). */
	static const unsigned char topbit[] = {
		0xc0, 12, 0, 15, 0, 1, 0x80, 0, 0, 0, 0, 4, 0, 10, 0xc0, 12
	};
	/*
	 * MX 10 "good\000.evil" and MX 20 "good.example" in one label: a
	 * reader that stops at the NUL or splits at the dot would see
	 * good, or good.example, where the name is neither.
	 */
	static const unsigned char nul[] = {
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 15,
		0, 10, 4, 'g', 'o', 'o', 'd', 1, 0, 4, 'e', 'v', 'i', 'l', 0,
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 16,
		0, 20, 12, 'g', 'o', 'o', 'd', '.', 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 0
	};
	unsigned char	 b[512];
	struct dnsmsg	 m;
	size_t		 len;

	len = build(b, 2, nul, sizeof(nul));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_NODATA && m.nrr == 0);

	len = build(b, 1, bad, sizeof(bad));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_NODATA && m.nrr == 0);
	len = build(b, 1, loop, sizeof(loop));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);
	len = build(b, 1, longrd, sizeof(longrd));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);
	len = build(b, 1, topbit, sizeof(topbit));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_OK && m.ttl == 0 &&
	    strcmp(m.rrs[0].host, "example.net") == 0);
	/* More records claimed than there are. */
	len = build(b, 3, topbit, sizeof(topbit));
	dnsmsg_parse(b, len, "example.net", ns_t_mx, &m);
	CHECK(m.status == DNSMSG_TEMPFAIL);
	printf("ok hostile answers\n");
}

static void
test_resolvconf(void)
{
	struct scamback_conf	*conf;
	struct resolver_conf	*r;
	struct sockaddr_storage	 ss[4];
	struct hosts		*h;
	char			 a[64];
	const char		*rc;
	int			 n;

	rc = "# comment\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver 2001:db8::53 # trailing\n"
	    "nameserver fe80::1%eth0\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver nonsense\n"
	    "domain old.example\n"
	    "search a.example b.example bad..example\n"
	    "options rotate ndots:3 timeout:1\n"
	    "; also a comment\n";
	conf = config_new();
	resolvconf_parse(conf, rc, strlen(rc));
	n = 0;
	TAILQ_FOREACH(r, &conf->resolvers, entry) {
		CHECK(r->system);
		resolve_ntop(&r->ss, a, sizeof(a));
		CHECK(strcmp(a, n == 0 ? "192.0.2.53:53" :
		    "[2001:db8::53]:53") == 0);
		n++;
	}
	CHECK(n == 2);
	CHECK(strcmp(conf->dns_search, "a.example b.example") == 0);
	CHECK(conf->dns_ndots == 3);
	config_free(conf);

	/* None: 127.0.0.1 as the C library; configured ones win. */
	conf = config_new();
	resolvconf_parse(conf, "search x.example\n", 17);
	r = TAILQ_FIRST(&conf->resolvers);
	CHECK(r != NULL && TAILQ_NEXT(r, entry) == NULL);
	CHECK(strcmp(resolve_ntop(&r->ss, a, sizeof(a)), "127.0.0.1:53") ==
	    0);
	config_free(conf);
	conf = config_new();
	r = calloc(1, sizeof(*r));
	CHECK(resolve_literal("[::1]", 5353, &r->ss));
	TAILQ_INSERT_TAIL(&conf->resolvers, r, entry);
	resolvconf_parse(conf, rc, strlen(rc));
	CHECK(TAILQ_FIRST(&conf->resolvers) == r &&
	    TAILQ_NEXT(r, entry) == NULL && !r->system);
	CHECK(strcmp(conf->dns_search, "a.example b.example") == 0);
	config_free(conf);

	h = hosts_parse("127.0.0.1 localhost\n"
	    "::1 localhost ip6-localhost\n"
	    "192.0.2.1\tMailbox.Example.NET mailbox # the backend\n"
	    "192.0.2.1 mailbox\n"
	    "not-an-address foo\n", 128);
	CHECK(hosts_lookup(h, "localhost", 25, ss, 4) == 2);
	CHECK(strcmp(resolve_ntop(&ss[0], a, sizeof(a)), "127.0.0.1:25") ==
	    0);
	CHECK(strcmp(resolve_ntop(&ss[1], a, sizeof(a)), "[::1]:25") == 0);
	CHECK(hosts_lookup(h, "MAILBOX.example.net", 2525, ss, 4) == 1);
	CHECK(hosts_lookup(h, "mailbox", 25, ss, 4) == 1);
	CHECK(hosts_lookup(h, "foo", 25, ss, 4) == 0);
	CHECK(hosts_lookup(h, "localhost", 25, ss, 1) == 1);
	hosts_free(h);
	printf("ok resolv.conf and hosts\n");
}

int
main(void)
{
	test_answers();
	test_hostile();
	test_resolvconf();
	return (0);
}
