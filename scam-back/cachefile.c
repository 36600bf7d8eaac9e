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
 * The cache file's contents, engine side.  The parent opens the files;
 * the engine parses what it is given at start, and writes the cache to
 * the temporary file the parent hands over for a save.
 *
 * A save walks the cache in slices from the event thread, writing each
 * slice before the next is read, so probe results and control requests
 * are served between slices; cache hits never wait, they happen in
 * libmilter's threads and only contend for one shard's lock at a time.
 * fsync is the parent's: it holds the same file, and the engine's event
 * thread must not sleep on the disk.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "cache.h"
#include "cachefile.h"
#include "policy.h"

/* Entries per slice: well under a millisecond of work. */
#define SAVE_SLICE	1024
#define READ_CHUNK	(64 * 1024)
/* Octets of a short line ("a@example.net invalid 1700000000"). */
#define LINE_GUESS	40

static int	parse_cache_line(char *, size_t, time_t, uint32_t, uint32_t,
		    void (*)(const char *, enum verdict, time_t, void *),
		    void *, struct cachefile_stats *);
static const char *last_field(const char *, const char *, char **);
static enum verdict parse_state(const char *, size_t);
static int	parse_cache_address(const char *, char *, size_t);
static int	parse_expiry(const char *, time_t *);
static void	load_put(const char *, enum verdict, time_t, void *);
static void	save_start(int);
static void	save_slice(int, short, void *);
static int	save_entry(const struct cache_info *, void *);
static int	save_flush(void);
static void	save_finish(int);

static struct {
	struct cache	*cache;
	void		(*done)(const struct cache_save_done *);
	int		 fd;		/* -1: no save running */
	uint64_t	 cursor;
	uint64_t	 entries;
	time_t		 now;
	int		 error;
	char		*buf;
	size_t		 len;
	size_t		 size;
	struct event	 ev;
} save = { .fd = -1 };

/* Lines without an expiry (BackList format) live vexp or iexp seconds. */
void
cachefile_load(struct cache *c, int fd, uint32_t vexp, uint32_t iexp)
{
	struct cachefile_stats	 st;
	struct stat		 sb;
	struct timespec		 t0, t1;
	char			 legacy[64] = "";
	int			 rv;

	if (fd == -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Buckets for about as many entries as the file has lines. */
	if (fstat(fd, &sb) == 0 && sb.st_size > 0)
		cache_reserve(c, sb.st_size / LINE_GUESS > UINT32_MAX ?
		    UINT32_MAX : (uint32_t)(sb.st_size / LINE_GUESS));
	rv = cachefile_parse(fd, time(NULL), vexp, iexp, load_put, c, &st);
	if (rv == -1)
		log_warn("cache file: read error after %zu lines", st.lines);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	if (st.legacy > 0)
		snprintf(legacy, sizeof(legacy), " (%zu in BackList format)",
		    st.legacy);
	log_info("cache file: %zu entries loaded%s, %zu expired dropped, "
	    "%zu malformed lines skipped (%lld ms)", st.loaded, legacy,
	    st.expired, st.malformed, (long long)((t1.tv_sec - t0.tv_sec) *
	    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

static void
load_put(const char *address, enum verdict v, time_t expires, void *arg)
{
	cache_put(arg, address, v, expires);
}

/*
 * Lines are read in chunks; a line longer than CACHEFILE_LINE_MAX is
 * skipped to its end and counted as malformed, so no input makes this
 * allocate or loop without bound.
 */
int
cachefile_parse(int fd, time_t now, uint32_t valid_expire,
    uint32_t invalid_expire,
    void (*put)(const char *, enum verdict, time_t, void *), void *arg,
    struct cachefile_stats *st)
{
	char	*buf, *p, *nl;
	size_t	 len = 0, start;
	ssize_t	 n;
	int	 skipping = 0, eof = 0, rv = 0;

	memset(st, 0, sizeof(*st));
	if ((buf = malloc(READ_CHUNK + CACHEFILE_LINE_MAX)) == NULL)
		fatal(NULL);

	while (!eof) {
		n = read(fd, buf + len, READ_CHUNK + CACHEFILE_LINE_MAX - len);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rv = -1;
			break;
		}
		if (n == 0) {
			eof = 1;
			/* A last line without its newline still counts. */
			if (len > 0 && !skipping)
				buf[len++] = '\n';
		}
		len += n;

		start = 0;
		while (start < len &&
		    (nl = memchr(buf + start, '\n', len - start)) != NULL) {
			p = buf + start;
			*nl = '\0';
			if (skipping)
				skipping = 0;
			else
				parse_cache_line(p, nl - p, now, valid_expire,
				    invalid_expire, put, arg, st);
			start = nl - buf + 1;
		}
		/* Keep the unfinished line, unless it is already too long. */
		len -= start;
		if (len >= CACHEFILE_LINE_MAX) {
			if (!skipping) {
				st->lines++;
				st->malformed++;
			}
			skipping = 1;
			len = 0;
		} else
			memmove(buf, buf + start, len);
	}
	free(buf);
	return (rv);
}

/*
 * "address valid|invalid expiry" (v1) or "0|1 address" (BackList).
 * Fields are separated by blanks; "#" starts a comment line.  A quoted
 * local part may hold blanks ("john doe"@example.net valid 1763678400):
 * the address is what is left once the other fields are taken from
 * the line's ends.
 */
static int
parse_cache_line(char *line, size_t len, time_t now, uint32_t valid_expire,
    uint32_t invalid_expire,
    void (*put)(const char *, enum verdict, time_t, void *), void *arg,
    struct cachefile_stats *st)
{
	char		 key[ADDR_LEN], *p, *end, *send, *aend;
	const char	*state, *exp;
	enum verdict	 v;
	time_t		 expires, limit;

	st->lines++;
	if (len >= CACHEFILE_LINE_MAX)
		goto bad;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	/* A NUL inside the line: binary garbage. */
	if (strlen(line) != len)
		goto bad;

	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#')
		return (0);
	end = line + len;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';

	/* v1: the last two fields are the state and the expiry. */
	if ((exp = last_field(p, end, &send)) != NULL &&
	    (state = last_field(p, send, &aend)) != NULL &&
	    (v = parse_state(state, send - state)) != VERDICT_UNKNOWN) {
		*send = '\0';
		*aend = '\0';
		if (parse_expiry(exp, &expires) == -1 ||
		    parse_cache_address(p, key, sizeof(key)) == -1)
			goto bad;
		if (expires <= now) {
			st->expired++;
			return (0);
		}
		/* Lifetimes may have been shortened since it was written. */
		limit = now + (v == VERDICT_VALID ? valid_expire :
		    invalid_expire);
		if (expires > limit)
			expires = limit;
		if (expires <= now) {
			st->expired++;
			return (0);
		}
		put(key, v, expires, arg);
		st->loaded++;
		return (0);
	}

	/* BackList: "0 address" valid, "1 address" invalid. */
	if ((p[0] != '0' && p[0] != '1') || (p[1] != ' ' && p[1] != '\t'))
		goto bad;
	v = p[0] == '0' ? VERDICT_VALID : VERDICT_INVALID;
	if (parse_cache_address(p + 2, key, sizeof(key)) == -1)
		goto bad;
	expires = now + (v == VERDICT_VALID ? valid_expire : invalid_expire);
	if (expires <= now) {
		st->expired++;
		return (0);
	}
	put(key, v, expires, arg);
	st->loaded++;
	st->legacy++;
	return (0);

 bad:
	st->malformed++;
	return (-1);
}

/*
 * The last blank-separated field of [p, end), which has no blank at its
 * end; *rest gets the end of what comes before it, blanks dropped.
 * NULL when nothing comes before it.
 */
static const char *
last_field(const char *p, const char *end, char **rest)
{
	const char	*f, *r;

	for (f = end; f > p && f[-1] != ' ' && f[-1] != '\t'; f--)
		;
	for (r = f; r > p && (r[-1] == ' ' || r[-1] == '\t'); r--)
		;
	if (f == end || r == p)
		return (NULL);
	*rest = (char *)r;
	return (f);
}

static enum verdict
parse_state(const char *s, size_t len)
{
	if (len == 5 && strncmp(s, "valid", 5) == 0)
		return (VERDICT_VALID);
	if (len == 7 && strncmp(s, "invalid", 7) == 0)
		return (VERDICT_INVALID);
	return (VERDICT_UNKNOWN);
}

/*
 * What the engine would have cached: an address that addr_normalise()
 * leaves as it is but for the domain's case (no brackets, no route, at
 * most 254 octets, a quoted local part whole); key gets it with the
 * domain in lower case.
 */
static int
parse_cache_address(const char *a, char *key, size_t keysz)
{
	size_t	domoff;

	if (addr_normalise(a, key, keysz, &domoff, NULL) != ADDR_OK ||
	    strlen(a) != strlen(key) || strncmp(a, key, domoff) != 0)
		return (-1);
	return (0);
}

/* Decimal UNIX time, digits only. */
static int
parse_expiry(const char *s, time_t *t)
{
	long long	 v;
	const char	*errstr;

	if (*s < '0' || *s > '9')
		return (-1);
	v = strtonum(s, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	*t = (time_t)v;
	return (0);
}

/*
 * By hand rather than snprintf: this runs a million times per save (on
 * entries cache_walk() copied out, no lock held).
 */
size_t
cachefile_format(char *buf, size_t size, const char *address, enum verdict v,
    time_t expires)
{
	const char	*state = v == VERDICT_INVALID ? " invalid " : " valid ";
	char		 digits[24];
	size_t		 alen, slen, ndigits = 0, n;
	uint64_t	 e = expires > 0 ? (uint64_t)expires : 0;

	do {
		digits[ndigits++] = '0' + e % 10;
		e /= 10;
	} while (e != 0);
	alen = strlen(address);
	slen = strlen(state);
	if (alen + slen + ndigits + 1 >= size)
		return (0);
	memcpy(buf, address, alen);
	memcpy(buf + alen, state, slen);
	n = alen + slen;
	while (ndigits > 0)
		buf[n++] = digits[--ndigits];
	buf[n++] = '\n';
	buf[n] = '\0';
	return (n);
}

/*
 * The parent opened the file to save into: write c's entries into it, a
 * slice a turn of the event loop, then tell done how it went.
 */
void
cachefile_save(struct cache *c, int fd,
    void (*done)(const struct cache_save_done *))
{
	if (save.fd != -1)
		fatalx("%s: a save is already running", __func__);
	save.cache = c;
	save.done = done;
	save_start(fd);
}

static void
save_start(int fd)
{
	size_t	n;

	save.fd = fd;
	save.cursor = 0;
	save.entries = 0;
	save.error = 0;
	save.now = time(NULL);
	save.size = SAVE_SLICE * 64 + CACHEFILE_LINE_MAX;
	if (save.buf == NULL && (save.buf = malloc(save.size)) == NULL)
		fatal(NULL);
	n = strlcpy(save.buf, CACHEFILE_HEADER "\n", save.size);
	save.len = n;
	evtimer_set(&save.ev, save_slice, NULL);
	save_slice(-1, 0, NULL);
}

/* One slice: walk, write, and let the event loop run before the next. */
static void
save_slice(int unused, short event, void *arg)
{
	struct timeval	 tv = { 0, 0 };

	save.cursor = cache_walk(save.cache, save.cursor, SAVE_SLICE,
	    save_entry, NULL);
	if (save.error == 0 && save_flush() == -1)
		save.error = errno;
	if (save.error != 0 || save.cursor == 0) {
		save_finish(save.error);
		return;
	}
	evtimer_add(&save.ev, &tv);
}

/* Format only: the slice is written once cache_walk is done with it. */
static int
save_entry(const struct cache_info *ci, void *arg)
{
	size_t	n;

	if (ci->expires <= save.now)
		return (0);
	if (save.size - save.len < CACHEFILE_LINE_MAX) {
		/* A bucket longer than a slice: grow rather than write. */
		char	*nbuf;

		if ((nbuf = realloc(save.buf, save.size * 2)) == NULL) {
			save.error = ENOMEM;
			return (-1);
		}
		save.buf = nbuf;
		save.size *= 2;
	}
	n = cachefile_format(save.buf + save.len, save.size - save.len,
	    ci->address, ci->state, ci->expires);
	if (n == 0)
		return (0);
	save.len += n;
	save.entries++;
	return (0);
}

/* Write the buffer out; every short write is continued, every error kept. */
static int
save_flush(void)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < save.len) {
		n = write(save.fd, save.buf + off, save.len - off);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = ENOSPC;
			return (-1);
		}
		off += n;
	}
	save.len = 0;
	return (0);
}

static void
save_finish(int error)
{
	struct cache_save_done	 done;

	if (close(save.fd) == -1 && error == 0)
		error = errno;
	save.fd = -1;
	if (error != 0)
		log_warnx("cache save: %s", strerror(error));
	memset(&done, 0, sizeof(done));
	done.error = error;
	done.entries = save.entries;
	save.done(&done);
}
