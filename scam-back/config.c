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
 * The configuration: defaults, freeing, and its journey from the parent to
 * the children as a sequence of RECONF imsgs.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

static void	config_recv_string(char *, size_t);
static int	config_send_rules(struct imsgbuf *, struct scamback_conf *);
static void	config_recv_entry(struct scamback_conf *, struct imsg *);
static void	config_recv_rule(struct scamback_conf *, struct imsg *);

struct scamback_conf *
config_new(void)
{
	struct scamback_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return (NULL);

	strlcpy(conf->listen.spec, SCAMBACK_LISTEN, sizeof(conf->listen.spec));
	conf->listen.family = LISTEN_UNIX;
	strlcpy(conf->listen.path, &SCAMBACK_LISTEN[strlen("unix:")],
	    sizeof(conf->listen.path));
	conf->listen.mode = DEFAULT_LISTEN_MODE;
	strlcpy(conf->user, SCAMBACK_USER, sizeof(conf->user));
	strlcpy(conf->cache_file, SCAMBACK_CACHEFILE, sizeof(conf->cache_file));
	conf->valid_expire = DEFAULT_VALID_EXPIRE;
	conf->invalid_expire = DEFAULT_INVALID_EXPIRE;
	conf->save_interval = DEFAULT_SAVE_INTERVAL;
	conf->cache_size = DEFAULT_CACHE_SIZE;
	conf->timeout_connect = DEFAULT_TIMEOUT_CONNECT;
	conf->timeout_reply = DEFAULT_TIMEOUT_REPLY;
	conf->backoff = DEFAULT_BACKOFF;
	conf->prefer = PREFER_INET;
	conf->unreachable = UNREACHABLE_ACCEPT;
	conf->invalid = INVALID_REJECT;
	conf->dns_timeout = DEFAULT_DNS_TIMEOUT;
	conf->dns_failure = DNS_FAILURE_TEMPFAIL;
	conf->dns_ndots = 1;
	conf->skip_authenticated = 1;
	conf->skip_local = 1;
	conf->share.type = SHARE_NONE;
	conf->share.port = DEFAULT_SHARE_PORT;
	strlcpy(conf->share.prefix, DEFAULT_SHARE_PREFIX,
	    sizeof(conf->share.prefix));
	conf->save_size = DEFAULT_SAVE_SIZE;
	conf->save_max_files = DEFAULT_SAVE_MAX_FILES;

	TAILQ_INIT(&conf->backends);
	TAILQ_INIT(&conf->domains);
	TAILQ_INIT(&conf->skip_from);
	TAILQ_INIT(&conf->skip_daemons);
	TAILQ_INIT(&conf->tables);
	TAILQ_INIT(&conf->resolvers);
	TAILQ_INIT(&conf->atables);
	TAILQ_INIT(&conf->rules);

	return (conf);
}

void
config_clear_lists(struct scamback_conf *conf)
{
	struct backend_conf	*b;
	struct host_conf	*h;
	struct domain_conf	*d;
	struct skip_net		*n;
	struct skip_daemon	*sd;
	struct table_conf	*t;
	struct resolver_conf	*rs;
	struct atable_conf	*at;
	struct rule_conf	*r;

	while ((b = TAILQ_FIRST(&conf->backends)) != NULL) {
		TAILQ_REMOVE(&conf->backends, b, entry);
		while ((h = TAILQ_FIRST(&b->hosts)) != NULL) {
			TAILQ_REMOVE(&b->hosts, h, entry);
			free(h);
		}
		free(b);
	}
	while ((d = TAILQ_FIRST(&conf->domains)) != NULL) {
		TAILQ_REMOVE(&conf->domains, d, entry);
		free(d);
	}
	while ((n = TAILQ_FIRST(&conf->skip_from)) != NULL) {
		TAILQ_REMOVE(&conf->skip_from, n, entry);
		free(n);
	}
	while ((sd = TAILQ_FIRST(&conf->skip_daemons)) != NULL) {
		TAILQ_REMOVE(&conf->skip_daemons, sd, entry);
		free(sd);
	}
	while ((t = TAILQ_FIRST(&conf->tables)) != NULL) {
		TAILQ_REMOVE(&conf->tables, t, entry);
		free(t);
	}
	while ((rs = TAILQ_FIRST(&conf->resolvers)) != NULL) {
		TAILQ_REMOVE(&conf->resolvers, rs, entry);
		free(rs);
	}
	while ((at = TAILQ_FIRST(&conf->atables)) != NULL) {
		TAILQ_REMOVE(&conf->atables, at, entry);
		table_free(at->table);
		free(at);
	}
	while ((r = TAILQ_FIRST(&conf->rules)) != NULL) {
		TAILQ_REMOVE(&conf->rules, r, entry);
		free(r);
	}
}

void
config_free(struct scamback_conf *conf)
{
	if (conf == NULL)
		return;
	config_clear_lists(conf);
	free(conf->save_dir);
	free(conf);
}

/* The MAIL FROM argument of probes, without brackets: "" is the null sender. */
const char *
config_sender(const struct scamback_conf *conf)
{
	return (conf->probe_sender);
}

struct backend_conf *
config_backend_byname(struct scamback_conf *conf, const char *name)
{
	struct backend_conf	*b;

	TAILQ_FOREACH(b, &conf->backends, entry)
		if (strcmp(b->name, name) == 0)
			return (b);
	return (NULL);
}

struct backend_conf *
config_backend_byid(struct scamback_conf *conf, uint32_t id)
{
	struct backend_conf	*b;

	TAILQ_FOREACH(b, &conf->backends, entry)
		if (b->id == id)
			return (b);
	return (NULL);
}

/*
 * A backend with the defaults of SPEC section 5 and no hosts: the parser,
 * mailertable and transport entries start from here.
 */
struct backend_conf *
config_backend_new(const char *name)
{
	struct backend_conf	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	TAILQ_INIT(&b->hosts);
	strlcpy(b->name, name, sizeof(b->name));
	b->protocol = PROTO_ESMTP;
	b->tls = TLSMODE_NO;
	b->sessions = DEFAULT_SESSIONS;
	b->catchall = CATCHALL_DETECT;
	return (b);
}

void
config_backend_free(struct backend_conf *b)
{
	struct host_conf	*h;

	while ((h = TAILQ_FIRST(&b->hosts)) != NULL) {
		TAILQ_REMOVE(&b->hosts, h, entry);
		free(h);
	}
	free(b);
}

/* name is lowercase; "" with DOMAIN_ALL. */
struct domain_conf *
config_domain_find(struct scamback_conf *conf, const char *name,
    enum domain_match match)
{
	struct domain_conf	*d;

	TAILQ_FOREACH(d, &conf->domains, entry)
		if (d->match == match && strcmp(d->name, name) == 0)
			return (d);
	return (NULL);
}

/* The same domains, in the same order, matched the same way. */
int
config_domains_equal(struct scamback_conf *a, struct scamback_conf *b)
{
	struct domain_conf	*da, *db;

	for (da = TAILQ_FIRST(&a->domains), db = TAILQ_FIRST(&b->domains);
	    da != NULL && db != NULL;
	    da = TAILQ_NEXT(da, entry), db = TAILQ_NEXT(db, entry))
		if (strcmp(da->name, db->name) != 0 || da->match != db->match)
			return (0);
	return (da == NULL && db == NULL);
}

/* The same name servers, in the same order. */
int
config_resolvers_equal(struct scamback_conf *a, struct scamback_conf *b)
{
	struct resolver_conf	*ra, *rb;

	for (ra = TAILQ_FIRST(&a->resolvers), rb = TAILQ_FIRST(&b->resolvers);
	    ra != NULL && rb != NULL;
	    ra = TAILQ_NEXT(ra, entry), rb = TAILQ_NEXT(rb, entry))
		if (memcmp(&ra->ss, &rb->ss, sizeof(ra->ss)) != 0)
			return (0);
	return (ra == NULL && rb == NULL);
}

/*
 * Access tables entry by entry, then the rules: only the engine uses
 * them, and a table may hold millions of entries.
 */
static int
config_send_rules(struct imsgbuf *ibuf, struct scamback_conf *conf)
{
	struct atable_conf	*at;
	struct rule_conf	*r;
	struct ibuf		*wbuf;
	const char		*key, *value;
	size_t			 i, klen, vlen;
	int			 flags;
	uint8_t			 f;

	TAILQ_FOREACH(at, &conf->atables, entry) {
		at->count = table_count(at->table);
		if (imsg_compose(ibuf, IMSG_RECONF_ATABLE, 0, 0, -1,
		    at, sizeof(*at)) == -1)
			return (-1);
		for (i = 0; table_entry(at->table, i, &key, &value, &flags,
		    NULL); i++) {
			f = flags;
			klen = strlen(key) + 1;
			vlen = strlen(value) + 1;
			if ((wbuf = imsg_create(ibuf, IMSG_RECONF_AENTRY, 0, 0,
			    1 + klen + vlen)) == NULL ||
			    imsg_add(wbuf, &f, 1) == -1 ||
			    imsg_add(wbuf, key, klen) == -1 ||
			    imsg_add(wbuf, value, vlen) == -1)
				return (-1);
			imsg_close(ibuf, wbuf);
		}
	}
	TAILQ_FOREACH(r, &conf->rules, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_RULE, 0, 0, -1,
		    r, sizeof(*r)) == -1)
			return (-1);
	return (0);
}

/*
 * Send the whole configuration, with the access tables and rules when
 * rules is set.  The receiver rebuilds the lists; the list pointers
 * inside the payloads are garbage there and are overwritten.
 */
int
config_send(struct imsgbuf *ibuf, struct scamback_conf *conf, int rules)
{
	struct backend_conf	*b;
	struct host_conf	*h;
	struct domain_conf	*d;
	struct skip_net		*n;
	struct skip_daemon	*sd;
	struct table_conf	*t;
	struct resolver_conf	*r;

	if (imsg_compose(ibuf, IMSG_RECONF_CONF, 0, 0, -1,
	    conf, sizeof(*conf)) == -1)
		return (-1);
	if (imsg_compose(ibuf, IMSG_RECONF_LISTEN, 0, 0, -1,
	    &conf->listen, sizeof(conf->listen)) == -1)
		return (-1);
	TAILQ_FOREACH(t, &conf->tables, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_TABLE, 0, 0, -1,
		    t, sizeof(*t)) == -1)
			return (-1);
	TAILQ_FOREACH(b, &conf->backends, entry) {
		if (imsg_compose(ibuf, IMSG_RECONF_BACKEND, 0, 0, -1,
		    b, sizeof(*b)) == -1)
			return (-1);
		TAILQ_FOREACH(h, &b->hosts, entry)
			if (imsg_compose(ibuf, IMSG_RECONF_HOST, 0, 0, -1,
			    h, sizeof(*h)) == -1)
				return (-1);
	}
	TAILQ_FOREACH(d, &conf->domains, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_DOMAIN, 0, 0, -1,
		    d, sizeof(*d)) == -1)
			return (-1);
	TAILQ_FOREACH(n, &conf->skip_from, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_SKIP_FROM, 0, 0, -1,
		    n, sizeof(*n)) == -1)
			return (-1);
	TAILQ_FOREACH(sd, &conf->skip_daemons, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_SKIP_DAEMON, 0, 0, -1,
		    sd, sizeof(*sd)) == -1)
			return (-1);
	TAILQ_FOREACH(r, &conf->resolvers, entry)
		if (imsg_compose(ibuf, IMSG_RECONF_RESOLVER, 0, 0, -1,
		    r, sizeof(*r)) == -1)
			return (-1);
	if (rules && config_send_rules(ibuf, conf) == -1)
		return (-1);
	if (imsg_compose(ibuf, IMSG_RECONF_END, 0, 0, -1, NULL, 0) == -1)
		return (-1);
	return (0);
}

/* Strings received from another process are terminated here, whatever came. */
static void
config_recv_string(char *s, size_t len)
{
	s[len - 1] = '\0';
}

/* An entry of the last access table: flags, key, NUL, value, NUL. */
static void
config_recv_entry(struct scamback_conf *conf, struct imsg *imsg)
{
	struct atable_conf	*at;
	struct ibuf		 ib;
	const char		*p, *key, *value, *errstr;
	size_t			 len, klen;

	if ((at = TAILQ_LAST(&conf->atables, atable_list)) == NULL)
		fatalx("%s: entry without a table", __func__);
	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    (len = ibuf_size(&ib)) < 3 || (p = ibuf_data(&ib)) == NULL)
		fatalx("%s: bad IMSG_RECONF_AENTRY", __func__);
	key = p + 1;
	if ((klen = strnlen(key, len - 1)) >= len - 1)
		fatalx("%s: bad IMSG_RECONF_AENTRY key", __func__);
	value = key + klen + 1;
	if (strnlen(value, len - 2 - klen) != len - 3 - klen)
		fatalx("%s: bad IMSG_RECONF_AENTRY value", __func__);
	if (table_add(at->table, key, value, (uint8_t)p[0], &errstr) == -1)
		fatalx("%s: table <%s>: %s: %s", __func__, at->name, key,
		    errstr);
}

/* A rule: everything it names must exist, every field be in range. */
static void
config_recv_rule(struct scamback_conf *conf, struct imsg *imsg)
{
	struct rule_conf	*r;
	struct rule_cond	*c;
	struct atable_conf	*at;
	int			 i;

	if ((r = malloc(sizeof(*r))) == NULL)
		fatal(NULL);
	if (imsg_get_data(imsg, r, sizeof(*r)) == -1)
		fatalx("%s: bad IMSG_RECONF_RULE", __func__);
	if (r->action > RULE_MATCH || r->stage > STAGE_RCPT ||
	    r->ncond > RULE_MAX_CONDS || r->delay > RULE_MAX_DELAY)
		fatalx("%s: bad rule %u", __func__, r->nr);
	for (i = 0; i < r->ncond; i++) {
		c = &r->cond[i];
		c->t = NULL;
		if (c->type > COND_RCPT)
			fatalx("%s: bad condition in rule %u", __func__,
			    r->nr);
		if (c->table == 0 || c->table == RULE_TABLE_DOMAINS)
			continue;
		/* Looked up once here, not at every RCPT. */
		if ((at = rules_table_byid(&conf->atables, c->table - 1)) ==
		    NULL)
			fatalx("%s: bad table in rule %u", __func__, r->nr);
		c->t = at->table;
	}
	config_recv_string(r->reply, sizeof(r->reply));
	config_recv_string(r->permanent, sizeof(r->permanent));
	memset(&r->counters, 0, sizeof(r->counters));
	conf->rules_flags |= rules_flags(r);
	TAILQ_INSERT_TAIL(&conf->rules, r, entry);
}

/*
 * Feed one RECONF imsg.  *pending collects the new configuration; returns 1
 * when IMSG_RECONF_END completed it, 0 when more is expected.  A malformed
 * message or an out-of-order one is a bug or a compromise: fatal.
 */
int
config_recv(struct scamback_conf **pending, struct imsg *imsg)
{
	struct scamback_conf	*conf = *pending;
	struct backend_conf	*b, *lastb;
	struct host_conf	*h;
	struct domain_conf	*d;
	struct skip_net		*n;
	struct skip_daemon	*sd;
	struct table_conf	*t;
	struct resolver_conf	*r;
	struct atable_conf	*at;
	uint32_t		 type = imsg_get_type(imsg);

	if (type != IMSG_RECONF_CONF && conf == NULL)
		fatalx("%s: configuration message %u before the start",
		    __func__, type);

	switch (type) {
	case IMSG_RECONF_CONF:
		if (conf != NULL)
			fatalx("%s: configuration started twice", __func__);
		if ((conf = config_new()) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, conf, sizeof(*conf)) == -1)
			fatalx("%s: bad IMSG_RECONF_CONF", __func__);
		TAILQ_INIT(&conf->backends);
		TAILQ_INIT(&conf->domains);
		TAILQ_INIT(&conf->skip_from);
		TAILQ_INIT(&conf->skip_daemons);
		TAILQ_INIT(&conf->tables);
		TAILQ_INIT(&conf->resolvers);
		TAILQ_INIT(&conf->atables);
		TAILQ_INIT(&conf->rules);
		config_recv_string(conf->user, sizeof(conf->user));
		config_recv_string(conf->hostname, sizeof(conf->hostname));
		config_recv_string(conf->probe_sender,
		    sizeof(conf->probe_sender));
		config_recv_string(conf->cache_file, sizeof(conf->cache_file));
		config_recv_string(conf->dns_search, sizeof(conf->dns_search));
		if (conf->share.type != SHARE_NONE &&
		    conf->share.type != SHARE_REDIS)
			fatalx("%s: bad cache share", __func__);
		config_recv_string(conf->share.address,
		    sizeof(conf->share.address));
		config_recv_string(conf->share.password,
		    sizeof(conf->share.password));
		config_recv_string(conf->share.prefix,
		    sizeof(conf->share.prefix));
		conf->rules_flags = 0;
		conf->save_dir = NULL;
		*pending = conf;
		break;
	case IMSG_RECONF_LISTEN:
		if (imsg_get_data(imsg, &conf->listen,
		    sizeof(conf->listen)) == -1)
			fatalx("%s: bad IMSG_RECONF_LISTEN", __func__);
		config_recv_string(conf->listen.spec,
		    sizeof(conf->listen.spec));
		config_recv_string(conf->listen.path,
		    sizeof(conf->listen.path));
		config_recv_string(conf->listen.owner,
		    sizeof(conf->listen.owner));
		config_recv_string(conf->listen.group,
		    sizeof(conf->listen.group));
		break;
	case IMSG_RECONF_TABLE:
		if ((t = malloc(sizeof(*t))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, t, sizeof(*t)) == -1)
			fatalx("%s: bad IMSG_RECONF_TABLE", __func__);
		config_recv_string(t->path, sizeof(t->path));
		TAILQ_INSERT_TAIL(&conf->tables, t, entry);
		break;
	case IMSG_RECONF_BACKEND:
		if ((b = malloc(sizeof(*b))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, b, sizeof(*b)) == -1)
			fatalx("%s: bad IMSG_RECONF_BACKEND", __func__);
		TAILQ_INIT(&b->hosts);
		config_recv_string(b->name, sizeof(b->name));
		config_recv_string(b->tls_ca, sizeof(b->tls_ca));
		TAILQ_INSERT_TAIL(&conf->backends, b, entry);
		break;
	case IMSG_RECONF_HOST:
		if ((lastb = TAILQ_LAST(&conf->backends, backend_list)) == NULL)
			fatalx("%s: host without a backend", __func__);
		if ((h = malloc(sizeof(*h))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, h, sizeof(*h)) == -1)
			fatalx("%s: bad IMSG_RECONF_HOST", __func__);
		config_recv_string(h->name, sizeof(h->name));
		TAILQ_INSERT_TAIL(&lastb->hosts, h, entry);
		break;
	case IMSG_RECONF_DOMAIN:
		if ((d = malloc(sizeof(*d))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, d, sizeof(*d)) == -1)
			fatalx("%s: bad IMSG_RECONF_DOMAIN", __func__);
		config_recv_string(d->name, sizeof(d->name));
		config_recv_string(d->backend, sizeof(d->backend));
		if (config_backend_byid(conf, d->backend_id) == NULL)
			fatalx("%s: domain %s has no backend %u", __func__,
			    d->name, d->backend_id);
		TAILQ_INSERT_TAIL(&conf->domains, d, entry);
		break;
	case IMSG_RECONF_SKIP_FROM:
		if ((n = malloc(sizeof(*n))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, n, sizeof(*n)) == -1)
			fatalx("%s: bad IMSG_RECONF_SKIP_FROM", __func__);
		if ((n->af != AF_INET || n->prefixlen > 32) &&
		    (n->af != AF_INET6 || n->prefixlen > 128))
			fatalx("%s: bad skip from network", __func__);
		TAILQ_INSERT_TAIL(&conf->skip_from, n, entry);
		break;
	case IMSG_RECONF_SKIP_DAEMON:
		if ((sd = malloc(sizeof(*sd))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, sd, sizeof(*sd)) == -1)
			fatalx("%s: bad IMSG_RECONF_SKIP_DAEMON", __func__);
		config_recv_string(sd->name, sizeof(sd->name));
		TAILQ_INSERT_TAIL(&conf->skip_daemons, sd, entry);
		break;
	case IMSG_RECONF_RESOLVER:
		if ((r = malloc(sizeof(*r))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, r, sizeof(*r)) == -1 ||
		    (r->ss.ss_family != AF_INET && r->ss.ss_family != AF_INET6))
			fatalx("%s: bad IMSG_RECONF_RESOLVER", __func__);
		TAILQ_INSERT_TAIL(&conf->resolvers, r, entry);
		break;
	case IMSG_RECONF_ATABLE:
		if ((at = malloc(sizeof(*at))) == NULL)
			fatal(NULL);
		if (imsg_get_data(imsg, at, sizeof(*at)) == -1)
			fatalx("%s: bad IMSG_RECONF_ATABLE", __func__);
		config_recv_string(at->name, sizeof(at->name));
		config_recv_string(at->path, sizeof(at->path));
		if ((at->table = table_new(at->name)) == NULL)
			fatal(NULL);
		TAILQ_INSERT_TAIL(&conf->atables, at, entry);
		break;
	case IMSG_RECONF_AENTRY:
		config_recv_entry(conf, imsg);
		break;
	case IMSG_RECONF_RULE:
		config_recv_rule(conf, imsg);
		break;
	case IMSG_RECONF_END:
		if (imsg_get_len(imsg) != 0)
			fatalx("%s: bad IMSG_RECONF_END", __func__);
		TAILQ_FOREACH(at, &conf->atables, entry)
			if (table_count(at->table) != at->count)
				fatalx("%s: table <%s> incomplete", __func__,
				    at->name);
		return (1);
	default:
		fatalx("%s: unexpected imsg %u", __func__, type);
	}
	return (0);
}

/*
 * Open a file of the configuration (the file itself, an include, a
 * table) for reading.  Only a regular file will do, and the open itself
 * must not wait: a FIFO blocks open(2) until someone writes to it, and a
 * device may never end, which would hang -n, the start or the parent's
 * reload.  Returns NULL with *why set.
 */
FILE *
config_fopen(const char *path, const char **why)
{
	struct stat	 sb;
	FILE		*fp;
	int		 fd, flags;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return (NULL);
	}
	if (fstat(fd, &sb) == -1) {
		*why = strerror(errno);
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(sb.st_mode)) {
		*why = "not a regular file";
		close(fd);
		return (NULL);
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		*why = strerror(errno);
		close(fd);
		return (NULL);
	}
	return (fp);
}

/*
 * A cache file's path.  The parent may create, write and remove any file
 * in its directory (the kernel's rules cannot name one file and its
 * temporary), so it must be absolute, to be the same after the daemon
 * changed its working directory, and not directly in "/", which would
 * let the parent, root, write anywhere.  Returns -1 with *why set.
 */
int
config_cache_path(const char *path, const char **why)
{
	const char	*p;

	if (path[0] != '/') {
		*why = "must be an absolute path";
		return (-1);
	}
	for (p = path; *p == '/'; p++)
		;
	if (strchr(p, '/') == NULL) {
		*why = "must be in a directory of its own, not directly in /";
		return (-1);
	}
	return (0);
}
