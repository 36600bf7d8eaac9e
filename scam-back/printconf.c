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
 * -nv: the configuration in the grammar's own words, every setting with
 * its effective value, so that the output parses back to itself.  What a
 * mailertable or transport file gave is shown as comments below it.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

static const char	*print_time(uint32_t);
static void		 print_listen(struct listen_conf *);
static void		 print_backend(struct backend_conf *, const char *);
static void		 print_domain(struct domain_conf *, const char *);
static void		 print_tables(struct scamback_conf *);
static void		 print_dns(struct scamback_conf *);
static void		 print_entry(FILE *, const struct table *, size_t);
static void		 print_atable(FILE *, const struct atable_conf *, int);
static void		 print_cond(FILE *, const struct scamback_conf *,
			    const struct rule_cond *);

/* The largest unit that divides the value: 86400 is 1d, 90 is 90s. */
static const char *
print_time(uint32_t t)
{
	static char	 buf[32];

	if (t == 0)
		snprintf(buf, sizeof(buf), "0");
	else if (t % (24 * 60 * 60) == 0)
		snprintf(buf, sizeof(buf), "%ud", t / (24 * 60 * 60));
	else if (t % (60 * 60) == 0)
		snprintf(buf, sizeof(buf), "%uh", t / (60 * 60));
	else if (t % 60 == 0)
		snprintf(buf, sizeof(buf), "%um", t / 60);
	else
		snprintf(buf, sizeof(buf), "%us", t);
	return (buf);
}

static void
print_listen(struct listen_conf *l)
{
	printf("listen on \"%s\"", l->spec);
	if (l->family == LISTEN_UNIX) {
		if (l->owner[0] != '\0')
			printf(" owner \"%s\"", l->owner);
		if (l->group[0] != '\0')
			printf(" group \"%s\"", l->group);
		printf(" mode %04o", (unsigned)l->mode);
	}
	printf("\n");
}

/* prefix "" prints a block that parses; "#\t" a comment for a table. */
static void
print_backend(struct backend_conf *b, const char *prefix)
{
	struct host_conf	*h;
	int			 comment = *prefix != '\0';

	printf("%sbackend \"%s\"%s", prefix, b->name, comment ? ":" : " {\n");
	TAILQ_FOREACH(h, &b->hosts, entry) {
		if (comment)
			printf(" host \"%s\" port %u%s", h->name, h->port,
			    TAILQ_NEXT(h, entry) != NULL ? "," : "\n");
		else
			printf("\thost \"%s\" port %u\n", h->name, h->port);
	}
	if (comment)
		return;
	printf("\tprotocol %s\n", b->protocol == PROTO_SMTP ? "smtp" : "esmtp");
	printf("\ttls %s\n", b->tls == TLSMODE_REQUIRE ? "require" :
	    b->tls == TLSMODE_YES ? "yes" : "no");
	if (b->tls_ca[0] != '\0')
		printf("\ttls ca \"%s\"\n", b->tls_ca);
	if (b->tls_noverify)
		printf("\ttls noverify\n");
	printf("\tsessions %u\n", b->sessions);
	printf("\tcatchall %s\n", b->catchall == CATCHALL_DETECT ? "detect" :
	    "ignore");
	printf("}\n");
}

static void
print_domain(struct domain_conf *d, const char *prefix)
{
	if (d->match == DOMAIN_ALL)
		printf("%sdomain all backend \"%s\"\n", prefix, d->backend);
	else
		printf("%sdomain \"%s\" backend \"%s\"%s\n", prefix, d->name,
		    d->backend, d->match == DOMAIN_SUBDOMAINS ?
		    " subdomains" : "");
}

static void
print_tables(struct scamback_conf *conf)
{
	struct table_conf	*t;
	struct backend_conf	*b;
	struct domain_conf	*d;

	TAILQ_FOREACH(t, &conf->tables, entry) {
		printf("\n%s \"%s\"\n", t->type == TABLE_MAILERTABLE ?
		    "mailertable" : "transport", t->path);
		TAILQ_FOREACH(b, &conf->backends, entry)
			if (b->table == t->id + 1)
				print_backend(b, "#\t");
		TAILQ_FOREACH(d, &conf->domains, entry)
			if (d->table == t->id + 1)
				print_domain(d, "#\t");
	}
}

/* The name servers of resolv.conf are the system's, not configuration. */
static void
print_dns(struct scamback_conf *conf)
{
	struct resolver_conf	*r;
	char			 addr[INET6_ADDRSTRLEN];
	int			 n = 0;

	printf("\n");
	printf("dns timeout %s\n", print_time(conf->dns_timeout));
	printf("dns failure %s\n", conf->dns_failure == DNS_FAILURE_ACCEPT ?
	    "accept" : "tempfail");
	TAILQ_FOREACH(r, &conf->resolvers, entry) {
		if (r->system)
			continue;
		if (r->ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &r->ss)->sin_addr, addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    &r->ss)->sin6_addr, addr, sizeof(addr));
		printf("dns resolver %s port %u\n", addr,
		    ntohs(((struct sockaddr_in *)&r->ss)->sin_port));
		n++;
	}
	if (n == 0)
		printf("# dns resolver not set: the name servers of "
		    "/etc/resolv.conf\n");
}

/* [!][regex ]"key"[ = "value"] */
static void
print_entry(FILE *fp, const struct table *t, size_t i)
{
	const char	*key, *value;
	int		 flags;

	if (!table_entry(t, i, &key, &value, &flags, NULL))
		return;
	fprintf(fp, "%s%s\"%s\"", (flags & TABLE_F_EXCEPT) ? "!" : "",
	    (flags & TABLE_F_REGEX) ? "regex " : "", key);
	if (*value != '\0')
		fprintf(fp, " = \"%s\"", value);
}

/*
 * A table's contents: { a, b } on one line when short, one entry a line
 * when long; bare (one entry alone) where a rule takes a single entry.
 */
static void
print_atable(FILE *fp, const struct atable_conf *at, int bare)
{
	const char	*value;
	size_t		 i, n = table_count(at->table);
	int		 flags;

	if (bare && n == 1 && table_entry(at->table, 0, NULL, &value, &flags,
	    NULL) && *value == '\0' && flags == 0) {
		print_entry(fp, at->table, 0);
		return;
	}
	if (n > 4) {
		fprintf(fp, "{\n");
		for (i = 0; i < n; i++) {
			fprintf(fp, "\t");
			print_entry(fp, at->table, i);
			fprintf(fp, "\n");
		}
		fprintf(fp, "}");
		return;
	}
	fprintf(fp, "{");
	for (i = 0; i < n; i++) {
		fprintf(fp, i == 0 ? " " : ", ");
		print_entry(fp, at->table, i);
	}
	fprintf(fp, " }");
}

static void
print_cond(FILE *fp, const struct scamback_conf *conf,
    const struct rule_cond *c)
{
	const struct atable_conf	*at = NULL;
	int				 bare = 1;

	if (c->negate)
		fprintf(fp, "! ");
	switch (c->type) {
	case COND_FROM_ANY:
		fprintf(fp, "from any");
		return;
	case COND_FROM_LOCAL:
		fprintf(fp, "from local");
		return;
	case COND_FROM_KNOWN:
		fprintf(fp, "from known");
		return;
	case COND_FROM_UNKNOWN:
		fprintf(fp, "from unknown");
		return;
	case COND_FROM_RDNS:
		fprintf(fp, "from rdns");
		bare = 0;
		break;
	case COND_FROM_TABLE:
		fprintf(fp, "from");
		break;
	case COND_HELO:
		fprintf(fp, "helo");
		break;
	case COND_AUTH:
		fprintf(fp, "auth");
		bare = 0;
		break;
	case COND_MAIL_TABLE:
		fprintf(fp, "mail-from");
		break;
	case COND_MAIL_UNQUALIFIED:
		fprintf(fp, "mail-from unqualified");
		return;
	case COND_MAIL_UNRESOLVABLE:
		fprintf(fp, "mail-from unresolvable%s",
		    c->parent ? " parent" : "");
		return;
	case COND_MAIL_MX:
		fprintf(fp, "mail-from mx");
		break;
	case COND_MAIL_NS:
		fprintf(fp, "mail-from ns");
		break;
	case COND_RCPT:
		fprintf(fp, "rcpt-to");
		break;
	}
	if (c->table == 0)
		return;
	if (c->table == RULE_TABLE_DOMAINS) {
		fprintf(fp, " <domains>");
		return;
	}
	if ((at = rules_table_byid(&conf->atables, c->table - 1)) == NULL)
		return;
	if (at->name[0] != '\0')
		fprintf(fp, " <%s>", at->name);
	else {
		fprintf(fp, " ");
		print_atable(fp, at, bare);
	}
}

/*
 * action [on stage] conditions [noverify] [save] [delay] [log] ...
 * on one line, without the newline: for -nv and scambackctl show rules.
 */
void
print_rule(FILE *fp, const struct scamback_conf *conf,
    const struct rule_conf *r)
{
	int	i;

	fprintf(fp, "%s", rules_action_name(r->action));
	if (r->stage != STAGE_RCPT)
		fprintf(fp, " on %s", rules_stage_name(r->stage));
	for (i = 0; i < r->ncond; i++) {
		fprintf(fp, " ");
		print_cond(fp, conf, &r->cond[i]);
	}
	if (r->flags & RULE_F_NOVERIFY)
		fprintf(fp, " noverify");
	if (r->flags & RULE_F_SAVE)
		fprintf(fp, " save");
	if (r->delay > 0)
		fprintf(fp, " delay %s", print_time(r->delay));
	if (r->flags & RULE_F_LOG)
		fprintf(fp, " log");
	if (r->permanent[0] != '\0')
		fprintf(fp, " set permanent \"%s\"", r->permanent);
	if (r->reply[0] != '\0')
		fprintf(fp, " \"%s\"", r->reply);
}

/*
 * Access tables and rules, after their settings: all of them (-nv), or
 * (scam-back -m) only a save directory and its limits when one is set.
 */
void
print_access(struct scamback_conf *conf, int settings)
{
	struct atable_conf	*at;
	struct rule_conf	*r;

	if (settings) {
		printf("\n");
		printf("rules dry-run %s\n", conf->rules_dryrun ? "yes" :
		    "no");
		if (conf->save_dir == NULL)
			printf("# save directory not set: no rule saves "
			    "mail\n");
	}
	if (conf->save_dir != NULL)
		printf("save directory \"%s\"\n", conf->save_dir);
	if (settings || conf->save_dir != NULL) {
		printf("save size %u\n", conf->save_size);
		printf("save max-files %u\n", conf->save_max_files);
	}

	at = TAILQ_FIRST(&conf->atables);
	while (at != NULL && at->name[0] == '\0')
		at = TAILQ_NEXT(at, entry);
	if (at != NULL)
		printf("\n");
	TAILQ_FOREACH(at, &conf->atables, entry) {
		if (at->name[0] == '\0')
			continue;
		printf("table <%s> ", at->name);
		if (at->path[0] != '\0')
			printf("file \"%s\"\t# %zu entries\n", at->path,
			    table_count(at->table));
		else {
			print_atable(stdout, at, 0);
			printf("\n");
		}
	}
	if (!TAILQ_EMPTY(&conf->rules))
		printf("\n");
	TAILQ_FOREACH(r, &conf->rules, entry) {
		print_rule(stdout, conf, r);
		printf("\n");
	}
}

void
print_config(struct scamback_conf *conf)
{
	struct backend_conf	*b;
	struct domain_conf	*d;
	struct skip_net		*n;
	struct skip_daemon	*sd;
	char			 addr[INET6_ADDRSTRLEN];
	size_t			 i;

	print_listen(&conf->listen);
	printf("user \"%s\"\n", conf->user);
	if (conf->hostname[0] != '\0')
		printf("hostname \"%s\"\n", conf->hostname);
	else
		printf("# hostname not set: probes use this system's name\n");
	printf("probe sender \"%s\"\n", conf->probe_sender);

	printf("\n");
	if (conf->cache_file[0] != '\0')
		printf("cache file \"%s\"\n", conf->cache_file);
	else
		printf("cache file none\n");
	printf("cache valid expire %s\n", print_time(conf->valid_expire));
	printf("cache invalid expire %s\n", print_time(conf->invalid_expire));
	printf("cache save interval %s\n", print_time(conf->save_interval));
	printf("cache size %u\n", conf->cache_size);
	if (conf->share.type == SHARE_REDIS) {
		printf("cache share redis \"%s\" port %u", conf->share.address,
		    conf->share.port);
		if (conf->share.password[0] != '\0')
			printf(" password \"%s\"", conf->share.password);
		printf(" prefix \"%s\"\n", conf->share.prefix);
	}

	printf("\n");
	printf("timeout connect %s\n", print_time(conf->timeout_connect));
	printf("timeout reply %s\n", print_time(conf->timeout_reply));
	printf("backoff %s\n", print_time(conf->backoff));
	printf("prefer %s\n", conf->prefer == PREFER_INET6 ? "inet6" : "inet");
	printf("unreachable %s\n", conf->unreachable == UNREACHABLE_TEMPFAIL ?
	    "tempfail" : "accept");
	printf("invalid %s\n", conf->invalid == INVALID_DISCARD ? "discard" :
	    "reject");
	print_dns(conf);

	printf("\n");
	if (conf->skip_daemon_set)
		TAILQ_FOREACH(sd, &conf->skip_daemons, entry)
			printf("skip daemon \"%s\"\n", sd->name);
	else
		for (i = 0; policy_default_skip_daemons[i] != NULL; i++)
			printf("skip daemon \"%s\"\n",
			    policy_default_skip_daemons[i]);
	TAILQ_FOREACH(n, &conf->skip_from, entry) {
		if (inet_ntop(n->af, &n->addr, addr, sizeof(addr)) == NULL)
			strlcpy(addr, "?", sizeof(addr));
		printf("skip from %s/%u\n", addr, n->prefixlen);
	}
	printf("skip authenticated %s\n", conf->skip_authenticated ? "yes" :
	    "no");
	printf("skip local %s\n", conf->skip_local ? "yes" : "no");

	TAILQ_FOREACH(b, &conf->backends, entry)
		if (b->table == 0) {
			printf("\n");
			print_backend(b, "");
		}
	d = TAILQ_FIRST(&conf->domains);
	while (d != NULL && d->table != 0)
		d = TAILQ_NEXT(d, entry);
	if (d != NULL)
		printf("\n");
	TAILQ_FOREACH(d, &conf->domains, entry)
		if (d->table == 0)
			print_domain(d, "");
	print_tables(conf);
	print_access(conf, 1);
}
