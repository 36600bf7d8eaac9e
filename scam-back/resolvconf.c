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
 * The files a resolver reads, parsed from a buffer.  The sandboxed prober
 * cannot open them: the parent reads resolv.conf (again at each reload)
 * and sends the name servers with the configuration; the prober reads
 * the hosts file once, before its sandbox, as libevent's resolver did.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "resolvconf.h"

#define HOSTS_MAX	10000		/* addresses kept from the hosts file */
#define NDOTS_MAX	15		/* as the C library caps it */

struct hosts_entry {
	char			 name[HOSTNAME_LEN];	/* lowercase */
	struct sockaddr_storage	 ss;			/* port 0 */
};

struct hosts {
	size_t			 n;
	struct hosts_entry	 e[];
};

static char	*read_file(const char *, size_t *);
static size_t	 next_line(const char *, size_t, size_t, char *, size_t);
static int	 split(char *, char **, int);
static void	 add_search(char *, size_t, const char *);

int
resolve_literal(const char *name, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[HOSTNAME_LEN];
	size_t			 len;

	memset(ss, 0, sizeof(*ss));
	len = strlen(name);
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, name + 1, len - 2);
		buf[len - 2] = '\0';
	} else if (strlcpy(buf, name, sizeof(buf)) >= sizeof(buf))
		return (0);

	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (1);
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return (1);
	}
	return (0);
}

const char *
resolve_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	char				 a[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(family %d)", ss->ss_family);
		break;
	}
	return (buf);
}

/*
 * A regular file, at most RESOLVCONF_MAX octets of it, NUL-terminated.
 * O_NONBLOCK: a FIFO put in its place must not hang the caller.
 */
static char *
read_file(const char *path, size_t *lenp)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 r;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = malloc(RESOLVCONF_MAX + 1)) == NULL)
		fatal(NULL);
	while (len < RESOLVCONF_MAX &&
	    (r = read(fd, buf + len, RESOLVCONF_MAX - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

/* The line at off (without its comment), into line; returns the next off. */
static size_t
next_line(const char *buf, size_t len, size_t off, char *line, size_t size)
{
	size_t	n = 0;
	int	comment = 0;

	for (; off < len && buf[off] != '\n'; off++) {
		if (buf[off] == '#' || buf[off] == ';')
			comment = 1;
		if (!comment && n + 1 < size)
			line[n++] = buf[off] == '\0' ? ' ' : buf[off];
	}
	line[n] = '\0';
	return (off + 1);
}

/* At most max words, separated by blanks; returns how many. */
static int
split(char *line, char **words, int max)
{
	char	*p;
	int	 n = 0;

	while (n < max && (p = strsep(&line, " \t\r")) != NULL)
		if (*p != '\0')
			words[n++] = p;
	return (n);
}

/* A search domain, if it is a host name and still fits. */
static void
add_search(char *list, size_t size, const char *d)
{
	size_t	len = strlen(list);

	if (!valid_hostname(d) || len + strlen(d) + 2 > size)
		return;
	snprintf(list + len, size - len, "%s%s", len > 0 ? " " : "", d);
}

void
resolvconf_parse(struct scamback_conf *conf, const char *buf, size_t len)
{
	struct resolver_conf	*r, *o;
	char			 line[1024], search[HOSTNAME_LEN], *w[8];
	const char		*errstr;
	size_t			 off = 0, nres = 0;
	int			 configured = 0, n, i, ndots;

	TAILQ_FOREACH(r, &conf->resolvers, entry)
		if (!r->system)
			configured = 1;
	search[0] = '\0';
	while (off < len) {
		off = next_line(buf, len, off, line, sizeof(line));
		if ((n = split(line, w, 8)) < 2)
			continue;
		if (strcmp(w[0], "nameserver") == 0) {
			if (configured || nres == MAX_RESOLVERS)
				continue;
			if ((r = calloc(1, sizeof(*r))) == NULL)
				fatal(NULL);
			/* fe80::1%eth0 is no literal: skipped. */
			if (!resolve_literal(w[1], DEFAULT_DNS_PORT, &r->ss)) {
				free(r);
				continue;
			}
			TAILQ_FOREACH(o, &conf->resolvers, entry)
				if (memcmp(&o->ss, &r->ss, sizeof(r->ss)) == 0)
					break;
			if (o != NULL) {
				free(r);
				continue;
			}
			r->system = 1;
			TAILQ_INSERT_TAIL(&conf->resolvers, r, entry);
			nres++;
		} else if (strcmp(w[0], "domain") == 0 ||
		    strcmp(w[0], "search") == 0) {
			/* The last of them wins. */
			search[0] = '\0';
			for (i = 1; i < n; i++)
				add_search(search, sizeof(search), w[i]);
		} else if (strcmp(w[0], "options") == 0) {
			for (i = 1; i < n; i++) {
				if (strncmp(w[i], "ndots:", 6) != 0)
					continue;
				ndots = strtonum(w[i] + 6, 0, INT32_MAX,
				    &errstr);
				if (errstr == NULL)
					conf->dns_ndots = ndots > NDOTS_MAX ?
					    NDOTS_MAX : ndots;
			}
		}
	}
	strlcpy(conf->dns_search, search, sizeof(conf->dns_search));
	if (TAILQ_EMPTY(&conf->resolvers)) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			fatal(NULL);
		resolve_literal("127.0.0.1", DEFAULT_DNS_PORT, &r->ss);
		r->system = 1;
		TAILQ_INSERT_TAIL(&conf->resolvers, r, entry);
	}
}

void
resolvconf_load(struct scamback_conf *conf, const char *path)
{
	char	*buf;
	size_t	 len = 0;

	if ((buf = read_file(path, &len)) == NULL)
		log_debug("%s: %s; name server 127.0.0.1", path,
		    strerror(errno));
	resolvconf_parse(conf, buf == NULL ? "" : buf, len);
	free(buf);
}

struct hosts *
hosts_parse(const char *buf, size_t len)
{
	struct hosts		*h;
	struct sockaddr_storage	 ss;
	char			 line[1024], *w[16];
	size_t			 off = 0, max = 16, j;
	int			 n, i;

	if ((h = malloc(sizeof(*h) + max * sizeof(h->e[0]))) == NULL)
		fatal(NULL);
	h->n = 0;
	while (off < len && h->n < HOSTS_MAX) {
		off = next_line(buf, len, off, line, sizeof(line));
		if ((n = split(line, w, 16)) < 2 ||
		    !resolve_literal(w[0], 0, &ss))
			continue;
		for (i = 1; i < n && h->n < HOSTS_MAX; i++) {
			if (strlen(w[i]) >= sizeof(h->e[0].name))
				continue;
			if (h->n == max) {
				max *= 2;
				if ((h = realloc(h, sizeof(*h) +
				    max * sizeof(h->e[0]))) == NULL)
					fatal(NULL);
			}
			for (j = 0; w[i][j] != '\0'; j++)
				h->e[h->n].name[j] = w[i][j] >= 'A' &&
				    w[i][j] <= 'Z' ? w[i][j] - 'A' + 'a' :
				    w[i][j];
			h->e[h->n].name[j] = '\0';
			h->e[h->n].ss = ss;
			h->n++;
		}
	}
	return (h);
}

struct hosts *
hosts_load(const char *path)
{
	struct hosts	*h;
	char		*buf;
	size_t		 len = 0;

	if ((buf = read_file(path, &len)) == NULL)
		log_debug("%s: %s", path, strerror(errno));
	h = hosts_parse(buf == NULL ? "" : buf, len);
	free(buf);
	return (h);
}

void
hosts_free(struct hosts *h)
{
	free(h);
}

int
hosts_lookup(const struct hosts *h, const char *name, uint16_t port,
    struct sockaddr_storage *out, int max)
{
	struct sockaddr_storage	ss;
	size_t			i;
	int			n = 0, j;

	if (h == NULL)
		return (0);
	for (i = 0; i < h->n && n < max; i++) {
		if (strcasecmp(h->e[i].name, name) != 0)
			continue;
		ss = h->e[i].ss;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		for (j = 0; j < n; j++)
			if (memcmp(&out[j], &ss, sizeof(ss)) == 0)
				break;
		if (j == n)
			out[n++] = ss;
	}
	return (n);
}
