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
 * Access tables: entries typed by their shape, an index for the exact
 * ones, a scan for the patterns (the lookups are tablelookup.c's).  Every
 * key is matched case-insensitively (ASCII), so keys are lowercased once
 * when added.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "tablepriv.h"

static void	 lowercpy(char *, const char *, size_t);
static int	 index_grow(struct tindex *, const struct tentry *);
static void	 plen_add(uint8_t *, size_t *, int);
static int	 index_add(struct tindex *, const struct tentry *, uint32_t);
static int	 classify(const char *, int, enum table_kind *, char *,
		    size_t, const char **);

/* ASCII only: the locale must not change what a name is. */
int
table_lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Copy s lowercased into buf of size len, truncating. */
static void
lowercpy(char *buf, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i < len - 1; i++)
		buf[i] = table_lower((unsigned char)s[i]);
	buf[i] = '\0';
}

/* murmur3's finaliser: keys alike, as numbered host names are, spread. */
uint32_t
table_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (h);
}

/*
 * FNV-1a over the len characters at s, from the last to the first, its
 * bits mixed: backwards, so that one pass over a looked-up name gives
 * the hashes of all its parents (table_key).  The keys are the
 * administrator's; a stranger only chooses what is looked up, which
 * cannot lengthen a probe sequence.
 */
uint32_t
table_hash(const char *s, size_t len)
{
	uint32_t	h = TABLE_FNV_BASIS;

	while (len > 0) {
		h ^= (unsigned char)s[--len];
		h *= TABLE_FNV_PRIME;
	}
	return (table_mix(h));
}

struct table *
table_new(const char *name)
{
	struct table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	strlcpy(t->name, name, sizeof(t->name));
	return (t);
}

void
table_free(struct table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		if (t->e[i].norm != t->e[i].key)
			free(t->e[i].norm);
		free(t->e[i].key);
		free(t->e[i].value);
		if (t->e[i].re != NULL) {
			regfree(t->e[i].re);
			free(t->e[i].re);
		}
	}
	free(t->e);
	free(t->pos.slots);
	free(t->pos.pats);
	free(t->neg.slots);
	free(t->neg.pats);
	free(t);
}

const char *
table_name(const struct table *t)
{
	return (t->name);
}

size_t
table_count(const struct table *t)
{
	return (t->n);
}

/* Could a host name match, where an address alone did not? */
int
table_has_names(const struct table *t)
{
	return (t->pos.names);
}

/* Could a local user match (a word, as SCO's "chris")? */
int
table_has_words(const struct table *t)
{
	return (t->pos.words || t->neg.words);
}

/* The i-th entry as written, for -nv and for the trip to the engine. */
int
table_entry(const struct table *t, size_t i, const char **key,
    const char **value, int *flags, enum table_kind *kind)
{
	if (i >= t->n)
		return (0);
	if (key != NULL)
		*key = t->e[i].key;
	if (value != NULL)
		*value = t->e[i].value;
	if (flags != NULL)
		*flags = t->e[i].flags;
	if (kind != NULL)
		*kind = t->e[i].kind;
	return (1);
}

/*
 * An address or a network as the hash knows it: "#4:" or "#6:", the
 * masked address in hex, "/" and the prefix length.  '#' starts no name.
 */
int
table_net_key(const struct client_addr *a, int plen, char *buf,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t	*b;
	uint8_t		 m[16];
	int		 n, i, bits;
	size_t		 off;

	if (a->af == AF_INET) {
		b = (const uint8_t *)&a->a.v4;
		n = 4;
	} else if (a->af == AF_INET6) {
		b = a->a.v6.s6_addr;
		n = 16;
	} else
		return (-1);
	for (i = 0, bits = plen; i < n; i++, bits -= 8) {
		if (bits >= 8)
			m[i] = b[i];
		else if (bits <= 0)
			m[i] = 0;
		else
			m[i] = b[i] & (uint8_t)(0xff << (8 - bits));
	}
	/* By hand: this runs for every prefix length at every lookup. */
	if (len < 3 + 2 * (size_t)n + 5)
		return (-1);
	buf[0] = '#';
	buf[1] = n == 4 ? '4' : '6';
	buf[2] = ':';
	off = 3;
	for (i = 0; i < n; i++) {
		buf[off++] = hex[m[i] >> 4];
		buf[off++] = hex[m[i] & 0xf];
	}
	buf[off++] = '/';
	if (plen >= 100)
		buf[off++] = '0' + plen / 100;
	if (plen >= 10)
		buf[off++] = '0' + plen / 10 % 10;
	buf[off++] = '0' + plen % 10;
	buf[off] = '\0';
	return (0);
}

/* "192.0.2.1", "192.0.2.0/24", "2001:db8::/32", "[192.0.2.1]". */
int
table_net_parse(const char *s, struct client_addr *a, int *plen)
{
	struct skip_net	 n;
	char		 buf[INET6_ADDRSTRLEN + 8];
	size_t		 len;

	len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(buf))
			return (-1);
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		s = buf;
		if (strncasecmp(s, "ipv6:", 5) == 0)
			s += 5;
	}
	if (parse_cidr(s, &n) == -1)
		return (-1);
	memset(a, 0, sizeof(*a));
	a->af = n.af;
	if (n.af == AF_INET)
		a->a.v4 = n.addr.v4;
	else
		a->a.v6 = n.addr.v6;
	*plen = n.prefixlen;
	return (0);
}

/*
 * What an entry is, from its shape; norm gets the form the index and the
 * patterns use.  Returns 0, or -1 with *errstr.
 */
static int
classify(const char *key, int flags, enum table_kind *kind, char *norm,
    size_t normlen, const char **errstr)
{
	struct client_addr	 a;
	const char		*p, *at;
	char			 dom[HOSTNAME_LEN];
	int			 plen, literal;

	if (flags & TABLE_F_REGEX) {
		*kind = TK_REGEX;
		strlcpy(norm, key, normlen);
		return (0);
	}
	for (p = key; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '"' || *p == '\\') {
			*errstr = "blanks, control characters, quotes and "
			    "backslashes are not allowed (use regex)";
			return (-1);
		}
	lowercpy(norm, key, normlen);

	if (table_net_parse(norm, &a, &plen) == 0) {
		*kind = TK_NET;
		return (table_net_key(&a, plen, norm, normlen));
	}
	at = strrchr(norm, '@');
	literal = at != NULL && at[1] == '[' && table_net_parse(at + 1, &a,
	    &plen) == 0;
	if (strpbrk(norm, "*?") != NULL ||
	    (strchr(norm, '[') != NULL && !literal)) {
		*kind = TK_GLOB;
		return (0);
	}
	if (strcmp(norm, "<>") == 0) {
		*kind = TK_ADDR;
		return (0);
	}
	if (at != NULL) {
		*kind = TK_ADDR;
		if (strchr(norm, '<') != NULL || strchr(norm, '>') != NULL) {
			*errstr = "angle brackets are not part of an address";
			return (-1);
		}
		if (at[1] == '\0' && at == norm) {
			*errstr = "\"@\" alone matches nothing: write <> or "
			    "a pattern";
			return (-1);
		}
		if (at[1] == '\0' || literal)
			return (0);
		if (parse_domain(at + 1, dom, sizeof(dom)) == -1) {
			*errstr = "the domain is not a valid domain name";
			return (-1);
		}
		return (0);
	}
	/* Digits and dots only: a mistyped address, not a name. */
	if (strspn(norm, "0123456789./") == strlen(norm) ||
	    strchr(norm, ':') != NULL) {
		*errstr = "not an address or network";
		return (-1);
	}
	p = norm[0] == '.' ? norm + 1 : norm;
	if (strchr(p, '.') == NULL && p == norm) {
		if (strpbrk(norm, "<>()[],;:") != NULL) {
			*errstr = "not a name, an address or a pattern";
			return (-1);
		}
		*kind = TK_WORD;
		return (0);
	}
	if (!valid_hostname(p)) {
		*errstr = "not a valid host or domain name";
		return (-1);
	}
	*kind = TK_NAME;
	return (0);
}

static int
index_grow(struct tindex *ix, const struct tentry *e)
{
	struct tslot	*old = ix->slots, *slots;
	size_t		 oldcap = ix->cap, cap, i, j;

	cap = oldcap == 0 ? 64 : oldcap * 2;
	if ((slots = calloc(cap, sizeof(*slots))) == NULL)
		return (-1);
	for (i = 0; i < oldcap; i++) {
		if (old[i].i == 0)
			continue;
		j = old[i].h & (cap - 1);
		while (slots[j].i != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	ix->slots = slots;
	ix->cap = cap;
	return (0);
}

/* A prefix length into a list of them, longest first, once. */
static void
plen_add(uint8_t *list, size_t *n, int plen)
{
	size_t	i;

	for (i = 0; i < *n && list[i] > plen; i++)
		;
	if (i < *n && list[i] == plen)
		return;
	memmove(list + i + 1, list + i, *n - i);
	list[i] = plen;
	(*n)++;
}

/* Add entry i; the first of equal keys stays in the hash. */
static int
index_add(struct tindex *ix, const struct tentry *e, uint32_t i)
{
	const struct tentry	*n = &e[i];
	uint32_t		*p, h;
	size_t			 j, len;
	int			 plen;

	if (n->kind != TK_NET && n->kind != TK_ADDR)
		ix->names = 1;
	if (n->kind == TK_GLOB || n->kind == TK_REGEX) {
		if ((p = reallocarray(ix->pats, ix->npats + 1,
		    sizeof(*p))) == NULL)
			return (-1);
		ix->pats = p;
		ix->pats[ix->npats++] = i;
		return (0);
	}
	if (n->kind == TK_NET) {
		/* "#4:c0000200/24": the length after the slash. */
		plen = atoi(strrchr(n->norm, '/') + 1);
		if (n->norm[1] == '4')
			plen_add(ix->plen4, &ix->nplen4, plen);
		else
			plen_add(ix->plen6, &ix->nplen6, plen);
	}
	if (n->kind == TK_WORD)
		ix->words = 1;
	if (n->kind == TK_NAME && n->norm[0] == '.')
		ix->below = 1;
	if ((ix->used + 1) * 2 > ix->cap && index_grow(ix, e) == -1)
		return (-1);
	len = strlen(n->norm);
	h = table_hash(n->norm, len);
	if (len > 255)
		len = 255;
	ix->lens[len / 64] |= (uint64_t)1 << (len % 64);
	j = h & (ix->cap - 1);
	while (ix->slots[j].i != 0) {
		if (ix->slots[j].h == h &&
		    strcmp(e[ix->slots[j].i - 1].norm, n->norm) == 0)
			return (0);
		j = (j + 1) & (ix->cap - 1);
	}
	ix->slots[j].h = h;
	ix->slots[j].i = i + 1;
	ix->used++;
	return (0);
}

/*
 * Add an entry.  A leading '!' makes it an exception; "<user@dom>" loses
 * its brackets (smap wrote them).  Returns 0, or -1 with *errstr.
 */
int
table_add(struct table *t, const char *key, const char *value, int flags,
    const char **errstr)
{
	static char	 reerr[128];
	struct tentry	*e, *ne;
	char		 buf[TABLE_KEY_LEN], norm[TABLE_KEY_LEN];
	enum table_kind	 kind;
	size_t		 len;
	int		 rc;

	*errstr = NULL;
	if (*key == '!') {
		flags |= TABLE_F_EXCEPT;
		key++;
	}
	if ((len = strlcpy(buf, key, sizeof(buf))) >= sizeof(buf)) {
		*errstr = "entry too long";
		return (-1);
	}
	if (len == 0) {
		*errstr = "empty entry";
		return (-1);
	}
	if (!(flags & TABLE_F_REGEX) && len > 2 && buf[0] == '<' &&
	    buf[len - 1] == '>') {
		memmove(buf, buf + 1, len - 2);
		buf[len - 2] = '\0';
	}
	if (value == NULL)
		value = "";
	if (strlen(value) >= TABLE_VALUE_LEN) {
		*errstr = "value too long";
		return (-1);
	}
	if (t->n >= TABLE_MAX_ENTRIES) {
		*errstr = "too many entries";
		return (-1);
	}
	if (classify(buf, flags, &kind, norm, sizeof(norm), errstr) == -1)
		return (-1);

	if (t->n == t->size) {
		if ((ne = reallocarray(t->e, t->size == 0 ? 16 : t->size * 2,
		    sizeof(*ne))) == NULL) {
			*errstr = "out of memory";
			return (-1);
		}
		t->e = ne;
		t->size = t->size == 0 ? 16 : t->size * 2;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->flags = flags & (TABLE_F_EXCEPT | TABLE_F_REGEX);
	if ((e->key = strdup(buf)) == NULL ||
	    (e->value = strdup(value)) == NULL)
		goto nomem;
	if (strcmp(norm, buf) == 0)
		e->norm = e->key;
	else if ((e->norm = strdup(norm)) == NULL)
		goto nomem;
	/* What a glob ends with, without a '*', '?' or bracket. */
	e->nlen = strlen(norm);
	if (kind == TK_GLOB) {
		e->whole = strchr(norm, '@') != NULL;
		for (len = e->nlen; len > 0 &&
		    strchr("*?[]", norm[len - 1]) == NULL; len--)
			;
		e->tail = e->nlen - len;
	}
	if (kind == TK_REGEX) {
		if ((e->re = calloc(1, sizeof(*e->re))) == NULL)
			goto nomem;
		if ((rc = regcomp(e->re, buf, REG_EXTENDED | REG_ICASE |
		    REG_NOSUB)) != 0) {
			regerror(rc, e->re, reerr, sizeof(reerr));
			free(e->re);
			e->re = NULL;
			*errstr = reerr;
			goto fail;
		}
	}
	if (index_add((flags & TABLE_F_EXCEPT) ? &t->neg : &t->pos, t->e,
	    t->n) == -1)
		goto nomem;
	t->n++;
	return (0);

 nomem:
	*errstr = "out of memory";
 fail:
	if (e->re != NULL) {
		regfree(e->re);
		free(e->re);
	}
	if (e->norm != e->key)
		free(e->norm);
	free(e->key);
	free(e->value);
	return (-1);
}

