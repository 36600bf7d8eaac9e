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
 * Lookups in access tables.  A string looked up is lowercased and hashed
 * once (struct table_key), from its end, so that the same pass gives the
 * hashes of its parents; a walk of the rules makes one per string and
 * asks every table with it.  Input looked up comes from strangers: every
 * lookup copes with any string and never writes past a bound.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fnmatch.h>
#include <regex.h>
#include <stdint.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "tablepriv.h"

static void	 key_init(struct table_key *, const char *);
static int	 index_len(const struct tindex *, size_t);
static const struct tentry *index_get(const struct table *,
		    const struct tindex *, const char *, size_t, uint32_t);
static uint32_t	 key_hash(const struct table_key *, size_t);
static const struct tentry *key_get(const struct table *,
		    const struct tindex *, const struct table_key *, size_t);
static const struct tentry *key_prefix(const struct table *,
		    const struct tindex *, struct table_key *, size_t);
static const char *key_atext(struct table_key *);
static const struct tentry *find_net(const struct table *,
		    const struct tindex *, struct table_key *);
static const struct tentry *find_name(const struct table *,
		    const struct tindex *, const struct table_key *, size_t,
		    int);
static int	 glob(const struct tentry *, const char *);
static const struct tentry *find_pattern(const struct table *,
		    const struct tindex *, const char *, const char *,
		    const char *);
static const struct tentry *find_host(const struct table *,
		    const struct tindex *, struct table_key *);
static const struct tentry *find_mail(const struct table *,
		    const struct tindex *, struct table_key *, int);
static int	 result(const struct tentry *, const struct tentry *,
		    const char **);

/*
 * s lowercased (cut to fit) and hashed backwards: at each '.' and '@'
 * the hashes of what follows it with and without it are kept, the first
 * TABLE_KEY_CUTS from the end; others are hashed when asked for.
 */
static void
key_init(struct table_key *k, const char *s)
{
	uint32_t	h = TABLE_FNV_BASIS, after;
	size_t		i;
	int		c;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i < sizeof(k->s) - 1; i++)
		k->s[i] = table_lower((unsigned char)s[i]);
	k->s[i] = '\0';
	k->str = i > 0 ? k->s : NULL;
	k->len = k->at = i;
	k->ncut = 0;
	k->userset = 0;
	k->addr = NULL;
	memset(k->netset, 0, sizeof(k->netset));
	k->atext[0] = '\0';
	while (i > 0) {
		c = (unsigned char)k->s[--i];
		after = h;
		h ^= c;
		h *= TABLE_FNV_PRIME;
		if (c != '.' && c != '@')
			continue;
		if (c == '@' && k->at == k->len)
			k->at = i;
		if (k->ncut < TABLE_KEY_CUTS) {
			k->cut[k->ncut] = i;
			k->cuth[k->ncut][0] = table_mix(h);
			k->cuth[k->ncut][1] = table_mix(after);
			k->ncut++;
		}
	}
	k->h = table_mix(h);
}

/* A client: its address and its verified host name (NULL: none). */
void
table_key_client(struct table_key *k, const struct client_addr *a,
    const char *name)
{
	key_init(k, name);
	if (a != NULL) {
		k->lit = *a;
		k->addr = &k->lit;
	}
}

/* A host name and, where one is known, its address; else a literal's. */
void
table_key_host(struct table_key *k, const char *name,
    const struct client_addr *a)
{
	int	plen;

	key_init(k, name);
	if (a != NULL) {
		k->lit = *a;
		k->addr = &k->lit;
	} else if (k->s[0] == '[' && table_net_parse(k->s, &k->lit,
	    &plen) == 0 && plen == (k->lit.af == AF_INET ? 32 : 128))
		/* A HELO address literal is an address. */
		k->addr = &k->lit;
}

/* An address without brackets ("" is the null sender). */
void
table_key_mail(struct table_key *k, const char *addr)
{
	int	plen;

	key_init(k, addr);
	if (k->at < k->len && k->s[k->at + 1] == '[' &&
	    table_net_parse(k->s + k->at + 1, &k->lit, &plen) == 0)
		k->addr = &k->lit;
}

/* A word compared whole. */
void
table_key_string(struct table_key *k, const char *s)
{
	key_init(k, s);
}

/* Could a key this long be in the index?  Most misses end here. */
static int
index_len(const struct tindex *ix, size_t len)
{
	if (ix->cap == 0)
		return (0);
	if (len > 255)
		len = 255;
	return ((ix->lens[len / 64] >> (len % 64)) & 1);
}

/* The entry whose key is the len characters at s, hashed h. */
static const struct tentry *
index_get(const struct table *t, const struct tindex *ix, const char *s,
    size_t len, uint32_t h)
{
	const struct tslot	*sl;
	const char		*norm;
	size_t			 j;

	for (j = h & (ix->cap - 1); (sl = &ix->slots[j])->i != 0;
	    j = (j + 1) & (ix->cap - 1)) {
		if (sl->h != h)
			continue;
		norm = t->e[sl->i - 1].norm;
		if (strncmp(norm, s, len) == 0 && norm[len] == '\0')
			return (&t->e[sl->i - 1]);
	}
	return (NULL);
}

/* The hash of k's string from off on. */
static uint32_t
key_hash(const struct table_key *k, size_t off)
{
	size_t	i;

	if (off == 0)
		return (k->h);
	for (i = 0; i < k->ncut; i++) {
		if (k->cut[i] == off)
			return (k->cuth[i][0]);
		if (k->cut[i] + 1 == off)
			return (k->cuth[i][1]);
	}
	return (table_hash(k->s + off, k->len - off));
}

/* The entry for k's string from off on. */
static const struct tentry *
key_get(const struct table *t, const struct tindex *ix,
    const struct table_key *k, size_t off)
{
	if (!index_len(ix, k->len - off))
		return (NULL);
	return (index_get(t, ix, k->s + off, k->len - off, key_hash(k, off)));
}

/* The entry for the first len characters of k's: "user@", "user". */
static const struct tentry *
key_prefix(const struct table *t, const struct tindex *ix,
    struct table_key *k, size_t len)
{
	uint32_t	h;
	size_t		w;

	if (!index_len(ix, len))
		return (NULL);
	if (len == k->len)
		h = k->h;
	else if (len == k->at || len == k->at + 1) {
		w = len - k->at;
		if (!(k->userset & (1 << w))) {
			k->userh[w] = table_hash(k->s, len);
			k->userset |= 1 << w;
		}
		h = k->userh[w];
	} else
		h = table_hash(k->s, len);
	return (index_get(t, ix, k->s, len, h));
}

/* k's address as text, for patterns; NULL without one. */
static const char *
key_atext(struct table_key *k)
{
	if (k->atext[0] != '\0')
		return (k->atext);
	if (k->addr == NULL || k->addr->af == 0 || inet_ntop(k->addr->af,
	    &k->addr->a, k->atext, sizeof(k->atext)) == NULL) {
		k->atext[0] = '\0';
		return (NULL);
	}
	return (k->atext);
}

/*
 * The longest network holding k's address.  Each prefix length's key is
 * hashed once for all tables, and written out only to compare it with
 * an entry of the same hash.
 */
static const struct tentry *
find_net(const struct table *t, const struct tindex *ix,
    struct table_key *k)
{
	const struct client_addr *a = k->addr;
	const struct tslot	*sl;
	const uint8_t		*plens;
	char			 key[TABLE_NETKEY_LEN];
	size_t			 j, len, p, np;
	int			 n, i, written;
	uint32_t		 h;

	if (a == NULL || ix->cap == 0)
		return (NULL);
	if (a->af == AF_INET) {
		plens = ix->plen4;
		np = ix->nplen4;
		n = 4;
	} else if (a->af == AF_INET6) {
		plens = ix->plen6;
		np = ix->nplen6;
		n = 16;
	} else
		return (NULL);
	for (p = 0; p < np; p++) {
		i = plens[p];
		/* "#4:", the address in hex, "/" and the length */
		len = 3 + 2 * n + 1 + (i >= 100 ? 3 : i >= 10 ? 2 : 1);
		if (!index_len(ix, len))
			continue;
		written = 0;
		if (!(k->netset[i / 8] & (1 << (i % 8)))) {
			if (table_net_key(a, i, key, sizeof(key)) == -1)
				continue;
			written = 1;
			k->neth[i] = table_hash(key, len);
			k->netset[i / 8] |= 1 << (i % 8);
		}
		h = k->neth[i];
		for (j = h & (ix->cap - 1); (sl = &ix->slots[j])->i != 0;
		    j = (j + 1) & (ix->cap - 1)) {
			if (sl->h != h)
				continue;
			if (!written && table_net_key(a, i, key,
			    sizeof(key)) == -1)
				break;
			written = 1;
			if (strcmp(t->e[sl->i - 1].norm, key) == 0)
				return (&t->e[sl->i - 1]);
		}
	}
	return (NULL);
}

/*
 * k's (lowercase) name from off on: the entry for the name itself, then
 * ".parent" and, when parents count (domains), "parent" for each parent,
 * nearest first.
 */
static const struct tentry *
find_name(const struct table *t, const struct tindex *ix,
    const struct table_key *k, size_t off, int parents)
{
	const struct tentry	*e;
	const char		*p;

	if (ix->cap == 0 || k->s[off] == '\0')
		return (NULL);
	if ((e = key_get(t, ix, k, off)) != NULL &&
	    (e->kind == TK_NAME || e->kind == TK_WORD))
		return (e);
	if (!ix->below && !parents)
		return (NULL);
	for (p = strchr(k->s + off, '.'); p != NULL; p = strchr(p + 1, '.')) {
		if (ix->below && (e = key_get(t, ix, k, p - k->s)) != NULL &&
		    e->kind == TK_NAME)
			return (e);
		if (parents && p[1] != '\0' &&
		    (e = key_get(t, ix, k, p + 1 - k->s)) != NULL &&
		    e->kind == TK_NAME)
			return (e);
	}
	return (NULL);
}

/*
 * fnmatch(3) on a lowercase string, its literal end compared first: most
 * strings a pattern does not match differ there.
 */
static int
glob(const struct tentry *e, const char *s)
{
	size_t	n;

	if (e->tail > 0) {
		n = strlen(s);
		if (n < e->tail || memcmp(s + n - e->tail,
		    e->norm + e->nlen - e->tail, e->tail) != 0)
			return (0);
	}
	return (fnmatch(e->norm, s, 0) == 0);
}

/*
 * Patterns in order: a glob with '@' sees the whole string (s), one
 * without sees part (a name or a domain), a regex sees s; alt, when not
 * NULL, is another string both may match (a client's address).
 */
static const struct tentry *
find_pattern(const struct table *t, const struct tindex *ix, const char *s,
    const char *part, const char *alt)
{
	const struct tentry	*e;
	size_t			 i;

	for (i = 0; i < ix->npats; i++) {
		e = &t->e[ix->pats[i]];
		if (e->kind == TK_REGEX) {
			if ((s != NULL && regexec(e->re, s, 0, NULL, 0) == 0) ||
			    (alt != NULL &&
			    regexec(e->re, alt, 0, NULL, 0) == 0))
				return (e);
			continue;
		}
		if (e->whole) {
			if (s != NULL && glob(e, s))
				return (e);
			continue;
		}
		if ((part != NULL && glob(e, part)) ||
		    (alt != NULL && glob(e, alt)))
			return (e);
	}
	return (NULL);
}

/*
 * A client or a host: its name (the whole name, then ".parent" entries),
 * its address (the longest network), then patterns on either, as
 * Postfix's check_client_access looks.
 */
static const struct tentry *
find_host(const struct table *t, const struct tindex *ix,
    struct table_key *k)
{
	const struct tentry	*e;

	if (k->str != NULL && (e = find_name(t, ix, k, 0, 0)) != NULL)
		return (e);
	if ((e = find_net(t, ix, k)) != NULL)
		return (e);
	if (ix->npats == 0)
		return (NULL);
	return (find_pattern(t, ix, k->str, k->str, key_atext(k)));
}

/*
 * An address: user@dom, @dom, the domain and its parents (an address
 * literal as a network), user@, a local user, patterns.
 */
static const struct tentry *
find_mail(const struct table *t, const struct tindex *ix,
    struct table_key *k, int local)
{
	const struct tentry	*e;
	const char		*dom;
	size_t			 llen = k->at;

	if (k->len == 0) {
		if (index_len(ix, 2) && (e = index_get(t, ix, "<>", 2,
		    table_hash("<>", 2))) != NULL)
			return (e);
		return (ix->npats != 0 ? find_pattern(t, ix, "", "", NULL) :
		    NULL);
	}
	dom = k->at < k->len ? k->s + k->at + 1 : NULL;
	if (ix->cap != 0) {
		if (dom != NULL) {
			if (llen > 0 && (e = key_get(t, ix, k, 0)) != NULL)
				return (e);
			if ((e = key_get(t, ix, k, k->at)) != NULL)
				return (e);
			if (*dom == '[') {
				if ((e = find_net(t, ix, k)) != NULL)
					return (e);
			} else if ((e = find_name(t, ix, k, k->at + 1, 1)) !=
			    NULL && e->kind == TK_NAME)
				return (e);
			if (llen > 0 &&
			    (e = key_prefix(t, ix, k, llen + 1)) != NULL)
				return (e);
		}
		/* A word is a local user: chris, as SCO's protected file. */
		if (ix->words && (local || dom == NULL) && llen > 0 &&
		    (e = key_prefix(t, ix, k, llen)) != NULL &&
		    e->kind == TK_WORD)
			return (e);
	}
	if (ix->npats == 0)
		return (NULL);
	return (find_pattern(t, ix, k->s, dom != NULL ? dom : k->s, NULL));
}

/* A match, unless an exception matches too. */
static int
result(const struct tentry *pos, const struct tentry *neg,
    const char **value)
{
	if (pos == NULL || neg != NULL)
		return (0);
	if (value != NULL)
		*value = pos->value;
	return (1);
}

int
table_lookup_host(const struct table *t, struct table_key *k,
    const char **value)
{
	const struct tentry	*pos;

	if ((pos = find_host(t, &t->pos, k)) == NULL)
		return (0);
	return (result(pos, find_host(t, &t->neg, k), value));
}

int
table_lookup_mail(const struct table *t, struct table_key *k, int local,
    const char **value)
{
	const struct tentry	*pos;

	if ((pos = find_mail(t, &t->pos, k, local)) == NULL)
		return (0);
	return (result(pos, find_mail(t, &t->neg, k, local), value));
}

int
table_lookup_string(const struct table *t, struct table_key *k,
    const char **value)
{
	const struct tentry	*pos, *neg;

	if (k->str == NULL)
		return (0);
	if ((pos = key_get(t, &t->pos, k, 0)) == NULL &&
	    (t->pos.npats == 0 ||
	    (pos = find_pattern(t, &t->pos, k->s, k->s, NULL)) == NULL))
		return (0);
	if ((neg = key_get(t, &t->neg, k, 0)) == NULL && t->neg.npats != 0)
		neg = find_pattern(t, &t->neg, k->s, k->s, NULL);
	return (result(pos, neg, value));
}

/* One string, one table: a key made for the one lookup. */
int
table_match_client(const struct table *t, const struct client_addr *a,
    const char *name, const char **value)
{
	struct table_key	k;

	table_key_client(&k, a, name);
	return (table_lookup_host(t, &k, value));
}

int
table_match_host(const struct table *t, const char *name,
    const struct client_addr *a, const char **value)
{
	struct table_key	k;

	table_key_host(&k, name, a);
	return (table_lookup_host(t, &k, value));
}

int
table_match_mail(const struct table *t, const char *addr, int local,
    const char **value)
{
	struct table_key	k;

	table_key_mail(&k, addr);
	return (table_lookup_mail(t, &k, local, value));
}

int
table_match_string(const struct table *t, const char *s,
    const char **value)
{
	struct table_key	k;

	table_key_string(&k, s);
	return (table_lookup_string(t, &k, value));
}
