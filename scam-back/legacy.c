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
 * scam-back -m: read the Key:Value file of scam-backscatter 1.x (and,
 * after "--", its command line) and print the equivalent scam-back.conf.
 * The old compile-time switches (EHLO, BITBUCKET, ALLDOMAINS, ...) are
 * accepted as keys, since the file is the only place left to say them.
 * Nothing is dropped silently: a line that cannot be converted is reported
 * on stderr with its line number, repeated as a comment in the output, and
 * makes the exit status 1.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "log.h"

#define LEGACY_MAILERTABLE	"/etc/mail/mailertable"

struct legacy {
	struct scamback_conf	*conf;
	const char		*path;
	int			 lineno;
	int			 errors;
	struct backend_conf	*cur;		/* the last BackSMTPServer */
	uint16_t		 port;		/* BackSMTPPort, for every host */
	int			 subdomains;
	int			 ehlo;
	int			 alldomains;
	int			 usemailertable;
	int			 listen_given;	/* -p */
	char			 mailertable[PATH_MAX];
	char			*notes;		/* comments for the output */
	size_t			 noteslen;
};

static void	note(struct legacy *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	yesno(const char *, int *);
static int	number(struct legacy *, const char *, const char *, long long,
		    long long, long long *);
static void	legacy_line(struct legacy *, char *, char *);
static void	legacy_args(struct legacy *, int, char **);
static void	legacy_cache_file(struct legacy *, const char *,
		    const char *);
static struct backend_conf *legacy_backend(struct legacy *, const char *);
static int	legacy_host(struct legacy *, struct backend_conf *,
		    const char *);
static void	legacy_finish(struct legacy *);

/*
 * Report on stderr and keep the line for the output.  error: 1 when the
 * line was not converted, 0 for a remark.
 */
static void
note(struct legacy *l, int error, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *where, *n;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		err(1, NULL);
	va_end(ap);
	if (l->lineno > 0) {
		if (asprintf(&where, "%s:%d: ", l->path, l->lineno) == -1)
			err(1, NULL);
	} else if (l->lineno == 0) {
		if ((where = strdup("command line: ")) == NULL)
			err(1, NULL);
	} else if (asprintf(&where, "%s: ", l->path) == -1)
		err(1, NULL);
	fprintf(stderr, "%s%s%s\n", where, error ? "" : "note: ", msg);
	if (asprintf(&n, "%s# %s%s%s\n", l->notes ? l->notes : "",
	    error ? "NOT CONVERTED: " : "", where, msg) == -1)
		err(1, NULL);
	free(l->notes);
	l->notes = n;
	if (error)
		l->errors++;
	free(where);
	free(msg);
}

/* BackList or -b: the cache file, where scam-back.conf allows it. */
static void
legacy_cache_file(struct legacy *l, const char *key, const char *value)
{
	const char	*why;

	if (*value == '\0' || strlen(value) >= sizeof(l->conf->cache_file)) {
		note(l, 1, "%s: bad path", key);
		return;
	}
	if (config_cache_path(value, &why) == -1) {
		note(l, 1, "%s %s: %s", key, value, why);
		return;
	}
	strlcpy(l->conf->cache_file, value, sizeof(l->conf->cache_file));
}

/* The old switches were on when present: an empty value is yes. */
static int
yesno(const char *s, int *v)
{
	if (*s == '\0' || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0 ||
	    strcmp(s, "1") == 0)
		*v = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		*v = 0;
	else
		return (-1);
	return (0);
}

static int
number(struct legacy *l, const char *key, const char *s, long long min,
    long long max, long long *v)
{
	const char	*errstr;

	*v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		note(l, 1, "%s: \"%s\" is %s (%lld to %lld)", key, s, errstr,
		    min, max);
		return (-1);
	}
	return (0);
}

int
legacy_convert(const char *path, int argc, char **argv)
{
	struct legacy	 l;
	FILE		*fp;
	char		*line = NULL, *p, *key, *value;
	size_t		 linesize = 0;
	ssize_t		 len;

	memset(&l, 0, sizeof(l));
	l.path = path;
	l.port = DEFAULT_PORT;
	if ((l.conf = config_new()) == NULL)
		err(1, NULL);
	/* scam-backscatter kept its cache in memory unless told otherwise. */
	l.conf->cache_file[0] = '\0';

	/* The old daemon read its file after its options: the file wins. */
	legacy_args(&l, argc, argv);

	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while ((len = getline(&line, &linesize, fp)) != -1) {
		l.lineno++;
		if (strlen(line) != (size_t)len) {
			note(&l, 1, "NUL character in line");
			continue;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		key = p;
		if ((value = strchr(p, ':')) != NULL)
			*value++ = '\0';
		else
			value = "";
		legacy_line(&l, trim(key), trim(value));
	}
	if (ferror(fp))
		err(1, "%s", path);
	free(line);
	fclose(fp);

	/* What legacy_finish() says is about the whole file. */
	l.lineno = -1;
	legacy_finish(&l);

	printf("# scam-back.conf converted from %s by scam-back -m\n", path);
	printf("# Check it with scam-back -n -f before use.\n");
	if (l.notes != NULL)
		printf("#\n%s", l.notes);
	printf("\n");
	print_config(l.conf);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");

	free(l.notes);
	config_free(l.conf);
	return (l.errors ? 1 : 0);
}

static void
legacy_line(struct legacy *l, char *key, char *value)
{
	struct scamback_conf	*conf = l->conf;
	struct skip_daemon	*sd;
	struct skip_net		*n;
	struct domain_conf	*d;
	long long		 v;
	char			 dom[HOSTNAME_LEN];
	int			 b;

	if (strcasecmp(key, "BackSMTPServer") == 0) {
		if ((l->cur = legacy_backend(l, value)) == NULL)
			return;
	} else if (strcasecmp(key, "FALLBACKEND") == 0) {
		if (l->cur == NULL) {
			note(l, 1, "%s: no BackSMTPServer before it", key);
			return;
		}
		legacy_host(l, l->cur, value);
	} else if (strcasecmp(key, "BackSMTPPort") == 0) {
		if (number(l, key, value, 1, 65535, &v) == 0)
			l->port = v;
	} else if (strcasecmp(key, "BackAddrDomain") == 0) {
		if (parse_domain(value, dom, sizeof(dom)) == -1) {
			note(l, 1, "%s: \"%s\" is not a domain", key, value);
			return;
		}
		if (l->cur == NULL) {
			note(l, 1, "%s: %s: no BackSMTPServer before it", key,
			    value);
			return;
		}
		if (config_domain_find(conf, dom, DOMAIN_EXACT) != NULL) {
			note(l, 0, "%s: %s given twice", key, dom);
			return;
		}
		if ((d = calloc(1, sizeof(*d))) == NULL)
			err(1, NULL);
		strlcpy(d->name, dom, sizeof(d->name));
		d->match = DOMAIN_EXACT;
		strlcpy(d->backend, l->cur->name, sizeof(d->backend));
		TAILQ_INSERT_TAIL(&conf->domains, d, entry);
	} else if (strcasecmp(key, "BackAddrSubdomains") == 0) {
		if (yesno(value, &l->subdomains) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
	} else if (strcasecmp(key, "BackValidAddrExp") == 0) {
		if (number(l, key, value, 1, MAX_EXPIRE, &v) == 0)
			conf->valid_expire = v;
	} else if (strcasecmp(key, "BackInvalidAddrExp") == 0) {
		if (number(l, key, value, 1, MAX_EXPIRE, &v) == 0)
			conf->invalid_expire = v;
	} else if (strcasecmp(key, "BackList") == 0) {
		legacy_cache_file(l, key, value);
	} else if (strcasecmp(key, "TimeoutSMTPConnect") == 0) {
		if (number(l, key, value, 1, MAX_TIMEOUT, &v) == 0)
			conf->timeout_connect = v;
	} else if (strcasecmp(key, "TimeoutSMTPReply") == 0) {
		if (number(l, key, value, 1, MAX_TIMEOUT, &v) == 0)
			conf->timeout_reply = v;
	} else if (strcasecmp(key, "PreferIPVersion") == 0) {
		if (strcmp(value, "4") == 0 || strcasecmp(value, "ipv4") == 0 ||
		    strcasecmp(value, "inet") == 0)
			conf->prefer = PREFER_INET;
		else if (strcmp(value, "6") == 0 ||
		    strcasecmp(value, "ipv6") == 0 ||
		    strcasecmp(value, "inet6") == 0)
			conf->prefer = PREFER_INET6;
		else
			note(l, 1, "%s: \"%s\" is not 4 or 6", key, value);
	} else if (strcasecmp(key, "BackSkipDaemon") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(sd->name) ||
		    strpbrk(value, "\"\\") != NULL) {
			note(l, 1, "%s: bad daemon name \"%s\"", key, value);
			return;
		}
		if ((sd = calloc(1, sizeof(*sd))) == NULL)
			err(1, NULL);
		strlcpy(sd->name, value, sizeof(sd->name));
		TAILQ_INSERT_TAIL(&conf->skip_daemons, sd, entry);
		conf->skip_daemon_set = 1;
	} else if (strcasecmp(key, "BackSkipVerify") == 0) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			err(1, NULL);
		if (parse_cidr(value, n) == -1) {
			note(l, 1, "%s: \"%s\" is not an address or network",
			    key, value);
			free(n);
			return;
		}
		TAILQ_INSERT_TAIL(&conf->skip_from, n, entry);
	} else if (strcasecmp(key, "BackErrorTempfail") == 0) {
		if (yesno(value, &b) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
		else
			conf->unreachable = b ? UNREACHABLE_TEMPFAIL :
			    UNREACHABLE_ACCEPT;
	} else if (strcasecmp(key, "BackSMTPBackoff") == 0 ||
	    strcasecmp(key, "BACKOFF") == 0) {
		/* The switch alone meant "on", with the default time. */
		if (yesno(value, &b) == 0)
			conf->backoff = b ? DEFAULT_BACKOFF : 0;
		else if (number(l, key, value, 0, MAX_BACKOFF, &v) == 0)
			conf->backoff = v;
	} else if (strcasecmp(key, "Mailertable") == 0) {
		if (*value == '\0' || strlcpy(l->mailertable, value,
		    sizeof(l->mailertable)) >= sizeof(l->mailertable))
			note(l, 1, "%s: bad path", key);
		else
			l->usemailertable = 1;
	} else if (strcasecmp(key, "USEMAILERTABLE") == 0) {
		if (yesno(value, &b) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
		else
			l->usemailertable = b;
	} else if (strcasecmp(key, "EHLO") == 0) {
		if (yesno(value, &l->ehlo) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
	} else if (strcasecmp(key, "HELOHOST") == 0) {
		if (!valid_hostname(value) || strlen(value) >=
		    sizeof(conf->hostname))
			note(l, 1, "%s: \"%s\" is not a host name", key, value);
		else
			strlcpy(conf->hostname, value, sizeof(conf->hostname));
	} else if (strcasecmp(key, "BITBUCKET") == 0) {
		if (yesno(value, &b) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
		else
			conf->invalid = b ? INVALID_DISCARD : INVALID_REJECT;
	} else if (strcasecmp(key, "ALLDOMAINS") == 0) {
		if (yesno(value, &l->alldomains) == -1)
			note(l, 1, "%s: \"%s\" is not yes or no", key, value);
	} else
		note(l, 1, "unknown key \"%s\"", key);
}

/* The backend of a BackSMTPServer line, named after its host. */
static struct backend_conf *
legacy_backend(struct legacy *l, const char *host)
{
	struct backend_conf	*b;
	char			 name[NAME_LEN];
	size_t			 len = strlen(host);

	/* [192.0.2.1] names the backend 192.0.2.1. */
	if (len > 2 && host[0] == '[' && host[len - 1] == ']' &&
	    len - 2 < sizeof(name)) {
		memcpy(name, host + 1, len - 2);
		name[len - 2] = '\0';
		host = name;
	}
	if ((b = config_backend_byname(l->conf, host)) != NULL)
		return (b);
	if (strlen(host) >= sizeof(b->name)) {
		note(l, 1, "BackSMTPServer: \"%s\" is too long", host);
		return (NULL);
	}
	if ((b = config_backend_new(host)) == NULL)
		err(1, NULL);
	if (legacy_host(l, b, host) == -1) {
		config_backend_free(b);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&l->conf->backends, b, entry);
	return (b);
}

static int
legacy_host(struct legacy *l, struct backend_conf *b, const char *s)
{
	struct host_conf	*h;
	char			 buf[HOSTNAME_LEN];
	size_t			 len = strlen(s);

	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= sizeof(buf)) {
		note(l, 1, "host too long");
		return (-1);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!valid_host(buf)) {
		note(l, 1, "\"%s\" is neither an address nor a host name", buf);
		return (-1);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		err(1, NULL);
	strlcpy(h->name, buf, sizeof(h->name));
	TAILQ_INSERT_TAIL(&b->hosts, h, entry);
	return (0);
}

/*
 * The old command line, as it stood in the rc script:
 * -p conn -u user -g group -b file; the rest has no equivalent.
 */
static void
legacy_args(struct legacy *l, int argc, char **argv)
{
	struct listen_conf	*lc = &l->conf->listen;
	const char		*arg;
	char			 opt;
	int			 i;

	for (i = 0; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			note(l, 1, "\"%s\" is not an option", argv[i]);
			continue;
		}
		opt = argv[i][1];
		arg = NULL;
		if (strchr("pugbTPfd", opt) != NULL) {
			if (argv[i][2] != '\0')
				arg = argv[i] + 2;
			else if (i + 1 < argc)
				arg = argv[++i];
			else {
				note(l, 1, "-%c needs an argument", opt);
				continue;
			}
		}
		switch (opt) {
		case 'p':
			l->listen_given = 1;
			if (strlcpy(lc->spec, arg, sizeof(lc->spec)) >=
			    sizeof(lc->spec)) {
				note(l, 1, "-p: too long");
				break;
			}
			if (strncmp(arg, "unix:", 5) == 0 ||
			    strncmp(arg, "local:", 6) == 0) {
				lc->family = LISTEN_UNIX;
				strlcpy(lc->path, strchr(arg, ':') + 1,
				    sizeof(lc->path));
			} else if (strncmp(arg, "inet:", 5) == 0)
				lc->family = LISTEN_INET;
			else if (strncmp(arg, "inet6:", 6) == 0)
				lc->family = LISTEN_INET6;
			else
				note(l, 1, "-p %s: not unix:, local:, inet: or "
				    "inet6:", arg);
			break;
		case 'u':
			if (strlcpy(l->conf->user, arg,
			    sizeof(l->conf->user)) >= sizeof(l->conf->user))
				note(l, 1, "-u: too long");
			break;
		case 'g':
			/* It ran with this group and a socket of mode 0660. */
			if (strlcpy(lc->group, arg, sizeof(lc->group)) >=
			    sizeof(lc->group))
				note(l, 1, "-g: too long");
			break;
		case 'b':
			legacy_cache_file(l, "-b", arg);
			break;
		case 'T':
			note(l, 0, "-T %s: no equivalent; scam-back keeps its "
			    "waits below the MTA's milter timeouts", arg);
			break;
		case 'P':
		case 'f':
		case 'd':
		case 'D':
		case 'R':
			note(l, 0, "-%c: no equivalent, not needed", opt);
			break;
		default:
			note(l, 1, "-%c: unknown option", opt);
			break;
		}
	}
}

/*
 * What can only be done with the whole file read, and what changed on
 * the way: the MTA must find the socket, and reach it.
 */
static void
legacy_finish(struct legacy *l)
{
	struct scamback_conf	*conf = l->conf;
	struct listen_conf	*lc = &conf->listen;
	struct backend_conf	*b;
	struct host_conf	*h;
	struct domain_conf	*d;
	struct table_conf	*t;
	uint32_t		 id = 0;

	TAILQ_FOREACH(b, &conf->backends, entry) {
		b->id = id++;
		/* Without the EHLO switch scam-backscatter said HELO. */
		b->protocol = l->ehlo ? PROTO_ESMTP : PROTO_SMTP;
		TAILQ_FOREACH(h, &b->hosts, entry)
			h->port = l->port;
	}
	TAILQ_FOREACH(d, &conf->domains, entry) {
		if (l->subdomains)
			d->match = DOMAIN_SUBDOMAINS;
		if ((b = config_backend_byname(conf, d->backend)) != NULL)
			d->backend_id = b->id;
	}
	if (l->alldomains) {
		b = TAILQ_FIRST(&conf->backends);
		if (b == NULL)
			note(l, 1, "ALLDOMAINS without a BackSMTPServer");
		else if (TAILQ_NEXT(b, entry) != NULL)
			note(l, 1, "ALLDOMAINS takes one BackSMTPServer, "
			    "not several");
		else {
			if ((d = calloc(1, sizeof(*d))) == NULL)
				err(1, NULL);
			d->match = DOMAIN_ALL;
			strlcpy(d->backend, b->name, sizeof(d->backend));
			d->backend_id = b->id;
			TAILQ_INSERT_TAIL(&conf->domains, d, entry);
		}
	}
	TAILQ_FOREACH(b, &conf->backends, entry) {
		TAILQ_FOREACH(d, &conf->domains, entry)
			if (strcmp(d->backend, b->name) == 0)
				break;
		if (d == NULL)
			note(l, 0, "BackSMTPServer %s: no BackAddrDomain for "
			    "it", b->name);
	}
	if (!l->listen_given)
		note(l, 0, "listen on: the old socket came from -p, not "
		    "given; the MTA must name this one (Postfix: "
		    "smtpd_milters = %s)", lc->spec);
	if (lc->family == LISTEN_UNIX && lc->group[0] == '\0') {
		/* Postfix's smtpd runs as postfix; root's 0660 shuts it out. */
		strlcpy(lc->group, "postfix", sizeof(lc->group));
		lc->mode = 0660;
		note(l, 0, "listen on: group \"postfix\" mode 0660 lets "
		    "Postfix's smtpd reach the socket; sendmail needs its "
		    "own group (smmsp), -g says which");
	}
	if (conf->cache_file[0] == '\0')
		note(l, 0, "cache file none: without BackList or -b the old "
		    "daemon kept its cache in memory; cache file \"%s\" "
		    "keeps verdicts across restarts", SCAMBACK_CACHEFILE);
	if (l->usemailertable) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			err(1, NULL);
		t->type = TABLE_MAILERTABLE;
		strlcpy(t->path, l->mailertable[0] != '\0' ? l->mailertable :
		    LEGACY_MAILERTABLE, sizeof(t->path));
		TAILQ_INSERT_TAIL(&conf->tables, t, entry);
		if (l->port != DEFAULT_PORT)
			note(l, 0, "BackSMTPPort %u does not apply to the "
			    "mailertable's hosts: they use port 25", l->port);
	}
}
