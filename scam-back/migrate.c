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
 * scam-back -m for the access controls scam-back grew from: an Obtuse
 * smtpd smtpd_check_rules file, or the smap lines of a TIS netperm-table,
 * become access tables and rules (SPEC section 11); a scam-backscatter
 * scam.conf goes to legacy.c.  As there, nothing is dropped silently:
 * what cannot be carried (ident, RBL lookups, ...) is reported with its
 * line, repeated as a comment in the output, and makes the exit status 1;
 * what is carried with a difference is a note.
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

#define MAX_ALTS	4		/* alternatives of one field */
#define MAX_ITEMS	256		/* tokens of one list */
#define OBTUSE_DEFAULT	"550 Mail from %F to %T prohibited from your " \
			"location (%U@%H ip=%I)"
#define SMAP_SAVEDIR	"/var/spool/smap/secure"

#define M_NOTE		0
#define M_ERROR		1
#define M_CHECK		2

enum kind {
	KIND_LEGACY,
	KIND_OBTUSE,
	KIND_NETPERM
};

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

struct mfield {
	struct malt		 alt[MAX_ALTS];
	int			 nalt;
};

struct smap;

static void	mnote(struct mig *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static enum kind sniff(const char *);
static char	*strip(char *);
static struct mcond *alt_cond(struct malt *, enum cond_type, int);
static uint32_t	mtable(struct mig *, const char *, const char *const *, int);
static int	mentry_ok(struct mig *, const char *, int);
static void	mrule(struct mig *, const struct rule_conf *, struct malt **,
		    int);
static const char *smap_pattern(const char *);
static void	smap_list(struct mig *, const char **, int *, char *, int);
static int	smap_code(struct mig *, const char *);
static void	smap_line(struct mig *, struct smap *, char *, char *);
static void	smap_block_cond(struct mig *, struct malt *, enum cond_type,
		    const char *);
static void	smap_rule(struct mig *, enum rule_action, const char *, int,
		    struct malt *);
static int	obtuse_field(struct mig *, int, char *, struct mfield *);
static void	obtuse_line(struct mig *, char *);
static void	netperm(struct mig *, FILE *);
static void	output(struct mig *, const char *);

/*
 * Report on stderr and keep the line for the output.  level: M_NOTE a
 * remark, M_CHECK carried but worth a look, M_ERROR not carried; both
 * of the last make the exit status 1.
 */
static void
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

static char *
strip(char *s)
{
	char	*e;

	s += strspn(s, " \t\r\n");
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

/*
 * What the file is: Obtuse rules start with an action and a colon, a
 * netperm-table has smap: lines; anything else is a scam.conf.
 */
static enum kind
sniff(const char *path)
{
	FILE		*fp;
	char		*line = NULL, *p;
	size_t		 size = 0;
	enum kind	 k = KIND_LEGACY;
	static const char *obtuse[] = { "allow:", "deny:", "noto:",
	    "deny_delay:", "noto_delay:", "debug:", NULL };
	int		 i;

	if ((fp = fopen(path, "r")) == NULL)
		return (KIND_LEGACY);	/* legacy.c says why */
	while (k == KIND_LEGACY && getline(&line, &size, fp) != -1) {
		p = line + strspn(line, " \t");
		for (i = 0; obtuse[i] != NULL; i++)
			if (strncmp(p, obtuse[i], strlen(obtuse[i])) == 0)
				k = KIND_OBTUSE;
		if (strncmp(p, "smap:", 5) == 0 ||
		    strncmp(p, "smapd:", 6) == 0)
			k = KIND_NETPERM;
	}
	free(line);
	fclose(fp);
	return (k);
}

static struct mcond *
alt_cond(struct malt *a, enum cond_type t, int negate)
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
static int
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
static uint32_t
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
static void
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

/*
 * One list of an Obtuse rule, "A B, C EXCEPT D" (which field: 0 source,
 * 1 sender, 2 recipient), into alternatives: each special word one, the
 * patterns together one table; what follows EXCEPT goes into each.
 * Returns 0, or -1 when the list cannot be carried (reported).
 */
static int
obtuse_field(struct mig *m, int field, char *list, struct mfield *f)
{
	static const enum cond_type tabletype[] = { COND_FROM_TABLE,
	    COND_MAIL_TABLE, COND_RCPT };
	const char	*pos[MAX_ITEMS], *negitems[MAX_ITEMS];
	enum cond_type	 spec[MAX_ALTS], negspec[MAX_ALTS];
	char		*tok, *last, *item;
	int		 npos = 0, nneg = 0, nspec = 0, nnegspec = 0;
	int		 except = 0, all = 0, i, j, ns;
	struct malt	*a;
	struct mcond	*c;

	memset(f, 0, sizeof(*f));
	for (tok = strtok_r(list, ", \t", &last); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &last)) {
		if (strcasecmp(tok, "EXCEPT") == 0) {
			if (except++) {
				mnote(m, M_ERROR, "EXCEPT within EXCEPT");
				return (-1);
			}
			continue;
		}
		item = NULL;
		ns = -1;
		if (strcmp(tok, "ALL") == 0) {
			if (!except)
				all = 1;
			else
				mnote(m, M_NOTE, "EXCEPT ALL matches nothing");
			continue;
		} else if (field == 0 && strcmp(tok, "KNOWN") == 0)
			ns = COND_FROM_KNOWN;
		else if (field == 0 && strcmp(tok, "UNKNOWN") == 0)
			ns = COND_FROM_UNKNOWN;
		else if (field == 0 && strncmp(tok, "RBL.", 4) == 0) {
			mnote(m, M_ERROR, "%s: DNS blocklists are not access "
			    "rules: use Postfix's reject_rbl_client or "
			    "sendmail's FEATURE(dnsbl)", tok);
			return (-1);
		} else if (strcmp(tok, "TRUSTED") == 0 ||
		    strcmp(tok, "UNTRUSTED") == 0) {
			mnote(m, M_ERROR, "%s: Juniper firewall interfaces are "
			    "not known to a milter", tok);
			return (-1);
		} else if (strncmp(tok, "NS=", 3) == 0) {
			if (field != 1) {
				mnote(m, M_ERROR, "%s: name servers are matched "
				    "for the sender only (mail-from ns)", tok);
				return (-1);
			}
			if (except) {
				mnote(m, M_ERROR, "%s after EXCEPT", tok);
				return (-1);
			}
			a = &f->alt[f->nalt++];
			if (strcmp(tok + 3, "KNOWN") == 0)
				alt_cond(a, COND_MAIL_UNRESOLVABLE, 1);
			else if (strcmp(tok + 3, "UNKNOWN") == 0)
				alt_cond(a, COND_MAIL_UNRESOLVABLE, 0);
			else {
				if (!mentry_ok(m, tok + 3, 1))
					return (-1);
				c = alt_cond(a, COND_MAIL_NS, 0);
				c->items[c->nitems++] = tok + 3;
			}
			if (f->nalt == MAX_ALTS) {
				mnote(m, M_ERROR, "too many alternatives");
				return (-1);
			}
			continue;
		} else if (tok[0] == '/' && strlen(tok) > 2 &&
		    tok[strlen(tok) - 1] == '/') {
			tok[strlen(tok) - 1] = '\0';
			tok[0] = ' ';
			if (asprintf(&item, "regex%s", tok) == -1)
				err(1, NULL);
		} else if (strchr(tok, '@') != NULL && (field == 0 ||
		    strncmp(tok, "USER@", 5) == 0 ||
		    strstr(tok, "@NS=") != NULL)) {
			mnote(m, M_ERROR, "%s: the client's user (ident) is not "
			    "known to a milter", tok);
			return (-1);
		} else if (field > 0 && strchr(tok, '@') == NULL &&
		    strpbrk(tok, "*?[") != NULL)
			mnote(m, M_NOTE, "%s: Obtuse compared it with the whole "
			    "address, scam-back with the domain", tok);
		else if (field > 0 && strchr(tok, '@') == NULL)
			mnote(m, M_NOTE, "%s: Obtuse compared it with the whole "
			    "address; scam-back matches the domain %s and "
			    "those below it", tok, tok);
		if (ns != -1) {
			if (except) {
				if (nnegspec < MAX_ALTS)
					negspec[nnegspec++] = ns;
			} else if (nspec < MAX_ALTS)
				spec[nspec++] = ns;
			continue;
		}
		if (item == NULL && (item = strdup(tok)) == NULL)
			err(1, NULL);
		if (!mentry_ok(m, item, 1))
			return (-1);
		if (except && nneg < MAX_ITEMS)
			negitems[nneg++] = item;
		else if (!except && npos < MAX_ITEMS)
			pos[npos++] = item;
	}

	/* ALL covers every other alternative. */
	if (all) {
		f->nalt = 0;
		nspec = npos = 0;
	}
	for (i = 0; i < nspec && f->nalt < MAX_ALTS; i++)
		alt_cond(&f->alt[f->nalt++], spec[i], 0);
	if (npos > 0 && f->nalt < MAX_ALTS) {
		c = alt_cond(&f->alt[f->nalt++], tabletype[field], 0);
		for (i = 0; i < npos; i++)
			c->items[c->nitems++] = pos[i];
		/* EXCEPT entries are the table's exceptions. */
		for (j = 0; j < nneg; j++)
			if (asprintf((char **)&c->items[c->nitems++], "!%s",
			    negitems[j]) == -1)
				err(1, NULL);
	}
	if (all || f->nalt == 0)
		f->nalt = all ? 1 : f->nalt;
	if (f->nalt == 0) {
		mnote(m, M_ERROR, "an empty list matches nothing");
		return (-1);
	}
	/* Exceptions, for the alternatives that are not the table. */
	for (i = 0; i < f->nalt; i++) {
		a = &f->alt[i];
		if (a->n > 0 && a->c[0].type == tabletype[field] &&
		    a->c[0].nitems > 0)
			continue;
		for (j = 0; j < nnegspec && a->n < 3; j++)
			alt_cond(a, negspec[j], 1);
		if (nneg > 0 && a->n < 3) {
			c = alt_cond(a, tabletype[field], 1);
			for (j = 0; j < nneg; j++)
				c->items[c->nitems++] = negitems[j];
		}
	}
	return (0);
}

/* action:SourceList:FromList:ToList[:XXX message] */
static void
obtuse_line(struct mig *m, char *line)
{
	struct mfield		 f[3];
	struct malt		*alts[3];
	struct rule_conf	 proto;
	enum rule_action	 action;
	char			*fld[6], *last, *msg = NULL, *p;
	const char		*reply = NULL, *e;
	int			 n = 0, i, j, k, flags = 0;
	uint32_t		 delay = 0;

	for (p = strtok_r(line, ":", &last); p != NULL && n < 6;
	    p = strtok_r(NULL, ":", &last))
		fld[n++] = p;
	if (n < 4) {
		mnote(m, M_ERROR, "%d fields: a rule has action:source:from:to"
		    "[:message]", n);
		return;
	}
	if (n == 6 && strip(fld[5])[0] != '#') {
		mnote(m, M_ERROR, "more than five fields (a colon in the message? "
		    "Obtuse wrote %%C for one)");
		return;
	}
	if (n >= 5 && (msg = strip(fld[4]))[0] == '#')
		msg = NULL;

	p = strip(fld[0]);
	if (strcmp(p, "allow") == 0)
		action = RULE_PASS;
	else if (strcmp(p, "noto") == 0 || strcmp(p, "noto_delay") == 0)
		action = RULE_REJECT;
	else if (strcmp(p, "deny") == 0 || strcmp(p, "deny_delay") == 0) {
		action = RULE_REJECT;
		if (msg != NULL && strncmp(msg, "421", 3) == 0)
			action = RULE_DISCONNECT;
		else
			mnote(m, M_NOTE, "deny ended the session after its reply: "
			    "scam-back refuses the recipient and the session "
			    "goes on (disconnect ends it, with a 421)");
	} else if (strcmp(p, "debug") == 0) {
		action = RULE_MATCH;
		flags |= RULE_F_LOG;
	} else {
		mnote(m, M_ERROR, "unknown action \"%s\"", p);
		return;
	}
	if (strstr(p, "_delay") != NULL) {
		delay = RULE_MAX_DELAY;
		mnote(m, M_NOTE, "%s: held %d seconds, not the minute Obtuse's "
		    "Makefile set: the MTA gives up on a milter after 10",
		    p, RULE_MAX_DELAY);
	}
	if (action == RULE_PASS || action == RULE_MATCH) {
		if (msg != NULL)
			mnote(m, M_NOTE, "the message of %s is not used", p);
	} else {
		reply = msg != NULL ? msg : OBTUSE_DEFAULT;
		if (strchr(reply, '"') != NULL || strchr(reply, '\\') !=
		    NULL) {
			for (p = (char *)reply; *p != '\0'; p++)
				if (*p == '"' || *p == '\\')
					*p = '\'';
			mnote(m, M_NOTE, "double quotes and backslashes in the "
			    "message became single quotes");
		}
		if ((e = reply_check(reply, action, 0)) != NULL) {
			mnote(m, M_ERROR, "\"%s\": %s", reply, e);
			return;
		}
	}

	for (i = 0; i < 3; i++)
		if (obtuse_field(m, i, fld[i + 1], &f[i]) == -1)
			return;
	memset(&proto, 0, sizeof(proto));
	proto.action = action;
	proto.stage = STAGE_RCPT;
	proto.flags = flags;
	proto.delay = delay;
	if (reply != NULL)
		strlcpy(proto.reply, reply, sizeof(proto.reply));
	/* One rule for each combination of alternatives. */
	for (i = 0; i < f[0].nalt; i++)
		for (j = 0; j < f[1].nalt; j++)
			for (k = 0; k < f[2].nalt; k++) {
				alts[0] = &f[0].alt[i];
				alts[1] = &f[1].alt[j];
				alts[2] = &f[2].alt[k];
				mrule(m, &proto, alts, 3);
			}
}

/* The smap lines of a netperm-table, gathered, then the rules in order. */
struct smap {
	const char	*permit_hosts[MAX_ITEMS];
	int		 npermit_hosts;
	const char	*permit_domains[MAX_ITEMS];
	int		 npermit_domains;
	const char	*spam[MAX_ITEMS];
	int		 nspam;
	const char	*broken[MAX_ITEMS];
	int		 nbroken;
	const char	*kill[MAX_ITEMS];
	int		 nkill;
	int		 scrub_spam, full_email, check_from, user_too;
	long long	 max_email, max_dirent;
	char		 dir[PATH_MAX];
	int		 err_bad, err_notlocal, err_reject, err_kill;
	struct {
		int		 allow;
		const char	*from, *to;
		int		 lineno;
	}		 block[MAX_ITEMS];
	int		 nblock;
};

/* smap's "*x" (a substring) and "x" (exact) as table entries. */
static const char *
smap_pattern(const char *s)
{
	char	*p;

	if (*s != '*')
		return (s);
	if (asprintf(&p, "%s*", s) == -1)
		err(1, NULL);
	return (p);
}

static void
smap_list(struct mig *m, const char **list, int *n, char *args, int substr)
{
	char		*tok, *last;
	const char	*item;

	for (tok = strtok_r(args, " \t", &last); tok != NULL;
	    tok = strtok_r(NULL, " \t", &last)) {
		if ((item = strdup(tok)) == NULL)
			err(1, NULL);
		if (substr)
			item = smap_pattern(item);
		else if (item[0] == '*' && strchr(item, '.') != NULL &&
		    item[1] != '.' && strpbrk(item + 1, "*?[") == NULL)
			mnote(m, M_CHECK, "%s also matches evil%s, as it did "
			    "in smap: write %s for that domain and those "
			    "below it", item, item + 1, item + 1);
		if (!mentry_ok(m, item, 1))
			continue;
		if (*n < MAX_ITEMS)
			list[(*n)++] = item;
	}
}

static int
smap_code(struct mig *m, const char *s)
{
	const char	*errstr;
	int		 code;

	code = strtonum(s, 400, 599, &errstr);
	if (errstr != NULL) {
		mnote(m, M_ERROR, "\"%s\" is not a 4xx or 5xx reply code", s);
		return (0);
	}
	return (code);
}

static void
smap_line(struct mig *m, struct smap *s, char *key, char *args)
{
	char		*a, *b, *last;
	const char	*errstr;
	long long	*num = NULL;
	int		*flag = NULL;

	if (strcmp(key, "permit-hosts") == 0)
		smap_list(m, s->permit_hosts, &s->npermit_hosts, args, 0);
	else if (strcmp(key, "permit-domains") == 0)
		smap_list(m, s->permit_domains, &s->npermit_domains, args, 0);
	else if (strcmp(key, "spam") == 0)
		smap_list(m, s->spam, &s->nspam, args, 0);
	else if (strcmp(key, "broken-from") == 0)
		smap_list(m, s->broken, &s->nbroken, args, 1);
	else if (strcmp(key, "kill-mail") == 0)
		smap_list(m, s->kill, &s->nkill, args, 1);
	else if (strcmp(key, "scrub-spam") == 0)
		flag = &s->scrub_spam;
	else if (strcmp(key, "require-full-email") == 0)
		flag = &s->full_email;
	else if (strcmp(key, "check-from-address") == 0)
		flag = &s->check_from;
	else if (strcmp(key, "check-user-too") == 0)
		flag = &s->user_too;
	else if (strcmp(key, "max-email") == 0)
		num = &s->max_email;
	else if (strcmp(key, "max-dirent") == 0)
		num = &s->max_dirent;
	else if (strcmp(key, "directory") == 0)
		snprintf(s->dir, sizeof(s->dir), "%s/secure", args);
	else if (strcmp(key, "set-bad-address-errno") == 0)
		s->err_bad = smap_code(m, args);
	else if (strcmp(key, "set-not-local-errno") == 0)
		s->err_notlocal = smap_code(m, args);
	else if (strcmp(key, "set-reject-errno") == 0)
		s->err_reject = smap_code(m, args);
	else if (strcmp(key, "set-kill-errno") == 0)
		s->err_kill = smap_code(m, args);
	else if (strcmp(key, "spam-block") == 0) {
		a = strtok_r(args, " \t", &last);
		if (a == NULL || (strcmp(a, "deny") != 0 &&
		    strcmp(a, "allow") != 0) ||
		    (b = strtok_r(NULL, " \t", &last)) == NULL) {
			mnote(m, M_ERROR, "spam-block deny|allow <from> [<to>]");
			return;
		}
		if (s->nblock == MAX_ITEMS)
			return;
		s->block[s->nblock].allow = strcmp(a, "allow") == 0;
		s->block[s->nblock].from = strdup(b);
		b = strtok_r(NULL, " \t", &last);
		s->block[s->nblock].to = b != NULL ? strdup(b) : NULL;
		s->block[s->nblock].lineno = m->lineno;
		s->nblock++;
	} else
		mnote(m, M_NOTE, "smap: %s is not an access control: not carried",
		    key);
	if (flag != NULL)
		*flag = strcmp(args, "0") != 0;
	if (num != NULL) {
		*num = strtonum(args, 0, MAX_SAVE_FILES, &errstr);
		if (errstr != NULL)
			mnote(m, M_ERROR, "%s: \"%s\" is %s", key, args, errstr);
	}
}

/* "<*savetrees.com*>" as an anonymous table, or none for "<*>". */
static void
smap_block_cond(struct mig *m, struct malt *a, enum cond_type t,
    const char *pat)
{
	struct mcond	*c;
	char		*p;
	size_t		 len;

	if (pat == NULL)
		return;
	if ((p = strdup(pat)) == NULL)
		err(1, NULL);
	len = strlen(p);
	if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
		p[len - 1] = '\0';
		p++;
	}
	if (strcmp(p, "*") == 0 || *p == '\0')
		return;
	if (!mentry_ok(m, p, 1))
		return;
	c = alt_cond(a, t, 0);
	c->items[c->nitems++] = p;
}

static void
smap_reply(char *buf, size_t len, int code, const char *dflt)
{
	/* dflt is "NNN X.Y.Z text": the code and its class change. */
	if (code == 0)
		strlcpy(buf, dflt, len);
	else if (dflt[4] == '5' || dflt[4] == '4')
		snprintf(buf, len, "%03d %c%s", code, code / 100 + '0',
		    dflt + 5);
	else
		snprintf(buf, len, "%03d %s", code, dflt + 4);
}

static void
netperm(struct mig *m, FILE *fp)
{
	struct smap	 s;
	struct malt	 a, b;
	char		*line = NULL, *p, *key, *args, reply[RULE_REPLY_LEN];
	size_t		 size = 0;
	uint32_t	 thosts = 0, tdomains = 0, tspam = 0, tbroken = 0;
	uint32_t	 tkill = 0;
	int		 i, others = 0, save;

	memset(&s, 0, sizeof(s));
	while (getline(&line, &size, fp) != -1) {
		m->lineno++;
		p = strip(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "smap:", 5) != 0) {
			others++;
			continue;
		}
		p = strip(p + 5);
		key = p;
		args = p + strcspn(p, " \t");
		if (*args != '\0')
			*args++ = '\0';
		smap_line(m, &s, key, strip(args));
	}
	free(line);
	m->lineno = 0;
	if (others > 0)
		mnote(m, M_NOTE, "%d lines for other programs than smap left alone",
		    others);

	if (s.npermit_hosts > 0)
		thosts = mtable(m, "permit_hosts", s.permit_hosts,
		    s.npermit_hosts);
	if (s.npermit_domains > 0)
		tdomains = mtable(m, "permit_domains", s.permit_domains,
		    s.npermit_domains);
	if (s.nspam > 0 && s.scrub_spam)
		tspam = mtable(m, "spam", s.spam, s.nspam);
	else if (s.nspam > 0)
		mnote(m, M_NOTE, "spam hosts are listed but scrub-spam is off: not "
		    "carried");
	if (s.nbroken > 0)
		tbroken = mtable(m, "broken", s.broken, s.nbroken);
	if (s.nkill > 0)
		tkill = mtable(m, "kill", s.kill, s.nkill);
	if (s.user_too)
		mnote(m, M_NOTE, "check-user-too: spam entries with an @ match "
		    "whole addresses, those without the domain");
	save = s.check_from && s.max_email > 0;
	if (save) {
		free(m->conf->save_dir);
		if ((m->conf->save_dir = strdup(s.dir[0] != '\0' ? s.dir :
		    SMAP_SAVEDIR)) == NULL)
			err(1, NULL);
		m->conf->save_size = s.max_email;
		if (s.max_dirent > 0)
			m->conf->save_max_files = s.max_dirent;
		if (s.dir[0] == '\0')
			mnote(m, M_NOTE, "max-email: saved to %s (smap's "
			    "\"secure\" directory): create it, mode 0700",
			    SMAP_SAVEDIR);
	}

	/*
	 * Internal hosts pass; kill-mail is noted; then what smap checked
	 * of others: relaying, spam hosts, the sender; spam-block last, so
	 * that its allow lines pass nothing the other checks refuse.
	 */
	if (thosts) {
		memset(&a, 0, sizeof(a));
		alt_cond(&a, COND_FROM_TABLE, 0)->table = thosts;
		smap_rule(m, RULE_PASS, NULL, 0, &a);
	}
	if (tkill) {
		memset(&a, 0, sizeof(a));
		alt_cond(&a, COND_FROM_TABLE, 0)->table = tkill;
		smap_reply(reply, sizeof(reply), s.err_kill,
		    "554 5.7.1 Rejected");
		smap_rule(m, RULE_MATCH, reply, 0, &a);
	}
	memset(&a, 0, sizeof(a));
	alt_cond(&a, COND_RCPT, 1)->table = tdomains != 0 ? tdomains :
	    RULE_TABLE_DOMAINS;
	smap_reply(reply, sizeof(reply), s.err_notlocal,
	    "554 5.7.1 <%T>: Relay access denied");
	smap_rule(m, RULE_REJECT, reply, 0, &a);
	mnote(m, M_NOTE, "smap dropped the connection of a client that relayed; "
	    "scam-back refuses the recipient");
	if (tspam) {
		memset(&a, 0, sizeof(a));
		alt_cond(&a, COND_FROM_TABLE, 0)->table = tspam;
		smap_reply(reply, sizeof(reply), s.err_reject,
		    "554 5.7.1 Mail from %H [%I] refused");
		smap_rule(m, RULE_REJECT, reply, 0, &a);
		if (s.check_from) {
			memset(&a, 0, sizeof(a));
			alt_cond(&a, COND_MAIL_TABLE, 0)->table = tspam;
			smap_reply(reply, sizeof(reply), s.err_reject,
			    "554 5.7.1 <%F>: Sender address rejected");
			smap_rule(m, RULE_REJECT, reply, 0, &a);
		}
	}
	/* broken-from spares a sender every check of its address. */
	memset(&b, 0, sizeof(b));
	if (tbroken)
		alt_cond(&b, COND_MAIL_TABLE, 1)->table = tbroken;
	if (s.full_email) {
		a = b;
		alt_cond(&a, COND_MAIL_UNQUALIFIED, 0);
		smap_reply(reply, sizeof(reply), s.err_bad,
		    "554 5.1.7 <%F>: need user@domain");
		smap_rule(m, RULE_REJECT, reply, 0, &a);
	}
	if (s.check_from) {
		if (tdomains) {
			a = b;
			alt_cond(&a, COND_MAIL_TABLE, 0)->table = tdomains;
			smap_reply(reply, sizeof(reply), s.err_bad,
			    "554 5.7.1 <%F>: not a local sender");
			smap_rule(m, RULE_REJECT, reply, 0, &a);
		}
		a = b;
		alt_cond(&a, COND_MAIL_UNRESOLVABLE, 0)->parent = 1;
		smap_reply(reply, sizeof(reply), s.err_bad,
		    "554 5.1.8 <%F>: Sender domain not found");
		smap_rule(m, RULE_REJECT, reply, save, &a);
	}
	for (i = 0; i < s.nblock; i++) {
		m->lineno = s.block[i].lineno;
		memset(&a, 0, sizeof(a));
		smap_block_cond(m, &a, COND_MAIL_TABLE, s.block[i].from);
		smap_block_cond(m, &a, COND_RCPT, s.block[i].to);
		if (s.block[i].allow)
			smap_rule(m, RULE_PASS, NULL, 0, &a);
		else {
			smap_reply(reply, sizeof(reply), s.err_reject,
			    "554 5.7.1 <%F> may not write to <%T>");
			smap_rule(m, RULE_REJECT, reply, 0, &a);
		}
	}
	m->lineno = 0;
}

/* A rule of the smap conversion: kill-mail's reply is set permanent. */
static void
smap_rule(struct mig *m, enum rule_action action, const char *reply,
    int save, struct malt *a)
{
	struct rule_conf	 proto;
	struct malt		*alts[1];

	memset(&proto, 0, sizeof(proto));
	proto.action = action;
	proto.stage = STAGE_RCPT;
	if (save)
		proto.flags |= RULE_F_SAVE;
	if (action == RULE_MATCH && reply != NULL)
		strlcpy(proto.permanent, reply, sizeof(proto.permanent));
	else if (reply != NULL)
		strlcpy(proto.reply, reply, sizeof(proto.reply));
	alts[0] = a;
	mrule(m, &proto, alts, 1);
}

static void
output(struct mig *m, const char *what)
{
	printf("# Access rules converted from %s (%s) by scam-back -m\n",
	    m->path, what);
	printf("# Add them to scam-back.conf; check with scam-back -n.\n");
	if (m->notes != NULL)
		printf("#\n%s", m->notes);
	printf("\n");
	print_access(m->conf, 0);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
}

/*
 * scam-back -m: an Obtuse or smap file here, a scam.conf in legacy.c.
 * Returns the exit status.
 */
int
migrate_convert(const char *path, int argc, char **argv)
{
	struct mig	 m;
	FILE		*fp;
	char		*line = NULL, *p;
	size_t		 size = 0;
	enum kind	 k;

	if ((k = sniff(path)) == KIND_LEGACY)
		return (legacy_convert(path, argc, argv));
	if (argc > 0)
		errx(1, "options after -- are scam-backscatter's: %s is not "
		    "a scam.conf", path);
	memset(&m, 0, sizeof(m));
	m.path = path;
	if ((m.conf = config_new()) == NULL)
		err(1, NULL);
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (k == KIND_NETPERM)
		netperm(&m, fp);
	else {
		while (getline(&line, &size, fp) != -1) {
			m.lineno++;
			p = strip(line);
			if (*p == '\0' || *p == '#')
				continue;
			obtuse_line(&m, p);
		}
		free(line);
		m.lineno = 0;
	}
	if (ferror(fp))
		err(1, "%s", path);
	fclose(fp);
	output(&m, k == KIND_NETPERM ? "smap netperm-table" :
	    "Obtuse smtpd_check_rules");
	free(m.notes);
	config_free(m.conf);
	return (m.errors ? 1 : 0);
}
