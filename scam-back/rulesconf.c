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
 * Access tables and rules as the grammar builds them (the parent only):
 * tables by name, table files read whole, and what -n says of a rule
 * that cannot work as written.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

#define TABLE_FILE_MAX	(1024 * 1024 * 1024)	/* octets */

struct fileerr {
	const char	*path;
};

static void	file_error(void *, int, const char *);

/* A new table: named, or anonymous ("", written inside a rule). */
struct atable_conf *
rulesconf_table(struct scamback_conf *conf, const char *name)
{
	struct atable_conf	*at;
	uint32_t		 id = 0;

	TAILQ_FOREACH(at, &conf->atables, entry)
		id++;
	if ((at = calloc(1, sizeof(*at))) == NULL ||
	    (at->table = table_new(name)) == NULL)
		fatal(NULL);
	strlcpy(at->name, name, sizeof(at->name));
	at->id = id;
	TAILQ_INSERT_TAIL(&conf->atables, at, entry);
	return (at);
}

struct atable_conf *
rulesconf_table_byname(struct scamback_conf *conf, const char *name)
{
	struct atable_conf	*at;

	TAILQ_FOREACH(at, &conf->atables, entry)
		if (at->name[0] != '\0' && strcmp(at->name, name) == 0)
			return (at);
	return (NULL);
}

static void
file_error(void *arg, int lineno, const char *msg)
{
	struct fileerr	*fe = arg;

	conf_error(fe->path, lineno, "%s", msg);
}

/*
 * Read a table file: "key [value]" a line, as table_add_line() takes
 * them.  Each bad line is an error at its own file:line.  Returns the
 * number of errors, or -1 with *why when the file cannot be read (the
 * caller names the line of the configuration that names it).
 */
int
rulesconf_table_file(struct atable_conf *at, const char *path,
    const char **why)
{
	struct fileerr	 fe;
	struct stat	 sb;
	FILE		*fp;
	char		*buf;
	size_t		 len;
	int		 errors;

	strlcpy(at->path, path, sizeof(at->path));
	/* A fifo or a device would hang the parent: config_fopen refuses. */
	if ((fp = config_fopen(path, why)) == NULL)
		return (-1);
	if (fstat(fileno(fp), &sb) == -1 || sb.st_size > TABLE_FILE_MAX) {
		*why = "larger than 1 GB";
		fclose(fp);
		return (-1);
	}
	if ((buf = malloc(sb.st_size + 1)) == NULL)
		fatal(NULL);
	len = fread(buf, 1, sb.st_size, fp);
	fclose(fp);
	fe.path = path;
	errors = table_load_buf(at->table, buf, len, file_error, &fe);
	free(buf);
	return (errors);
}

/*
 * What -n says of a rule that cannot work as written, or NULL.  The
 * configuration is needed for nothing but the tables' names.
 */
const char *
rulesconf_check(const struct rule_conf *r)
{
	static char		 msg[256];
	const struct rule_cond	*c;
	const char		*e;
	int			 i;

	for (i = 0; i < r->ncond; i++) {
		c = &r->cond[i];
		if (rules_cond_stage(c->type) > r->stage) {
			snprintf(msg, sizeof(msg), "a rule on %s cannot look "
			    "at what the client sends later (%s)",
			    rules_stage_name(r->stage),
			    rules_stage_name(rules_cond_stage(c->type)));
			return (msg);
		}
		if (c->table == RULE_TABLE_DOMAINS && c->type != COND_RCPT &&
		    c->type != COND_MAIL_TABLE)
			return ("<domains> holds domains: use it with "
			    "mail-from or rcpt-to");
	}
	if ((r->flags & RULE_F_NOVERIFY) && r->action != RULE_PASS)
		return ("noverify goes with pass");
	if ((r->flags & RULE_F_SAVE) && r->action != RULE_REJECT)
		return ("save goes with reject");
	if ((r->flags & RULE_F_SAVE) && r->stage != STAGE_RCPT)
		return ("save keeps a message: the rule cannot act on "
		    "connect, helo or mail");
	if (r->delay > 0 && r->action != RULE_REJECT &&
	    r->action != RULE_DISCONNECT)
		return ("delay goes with reject or disconnect");
	if (r->delay > RULE_MAX_DELAY) {
		snprintf(msg, sizeof(msg), "delay must be at most %ds: the "
		    "MTA gives up on the milter after 10s (sendmail)",
		    RULE_MAX_DELAY);
		return (msg);
	}
	if (r->permanent[0] != '\0') {
		if (r->action != RULE_MATCH)
			return ("set permanent goes with match");
		if ((e = reply_check(r->permanent, RULE_MATCH, 1)) != NULL)
			return (e);
	}
	if (r->reply[0] != '\0') {
		if (r->action == RULE_PASS || r->action == RULE_MATCH)
			return ("pass and match refuse nothing: no reply");
		if ((e = reply_check(r->reply, r->action, 0)) != NULL)
			return (e);
	}
	return (NULL);
}
