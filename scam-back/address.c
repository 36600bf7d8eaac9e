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
static int	atext(int);
static int	quoted_string(const char *, const char *);
static int	domain_ok(const char *, const char *);

/* ASCII only: the locale must not change what a domain is. */
static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* RFC 5322 atext; octets of 0x80 and above are UTF-8 (RFC 6531). */
static int
atext(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL));
}

/*
 * Is the local part [p, end) one quoted string, "..." with backslash
 * pairs, and not an empty one?
 */
static int
quoted_string(const char *p, const char *end)
{
	if (end - p < 3 || *p != '"' || end[-1] != '"')
		return (0);
	for (p++; p < end - 1; p++) {
		if (*p == '"')
			return (0);
		if (*p == '\\' && ++p == end - 1)
			return (0);
	}
	return (1);
}

/*
 * The domain [p, end) with its trailing dot dropped: no empty labels, no
 * '@', blanks, quotes or brackets but those of an address literal.
 */
static int
domain_ok(const char *p, const char *end)
{
	const char	*s;

	if (p == end || end[-1] == '.')
		return (0);
	for (s = p; s < end; s++) {
		switch (*s) {
		case '.':
			if (*p != '[' && (s == p || s[-1] == '.'))
				return (0);
			break;
		case '[':
		case ']':
			if (*p != '[' || end[-1] != ']' ||
			    (s != p && s != end - 1))
				return (0);
			break;
		case '@':
		case ' ':
		case '\t':
		case '<':
		case '>':
		case '"':
		case '\\':
			return (0);
		}
	}
	return (1);
}

/*
 * Turn a RCPT TO argument into the cache key: brackets and any source
 * route stripped, the local part kept as written (quotes included: some
 * backends are case-sensitive), the domain lowercased without a trailing
 * dot.  *domoff gets the offset of the domain in out.
 *
 * ADDR_OK		out is the key
 * ADDR_NODOMAIN	no domain part: not verified
 * ADDR_IMPOSSIBLE	a domain is there, but the address cannot be a
 *			mailbox (longer than RFC 5321 allows, a control
 *			character, no local part, broken syntax): out is
 *			the lowercase domain (its rightmost labels if it
 *			is too long for out), *domoff 0, *why says why
 * ADDR_BAD		junk with no domain to be found
 *
 * The domain is what follows the last '@' outside a quoted string.
 */
int
addr_normalise(const char *in, char *out, size_t outsz, size_t *domoff,
    const char **why)
{
	const char	*p, *end, *s, *at = NULL, *dom, *dend;
	size_t		 llen, dlen, i;
	int		 ctl = 0, syntax = 0, inq = 0, empty;

	if (why != NULL)
		*why = NULL;
	if (in == NULL || outsz == 0)
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
			ctl = 1;

	/* One pair of angle brackets; one without the other is broken. */
	if (p < end && *p == '<') {
		p++;
		if (p < end && end[-1] == '>')
			end--;
		else
			syntax = 1;
	} else if (p < end && end[-1] == '>') {
		end--;
		syntax = 1;
	}
	if (p == end)
		return (ADDR_BAD);

	/* A source route, @a,@b:user@domain, routes nothing any more. */
	if (*p == '@') {
		for (s = p; s < end && *s != ':' && *s != '"'; s++)
			;
		if (s < end && *s == ':') {
			p = s + 1;
			if (p == end)
				return (ADDR_BAD);
		}
	}

	/* The last '@' outside a quoted string ends the local part. */
	for (s = p; s < end; s++) {
		if (inq) {
			if (*s == '\\' && s + 1 < end)
				s++;
			else if (*s == '"')
				inq = 0;
		} else if (*s == '"')
			inq = 1;
		else if (*s == '@')
			at = s;
	}
	if (inq) {
		/* An unterminated quote: the domain is after the last '@'. */
		syntax = 1;
		for (at = NULL, s = p; s < end; s++)
			if (*s == '@')
				at = s;
	}
	if (at == NULL)
		return (ctl || syntax ? ADDR_BAD : ADDR_NODOMAIN);

	dom = at + 1;
	dend = end;
	if (dend > dom && dend[-1] == '.')
		dend--;
	if (dend == dom)
		return (ctl || syntax ? ADDR_BAD : ADDR_NODOMAIN);
	dlen = dend - dom;
	if (!domain_ok(dom, dend))
		syntax = 1;

	/* The local part: one quoted string, or atext and dots. */
	llen = at - p;
	if (llen > 0 && *p == '"') {
		if (!quoted_string(p, at))
			syntax = 1;
	} else
		for (s = p; s < at; s++)
			if (!atext((unsigned char)*s) && *s != '.')
				syntax = 1;

	empty = llen == 0 || (llen == 2 && p[0] == '"' && p[1] == '"');
	if (ctl || llen + 1 + dlen > ADDR_MAX || empty || syntax) {
		if (why != NULL)
			*why = ctl ? "control-character" :
			    llen + 1 + dlen > ADDR_MAX ? "too-long" :
			    empty ? "no-local-part" : "syntax";
		/* Matching needs the rightmost labels: keep those. */
		if (dlen > outsz - 1) {
			dom = dend - (outsz - 1);
			if ((s = memchr(dom, '.', dend - dom)) != NULL &&
			    s + 1 < dend)
				dom = s + 1;
			dlen = dend - dom;
		}
		for (i = 0; i < dlen; i++)
			out[i] = lower((unsigned char)dom[i]);
		out[dlen] = '\0';
		if (domoff != NULL)
			*domoff = 0;
		return (ADDR_IMPOSSIBLE);
	}

	if (llen + 1 + dlen + 1 > outsz)
		return (ADDR_BAD);
	memcpy(out, p, llen);
	out[llen] = '@';
	for (i = 0; i < dlen; i++)
		out[llen + 1 + i] = lower((unsigned char)dom[i]);
	out[llen + 1 + dlen] = '\0';
	if (domoff != NULL)
		*domoff = llen + 1;
	return (ADDR_OK);
}

/*
 * The path of a cache key as RCPT TO carries it, between its brackets:
 * the key itself when its local part is a quoted string (as the MTA gave
 * it) or a dot-string; otherwise (dots out of place, "a..b") the local
 * part quoted, '"' and backslash escaped, as RFC 5321 wants the wire.
 * Returns the path's length, or -1 when it does not fit in len.
 */
int
addr_path(const char *key, char *buf, size_t len)
{
	const char	*at, *p;
	size_t		 i = 0;
	int		 dotstring = 1;

	if ((at = strrchr(key, '@')) == NULL || key[0] == '"' || at == key)
		return (strlcpy(buf, key, len) < len ? (int)strlen(key) : -1);
	if (key[0] == '.' || at[-1] == '.')
		dotstring = 0;
	for (p = key; p < at; p++)
		if ((*p == '.' && p[1] == '.') ||
		    (*p != '.' && !atext((unsigned char)*p)))
			dotstring = 0;
	if (dotstring)
		return (strlcpy(buf, key, len) < len ? (int)strlen(key) : -1);

	if (len < 3)
		return (-1);
	buf[i++] = '"';
	for (p = key; p < at; p++) {
		if (i + 2 >= len)
			return (-1);
		if (*p == '"' || *p == '\\')
			buf[i++] = '\\';
		buf[i++] = *p;
	}
	buf[i++] = '"';
	if (strlcpy(buf + i, at, len - i) >= len - i)
		return (-1);
	return ((int)(i + strlen(at)));
}

/*
 * Does domain (lowercase) fall under pattern (lowercase)?  Exactly, or
 * with subdomains set also any name ending in "." pattern, even with an
 * empty label before it (".example.net"): such a domain only comes with
 * an address that cannot be a mailbox, which is refused there.  The
 * domain index of policy.c matches the same way.
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
	return (pl > 0 && dl > pl && domain[dl - pl - 1] == '.' &&
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
