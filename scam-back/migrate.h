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
 * What the files of scam-back -m for access controls share: migrate.c
 * (the driver and Obtuse's smtpd_check_rules), netperm.c (smap's lines
 * of a netperm-table) and migrule.c (what a conversion builds: its
 * notes, tables and rules).  Calls go one way: migrate.c > netperm.c >
 * migrule.c.  Needs scam-back.h and rules.h.
 */

#ifndef MIGRATE_H
#define MIGRATE_H

#include <stdio.h>

#define MAX_ALTS	4		/* alternatives of one field */
#define MAX_ITEMS	256		/* tokens of one list */

#define M_NOTE		0
#define M_ERROR		1
#define M_CHECK		2

/* The output being built, and what was said about the input. */
struct mig {
	struct scamback_conf	*conf;
	const char		*path;
	int			 lineno;
	int			 errors;
	char			*notes;
};

/* One condition of a rule to be, with its table's entries. */
struct mcond {
	enum cond_type		 type;
	int			 negate;
	int			 parent;
	uint32_t		 table;		/* a named table, or 0 */
	const char		*items[MAX_ITEMS];	/* "!" prefix: except */
	int			 nitems;
};

/* One alternative of a field: the conditions that stand for it. */
struct malt {
	struct mcond		 c[3];
	int			 n;
};

/* migrule.c */
void		 mnote(struct mig *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
char		*mstrip(char *);
struct mcond	*malt_cond(struct malt *, enum cond_type, int);
int		 mentry_ok(struct mig *, const char *, int);
uint32_t	 mtable(struct mig *, const char *, const char *const *, int);
void		 mrule(struct mig *, const struct rule_conf *, struct malt **,
		    int);

/* netperm.c */
void		 netperm_read(struct mig *, FILE *);

#endif /* MIGRATE_H */
