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
 * What a conversion of scam-back -m builds (migrate.c, netperm.c): its
 * notes, reported on stderr and kept for the output, and the access
 * tables and rules that stand for what was read.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"
#include "migrate.h"

/*
 * Report on stderr and keep the line for the output.  level: M_NOTE a
 * remark, M_CHECK carried but worth a look, M_ERROR not carried; both
 * of the last make the exit status 1.
 */
void
mnote(struct mig *m, int level, const char *fmt, ...)
{
	static const char *label[] = { "note: ", "", "check: " };
	static const char *mark[] = { "", "NOT CONVERTED: ", "CHECK: " };
	va_list	 ap;
	char	*msg, *n, where[PATH_MAX + 16];

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		err(1, NULL);
	va_end(ap);
	if (m->lineno > 0)
		snprintf(where, sizeof(where), "%s:%d", m->path, m->lineno);
	else
		strlcpy(where, m->path, sizeof(where));
	fprintf(stderr, "%s: %s%s\n", where, label[level], msg);
	if (asprintf(&n, "%s# %s%s: %s\n", m->notes ? m->notes : "",
	    mark[level], where, msg) == -1)
		err(1, NULL);
	free(m->notes);
	m->notes = n;
	if (level != M_NOTE)
		m->errors++;
	free(msg);
}

char *
mstrip(char *s)
{
	char	*e;

	s += strspn(s, " \t\r\n");
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

struct mcond *
malt_cond(struct malt *a, enum cond_type t, int negate)
{
	struct mcond	*c = &a->c[a->n++];

	memset(c, 0, sizeof(*c));
	c->type = t;
	c->negate = negate;
	return (c);
}

/*
 * Can an entry be a table entry?  A test table says, as the parser
 * would; a bad one cannot be carried.
 */
int
mentry_ok(struct mig *m, const char *item, int report)
{
	struct table	*t;
	const char	*errstr;
	int		 flags = 0, rc;

	if (*item == '!')
		item++;
	if (strncmp(item, "regex ", 6) == 0) {
		flags = TABLE_F_REGEX;
		item += 6;
	}
	if ((t = table_new("check")) == NULL)
		err(1, NULL);
	rc = table_add(t, item, NULL, flags, &errstr);
	if (rc == -1 && report)
		mnote(m, M_ERROR, "\"%s\": %s", item, errstr);
	table_free(t);
	return (rc == 0);
}

/* A table for a condition: named (smap's), or anonymous in the rule. */
uint32_t
mtable(struct mig *m, const char *name, const char *const *items, int n)
{
	struct atable_conf	*at;
	const char		*item, *errstr;
	int			 i, flags;

	if (*name != '\0' && (at = rulesconf_table_byname(m->conf, name)) !=
	    NULL)
		return (at->id + 1);
	at = rulesconf_table(m->conf, name);
	for (i = 0; i < n; i++) {
		item = items[i];
		flags = 0;
		if (*item == '!') {
			flags |= TABLE_F_EXCEPT;
			item++;
		}
		if (strncmp(item, "regex ", 6) == 0) {
			flags |= TABLE_F_REGEX;
			item += 6;
		}
		if (table_add(at->table, item, NULL, flags, &errstr) == -1)
			mnote(m, M_ERROR, "\"%s\": %s", item, errstr);
	}
	return (at->id + 1);
}

/* A rule like proto, with the conditions of alternatives, in order. */
void
mrule(struct mig *m, const struct rule_conf *proto, struct malt **alts,
    int nalts)
{
	struct rule_conf	*r;
	struct rule_cond	*rc;
	const struct mcond	*c;
	const char		*e;
	int			 i, j;

	if ((r = malloc(sizeof(*r))) == NULL)
		err(1, NULL);
	*r = *proto;
	for (i = 0; i < nalts; i++)
		for (j = 0; j < alts[i]->n; j++) {
			c = &alts[i]->c[j];
			if (r->ncond == RULE_MAX_CONDS) {
				mnote(m, M_ERROR, "more than %d conditions",
				    RULE_MAX_CONDS);
				free(r);
				return;
			}
			rc = &r->cond[r->ncond++];
			rc->type = c->type;
			rc->negate = c->negate;
			rc->parent = c->parent;
			if (c->table != 0)
				rc->table = c->table;
			else if (c->nitems > 0)
				rc->table = mtable(m, "", c->items,
				    c->nitems);
		}
	if ((e = rulesconf_check(r)) != NULL) {
		mnote(m, M_ERROR, "%s", e);
		free(r);
		return;
	}
	r->nr = TAILQ_EMPTY(&m->conf->rules) ? 1 :
	    TAILQ_LAST(&m->conf->rules, rule_list)->nr + 1;
	TAILQ_INSERT_TAIL(&m->conf->rules, r, entry);
}
