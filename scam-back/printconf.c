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

#include <stdio.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"

static const char	*print_time(uint32_t);
static void		 print_listen(struct listen_conf *);
static void		 print_backend(struct backend_conf *, const char *);
static void		 print_domain(struct domain_conf *, const char *);
static void		 print_tables(struct scamback_conf *);
static void		 print_dns(struct scamback_conf *);

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
}
