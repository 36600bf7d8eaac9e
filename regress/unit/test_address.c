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
	const char	*out;		/* with ADDR_OK */
	const char	*domain;
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
	{ "<@relay.test>",		ADDR_BAD, NULL, NULL },
	{ "<@relay.test:>",		ADDR_BAD, NULL, NULL },
	/* Quoted local parts are kept as written, '@' inside included. */
	{ "<\"john doe\"@example.net>",	ADDR_OK, "\"john doe\"@example.net", "example.net" },
	{ "<\"a@b\"@Example.net>",	ADDR_OK, "\"a@b\"@example.net", "example.net" },
	{ "<\"esc\\\"aped\"@example.net>", ADDR_OK, "\"esc\\\"aped\"@example.net", "example.net" },
	{ "<\"unterminated@example.net>", ADDR_BAD, NULL, NULL },
	{ "<\"q\"x@example.net>",	ADDR_BAD, NULL, NULL },
	{ "<user%other@example.net>",	ADDR_OK, "user%other@example.net", "example.net" },
	{ "<a+tag@example.net>",	ADDR_OK, "a+tag@example.net", "example.net" },
	{ "<x@[192.0.2.1]>",		ADDR_OK, "x@[192.0.2.1]", "[192.0.2.1]" },
	/* UTF-8 passes through untouched. */
	{ "<j\xc3\xb6rg@example.net>",	ADDR_OK, "j\xc3\xb6rg@example.net", "example.net" },
	/* No domain: not verified. */
	{ "<postmaster>",		ADDR_NODOMAIN, NULL, NULL },
	{ "postmaster",			ADDR_NODOMAIN, NULL, NULL },
	{ "<user@>",			ADDR_NODOMAIN, NULL, NULL },
	{ "<user@.>",			ADDR_NODOMAIN, NULL, NULL },
	/* Junk. */
	{ "",				ADDR_BAD, NULL, NULL },
	{ "<>",				ADDR_BAD, NULL, NULL },
	{ "<",				ADDR_BAD, NULL, NULL },
	{ ">",				ADDR_BAD, NULL, NULL },
	{ "<alice@example.net",		ADDR_BAD, NULL, NULL },
	{ "alice@example.net>",		ADDR_BAD, NULL, NULL },
	{ "<@example.net>",		ADDR_BAD, NULL, NULL },
	{ "<a@b@example.net>",		ADDR_BAD, NULL, NULL },
	{ "<a b@example.net>",		ADDR_BAD, NULL, NULL },
	{ "<a@exa mple.net>",		ADDR_BAD, NULL, NULL },
	{ "<a@example..net>",		ADDR_BAD, NULL, NULL },
	{ "<a@.example.net>",		ADDR_BAD, NULL, NULL },
	{ "<a@example.net..>",		ADDR_BAD, NULL, NULL },
	{ "<a@exa[mple.net>",		ADDR_BAD, NULL, NULL },
	{ "<<a@example.net>>",		ADDR_BAD, NULL, NULL },
	/* Control characters anywhere. */
	{ "<a\r\n@example.net>",	ADDR_BAD, NULL, NULL },
	{ "<a@example.net\n>",		ADDR_BAD, NULL, NULL },
	{ "<a\x01@example.net>",	ADDR_BAD, NULL, NULL },
	{ "<a\x7f@example.net>",	ADDR_BAD, NULL, NULL },
	{ "<\"a\x1b\"@example.net>",	ADDR_BAD, NULL, NULL },
	{ "<\"a\tb\"@example.net>",	ADDR_BAD, NULL, NULL },
	{ "\t<a@example.net> ",	ADDR_OK, "a@example.net", "example.net" },
};

static void
test_normalise(void)
{
	char		 out[ADDR_LEN], in[600];
	size_t		 i, off;
	int		 rc;

	for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		memset(out, 'X', sizeof(out));
		off = 9999;
		rc = addr_normalise(ncases[i].in, out, sizeof(out), &off);
		if (rc != ncases[i].rc) {
			fprintf(stderr, "FAIL normalise \"%s\": %d, want %d\n",
			    ncases[i].in, rc, ncases[i].rc);
			failures++;
			continue;
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
	CHECK(addr_normalise(NULL, out, sizeof(out), &off) == ADDR_BAD);

	/* 254 octets are fine, 255 are not (RFC 5321 path limit). */
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	memcpy(in + 1 + 254 - 12, "@example.net>", 14);
	CHECK(strlen(in) == 256);
	CHECK(addr_normalise(in, out, sizeof(out), &off) == ADDR_OK);
	CHECK(strlen(out) == 254);
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	memcpy(in + 1 + 255 - 12, "@example.net>", 14);
	CHECK(addr_normalise(in, out, sizeof(out), &off) == ADDR_BAD);
	/* A huge one neither overflows nor passes. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[300] = '@';
	CHECK(addr_normalise(in, out, sizeof(out), &off) == ADDR_BAD);
	/* A small output buffer is refused, not overrun. */
	CHECK(addr_normalise("<alice@example.net>", out, 10, &off) == ADDR_BAD);
	/* The trailing dot is not counted against the limit. */
	printf("ok normalise (%zu cases)\n",
	    sizeof(ncases) / sizeof(ncases[0]));
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
	CHECK(!addr_domain_match(".example.net", "example.net", 1));
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
	test_domain_match();
	test_client();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return (1);
	}
	return (0);
}
