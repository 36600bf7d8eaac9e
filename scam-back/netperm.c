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
 * scam-back -m for the smap lines of a TIS netperm-table: smap's hosts,
 * kill lists, domains and checks become access tables and rules (SPEC
 * section 11), in the order smap applied them.
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

#define SMAP_SAVEDIR	"/var/spool/smap/secure"

struct smap;

static const char *smap_pattern(const char *);
static void	smap_list(struct mig *, const char **, int *, char *, int);
static int	smap_code(struct mig *, const char *);
static void	smap_line(struct mig *, struct smap *, char *, char *);
static void	smap_block_cond(struct mig *, struct malt *, enum cond_type,
		    const char *);
static void	smap_rule(struct mig *, enum rule_action, const char *, int,
		    struct malt *);

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
	c = malt_cond(a, t, 0);
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

void
netperm_read(struct mig *m, FILE *fp)
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
		p = mstrip(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "smap:", 5) != 0) {
			others++;
			continue;
		}
		p = mstrip(p + 5);
		key = p;
		args = p + strcspn(p, " \t");
		if (*args != '\0')
			*args++ = '\0';
		smap_line(m, &s, key, mstrip(args));
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
		malt_cond(&a, COND_FROM_TABLE, 0)->table = thosts;
		smap_rule(m, RULE_PASS, NULL, 0, &a);
	}
	if (tkill) {
		memset(&a, 0, sizeof(a));
		malt_cond(&a, COND_FROM_TABLE, 0)->table = tkill;
		smap_reply(reply, sizeof(reply), s.err_kill,
		    "554 5.7.1 Rejected");
		smap_rule(m, RULE_MATCH, reply, 0, &a);
	}
	memset(&a, 0, sizeof(a));
	malt_cond(&a, COND_RCPT, 1)->table = tdomains != 0 ? tdomains :
	    RULE_TABLE_DOMAINS;
	smap_reply(reply, sizeof(reply), s.err_notlocal,
	    "554 5.7.1 <%T>: Relay access denied");
	smap_rule(m, RULE_REJECT, reply, 0, &a);
	mnote(m, M_NOTE, "smap dropped the connection of a client that relayed; "
	    "scam-back refuses the recipient");
	if (tspam) {
		memset(&a, 0, sizeof(a));
		malt_cond(&a, COND_FROM_TABLE, 0)->table = tspam;
		smap_reply(reply, sizeof(reply), s.err_reject,
		    "554 5.7.1 Mail from %H [%I] refused");
		smap_rule(m, RULE_REJECT, reply, 0, &a);
		if (s.check_from) {
			memset(&a, 0, sizeof(a));
			malt_cond(&a, COND_MAIL_TABLE, 0)->table = tspam;
			smap_reply(reply, sizeof(reply), s.err_reject,
			    "554 5.7.1 <%F>: Sender address rejected");
			smap_rule(m, RULE_REJECT, reply, 0, &a);
		}
	}
	/* broken-from spares a sender every check of its address. */
	memset(&b, 0, sizeof(b));
	if (tbroken)
		malt_cond(&b, COND_MAIL_TABLE, 1)->table = tbroken;
	if (s.full_email) {
		a = b;
		malt_cond(&a, COND_MAIL_UNQUALIFIED, 0);
		smap_reply(reply, sizeof(reply), s.err_bad,
		    "554 5.1.7 <%F>: need user@domain");
		smap_rule(m, RULE_REJECT, reply, 0, &a);
	}
	if (s.check_from) {
		if (tdomains) {
			a = b;
			malt_cond(&a, COND_MAIL_TABLE, 0)->table = tdomains;
			smap_reply(reply, sizeof(reply), s.err_bad,
			    "554 5.7.1 <%F>: not a local sender");
			smap_rule(m, RULE_REJECT, reply, 0, &a);
		}
		a = b;
		malt_cond(&a, COND_MAIL_UNRESOLVABLE, 0)->parent = 1;
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
