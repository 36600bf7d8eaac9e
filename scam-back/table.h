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
 * Access tables (SPEC section 11): lists of entries whose shape says what
 * they match, looked up by the access rules.  Exact entries are hashed, so
 * a table of 100,000 entries costs a handful of lookups; only globs and
 * regular expressions are scanned.  Pure: no I/O, no locks (a table is
 * built once and only read afterwards, from any thread).
 */

#ifndef TABLE_H
#define TABLE_H

/* Needs policy.h first (struct client_addr). */

#include <stddef.h>
#include <stdint.h>

#define TABLE_NAME_LEN		32	/* <name>, without the brackets */
#define TABLE_KEY_LEN		512	/* a key as written, with '!' */
#define TABLE_VALUE_LEN		256	/* SCO's right-hand-side messages */
#define TABLE_MAX_ENTRIES	10000000

/* Entry flags, as written and as carried between processes. */
#define TABLE_F_EXCEPT		0x01	/* !entry: an exception */
#define TABLE_F_REGEX		0x02	/* regex "...": POSIX ERE */

/* What an entry's shape made of it. */
enum table_kind {
	TK_NET,			/* address or CIDR, v4 or v6 */
	TK_ADDR,		/* user@dom, @dom, user@, <> */
	TK_NAME,		/* host or domain name, .name: below it */
	TK_WORD,		/* a name without a dot: host, or local user */
	TK_GLOB,		/* fnmatch(3), case-insensitive */
	TK_REGEX		/* POSIX extended, case-insensitive */
};

struct table;

struct table	*table_new(const char *);
void		 table_free(struct table *);
const char	*table_name(const struct table *);
size_t		 table_count(const struct table *);
int		 table_has_names(const struct table *);
int		 table_has_words(const struct table *);
int		 table_add(struct table *, const char *, const char *, int,
		    const char **);
int		 table_add_line(struct table *, char *, const char **);
int		 table_load_buf(struct table *, const char *, size_t,
		    void (*)(void *, int, const char *), void *);
int		 table_entry(const struct table *, size_t, const char **,
		    const char **, int *, enum table_kind *);

/*
 * Lookups.  Each returns 1 when the table matches (some entry matches and
 * no exception does) and points *value at the entry's value ("" for
 * none), 0 otherwise.  value may be NULL.
 *
 * client: the client's address and its verified host name (NULL: none).
 * host:   a host name (HELO, a PTR name, an MX or NS host) and, where
 *	   one is known, its address (NULL: none).
 * mail:   an address without brackets ("" is the null sender); local is
 *	   1 when its domain is one scam-back protects (for local users).
 * string: a word compared whole (an SMTP AUTH name).
 */
int	table_match_client(const struct table *, const struct client_addr *,
	    const char *, const char **);
int	table_match_host(const struct table *, const char *,
	    const struct client_addr *, const char **);
int	table_match_mail(const struct table *, const char *, int,
	    const char **);
int	table_match_string(const struct table *, const char *,
	    const char **);

/*
 * A string looked up in many tables, as a walk of the rules does:
 * lowercased and hashed once, with the hashes of the parts a lookup
 * probes (a name's parents, an address's domain and user, the networks
 * holding an address) kept as they are first needed.  It lives on the
 * caller's stack; its members are table.c's.  The lookups answer as the
 * table_match_* functions above do for the same strings.
 */
#define TABLE_LOOKUP_LEN	(TABLE_KEY_LEN + 8)	/* longer: cut */
#define TABLE_KEY_CUTS		16	/* dots and '@' whose hashes stay */

struct table_key {
	char			 s[TABLE_LOOKUP_LEN];	/* lowercased */
	const char		*str;		/* s, or NULL: no string */
	size_t			 len;
	uint32_t		 h;		/* s's hash */
	size_t			 at;		/* the last '@', or len */
	size_t			 ncut;
	uint16_t		 cut[TABLE_KEY_CUTS];	/* a '.' or '@' */
	uint32_t		 cuth[TABLE_KEY_CUTS][2]; /* s + cut, + 1 */
	uint32_t		 userh[2];	/* "user" and "user@" */
	int			 userset;
	const struct client_addr *addr;		/* NULL: none */
	struct client_addr	 lit;		/* an address literal */
	uint8_t			 netset[17];	/* prefix lengths hashed */
	uint32_t		 neth[129];
	char			 atext[48];	/* "" : not yet */
};

void	table_key_client(struct table_key *, const struct client_addr *,
	    const char *);
void	table_key_host(struct table_key *, const char *,
	    const struct client_addr *);
void	table_key_mail(struct table_key *, const char *);
void	table_key_string(struct table_key *, const char *);
int	table_lookup_host(const struct table *, struct table_key *,
	    const char **);
int	table_lookup_mail(const struct table *, struct table_key *, int,
	    const char **);
int	table_lookup_string(const struct table *, struct table_key *,
	    const char **);

#endif /* TABLE_H */
