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
 * Unit test of scam-back/address.c: recipient normalisation (brackets,
 * source routes, quoted local parts, case, overlong addresses, control
 * characters, no domain), domain matching, client addresses and CIDR.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"

static int	failures;

#define CHECK(e)	do {						\
	if (!(e)) {							\
		fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #e);	\
		failures++;						\
	}								\
} while (0)

struct ncase {
	const char	*in;
	int		 rc;
	const char	*out;		/* the key, or the domain (IMPOSSIBLE) */
	const char	*domain;	/* ADDR_OK: the key's domain; */
					/* IMPOSSIBLE: why */
};

static const struct ncase ncases[] = {
	{ "<alice@example.net>",	ADDR_OK, "alice@example.net", "example.net" },
	{ "alice@example.net",		ADDR_OK, "alice@example.net", "example.net" },
	{ "  <alice@example.net>  ",	ADDR_OK, "alice@example.net", "example.net" },
	/* The domain is lowercased; the local part keeps its case. */
	{ "<Alice.Smith@EXAMPLE.Net>",	ADDR_OK, "Alice.Smith@example.net", "example.net" },
	{ "<alice@example.net.>",	ADDR_OK, "alice@example.net", "example.net" },
	/* Source routes are dropped. */
	{ "<@relay.test:bob@example.net>", ADDR_OK, "bob@example.net", "example.net" },
	{ "<@a.test,@b.test:Bob@Example.NET>", ADDR_OK, "Bob@example.net", "example.net" },
	{ "<@relay.test:>",		ADDR_BAD, NULL, NULL },
	/* Quoted local parts are kept as written, '@' '<' '>' inside too. */
	{ "<\"john doe\"@example.net>",	ADDR_OK, "\"john doe\"@example.net", "example.net" },
	{ "<\"a@b\"@Example.net>",	ADDR_OK, "\"a@b\"@example.net", "example.net" },
	{ "<\"esc\\\"aped\"@example.net>", ADDR_OK, "\"esc\\\"aped\"@example.net", "example.net" },
	{ "<\"x>y\"@example.net>",	ADDR_OK, "\"x>y\"@example.net", "example.net" },
	{ "<\"x<y\"@example.net>",	ADDR_OK, "\"x<y\"@example.net", "example.net" },
	{ "<\"<>\"@example.net>",	ADDR_OK, "\"<>\"@example.net", "example.net" },
	{ "<user%other@example.net>",	ADDR_OK, "user%other@example.net", "example.net" },
	{ "<a+tag@example.net>",	ADDR_OK, "a+tag@example.net", "example.net" },
	{ "<x@[192.0.2.1]>",		ADDR_OK, "x@[192.0.2.1]", "[192.0.2.1]" },
	/* Dots out of place: the prober quotes them on the wire. */
	{ "<a..b@example.net>",		ADDR_OK, "a..b@example.net", "example.net" },
	{ "<.a@example.net>",		ADDR_OK, ".a@example.net", "example.net" },
	/* UTF-8 passes through untouched. */
	{ "<j\xc3\xb6rg@example.net>",	ADDR_OK, "j\xc3\xb6rg@example.net", "example.net" },
	/* No domain: not verified. */
	{ "<postmaster>",		ADDR_NODOMAIN, NULL, NULL },
	{ "postmaster",			ADDR_NODOMAIN, NULL, NULL },
	{ "<user@>",			ADDR_NODOMAIN, NULL, NULL },
	{ "<user@.>",			ADDR_NODOMAIN, NULL, NULL },
	/* Junk without a domain. */
	{ "",				ADDR_BAD, NULL, NULL },
	{ "<>",				ADDR_BAD, NULL, NULL },
	{ "<",				ADDR_BAD, NULL, NULL },
	{ ">",				ADDR_BAD, NULL, NULL },
	{ "<\"unterminated>",		ADDR_BAD, NULL, NULL },
	{ "<a\x01>",			ADDR_BAD, NULL, NULL },
	/* A domain, but no mailbox: refused in a verified domain. */
	{ "<@relay.test>",		ADDR_IMPOSSIBLE, "relay.test", "no-local-part" },
	{ "<@example.net>",		ADDR_IMPOSSIBLE, "example.net", "no-local-part" },
	{ "<\"\"@example.net>",		ADDR_IMPOSSIBLE, "example.net", "no-local-part" },
	{ "<\"unterminated@example.net>", ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<\"q\"x@example.net>",	ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<x\"q\"@example.net>",	ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<alice@example.net",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "alice@example.net>",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<a@b@example.net>",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<a b@example.net>",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<a\\b@example.net>",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<a,b@Example.net>",		ADDR_IMPOSSIBLE, "example.net", "syntax" },
	{ "<a@exa mple.net>",		ADDR_IMPOSSIBLE, "exa mple.net", "syntax" },
	{ "<a@example..net>",		ADDR_IMPOSSIBLE, "example..net", "syntax" },
	{ "<a@.example.net>",		ADDR_IMPOSSIBLE, ".example.net", "syntax" },
	{ "<a@example.net..>",		ADDR_IMPOSSIBLE, "example.net.", "syntax" },
	{ "<a@exa[mple.net>",		ADDR_IMPOSSIBLE, "exa[mple.net", "syntax" },
	{ "<<a@example.net>>",		ADDR_IMPOSSIBLE, "example.net>", "syntax" },
	/* Control characters anywhere. */
	{ "<a\r\n@example.net>",	ADDR_IMPOSSIBLE, "example.net", "control-character" },
	{ "<a@example.net\n>",		ADDR_IMPOSSIBLE, "example.net\n", "control-character" },
	{ "<a\x01@example.net>",	ADDR_IMPOSSIBLE, "example.net", "control-character" },
	{ "<a\x7f@example.net>",	ADDR_IMPOSSIBLE, "example.net", "control-character" },
	{ "<\"a\x1b\"@example.net>",	ADDR_IMPOSSIBLE, "example.net", "control-character" },
	{ "<\"a\tb\"@example.net>",	ADDR_IMPOSSIBLE, "example.net", "control-character" },
	{ "\t<a@example.net> ",	ADDR_OK, "a@example.net", "example.net" },
};

static void
test_normalise(void)
{
	char		 out[ADDR_LEN], in[600];
	const char	*why;
	size_t		 i, off;
	int		 rc;

	for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		memset(out, 'X', sizeof(out));
		off = 9999;
		rc = addr_normalise(ncases[i].in, out, sizeof(out), &off,
		    &why);
		if (rc != ncases[i].rc) {
			fprintf(stderr, "FAIL normalise \"%s\": %d, want %d\n",
			    ncases[i].in, rc, ncases[i].rc);
			failures++;
			continue;
		}
		if (rc == ADDR_IMPOSSIBLE) {
			if (off != 0 || strcmp(out, ncases[i].out) != 0 ||
			    why == NULL || strcmp(why, ncases[i].domain) != 0) {
				fprintf(stderr, "FAIL normalise \"%s\": domain "
				    "\"%s\" why %s\n", ncases[i].in, out,
				    why == NULL ? "none" : why);
				failures++;
			}
			continue;
		}
		if (why != NULL) {
			fprintf(stderr, "FAIL normalise \"%s\": why %s\n",
			    ncases[i].in, why);
			failures++;
		}
		if (rc != ADDR_OK)
			continue;
		if (strcmp(out, ncases[i].out) != 0 ||
		    off >= strlen(out) ||
		    strcmp(out + off, ncases[i].domain) != 0) {
			fprintf(stderr, "FAIL normalise \"%s\": \"%s\" "
			    "domain \"%s\"\n", ncases[i].in, out,
			    off < sizeof(out) ? out + off : "?");
			failures++;
		}
	}
	CHECK(addr_normalise(NULL, out, sizeof(out), &off, NULL) == ADDR_BAD);

	/* 254 octets are fine, 255 are not (RFC 5321 path limit). */
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	memcpy(in + 1 + 254 - 12, "@example.net>", 14);
	CHECK(strlen(in) == 256);
	CHECK(addr_normalise(in, out, sizeof(out), &off, NULL) == ADDR_OK);
	CHECK(strlen(out) == 254);
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	memcpy(in + 1 + 255 - 12, "@example.net>", 14);
	CHECK(addr_normalise(in, out, sizeof(out), &off, &why) ==
	    ADDR_IMPOSSIBLE && strcmp(out, "example.net") == 0 &&
	    strcmp(why, "too-long") == 0);
	/* A huge one neither overflows nor passes. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[300] = '@';
	CHECK(addr_normalise(in, out, sizeof(out), &off, &why) ==
	    ADDR_IMPOSSIBLE && strcmp(why, "too-long") == 0 &&
	    strlen(out) == sizeof(out) - 1);
	/* A domain too long for out: its rightmost whole labels. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[1] = '@';
	for (i = 10; i < sizeof(in) - 20; i += 10)
		in[i] = '.';
	memcpy(in + sizeof(in) - 13, ".Example.NET", 13);
	CHECK(addr_normalise(in, out, sizeof(out), &off, &why) ==
	    ADDR_IMPOSSIBLE && strcmp(why, "too-long") == 0 &&
	    strlen(out) < sizeof(out) && out[0] != '.' &&
	    strcmp(out + strlen(out) - 12, ".example.net") == 0);
	/* A small output buffer is refused, not overrun. */
	CHECK(addr_normalise("<alice@example.net>", out, 10, &off, NULL) ==
	    ADDR_BAD);
	CHECK(addr_normalise("<a\x01@example.net>", out, 5, &off, NULL) ==
	    ADDR_IMPOSSIBLE && strcmp(out, "net") == 0);
	printf("ok normalise (%zu cases)\n",
	    sizeof(ncases) / sizeof(ncases[0]));
}

/* The path on the wire: as the MTA gave it, quoted where it must be. */
static void
test_path(void)
{
	char	 buf[64];

	CHECK(addr_path("alice@example.net", buf, sizeof(buf)) == 17 &&
	    strcmp(buf, "alice@example.net") == 0);
	CHECK(addr_path("a.b+c@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "a.b+c@example.net") == 0);
	CHECK(addr_path("\"x>y\"@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "\"x>y\"@example.net") == 0);
	CHECK(addr_path("\"john\"@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "\"john\"@example.net") == 0);
	CHECK(addr_path("a..b@example.net", buf, sizeof(buf)) == 18 &&
	    strcmp(buf, "\"a..b\"@example.net") == 0);
	CHECK(addr_path(".a@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "\".a\"@example.net") == 0);
	CHECK(addr_path("a.@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "\"a.\"@example.net") == 0);
	/* Not what the engine makes, but quoted right all the same. */
	CHECK(addr_path("a\"b\\c@example.net", buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "\"a\\\"b\\\\c\"@example.net") == 0);
	CHECK(addr_path("a..b@example.net", buf, 18) == -1);
	CHECK(addr_path("a..b@example.net", buf, 19) == 18);
	CHECK(addr_path("alice@example.net", buf, 17) == -1);
	printf("ok path\n");
}

static void
test_domain_match(void)
{
	CHECK(addr_domain_match("example.net", "example.net", 0));
	CHECK(addr_domain_match("example.net", "example.net", 1));
	CHECK(!addr_domain_match("mx.example.net", "example.net", 0));
	CHECK(addr_domain_match("mx.example.net", "example.net", 1));
	CHECK(addr_domain_match("a.b.example.net", "example.net", 1));
	/* A suffix is not a subdomain. */
	CHECK(!addr_domain_match("badexample.net", "example.net", 1));
	/* Broken, but under it: refused there, not waved through. */
	CHECK(addr_domain_match(".example.net", "example.net", 1));
	CHECK(!addr_domain_match(".example.net", "example.net", 0));
	CHECK(!addr_domain_match("example.net", "mx.example.net", 1));
	CHECK(!addr_domain_match("net", "example.net", 1));
	CHECK(!addr_domain_match("example.net", "", 1));
	printf("ok domain match\n");
}

static struct skip_net *
net(const char *s, int len)
{
	static struct skip_net	n;

	memset(&n, 0, sizeof(n));
	if (inet_pton(AF_INET, s, &n.addr.v4) == 1)
		n.af = AF_INET;
	else if (inet_pton(AF_INET6, s, &n.addr.v6) == 1)
		n.af = AF_INET6;
	n.prefixlen = len;
	return (&n);
}

static void
test_client(void)
{
	struct client_addr	 c;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr		 sa;
	char			 buf[64];

	CHECK(client_from_string(&c, "192.0.2.7") == 0 && c.af == AF_INET);
	CHECK(strcmp(client_string(&c, buf, sizeof(buf)), "192.0.2.7") == 0);
	CHECK(!client_is_local(&c));
	CHECK(client_in_net(&c, net("192.0.2.0", 24)));
	CHECK(client_in_net(&c, net("192.0.2.7", 32)));
	CHECK(!client_in_net(&c, net("192.0.2.8", 32)));
	CHECK(client_in_net(&c, net("192.0.2.6", 31)));
	CHECK(!client_in_net(&c, net("192.0.2.8", 29)));
	CHECK(client_in_net(&c, net("0.0.0.0", 0)));
	CHECK(client_in_net(&c, net("192.0.0.0", 22)));
	CHECK(!client_in_net(&c, net("192.0.4.0", 22)));
	CHECK(!client_in_net(&c, net("2001:db8::", 32)));

	CHECK(client_from_string(&c, "IPv6:2001:db8::5") == 0 &&
	    c.af == AF_INET6);
	CHECK(strcmp(client_string(&c, buf, sizeof(buf)), "2001:db8::5") == 0);
	CHECK(client_in_net(&c, net("2001:db8::", 32)));
	CHECK(client_in_net(&c, net("2001:db8::4", 126)));
	CHECK(!client_in_net(&c, net("2001:db8::4", 128)));
	CHECK(!client_in_net(&c, net("2001:db9::", 32)));
	CHECK(!client_in_net(&c, net("192.0.2.0", 24)));
	CHECK(!client_is_local(&c));
	CHECK(client_from_string(&c, "[2001:db8::5]") == 0 &&
	    c.af == AF_INET6);

	/* Mapped addresses are IPv4 for every rule. */
	CHECK(client_from_string(&c, "::ffff:192.0.2.7") == 0 &&
	    c.af == AF_INET);
	CHECK(client_in_net(&c, net("192.0.2.0", 24)));

	CHECK(client_from_string(&c, "127.0.0.1") == 0 && client_is_local(&c));
	CHECK(client_from_string(&c, "127.4.5.6") == 0 && client_is_local(&c));
	CHECK(client_from_string(&c, "::1") == 0 && client_is_local(&c));
	CHECK(client_from_string(&c, "128.0.0.1") == 0 && !client_is_local(&c));

	/* Unknown clients are local and in no network. */
	CHECK(client_from_string(&c, "localhost") == -1 && c.af == 0);
	CHECK(client_is_local(&c));
	CHECK(!client_in_net(&c, net("0.0.0.0", 0)));
	CHECK(strcmp(client_string(&c, buf, sizeof(buf)), "unknown") == 0);
	CHECK(client_from_string(&c, NULL) == -1);
	CHECK(client_from_string(&c, "") == -1);
	CHECK(client_from_string(&c, "1.2.3.4.5") == -1);
	CHECK(client_from_string(&c,
	    "IPv6:1111:2222:3333:4444:5555:6666:7777:8888:9999:0000") == -1);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "203.0.113.5", &sin.sin_addr);
	client_from_sockaddr(&c, (struct sockaddr *)&sin);
	CHECK(c.af == AF_INET &&
	    strcmp(client_string(&c, buf, sizeof(buf)), "203.0.113.5") == 0);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:203.0.113.5", &sin6.sin6_addr);
	client_from_sockaddr(&c, (struct sockaddr *)&sin6);
	CHECK(c.af == AF_INET &&
	    strcmp(client_string(&c, buf, sizeof(buf)), "203.0.113.5") == 0);
	inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
	client_from_sockaddr(&c, (struct sockaddr *)&sin6);
	CHECK(c.af == AF_INET6);
	client_from_sockaddr(&c, NULL);
	CHECK(c.af == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	client_from_sockaddr(&c, &sa);
	CHECK(c.af == 0 && client_is_local(&c));
	printf("ok client addresses and CIDR\n");
}

int
main(void)
{
	test_normalise();
	test_path();
	test_domain_match();
	test_client();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return (1);
	}
	return (0);
}
