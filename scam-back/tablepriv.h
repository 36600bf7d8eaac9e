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
 * What table.c (building a table) and tablelookup.c (looking things up
 * in it) share: the entries, the index and the hash of their keys.
 */

#ifndef TABLEPRIV_H
#define TABLEPRIV_H

/* Needs <regex.h>, policy.h and table.h first. */

struct tentry {
	char		*key;		/* as written, without '!' */
	char		*norm;		/* lowercased (== key when it was) */
	char		*value;		/* "" for none */
	uint8_t		 kind;		/* enum table_kind */
	uint8_t		 flags;		/* TABLE_F_* */
	uint8_t		 whole;		/* TK_GLOB with '@': the address */
	uint16_t	 nlen;		/* strlen(norm) */
	uint16_t	 tail;		/* TK_GLOB: its literal end's length */
	regex_t		*re;		/* TK_REGEX */
};

/*
 * A slot of the hash: the key's hash beside the entry, so that a probe
 * past other keys reads no entry and no string.
 */
struct tslot {
	uint32_t	 h;
	uint32_t	 i;		/* entry index + 1; 0 is empty */
};

/* The entries of one sign (matches or exceptions), indexed. */
struct tindex {
	struct tslot	*slots;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 used;
	uint64_t	 lens[4];	/* the hashed keys' lengths (255:
					   longer): most misses cost no hash */
	uint32_t	*pats;		/* globs and regexes, in order */
	size_t		 npats;
	uint8_t		 plen4[33];	/* prefix lengths with networks, */
	uint8_t		 plen6[129];	/* longest first */
	size_t		 nplen4;
	size_t		 nplen6;
	int		 words;		/* any TK_WORD entry */
	int		 below;		/* any ".name" entry */
	int		 names;		/* any entry a host name can match */
};

struct table {
	char		 name[TABLE_NAME_LEN];
	struct tentry	*e;
	size_t		 n;
	size_t		 size;
	struct tindex	 pos;
	struct tindex	 neg;
};

#define TABLE_FNV_BASIS		2166136261u
#define TABLE_FNV_PRIME		16777619u
#define TABLE_NETKEY_LEN	64

/* table.c */
int		 table_lower(int);
uint32_t	 table_mix(uint32_t);
uint32_t	 table_hash(const char *, size_t);
int		 table_net_key(const struct client_addr *, int, char *,
		    size_t);
int		 table_net_parse(const char *, struct client_addr *, int *);

#endif /* TABLEPRIV_H */
