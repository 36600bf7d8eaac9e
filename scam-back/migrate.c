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
#include "migrate.h"

#define OBTUSE_DEFAULT	"550 Mail from %F to %T prohibited from your " \
			"location (%U@%H ip=%I)"

enum kind {
	KIND_LEGACY,
	KIND_OBTUSE,
	KIND_NETPERM
};

struct mfield {
	struct malt		 alt[MAX_ALTS];
	int			 nalt;
};

static enum kind sniff(const char *);
static int	obtuse_field(struct mig *, int, char *, struct mfield *);
static void	obtuse_line(struct mig *, char *);
static void	output(struct mig *, const char *);

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
				malt_cond(a, COND_MAIL_UNRESOLVABLE, 1);
			else if (strcmp(tok + 3, "UNKNOWN") == 0)
				malt_cond(a, COND_MAIL_UNRESOLVABLE, 0);
			else {
				if (!mentry_ok(m, tok + 3, 1))
					return (-1);
				c = malt_cond(a, COND_MAIL_NS, 0);
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
		malt_cond(&f->alt[f->nalt++], spec[i], 0);
	if (npos > 0 && f->nalt < MAX_ALTS) {
		c = malt_cond(&f->alt[f->nalt++], tabletype[field], 0);
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
			malt_cond(a, negspec[j], 1);
		if (nneg > 0 && a->n < 3) {
			c = malt_cond(a, tabletype[field], 1);
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
	if (n == 6 && mstrip(fld[5])[0] != '#') {
		mnote(m, M_ERROR, "more than five fields (a colon in the message? "
		    "Obtuse wrote %%C for one)");
		return;
	}
	if (n >= 5 && (msg = mstrip(fld[4]))[0] == '#')
		msg = NULL;

	p = mstrip(fld[0]);
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
		netperm_read(&m, fp);
	else {
		while (getline(&line, &size, fp) != -1) {
			m.lineno++;
			p = mstrip(line);
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
