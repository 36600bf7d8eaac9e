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
 * What the prober's sandbox fixed when it started: the TCP ports it may
 * connect to (its backends', its name servers', the shared store's) and
 * the CA files it read.  A reload whose configuration needs anything
 * else restarts the prober (SPEC section 3); the parent asks here.  A
 * CA file counts as another when its path is new or the file at that
 * path changed (device, inode, size or modification time).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"

struct fixed_ca {
	char		 path[PATH_MAX];
	struct stat	 sb;
	int		 found;
};

struct prober_fixed {
	uint16_t	*ports;
	size_t		 nports;
	struct fixed_ca	*cas;
	size_t		 ncas;
};

static void	fixed_port(struct prober_fixed *, uint16_t);
static void	fixed_ca(struct prober_fixed *, const char *);
static int	fixed_has_port(struct prober_fixed *, uint16_t);
static int	fixed_has_ca(struct prober_fixed *, const char *);
static void	why_add(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static void
fixed_port(struct prober_fixed *f, uint16_t port)
{
	uint16_t	*p;

	if (fixed_has_port(f, port))
		return;
	if ((p = reallocarray(f->ports, f->nports + 1, sizeof(*p))) == NULL)
		fatal(NULL);
	f->ports = p;
	f->ports[f->nports++] = port;
}

static void
fixed_ca(struct prober_fixed *f, const char *path)
{
	struct fixed_ca	*c;

	if (fixed_has_ca(f, path) != -1)
		return;
	if ((c = reallocarray(f->cas, f->ncas + 1, sizeof(*c))) == NULL)
		fatal(NULL);
	f->cas = c;
	c = &f->cas[f->ncas++];
	memset(c, 0, sizeof(*c));
	strlcpy(c->path, path, sizeof(c->path));
	c->found = stat(path, &c->sb) == 0;
}

static int
fixed_has_port(struct prober_fixed *f, uint16_t port)
{
	size_t	i;

	for (i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return (1);
	return (0);
}

/* Index of path in f, or -1. */
static int
fixed_has_ca(struct prober_fixed *f, const char *path)
{
	size_t	i;

	for (i = 0; i < f->ncas; i++)
		if (strcmp(f->cas[i].path, path) == 0)
			return (i);
	return (-1);
}

/* The ports and CA files conf makes a prober use, as prober_ports(). */
struct prober_fixed *
prober_fixed_new(struct scamback_conf *conf)
{
	struct prober_fixed	*f;
	struct backend_conf	*bc;
	struct host_conf	*hc;
	struct resolver_conf	*rc;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal(NULL);
	if (conf->share.type != SHARE_NONE)
		fixed_port(f, conf->share.port);
	TAILQ_FOREACH(bc, &conf->backends, entry) {
		TAILQ_FOREACH(hc, &bc->hosts, entry)
			fixed_port(f, hc->port != 0 ? hc->port : DEFAULT_PORT);
		if (bc->tls != TLSMODE_NO && !bc->tls_noverify)
			fixed_ca(f, bc->tls_ca[0] != '\0' ? bc->tls_ca :
			    tls_default_ca_cert_file());
	}
	TAILQ_FOREACH(rc, &conf->resolvers, entry)
		fixed_port(f, ntohs(((struct sockaddr_in *)&rc->ss)->sin_port));
	return (f);
}

void
prober_fixed_free(struct prober_fixed *f)
{
	if (f == NULL)
		return;
	free(f->ports);
	free(f->cas);
	free(f);
}

static void
why_add(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;
	char	buf[PATH_MAX + 32];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (why[0] != '\0')
		strlcat(why, ", ", len);
	strlcat(why, buf, len);
}

/*
 * Whether a prober started with f serves conf.  When it does not, why
 * says what is new: "port 2526, tls ca /etc/ssl/b.pem".
 */
int
prober_fixed_covers(struct prober_fixed *f, struct scamback_conf *conf,
    char *why, size_t len)
{
	struct prober_fixed	*n;
	struct fixed_ca		*c, *o;
	size_t			 i;
	int			 k;

	why[0] = '\0';
	n = prober_fixed_new(conf);
	for (i = 0; i < n->nports; i++)
		if (!fixed_has_port(f, n->ports[i]))
			why_add(why, len, "port %u", n->ports[i]);
	for (i = 0; i < n->ncas; i++) {
		c = &n->cas[i];
		if ((k = fixed_has_ca(f, c->path)) == -1) {
			why_add(why, len, "tls ca %s", c->path);
			continue;
		}
		o = &f->cas[k];
		if (c->found != o->found || (c->found &&
		    (c->sb.st_dev != o->sb.st_dev ||
		    c->sb.st_ino != o->sb.st_ino ||
		    c->sb.st_size != o->sb.st_size ||
		    c->sb.st_mtim.tv_sec != o->sb.st_mtim.tv_sec ||
		    c->sb.st_mtim.tv_nsec != o->sb.st_mtim.tv_nsec)))
			why_add(why, len, "tls ca %s changed", c->path);
	}
	prober_fixed_free(n);
	return (why[0] == '\0');
}
