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
 * The text sources of sendmail's mailertable and Postfix's transport
 * table: each SMTP entry becomes a backend and a domain, as if written by
 * hand.  Entries of the same table that name the same hosts share one
 * backend, so that its session limit and connection reuse stay whole.
 * Errors name the table file and its line.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "log.h"

#define MAX_TABLE_HOSTS		16

struct mapctx {
	struct scamback_conf	*conf;
	struct table_conf	*table;
	const char		*type;		/* "mailertable", "transport" */
	int			 lineno;
	int			 errors;
	struct subentry {
		struct domain_conf	*domain;
		int			 lineno;
	}			*subs;		/* ".domain" entries */
	size_t			 nsubs;
};

struct maphost {
	char		 name[HOSTNAME_LEN];
	uint16_t	 port;
};

static void	map_entry(struct mapctx *, char *);
static int	map_key(struct mapctx *, const char *, char *, size_t,
		    enum domain_match *);
static int	mailertable_value(struct mapctx *, char *, struct maphost *,
		    int *);
static int	transport_value(struct mapctx *, char *, struct maphost *,
		    int *);
static int	map_host(struct mapctx *, const char *, struct maphost *,
		    int);
static void	map_add(struct mapctx *, const char *, const char *,
		    enum domain_match, struct maphost *, int);
static int	same_hosts(struct backend_conf *, struct maphost *, int);

/* Sendmail mailers that speak SMTP, and those that deliver elsewhere. */
static const char *smtp_mailers[] = {
	"dsmtp", "esmtp", "relay", "smtp", "smtp8", NULL
};
static const char *other_mailers[] = {
	"cyrus", "cyrusv2", "discard", "error", "fax", "local", "lmtp",
	"mail11", "phquery", "pop", "procmail", "prog", "qpage", "suucp",
	"usenet", "uucp", "uucp-dom", "uucp-new", "uucp-old", "uucp-uudom",
	NULL
};
/* Postfix transports that do not hand mail to a backend over SMTP. */
static const char *other_transports[] = {
	"discard", "error", "local", "pipe", "retry", "uucp", "virtual", NULL
};

static int
in_list(const char *s, const char **list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(s, *list) == 0)
			return (1);
	return (0);
}

/*
 * Read the table file and add its entries to conf.  Returns 0, or -1 when
 * any error was reported, or -1 with *why set when the file cannot be read
 * (the caller names the line of the configuration that names the file).
 */
int
maptable_load(struct scamback_conf *conf, struct table_conf *t,
    const char **why)
{
	struct mapctx	 ctx;
	FILE		*fp;
	char		*line = NULL, *logical = NULL, *p = NULL, *tmp;
	size_t		 i;
	size_t		 linesize = 0;
	ssize_t		 len;
	int		 lineno = 0, logical_line = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = conf;
	ctx.table = t;
	ctx.type = t->type == TABLE_MAILERTABLE ? "mailertable" : "transport";

	*why = NULL;
	if ((fp = config_fopen(t->path, why)) == NULL)
		return (-1);

	/*
	 * Logical lines as postmap(1) reads them: blank lines and lines
	 * whose first non-blank is '#' are ignored; a line that starts with
	 * a blank continues the previous one (transport only: makemap knows
	 * no continuation, so there it is an entry of its own).
	 */
	for (;;) {
		len = getline(&line, &linesize, fp);
		if (len != -1) {
			lineno++;
			if (strlen(line) != (size_t)len) {
				conf_error(t->path, lineno, "NUL character");
				ctx.errors++;
				continue;
			}
			p = trim(line);
			if (*p == '\0' || *p == '#')
				continue;
			if (t->type == TABLE_TRANSPORT &&
			    isspace((unsigned char)line[0])) {
				if (logical == NULL) {
					conf_error(t->path, lineno, "continuation "
					    "line without an entry before it");
					ctx.errors++;
					continue;
				}
				if (asprintf(&tmp, "%s %s", logical, p) == -1)
					fatal(NULL);
				free(logical);
				logical = tmp;
				continue;
			}
		}
		if (logical != NULL) {
			ctx.lineno = logical_line;
			map_entry(&ctx, logical);
			free(logical);
			logical = NULL;
		}
		if (len == -1)
			break;
		if ((logical = strdup(p)) == NULL)
			fatal(NULL);
		logical_line = lineno;
	}
	if (ferror(fp)) {
		conf_error(t->path, lineno, "read error: %s", strerror(errno));
		ctx.errors++;
	}
	free(line);
	fclose(fp);

	/*
	 * In both tables ".example.net" means the subdomains only; scam-back's
	 * subdomains match includes example.net itself.  That is right when
	 * the table also routes example.net, worth a word when it does not.
	 */
	for (i = 0; i < ctx.nsubs; i++)
		if (config_domain_find(conf, ctx.subs[i].domain->name,
		    DOMAIN_EXACT) == NULL)
			conf_warn(t->path, ctx.subs[i].lineno, ".%s: %s itself "
			    "is verified against the same hosts",
			    ctx.subs[i].domain->name,
			    ctx.subs[i].domain->name);
	free(ctx.subs);
	return (ctx.errors ? -1 : 0);
}

static void
map_entry(struct mapctx *ctx, char *entry)
{
	struct maphost	 hosts[MAX_TABLE_HOSTS];
	enum domain_match match;
	char		 dom[HOSTNAME_LEN], *key, *value, *p;
	int		 nhosts = 0, r;

	/* makemap and postmap allow nothing after the value, we allow " #" */
	for (p = entry; *p != '\0'; p++)
		if (*p == '#' && p > entry && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	key = entry;
	for (p = key; *p != '\0' && !isspace((unsigned char)*p); p++)
		;
	if (*p == '\0') {
		conf_error(ctx->table->path, ctx->lineno, "%s: no value after "
		    "the key", key);
		ctx->errors++;
		return;
	}
	*p++ = '\0';
	value = trim(p);

	if ((r = map_key(ctx, key, dom, sizeof(dom), &match)) <= 0) {
		if (r == -1)
			ctx->errors++;
		return;
	}
	if (ctx->table->type == TABLE_MAILERTABLE)
		r = mailertable_value(ctx, value, hosts, &nhosts);
	else
		r = transport_value(ctx, value, hosts, &nhosts);
	if (r == -1)
		ctx->errors++;
	if (r <= 0)
		return;
	map_add(ctx, key, dom, match, hosts, nhosts);
}

/*
 * The key: a domain, ".domain" for its subdomains, or the table's
 * wildcard ("." in a mailertable, "*" in a transport table).  Returns 1
 * for a domain, 0 for an entry that is not about a domain, -1 on error.
 */
static int
map_key(struct mapctx *ctx, const char *key, char *dom, size_t domlen,
    enum domain_match *match)
{
	const char	*p = key;

	if ((ctx->table->type == TABLE_MAILERTABLE && strcmp(key, ".") == 0) ||
	    (ctx->table->type == TABLE_TRANSPORT && strcmp(key, "*") == 0)) {
		*match = DOMAIN_ALL;
		dom[0] = '\0';
		return (1);
	}
	if (key[0] == '[') {
		if (conf_verbose())
			conf_warn(ctx->table->path, ctx->lineno, "%s: address "
			    "literal domains are not verified", key);
		return (0);
	}
	if (strchr(key, '@') != NULL) {
		if (conf_verbose())
			conf_warn(ctx->table->path, ctx->lineno, "%s: entries "
			    "for one address are not verified apart", key);
		return (0);
	}
	*match = DOMAIN_EXACT;
	if (*p == '.') {
		*match = DOMAIN_SUBDOMAINS;
		p++;
	}
	if (parse_domain(p, dom, domlen) == -1) {
		conf_error(ctx->table->path, ctx->lineno, "\"%s\" is not a "
		    "domain", key);
		return (-1);
	}
	return (1);
}

/*
 * mailer:host[:host...] where a host is a name or [address], and an IPv6
 * address is written [IPv6:2001:db8::1].  Returns 1 with hosts, 0 for a
 * mailer that does not speak SMTP, -1 on error.
 */
static int
mailertable_value(struct mapctx *ctx, char *value, struct maphost *hosts,
    int *nhosts)
{
	char	*mailer = value, *p, *start;
	int	 depth = 0;

	if ((p = strchr(value, ':')) == NULL) {
		conf_error(ctx->table->path, ctx->lineno, "\"%s\": use "
		    "mailer:host", value);
		return (-1);
	}
	*p++ = '\0';
	if (!in_list(mailer, smtp_mailers)) {
		if (!in_list(mailer, other_mailers))
			conf_warn(ctx->table->path, ctx->lineno, "mailer "
			    "\"%s\" is not one scam-back knows to speak SMTP: "
			    "entry not verified", mailer);
		return (0);
	}
	if (strchr(p, '%') != NULL) {
		conf_error(ctx->table->path, ctx->lineno, "\"%s\": %%-macros "
		    "are not supported, name the host", p);
		return (-1);
	}
	if (*p == '\0') {
		conf_error(ctx->table->path, ctx->lineno, "%s: without a host "
		    "(scam-back does not look up MX records)", mailer);
		return (-1);
	}
	/* Hosts are separated by ':' outside brackets. */
	for (start = p;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if ((*p == ':' && depth == 0) || *p == '\0') {
			int	 last = *p == '\0';

			*p = '\0';
			if (*nhosts == MAX_TABLE_HOSTS) {
				conf_error(ctx->table->path, ctx->lineno,
				    "more than %d hosts", MAX_TABLE_HOSTS);
				return (-1);
			}
			if (map_host(ctx, start, &hosts[*nhosts], 0) == -1)
				return (-1);
			(*nhosts)++;
			if (last)
				break;
			start = p + 1;
		}
	}
	return (1);
}

/*
 * transport:nexthop, the transport smtp, relay or empty, where nexthop
 * is [host], [host]:port, host or host:port, or a list of them separated
 * by commas (Postfix 3.5).
 * Returns 1 with hosts, 0 for a transport that delivers elsewhere, -1 on
 * error.
 */
static int
transport_value(struct mapctx *ctx, char *value, struct maphost *hosts,
    int *nhosts)
{
	char	*transport = value, *nexthop, *h;

	if ((nexthop = strchr(value, ':')) != NULL)
		*nexthop++ = '\0';
	else
		nexthop = value + strlen(value);
	if (strcmp(transport, "lmtp") == 0) {
		conf_error(ctx->table->path, ctx->lineno, "lmtp: is not "
		    "supported: scam-back probes over SMTP; write a backend "
		    "with the mailbox server's SMTP port");
		return (-1);
	}
	/*
	 * relay: is Postfix's smtp(8) under another name, the usual way to
	 * a mailbox server in relay_domains.
	 */
	if (*transport != '\0' && strcmp(transport, "smtp") != 0 &&
	    strcmp(transport, "relay") != 0) {
		if (!in_list(transport, other_transports))
			conf_warn(ctx->table->path, ctx->lineno, "transport "
			    "\"%s\" is not smtp: entry not verified",
			    transport);
		return (0);
	}
	nexthop = trim(nexthop);
	if (*nexthop == '\0') {
		conf_error(ctx->table->path, ctx->lineno, "%s: without a next "
		    "hop (scam-back does not look up MX records)",
		    *transport ? transport : "(default transport)");
		return (-1);
	}
	while ((h = strsep(&nexthop, ", \t")) != NULL) {
		if (*h == '\0')
			continue;
		if (*nhosts == MAX_TABLE_HOSTS) {
			conf_error(ctx->table->path, ctx->lineno, "more than "
			    "%d hosts", MAX_TABLE_HOSTS);
			return (-1);
		}
		if (map_host(ctx, h, &hosts[*nhosts], 1) == -1)
			return (-1);
		(*nhosts)++;
	}
	return (1);
}

/* [address], [IPv6:address], name; with a port (:25) when allowed. */
static int
map_host(struct mapctx *ctx, const char *s, struct maphost *h, int withport)
{
	char		 buf[HOSTNAME_LEN], *p, *port = NULL, *name = buf;
	const char	*errstr;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		conf_error(ctx->table->path, ctx->lineno, "host too long");
		return (-1);
	}
	h->port = DEFAULT_PORT;
	if (buf[0] == '[') {
		if ((p = strchr(buf, ']')) == NULL) {
			conf_error(ctx->table->path, ctx->lineno, "\"%s\": "
			    "missing ]", s);
			return (-1);
		}
		*p++ = '\0';
		name = buf + 1;
		if (strncasecmp(name, "ipv6:", 5) == 0)
			name += 5;
		if (*p == ':' && withport)
			port = p + 1;
		else if (*p != '\0') {
			conf_error(ctx->table->path, ctx->lineno, "\"%s\": "
			    "unexpected text after ]", s);
			return (-1);
		}
	} else if (withport && (p = strchr(buf, ':')) != NULL) {
		*p = '\0';
		port = p + 1;
	}
	if (port != NULL) {
		h->port = strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL) {
			conf_error(ctx->table->path, ctx->lineno, "\"%s\": "
			    "port %s", s, errstr);
			return (-1);
		}
	}
	if (!valid_host(name)) {
		conf_error(ctx->table->path, ctx->lineno, "\"%s\" is neither "
		    "an address nor a host name", name);
		return (-1);
	}
	strlcpy(h->name, name, sizeof(h->name));
	return (0);
}

static void
map_add(struct mapctx *ctx, const char *key, const char *dom,
    enum domain_match match, struct maphost *hosts, int nhosts)
{
	struct scamback_conf	*conf = ctx->conf;
	struct backend_conf	*b;
	struct host_conf	*h;
	struct domain_conf	*d;
	char			 name[NAME_LEN], lkey[HOSTNAME_LEN];
	uint32_t		 tid = ctx->table->id + 1;
	int			 i;

	if (config_domain_find(conf, dom, match) != NULL) {
		if (match == DOMAIN_ALL)
			conf_error(ctx->table->path, ctx->lineno, "%s: a "
			    "default entry (domain all) exists already", key);
		else
			conf_error(ctx->table->path, ctx->lineno, "domain %s%s "
			    "given twice", dom, match == DOMAIN_SUBDOMAINS ?
			    " subdomains" : "");
		ctx->errors++;
		return;
	}

	TAILQ_FOREACH(b, &conf->backends, entry)
		if (b->table == tid && same_hosts(b, hosts, nhosts))
			break;
	if (b == NULL) {
		strlcpy(lkey, key, sizeof(lkey));
		for (i = 0; lkey[i] != '\0'; i++)
			lkey[i] = tolower((unsigned char)lkey[i]);
		/* The name says where the backend came from. */
		if ((size_t)snprintf(name, sizeof(name), "%s:%s", ctx->type,
		    lkey) >= sizeof(name) ||
		    config_backend_byname(conf, name) != NULL)
			snprintf(name, sizeof(name), "%s:%.30s~%d", ctx->type,
			    lkey, ctx->lineno);
		if (config_backend_byname(conf, name) != NULL) {
			conf_error(ctx->table->path, ctx->lineno, "backend "
			    "\"%s\" exists already", name);
			ctx->errors++;
			return;
		}
		if ((b = config_backend_new(name)) == NULL)
			fatal(NULL);
		b->table = tid;
		for (i = 0; i < nhosts; i++) {
			if ((h = calloc(1, sizeof(*h))) == NULL)
				fatal(NULL);
			strlcpy(h->name, hosts[i].name, sizeof(h->name));
			h->port = hosts[i].port;
			TAILQ_INSERT_TAIL(&b->hosts, h, entry);
		}
		TAILQ_INSERT_TAIL(&conf->backends, b, entry);
	}

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal(NULL);
	strlcpy(d->name, dom, sizeof(d->name));
	d->match = match;
	strlcpy(d->backend, b->name, sizeof(d->backend));
	d->table = tid;
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);

	if (match == DOMAIN_SUBDOMAINS) {
		struct subentry	*s;

		if ((s = reallocarray(ctx->subs, ctx->nsubs + 1,
		    sizeof(*s))) == NULL)
			fatal(NULL);
		ctx->subs = s;
		s[ctx->nsubs].domain = d;
		s[ctx->nsubs].lineno = ctx->lineno;
		ctx->nsubs++;
	}
}

static int
same_hosts(struct backend_conf *b, struct maphost *hosts, int nhosts)
{
	struct host_conf	*h;
	int			 i = 0;

	TAILQ_FOREACH(h, &b->hosts, entry) {
		if (i == nhosts || strcmp(h->name, hosts[i].name) != 0 ||
		    h->port != hosts[i].port)
			return (0);
		i++;
	}
	return (i == nhosts);
}
