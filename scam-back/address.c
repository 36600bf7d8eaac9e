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
 * Addresses as the MTA hands them over: recipient normalisation (the
 * cache key), domain matching, client addresses and CIDR matching.  Input
 * comes from strangers on the internet: every function copes with any
 * string.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"

static int	lower(int);

/* ASCII only: the locale must not change what a domain is. */
static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/*
 * Turn a RCPT TO argument into the cache key: brackets and any source
 * route stripped, the local part kept as written (quotes included: some
 * backends are case-sensitive), the domain lowercased without a trailing
 * dot.  *domoff gets the offset of the domain in out.  Returns ADDR_OK,
 * ADDR_NODOMAIN or ADDR_BAD; out is written only with ADDR_OK.
 */
int
addr_normalise(const char *in, char *out, size_t outsz, size_t *domoff)
{
	const char	*p, *end, *at = NULL, *s;
	size_t		 llen, dlen, i;

	if (in == NULL)
		return (ADDR_BAD);

	/* Trim blanks; any control character left (a tab too) is junk. */
	p = in;
	end = in + strlen(in);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (s = p; s < end; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (ADDR_BAD);

	/* One pair of angle brackets. */
	if (p < end && *p == '<') {
		if (end[-1] != '>' || end - p < 2)
			return (ADDR_BAD);
		p++;
		end--;
	} else if (p < end && end[-1] == '>')
		return (ADDR_BAD);
	if (p == end)
		return (ADDR_BAD);

	/* A source route, @a,@b:user@domain, routes nothing any more. */
	if (*p == '@') {
		while (p < end && *p != ':') {
			if (*p == '"' || *p == '<' || *p == '>')
				return (ADDR_BAD);
			p++;
		}
		if (p == end)
			return (ADDR_BAD);
		p++;
		if (p == end)
			return (ADDR_BAD);
	}

	/* The local part: a quoted string or up to the first '@'. */
	s = p;
	if (*s == '"') {
		for (s++; s < end && *s != '"'; s++)
			if (*s == '\\' && ++s == end)
				return (ADDR_BAD);
		if (s == end)
			return (ADDR_BAD);
		s++;
		if (s < end && *s != '@')
			return (ADDR_BAD);
	} else
		while (s < end && *s != '@') {
			if (*s == ' ' || *s == '\t' || *s == '<' ||
			    *s == '>' || *s == '"')
				return (ADDR_BAD);
			s++;
		}
	if (s < end)
		at = s;
	llen = (at != NULL ? at : end) - p;
	if (llen == 0)
		return (ADDR_BAD);
	if (at == NULL)
		return (ADDR_NODOMAIN);

	/*
	 * The domain: one trailing dot dropped; no empty labels, no '@',
	 * blanks, quotes or brackets but those of an address literal.
	 */
	dlen = end - (at + 1);
	if (dlen > 0 && at[dlen] == '.')
		dlen--;
	if (dlen == 0)
		return (ADDR_NODOMAIN);
	if (at[dlen] == '.')
		return (ADDR_BAD);
	for (i = 0; i < dlen; i++) {
		switch (at[1 + i]) {
		case '.':
			if (at[1] != '[' && (i == 0 || at[i] == '.'))
				return (ADDR_BAD);
			break;
		case '[':
		case ']':
			if (at[1] != '[' || at[dlen] != ']' ||
			    (i != 0 && i != dlen - 1))
				return (ADDR_BAD);
			break;
		case '@':
		case ' ':
		case '\t':
		case '<':
		case '>':
		case '"':
		case '\\':
			return (ADDR_BAD);
		}
	}

	if (llen + 1 + dlen > ADDR_MAX || llen + 1 + dlen + 1 > outsz)
		return (ADDR_BAD);
	memcpy(out, p, llen);
	out[llen] = '@';
	for (i = 0; i < dlen; i++)
		out[llen + 1 + i] = lower((unsigned char)at[1 + i]);
	out[llen + 1 + dlen] = '\0';
	if (domoff != NULL)
		*domoff = llen + 1;
	return (ADDR_OK);
}

/*
 * Does domain (lowercase) fall under pattern (lowercase)?  Exactly, or
 * with subdomains set also any name ending in "." pattern.
 */
int
addr_domain_match(const char *domain, const char *pattern, int subdomains)
{
	size_t	dl, pl;

	if (strcmp(domain, pattern) == 0)
		return (1);
	if (!subdomains)
		return (0);
	dl = strlen(domain);
	pl = strlen(pattern);
	return (pl > 0 && dl > pl + 1 && domain[dl - pl - 1] == '.' &&
	    strcmp(domain + dl - pl, pattern) == 0);
}

/* IPv4-mapped IPv6 addresses are IPv4 clients for every rule. */
void
client_from_sockaddr(struct client_addr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(c, 0, sizeof(*c));
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		c->af = AF_INET;
		c->a.v4 = sin->sin_addr;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			c->af = AF_INET;
			memcpy(&c->a.v4, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			c->af = AF_INET6;
			c->a.v6 = sin6->sin6_addr;
		}
		break;
	}
}

/*
 * {client_addr} as Postfix ("192.0.2.1", "2001:db8::1") or sendmail
 * ("IPv6:2001:db8::1") writes it, possibly in brackets.  Returns 0 and
 * fills c, or -1 (c is then unknown).
 */
int
client_from_string(struct client_addr *c, const char *s)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	size_t		 len;
	struct in6_addr	 v6;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return (-1);
	if (*s == '[')
		s++;
	if (strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	if ((len = strlcpy(buf, s, sizeof(buf))) >= sizeof(buf))
		return (-1);
	if (len > 0 && buf[len - 1] == ']')
		buf[len - 1] = '\0';
	if (inet_pton(AF_INET, buf, &c->a.v4) == 1) {
		c->af = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, buf, &v6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&v6)) {
			c->af = AF_INET;
			memcpy(&c->a.v4, &v6.s6_addr[12], 4);
		} else {
			c->af = AF_INET6;
			c->a.v6 = v6;
		}
		return (0);
	}
	memset(c, 0, sizeof(*c));
	return (-1);
}

/* Loopback or unknown: what scam-backscatter took for local submission. */
int
client_is_local(const struct client_addr *c)
{
	switch (c->af) {
	case AF_INET:
		return ((ntohl(c->a.v4.s_addr) >> 24) == 127);
	case AF_INET6:
		return (IN6_IS_ADDR_LOOPBACK(&c->a.v6));
	default:
		return (1);
	}
}

int
client_in_net(const struct client_addr *c, const struct skip_net *n)
{
	const uint8_t	*a, *b;
	unsigned int	 bits, i;
	uint8_t		 mask;

	if (c->af == 0 || c->af != n->af)
		return (0);
	if (c->af == AF_INET) {
		a = (const uint8_t *)&c->a.v4;
		b = (const uint8_t *)&n->addr.v4;
		bits = n->prefixlen > 32 ? 32 : n->prefixlen;
	} else {
		a = c->a.v6.s6_addr;
		b = n->addr.v6.s6_addr;
		bits = n->prefixlen > 128 ? 128 : n->prefixlen;
	}
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != b[i])
			return (0);
	if (bits == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - bits));
	return ((a[i] & mask) == (b[i] & mask));
}

const char *
client_string(const struct client_addr *c, char *buf, size_t len)
{
	if (c->af == 0 || inet_ntop(c->af, &c->a, buf, len) == NULL)
		strlcpy(buf, "unknown", len);
	return (buf);
}
