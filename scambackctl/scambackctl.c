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


/* scambackctl: talk to a running scam-back over its control socket. */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "scambackctl.h"

/* A reply that takes longer than this means the daemon is stuck. */
#define CTL_TIMEOUT_MS	(120 * 1000)

__dead static void	usage(void);
static int		ctl_connect(const char *);
static void		send_request(struct imsgbuf *, struct parse_result *);
static int		handle_reply(struct imsg *, struct parse_result *,
			    const struct output *, int *);
static void		terminate(char *, size_t);
__dead static void	ctl_errors_end(void);
static char		*vstr(const char *, va_list);
static void		cache_add(const struct ctl_cache_entry *);
static int		cache_cmp(const void *, const void *);
static void		cache_print(const struct output *, time_t);

/* show cache's entries, until the last is in */
static struct cached {
	char			*addr;
	enum verdict		 state;
	int64_t			 expires;
	uint32_t		 hits;
}			*cached;
static size_t		 ncached, cachedsz;

static int		 json_mode;	/* -j */
static char		*errors;	/* -j: complaints so far */
static const char	**valid;	/* -j: what was valid there */
static size_t		 nvalid;

__dead static void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-j] [-s socket] command [argument ...]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct parse_result	*res;
	const struct output	*out = &show_output;
	const char		*sockname = SCAMBACK_SOCKET;
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct pollfd		 pfd;
	ssize_t			 n;
	int			 ch, fd, done = 0, failed = 0;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
			out = &json_output;
			json_mode = 1;
			break;
		case 's':
			sockname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();

	if ((res = parse(argc, argv, ctl_error, ctl_valid)) == NULL)
		ctl_errors_end();

	fd = ctl_connect(sockname);
	if (pledge("stdio", NULL) == -1)
		ctl_fatal(errno, "pledge");

	if (imsgbuf_init(&ibuf, fd) == -1)
		ctl_fatal(errno, "imsgbuf_init");
	send_request(&ibuf, res);
	if (imsgbuf_flush(&ibuf) == -1)
		ctl_fatal(errno, "write to %s", sockname);

	out->head(res);
	while (!done) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		switch (poll(&pfd, 1, CTL_TIMEOUT_MS)) {
		case -1:
			if (errno == EINTR)
				continue;
			ctl_fatal(errno, "poll");
		case 0:
			ctl_fatal(0, "no answer from scam-back");
		}
		switch (imsgbuf_read(&ibuf)) {
		case -1:
			ctl_fatal(errno, "read from %s", sockname);
		case 0:
			ctl_fatal(0, "scam-back closed the connection");
		}
		while (!done) {
			if ((n = imsg_get(&ibuf, &imsg)) == -1)
				ctl_fatal(0, "bad reply from scam-back");
			if (n == 0)
				break;
			done = handle_reply(&imsg, res, out, &failed);
			imsg_free(&imsg);
		}
	}
	out->tail(res);
	close(fd);
	exit(failed);
}

/* A daemon that is not running is one clear line, not errno noise. */
static int
ctl_connect(const char *sockname)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sockname, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		ctl_fatal(0, "socket name too long: %s", sockname);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		ctl_fatal(errno, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		switch (errno) {
		case ENOENT:
		case ECONNREFUSED:
		case ENOTSOCK:
			ctl_fatal(0, "scam-back is not running (no control socket "
			    "at %s)", sockname);
		case EACCES:
		case EPERM:
			ctl_fatal(0, "%s: permission denied (the control socket "
			    "is root's)", sockname);
		default:
			ctl_fatal(errno, "connect %s", sockname);
		}
	}
	return (fd);
}

static void
send_request(struct imsgbuf *ibuf, struct parse_result *res)
{
	uint32_t	 type;
	const void	*data = NULL;
	size_t		 len = 0;
	int		 v;

	switch (res->action) {
	case SHOW_CACHE:
		type = IMSG_CTL_SHOW_CACHE;
		data = &res->filter;
		len = sizeof(res->filter);
		break;
	case SHOW_BACKENDS:
		type = IMSG_CTL_SHOW_BACKENDS;
		break;
	case SHOW_STATS:
		type = IMSG_CTL_SHOW_STATS;
		break;
	case FLUSH_BACKOFF:
		type = IMSG_CTL_FLUSH_BACKOFF;
		data = res->name;
		len = sizeof(res->name);
		break;
	case FLUSH_CACHE:
		type = IMSG_CTL_FLUSH_CACHE;
		data = &res->filter;
		len = sizeof(res->filter);
		break;
	case SAVE_CACHE:
		type = IMSG_CTL_SAVE_CACHE;
		break;
	case CHECK:
		type = IMSG_CTL_CHECK;
		data = &res->filter;
		len = sizeof(res->filter);
		break;
	case SHOW_RULES:
		type = IMSG_CTL_SHOW_RULES;
		break;
	case CHECK_RULES:
		type = IMSG_CTL_CHECK_RULES;
		data = &res->session;
		len = sizeof(res->session);
		break;
	case RELOAD:
		type = IMSG_CTL_RELOAD;
		break;
	case LOG_VERBOSE:
	case LOG_BRIEF:
		type = IMSG_CTL_LOG_VERBOSE;
		v = res->action == LOG_VERBOSE;
		data = &v;
		len = sizeof(v);
		break;
	default:
		errx(1, "internal error: action %d", res->action);
	}
	if (imsg_compose(ibuf, type, 0, 0, -1, data, len) == -1)
		err(1, "imsg_compose");
}

/*
 * One reply: check its size and type against the request, print it.
 * Returns 1 after the last one.
 */
static int
handle_reply(struct imsg *imsg, struct parse_result *res,
    const struct output *out, int *failed)
{
	struct ctl_cache_entry	 entry;
	struct ctl_backend	 backend;
	struct ctl_stats	 stats;
	struct ctl_store	 store;
	struct ctl_check	 check;
	struct ctl_rule		 rule;
	struct ctl_rules_result	 rr;
	struct ctl_result	 result;
	uint32_t		 i, type = imsg_get_type(imsg);
	time_t			 now = time(NULL);

	switch (type) {
	case IMSG_CTL_END:
		if (imsg_get_len(imsg) != 0)
			break;
		if (res->action == SHOW_CACHE)
			cache_print(out, now);
		return (1);
	case IMSG_CTL_CACHE_ENTRY:
		if (res->action != SHOW_CACHE ||
		    imsg_get_data(imsg, &entry, sizeof(entry)) == -1)
			break;
		terminate(entry.address, sizeof(entry.address));
		cache_add(&entry);
		return (0);
	case IMSG_CTL_BACKEND:
		if (res->action != SHOW_BACKENDS ||
		    imsg_get_data(imsg, &backend, sizeof(backend)) == -1)
			break;
		terminate(backend.name, sizeof(backend.name));
		for (i = 0; i < CTL_MAX_HOSTS; i++) {
			terminate(backend.hosts[i].name,
			    sizeof(backend.hosts[i].name));
			terminate(backend.hosts[i].last_error,
			    sizeof(backend.hosts[i].last_error));
		}
		out->backend(&backend, now);
		return (0);
	case IMSG_CTL_STATS:
		if (res->action != SHOW_STATS ||
		    imsg_get_data(imsg, &stats, sizeof(stats)) == -1)
			break;
		out->stats(&stats, now);
		return (0);
	case IMSG_CTL_STORE:
		if ((res->action != SHOW_STATS &&
		    res->action != SHOW_BACKENDS) ||
		    imsg_get_data(imsg, &store, sizeof(store)) == -1)
			break;
		terminate(store.address, sizeof(store.address));
		terminate(store.prefix, sizeof(store.prefix));
		terminate(store.last_error, sizeof(store.last_error));
		out->store(res, &store, now);
		return (0);
	case IMSG_CTL_CHECK_RESULT:
		if (res->action != CHECK ||
		    imsg_get_data(imsg, &check, sizeof(check)) == -1)
			break;
		terminate(check.address, sizeof(check.address));
		terminate(check.backend, sizeof(check.backend));
		terminate(check.res.enhanced, sizeof(check.res.enhanced));
		terminate(check.res.text, sizeof(check.res.text));
		out->check(&check);
		return (0);
	case IMSG_CTL_RULE:
		if (res->action != SHOW_RULES ||
		    imsg_get_data(imsg, &rule, sizeof(rule)) == -1)
			break;
		terminate(rule.text, sizeof(rule.text));
		out->rule(&rule, now);
		return (0);
	case IMSG_CTL_RULES_RESULT:
		if (res->action != CHECK_RULES ||
		    imsg_get_data(imsg, &rr, sizeof(rr)) == -1)
			break;
		terminate(rr.verdict, sizeof(rr.verdict));
		terminate(rr.rule, sizeof(rr.rule));
		terminate(rr.reply, sizeof(rr.reply));
		terminate(rr.value, sizeof(rr.value));
		terminate(rr.note, sizeof(rr.note));
		out->rules_result(res, &rr);
		return (0);
	case IMSG_CTL_RESULT:
		if (imsg_get_data(imsg, &result, sizeof(result)) == -1)
			break;
		terminate(result.text, sizeof(result.text));
		if (!result.ok) {
			*failed = 1;
			/* JSON readers get a document that says so. */
			if (out == &json_output)
				out->result(res, &result);
			else {
				fflush(stdout);
				fprintf(stderr, "scambackctl: %s\n",
				    result.text[0] != '\0' ? result.text :
				    "failed");
			}
		} else
			out->result(res, &result);
		return (0);
	}
	ctl_fatal(0, "bad reply from scam-back (type %u, %zu bytes)", type,
	    imsg_get_len(imsg));
}

static char *
vstr(const char *fmt, va_list ap)
{
	char	*m;

	if (vasprintf(&m, fmt, ap) == -1)
		err(1, NULL);
	return (m);
}

/* One line of a complaint about the command line. */
void
ctl_error(const char *fmt, ...)
{
	va_list	 ap;
	char	*m, *n;

	va_start(ap, fmt);
	m = vstr(fmt, ap);
	va_end(ap);
	if (!json_mode) {
		fprintf(stderr, "%s\n", m);
		free(m);
		return;
	}
	if (errors != NULL) {
		if (asprintf(&n, "%s; %s", errors, m) == -1)
			err(1, NULL);
		free(errors);
		free(m);
		m = n;
	}
	errors = m;
}

/* One of what would have been valid there. */
void
ctl_valid(const char *arg)
{
	const char	**v;

	if (!json_mode) {
		if (nvalid++ == 0)
			fprintf(stderr, "valid commands/args:\n");
		fprintf(stderr, "  %s\n", arg);
		return;
	}
	if ((v = reallocarray(valid, nvalid + 1, sizeof(*valid))) == NULL)
		err(1, NULL);
	valid = v;
	valid[nvalid++] = arg;
}

/* The command line was refused: say so, and go. */
__dead static void
ctl_errors_end(void)
{
	if (json_mode)
		json_do_error(errors != NULL ? errors : "bad command line",
		    valid, nvalid);
	exit(1);
}

/* A failure once the command is under way; errno if code is one. */
__dead void
ctl_fatal(int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*m, *n;

	va_start(ap, fmt);
	m = vstr(fmt, ap);
	va_end(ap);
	if (code != 0) {
		if (asprintf(&n, "%s: %s", m, strerror(code)) == -1)
			err(1, NULL);
		free(m);
		m = n;
	}
	if (json_mode)
		json_do_error(m, NULL, 0);
	else {
		fflush(stdout);
		fprintf(stderr, "%s: %s\n", getprogname(), m);
	}
	exit(1);
}

/*
 * show cache: the engine walks its cache in no order; entries are kept
 * (as small as they go) and printed sorted by domain, then local part,
 * once the last one is in.
 */
static void
cache_add(const struct ctl_cache_entry *e)
{
	struct cached	*n;

	if (ncached == cachedsz) {
		cachedsz = cachedsz == 0 ? 1024 : cachedsz * 2;
		if ((n = reallocarray(cached, cachedsz, sizeof(*cached))) ==
		    NULL)
			err(1, NULL);
		cached = n;
	}
	n = &cached[ncached++];
	/* Only the address's bytes are kept, not its whole array. */
	if ((n->addr = strdup(e->address)) == NULL)
		err(1, NULL);
	n->state = e->state;
	n->expires = e->expires;
	n->hits = e->hits;
}

static int
cache_cmp(const void *a, const void *b)
{
	const char	*x = ((const struct cached *)a)->addr;
	const char	*y = ((const struct cached *)b)->addr;
	const char	*dx, *dy;
	int		 c;

	dx = (dx = strrchr(x, '@')) != NULL ? dx + 1 : "";
	dy = (dy = strrchr(y, '@')) != NULL ? dy + 1 : "";
	if ((c = strcmp(dx, dy)) != 0)
		return (c);
	return (strcmp(x, y));
}

static void
cache_print(const struct output *out, time_t now)
{
	struct ctl_cache_entry	 e;
	size_t			 i;

	if (ncached > 0)
		qsort(cached, ncached, sizeof(*cached), cache_cmp);
	for (i = 0; i < ncached; i++) {
		memset(&e, 0, sizeof(e));
		strlcpy(e.address, cached[i].addr, sizeof(e.address));
		e.state = cached[i].state;
		e.expires = cached[i].expires;
		e.hits = cached[i].hits;
		out->cache_entry(&e, now);
		free(cached[i].addr);
	}
	free(cached);
	cached = NULL;
	ncached = cachedsz = 0;
}

/* The daemon is trusted, but a string without its NUL is still a bug. */
static void
terminate(char *s, size_t len)
{
	s[len - 1] = '\0';
}
