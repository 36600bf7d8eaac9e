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
 * Unit test of scam-back/table.c: what each shape of entry matches in
 * each context (client, host, mail, string), exceptions, values, table
 * files in the three old systems' forms with their errors, and a table of
 * 100,000 entries answering as the small ones do.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"

static int	failures;

#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #e);	\
		failures++;						\
	}								\
} while (0)

static struct table *
mk(const char *name, const char **keys)
{
	struct table	*t;
	const char	*err;

	if ((t = table_new(name)) == NULL)
		exit(2);
	for (; *keys != NULL; keys++)
		if (table_add(t, *keys, NULL, 0, &err) == -1) {
			fprintf(stderr, "FAIL: %s: %s\n", *keys, err);
			failures++;
		}
	return (t);
}

static struct client_addr *
ca(const char *s)
{
	static struct client_addr	a[4];
	static int			i;
	struct client_addr		*c = &a[i++ % 4];

	if (client_from_string(c, s) == -1)
		exit(2);
	return (c);
}

static int
client(struct table *t, const char *addr, const char *name)
{
	return (table_match_client(t, addr != NULL ? ca(addr) : NULL, name,
	    NULL));
}

static int
mail(struct table *t, const char *addr, int local)
{
	return (table_match_mail(t, addr, local, NULL));
}

static int
host(struct table *t, const char *name)
{
	return (table_match_host(t, name, NULL, NULL));
}

static void
test_client(void)
{
	const char	*keys[] = { "192.168.1.0/24", "10.0.67.15",
	    "2001:db8:1::/48", "bomb20.pdev.sco.com", ".spam.test",
	    "127.0.0.*", "*.dialup.test", "!192.168.1.66", NULL };
	struct table	*t = mk("c", keys);

	CHECK(table_count(t) == 8);
	CHECK(client(t, "192.168.1.5", NULL));
	CHECK(!client(t, "192.168.2.5", NULL));
	CHECK(client(t, "10.0.67.15", NULL));
	CHECK(!client(t, "10.0.67.16", NULL));
	CHECK(client(t, "2001:db8:1:ffff::1", NULL));
	CHECK(!client(t, "2001:db8:2::1", NULL));
	/* Postfix's {client_addr} form and an IPv4-mapped address. */
	CHECK(client(t, "IPv6:2001:db8:1::2", NULL));
	CHECK(client(t, "::ffff:192.168.1.9", NULL));
	/* Host names whole, ".name" for those below, case-insensitive. */
	CHECK(client(t, "203.0.113.1", "bomb20.pdev.sco.com"));
	CHECK(client(t, "203.0.113.1", "BOMB20.PDEV.SCO.COM"));
	CHECK(!client(t, "203.0.113.1", "x.bomb20.pdev.sco.com"));
	CHECK(!client(t, "203.0.113.1", "pdev.sco.com"));
	CHECK(client(t, "203.0.113.1", "a.b.spam.test"));
	CHECK(!client(t, "203.0.113.1", "spam.test"));
	/* Globs see the name and the address (smap permit-hosts). */
	CHECK(client(t, "127.0.0.1", NULL));
	CHECK(client(t, "203.0.113.1", "ppp-1.dialup.test"));
	CHECK(!client(t, "203.0.113.1", "dialup.test"));
	/* An exception wins (Obtuse EXCEPT). */
	CHECK(!client(t, "192.168.1.66", NULL));
	CHECK(!client(t, NULL, NULL));
	table_free(t);
}

static void
test_mail(void)
{
	const char	*keys[] = { "chris@sendyouspam.com", "isendspam.com",
	    "@exact.test", "postmaster@", "<>", "chris", ".below.test",
	    "*@*.glob.test", "*savetrees.com*", "<*juno.com>",
	    "user@[192.0.2.1]", "!ok.isendspam.com", "198.51.100.0/24", NULL };
	struct table	*t = mk("m", keys);
	const char	*err;

	CHECK(mail(t, "chris@sendyouspam.com", 0));
	CHECK(mail(t, "Chris@SendYouSpam.COM", 0));
	CHECK(!mail(t, "other@sendyouspam.com", 0));
	/* A domain name covers its subdomains (SCO). */
	CHECK(mail(t, "a@isendspam.com", 0));
	CHECK(mail(t, "a@machine1.subdom.isendspam.com", 0));
	CHECK(!mail(t, "a@notisendspam.com", 0));
	CHECK(!mail(t, "a@ok.isendspam.com", 0));
	CHECK(!mail(t, "a@x.ok.isendspam.com", 0));
	/* @dom is the domain alone; .dom the names below. */
	CHECK(mail(t, "x@exact.test", 0));
	CHECK(!mail(t, "x@sub.exact.test", 0));
	CHECK(mail(t, "x@a.below.test", 0));
	CHECK(!mail(t, "x@below.test", 0));
	/* user@ any domain; <> the null sender. */
	CHECK(mail(t, "postmaster@anywhere.test", 0));
	CHECK(mail(t, "", 0));
	CHECK(!mail(t, "nobody@anywhere.test", 0));
	/* A word is a local user: protected domains or no domain. */
	CHECK(mail(t, "chris@mydomain.test", 1));
	CHECK(!mail(t, "chris@elsewhere.test", 0));
	CHECK(mail(t, "chris", 0));
	/* Globs: with '@' the whole address, without it the domain. */
	CHECK(mail(t, "a@b.glob.test", 0));
	CHECK(!mail(t, "a@glob.test", 0));
	CHECK(mail(t, "x@news.savetrees.com", 0));
	CHECK(mail(t, "x@savetrees.commercial.test", 0));
	CHECK(mail(t, "x@mail.juno.com", 0));
	CHECK(mail(t, "x@juno.com", 0));
	/* Address literals. */
	CHECK(mail(t, "user@[192.0.2.1]", 0));
	CHECK(!mail(t, "user@[192.0.2.2]", 0));
	/* An address or network: SCO's protected "IP address". */
	CHECK(mail(t, "anyone@[198.51.100.7]", 0));
	CHECK(!mail(t, "anyone@[198.51.101.7]", 0));
	table_free(t);

	/* Shapes that are mistakes. */
	t = table_new("bad");
	CHECK(table_add(t, "192.168.1.0/33", NULL, 0, &err) == -1);
	CHECK(table_add(t, "10.0.67", NULL, 0, &err) == -1);
	CHECK(table_add(t, "a@b..c", NULL, 0, &err) == -1);
	CHECK(table_add(t, "@", NULL, 0, &err) == -1);
	CHECK(table_add(t, "a b", NULL, 0, &err) == -1);
	CHECK(table_add(t, "", NULL, 0, &err) == -1);
	CHECK(table_add(t, "!", NULL, 0, &err) == -1);
	CHECK(table_add(t, "x..y", NULL, 0, &err) == -1);
	CHECK(table_add(t, "(", NULL, TABLE_F_REGEX, &err) == -1);
	CHECK(err != NULL && *err != '\0');
	CHECK(table_count(t) == 0);
	table_free(t);
}

static void
test_host_string(void)
{
	const char	*keys[] = { "localhost", "mx.spam.test", "*.ns.test",
	    "192.0.2.0/24", NULL };
	struct table	*t = mk("h", keys);
	struct client_addr *a;

	CHECK(host(t, "LOCALHOST"));
	CHECK(host(t, "mx.spam.test"));
	CHECK(!host(t, "spam.test"));
	CHECK(host(t, "a.ns.test"));
	CHECK(host(t, "[192.0.2.7]"));
	CHECK(!host(t, "[198.51.100.7]"));
	a = ca("192.0.2.9");
	CHECK(table_match_host(t, NULL, a, NULL));
	CHECK(table_match_host(t, "unrelated.test", a, NULL));
	CHECK(table_match_string(t, "LocalHost", NULL));
	CHECK(!table_match_string(t, "other", NULL));
	CHECK(table_match_string(t, "x.ns.test", NULL));
	table_free(t);
}

static void
test_regex_values(void)
{
	struct table	*t = table_new("r");
	const char	*err, *v = NULL;

	CHECK(table_add(t, "^[0-9]+@", NULL, TABLE_F_REGEX, &err) == 0);
	CHECK(table_add(t, "bomb20.pdev.sco.com",
	    "Mail rejected, contact postmaster@mydomain.com", 0, &err) == 0);
	CHECK(table_add(t, "10.0.67.15", "Go away", 0, &err) == 0);
	CHECK(table_add(t, "\\.example$", NULL, TABLE_F_REGEX |
	    TABLE_F_EXCEPT, &err) == 0);
	CHECK(mail(t, "12345@spam.test", 0));
	CHECK(mail(t, "12345@SPAM.TEST", 0));
	CHECK(!mail(t, "a12345@spam.test", 0));
	CHECK(!mail(t, "12345@host.example", 0));
	CHECK(table_match_client(t, ca("198.51.100.1"), "bomb20.pdev.sco.com",
	    &v) && strcmp(v, "Mail rejected, contact postmaster@mydomain.com")
	    == 0);
	CHECK(table_match_client(t, ca("10.0.67.15"), NULL, &v) &&
	    strcmp(v, "Go away") == 0);
	/* The host name comes first, as in Postfix. */
	CHECK(table_match_client(t, ca("10.0.67.15"), "bomb20.pdev.sco.com",
	    &v) && strcmp(v, "Go away") != 0);
	table_free(t);
}

struct errs {
	int	n;
	int	lines[16];
};

static void
collect(void *arg, int lineno, const char *msg)
{
	struct errs	*e = arg;

	if (e->n < 16)
		e->lines[e->n] = lineno;
	e->n++;
}

static void
test_files(void)
{
	/* SCO's spammers and protected files, Obtuse and smap forms. */
	const char	 sco[] =
	    "# spammers\n"
	    "bomb20.pdev.sco.com\tMail rejected, contact postmaster@x.com\n"
	    "10.0.67.15\t\tMail rejected, contact postmaster@x.com\n"
	    "\n"
	    "   # indented comment\n"
	    "chris\t\t\t\tPROTECTED\r\n"
	    "!good.pdev.sco.com\n"
	    "regex \"^spam [0-9]+$\"   with value\n"
	    "! regex ^ok\n"
	    "foobar.com\tPROTECTED";
	const char	 bad[] = "ok.test\n10.0.67\nfine\nx\001y v\n"
	    "regex \"unclosed\nregex (\nlast.test";
	struct table	*t;
	struct errs	 e;
	const char	*v;
	char		 nul[] = "a.test\nb\0.test\nc.test\n";

	t = table_new("sco");
	memset(&e, 0, sizeof(e));
	CHECK(table_load_buf(t, sco, sizeof(sco) - 1, collect, &e) == 0);
	CHECK(e.n == 0);
	CHECK(table_count(t) == 7);
	CHECK(table_match_client(t, ca("10.0.67.15"), NULL, &v) &&
	    strcmp(v, "Mail rejected, contact postmaster@x.com") == 0);
	CHECK(table_match_mail(t, "chris@here.test", 1, &v) &&
	    strcmp(v, "PROTECTED") == 0);
	CHECK(table_match_mail(t, "x@a.foobar.com", 0, &v) &&
	    strcmp(v, "PROTECTED") == 0);
	CHECK(table_match_string(t, "spam 42", &v) &&
	    strcmp(v, "with value") == 0);
	CHECK(!table_match_string(t, "ok", NULL));
	CHECK(!client(t, "192.0.2.1", "good.pdev.sco.com"));
	table_free(t);

	t = table_new("bad");
	memset(&e, 0, sizeof(e));
	CHECK(table_load_buf(t, bad, sizeof(bad) - 1, collect, &e) == 4);
	CHECK(e.n == 4 && e.lines[0] == 2 && e.lines[1] == 4 &&
	    e.lines[2] == 5 && e.lines[3] == 6);
	CHECK(table_count(t) == 3);
	table_free(t);

	t = table_new("nul");
	memset(&e, 0, sizeof(e));
	CHECK(table_load_buf(t, nul, sizeof(nul) - 1, collect, &e) == 1);
	CHECK(e.n == 1 && e.lines[0] == 2);
	CHECK(table_count(t) == 2);
	table_free(t);
}

/*
 * One key asked of many tables, as a walk of the rules does: the same
 * answers as a lookup of its own.  Also what the key keeps: parents past
 * TABLE_KEY_CUTS dots, networks longest first, the literal end of globs.
 */
static void
test_keys(void)
{
	const char	*k2[] = { "*@spam?.test", "*.[ch]", "a[bc", "x*yz",
	    "*@*.glob.test", NULL };
	const char	*k3[] = { "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.test",
	    "user@", "list", NULL };
	struct table	*t1 = table_new("k1"), *t2, *t3;
	struct table_key k;
	const char	*err, *v;
	char		 deep[128];
	int		 i;

	CHECK(table_add(t1, "10.0.0.0/8", "8", 0, &err) == 0);
	CHECK(table_add(t1, "10.1.2.3", "32", 0, &err) == 0);
	CHECK(table_add(t1, "10.1.0.0/16", "16", 0, &err) == 0);
	CHECK(table_add(t1, ".deep.test", "deep", 0, &err) == 0);
	t2 = mk("k2", k2);
	t3 = mk("k3", k3);

	table_key_client(&k, ca("10.1.2.3"), NULL);
	CHECK(table_lookup_host(t1, &k, &v) && strcmp(v, "32") == 0);
	CHECK(!table_lookup_host(t2, &k, NULL));
	CHECK(table_lookup_host(t1, &k, &v) && strcmp(v, "32") == 0);
	table_key_client(&k, ca("10.1.9.9"), NULL);
	CHECK(table_lookup_host(t1, &k, &v) && strcmp(v, "16") == 0);
	table_key_client(&k, ca("10.9.9.9"), NULL);
	CHECK(table_lookup_host(t1, &k, &v) && strcmp(v, "8") == 0);
	CHECK(!client(t1, "11.1.2.3", NULL));

	/* More dots than the key keeps hashes for. */
	strlcpy(deep, "h", sizeof(deep));
	for (i = 0; i < 20; i++)
		strlcat(deep, ".x", sizeof(deep));
	strlcat(deep, ".DEEP.test", sizeof(deep));
	table_key_host(&k, deep, NULL);
	CHECK(table_lookup_host(t1, &k, &v) && strcmp(v, "deep") == 0);
	CHECK(!table_lookup_host(t2, &k, NULL));
	CHECK(host(t1, deep));
	CHECK(mail(t3, "u@Z.A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q.R.TEST", 0));
	CHECK(!mail(t3, "u@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.s.test", 0));

	/* Globs: the literal end decides first, fnmatch(3) the rest. */
	CHECK(mail(t2, "x@spam1.test", 0));
	CHECK(!mail(t2, "x@spam12.test", 0));
	CHECK(!mail(t2, "x@spam1.tests", 0));
	CHECK(host(t2, "main.c") && host(t2, "main.h"));
	CHECK(!host(t2, "main.o") && !host(t2, "main.cc"));
	CHECK(host(t2, "a[bc") && !host(t2, "abc"));
	CHECK(host(t2, "xyz") && host(t2, "x-yz") && !host(t2, "xyzz"));
	CHECK(mail(t2, "a@b.glob.test", 0) && !mail(t2, "a@glob.test", 0));

	/* One mail key, three tables, as many rules. */
	table_key_mail(&k, "User@List");
	CHECK(!table_lookup_mail(t2, &k, 0, NULL));
	CHECK(table_lookup_mail(t3, &k, 0, NULL));
	CHECK(!table_lookup_mail(t1, &k, 0, NULL));
	table_key_mail(&k, "other@host");
	CHECK(!table_lookup_mail(t3, &k, 0, NULL));
	CHECK(!table_lookup_mail(t3, &k, 1, NULL));
	table_key_mail(&k, "list@here");
	CHECK(table_lookup_mail(t3, &k, 1, NULL));
	CHECK(!table_lookup_mail(t3, &k, 0, NULL));
	table_key_string(&k, "LIST");
	CHECK(table_lookup_string(t3, &k, NULL));
	CHECK(!table_lookup_string(t1, &k, NULL));
	table_free(t1);
	table_free(t2);
	table_free(t3);
}

/* 100,000 entries: every one found, near misses not, and quickly. */
static void
test_large(void)
{
	struct table	*t = table_new("large");
	struct timespec	 t0, t1;
	char		 key[64];
	const char	*err;
	int		 i, found = 0, missed = 0;
	double		 ns;

	for (i = 0; i < 100000; i++) {
		switch (i % 4) {
		case 0:
			snprintf(key, sizeof(key), "spam%d.test", i);
			break;
		case 1:
			snprintf(key, sizeof(key), "u%d@host.test", i);
			break;
		case 2:
			snprintf(key, sizeof(key), "10.%d.%d.0/24",
			    (i >> 8) & 0xff, i & 0xff);
			break;
		default:
			snprintf(key, sizeof(key), "2001:db8:%x:%x::/64",
			    i >> 16, i & 0xffff);
			break;
		}
		if (table_add(t, key, NULL, 0, &err) == -1) {
			fprintf(stderr, "FAIL: %s: %s\n", key, err);
			failures++;
			break;
		}
	}
	CHECK(table_count(t) == 100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100000; i += 4) {
		snprintf(key, sizeof(key), "x@a.spam%d.test", i);
		found += mail(t, key, 0);
		snprintf(key, sizeof(key), "u%d@host.test", i + 1);
		found += mail(t, key, 0);
		snprintf(key, sizeof(key), "u%d@host.test", i);
		missed += mail(t, key, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(found == 50000);
	CHECK(missed == 0);
	CHECK(client(t, "10.1.2.3", NULL));
	CHECK(client(t, "2001:db8:0:b::1", NULL));
	CHECK(!client(t, "11.1.2.3", NULL));
	ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	    75000.0;
	printf("100,000 entries: %.0f ns a lookup\n", ns);
	table_free(t);
}

int
main(void)
{
	test_client();
	test_mail();
	test_host_string();
	test_regex_values();
	test_keys();
	test_files();
	test_large();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return (1);
	}
	printf("test_table: ok\n");
	return (0);
}
