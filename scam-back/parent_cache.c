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
 * The parent's side of the cache file: it opens the files, the engine
 * reads and writes their contents through the descriptors it is given.
 *
 * A save: the parent creates a temporary file in the cache file's
 * directory (so that rename(2) replaces the old file atomically), passes
 * a descriptor to the engine, and once the engine says it has written
 * everything, fsyncs the file, renames it over the old one and fsyncs
 * the directory.  On any failure the temporary file is removed and the
 * old file stays as it was: a full disk or a crash never leaves a
 * truncated cache file behind.  Saves run one at a time; requests that
 * arrive during one are served by the next.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"
#include "cachefile.h"

/*
 * A save on shutdown may take this long; then the children are stopped.
 * With their 5 seconds it stays within rc.d's 30 second stop timeout.
 */
#define SAVE_SHUTDOWN_TIMEOUT	20
#define SAVE_RETRY		10	/* seconds, after running out of fds */
#define TMP_SUFFIX		".tmp."
#define TMP_XS			"XXXXXXXXXX"

struct save_waiter {
	TAILQ_ENTRY(save_waiter) entry;
	uint32_t		 id;		/* control connection */
};
TAILQ_HEAD(save_waiters, save_waiter);

static void	cache_save_start(void);
static void	cache_save_end(int, uint64_t, const char *);
static void	cache_tmp_discard(void);
static void	cache_save_request(uint32_t);
static void	cache_save_timer(int, short, void *);
static void	cache_shutdown_timeout(int, short, void *);
static void	cache_set_timer(void);
static void	cache_remove_stale(void);
static int	cache_fsync_dir(void);
static void	result_text(struct ctl_result *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

static struct imsgev		*engine;
static char			 path[PATH_MAX];	/* "": none */
static char			 dir[PATH_MAX];
static uint32_t			 interval;
static struct event		 interval_ev;
static struct event		 shutdown_ev;
static int			 shutting_down;
static void			(*shutdown_done)(void);	/* the save is over */
static int			 children_stopped;	/* no more saves */

static struct {
	int			 active;
	int			 fd;		/* the parent's, for fsync */
	char			 tmp[PATH_MAX];
	struct timespec		 start;
	struct save_waiters	 waiters;	/* of the running save */
} cur = { .fd = -1, .waiters = TAILQ_HEAD_INITIALIZER(cur.waiters) };

static int			 next_pending;	/* another save is wanted */
static struct save_waiters	 next_waiters =
				    TAILQ_HEAD_INITIALIZER(next_waiters);

/*
 * The path is fixed at start: the parent's unveil(2) allows only its
 * directory.  Open it for the engine to load; a missing file is a first
 * start, not an error.
 */
/*
 * The cache file's directory must exist before the sandbox fixes what
 * the parent may write.  The default one, /var/db/scam-back, is made as
 * make install makes it (root's, 0700); another is the administrator's
 * to make, and the start says so.  Returns 0, or -1 with the reason
 * logged.
 */
int
parent_cache_dir(struct scamback_conf *conf)
{
	struct stat	 sb;
	char		 d[PATH_MAX], *p;

	if (conf->cache_file[0] == '\0')
		return (0);
	strlcpy(d, conf->cache_file, sizeof(d));
	strlcpy(d, dirname(d), sizeof(d));
	if (stat(d, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return (0);
		log_warnx("cache file %s: %s is not a directory",
		    conf->cache_file, d);
		return (-1);
	}
	if (errno != ENOENT) {
		log_warn("cache file %s: %s", conf->cache_file, d);
		return (-1);
	}
	if (strcmp(conf->cache_file, SCAMBACK_CACHEFILE) != 0) {
		log_warnx("cache file %s: the directory %s does not exist; "
		    "create it (root's, mode 0700) or set cache file none",
		    conf->cache_file, d);
		return (-1);
	}
	/* /var/db itself may be missing (Linux): 0755, as on OpenBSD. */
	for (p = d + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(d, 0755) == -1 && errno != EEXIST) {
			log_warn("cache file %s: cannot create %s",
			    conf->cache_file, d);
			return (-1);
		}
		*p = '/';
	}
	if (mkdir(d, 0700) == -1) {
		log_warn("cache file %s: cannot create %s", conf->cache_file,
		    d);
		return (-1);
	}
	log_info("created %s (mode 0700) for the cache file", d);
	return (0);
}

void
parent_cache_init(struct scamback_conf *conf, struct imsgev *iev)
{
	struct stat	 sb, root;
	char		 buf[PATH_MAX];
	int		 fd = -1;

	engine = iev;
	evtimer_set(&interval_ev, cache_save_timer, NULL);
	evtimer_set(&shutdown_ev, cache_shutdown_timeout, NULL);

	if (conf->cache_file[0] != '\0') {
		strlcpy(path, conf->cache_file, sizeof(path));
		strlcpy(buf, path, sizeof(buf));
		strlcpy(dir, dirname(buf), sizeof(dir));
		/*
		 * The parent may write anything in this directory: "/" by
		 * another name ("/var/..") passed config_cache_path().
		 */
		if (stat("/", &root) == 0 && stat(dir, &sb) == 0 &&
		    sb.st_dev == root.st_dev && sb.st_ino == root.st_ino)
			fatalx("cache file %s: its directory is /; give it "
			    "a directory of its own", path);
		cache_remove_stale();

		/* O_NONBLOCK: a FIFO in its place must not hang the start. */
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) ==
		    -1) {
			if (errno == ENOENT)
				log_info("cache file %s does not exist yet; "
				    "starting with an empty cache", path);
			else
				log_warn("cache file %s", path);
		} else if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			log_warnx("cache file %s is not a regular file; "
			    "ignored", path);
			close(fd);
			fd = -1;
		} else if (fcntl(fd, F_SETFL, 0) == -1) {
			log_warn("cache file %s", path);
			close(fd);
			fd = -1;
		}
	}
	if (imsgev_compose(engine, IMSG_CACHE_LOAD, 0, 0, fd, NULL, 0) == -1)
		fatal("imsg_compose");

	interval = conf->save_interval;
	cache_set_timer();
}

void
parent_cache_reconf(struct scamback_conf *conf)
{
	if (strcmp(conf->cache_file, path) != 0)
		log_warnx("cache file %s takes effect only after a restart; "
		    "still using %s", conf->cache_file[0] != '\0' ?
		    conf->cache_file : "none", path[0] != '\0' ? path : "none");
	if (conf->save_interval != interval) {
		interval = conf->save_interval;
		cache_set_timer();
	}
}

static void
cache_set_timer(void)
{
	struct timeval	 tv;

	evtimer_del(&interval_ev);
	if (path[0] == '\0' || interval == 0)
		return;
	tv.tv_sec = interval;
	tv.tv_usec = 0;
	evtimer_add(&interval_ev, &tv);
}

static void
cache_save_timer(int fd, short event, void *arg)
{
	/* A save already running or queued serves this turn too. */
	if (!cur.active && !next_pending)
		cache_save_request(0);
	cache_set_timer();
}

/*
 * SIGTERM: save, then call done (the parent stops the children).  Verdicts
 * keep flowing during the save; a save that does not end in time is given
 * up.
 */
void
parent_cache_shutdown(void (*done)(void))
{
	struct timeval	 tv = { SAVE_SHUTDOWN_TIMEOUT, 0 };

	shutdown_done = done;
	if (path[0] == '\0') {
		children_stopped = 1;
		shutdown_done();
		return;
	}
	shutting_down = 1;
	evtimer_del(&interval_ev);
	evtimer_add(&shutdown_ev, &tv);
	/* What the engine learnt during a running save goes in the next. */
	cache_save_request(0);
}

static void
cache_shutdown_timeout(int fd, short event, void *arg)
{
	log_warnx("cache save did not finish in %d seconds; the previous "
	    "cache file is kept", SAVE_SHUTDOWN_TIMEOUT);
	parent_cache_abort();
	children_stopped = 1;
	shutdown_done();
}

/*
 * The engine is gone (stopped, or dead): a save it was writing will never
 * end, and its temporary file must not stay behind.
 */
void
parent_cache_abort(void)
{
	if (!cur.active)
		return;
	cache_tmp_discard();
	cur.active = 0;
}

/* A save that is not put in place leaves no temporary file behind. */
static void
cache_tmp_discard(void)
{
	if (cur.fd != -1) {
		close(cur.fd);
		cur.fd = -1;
	}
	if (cur.tmp[0] != '\0') {
		(void)unlink(cur.tmp);
		cur.tmp[0] = '\0';
	}
}

/* id: the control connection that asked, 0 for the parent's own saves. */
static void
cache_save_request(uint32_t id)
{
	struct ctl_result	 res;
	struct save_waiter	*w;

	if (path[0] == '\0' || children_stopped) {
		memset(&res, 0, sizeof(res));
		strlcpy(res.text, path[0] == '\0' ? "no cache file is "
		    "configured (cache file none)" : "scam-back is stopping; "
		    "the cache was saved on the way", sizeof(res.text));
		imsgev_compose(engine, IMSG_CACHE_SAVE_RESULT, id, 0, -1,
		    &res, sizeof(res));
		return;
	}
	if (id != 0) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			fatal(NULL);
		w->id = id;
		TAILQ_INSERT_TAIL(&next_waiters, w, entry);
	}
	next_pending = 1;
	if (!cur.active)
		cache_save_start();
}

static void
cache_save_start(void)
{
	struct save_waiter	*w;
	char			 msg[PATH_MAX + 64];
	int			 efd;

	next_pending = 0;
	while ((w = TAILQ_FIRST(&next_waiters)) != NULL) {
		TAILQ_REMOVE(&next_waiters, w, entry);
		TAILQ_INSERT_TAIL(&cur.waiters, w, entry);
	}
	cur.active = 1;
	clock_gettime(CLOCK_MONOTONIC, &cur.start);

	if (snprintf(cur.tmp, sizeof(cur.tmp), "%s" TMP_SUFFIX TMP_XS,
	    path) >= (int)sizeof(cur.tmp)) {
		cur.tmp[0] = '\0';
		cache_save_end(ENAMETOOLONG, 0, "temporary file name");
		return;
	}
	if ((cur.fd = mkstemp(cur.tmp)) == -1) {
		snprintf(msg, sizeof(msg), "cannot create a temporary file in "
		    "%s", dir);
		cur.tmp[0] = '\0';
		cache_save_end(errno, 0, msg);
		return;
	}
	/* imsg closes the descriptor it sends: the engine gets a copy. */
	if (fcntl(cur.fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (efd = fcntl(cur.fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		cache_save_end(errno, 0, cur.tmp);
		return;
	}
	if (imsgev_compose(engine, IMSG_CACHE_SAVE_FD, 0, 0, efd, NULL, 0) ==
	    -1)
		fatal("imsg_compose");
}

/*
 * The engine wrote the file (error 0) or gave up.  Make it durable and
 * put it in place, or remove it; tell whoever asked.
 */
static void
cache_save_end(int error, uint64_t entries, const char *what)
{
	struct ctl_result	 res;
	struct save_waiter	*w;
	struct timespec		 now;
	struct timeval		 tv;
	long long		 ms;

	if (error == 0) {
		what = cur.tmp;
		if (fsync(cur.fd) == -1 || close(cur.fd) == -1)
			error = errno;
		else {
			cur.fd = -1;
			if (rename(cur.tmp, path) == -1) {
				error = errno;
				what = "rename";
			} else {
				cur.tmp[0] = '\0';
				if (cache_fsync_dir() == -1) {
					/* In place, if not yet durable. */
					log_warn("cache file directory %s: "
					    "fsync", dir);
				}
			}
		}
	}
	cache_tmp_discard();

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - cur.start.tv_sec) * 1000LL +
	    (now.tv_nsec - cur.start.tv_nsec) / 1000000;
	memset(&res, 0, sizeof(res));
	if (error == 0) {
		res.ok = 1;
		res.count = entries;
		result_text(&res, "cache saved: %llu "
		    "entr%s in %s (%lld ms)", (unsigned long long)entries,
		    entries == 1 ? "y" : "ies", path, ms);
		if (shutting_down || !TAILQ_EMPTY(&cur.waiters))
			log_info("%s", res.text);
		else
			log_debug("%s", res.text);
	} else {
		result_text(&res, "cache save to %s failed: "
		    "%s%s%s; the previous file is kept", path,
		    what != NULL ? what : "", what != NULL ? ": " : "",
		    strerror(error));
		log_warnx("%s", res.text);
	}

	/* One answer for the engine's figures, one per control client. */
	imsgev_compose(engine, IMSG_CACHE_SAVE_RESULT, 0, 0, -1, &res,
	    sizeof(res));
	while ((w = TAILQ_FIRST(&cur.waiters)) != NULL) {
		TAILQ_REMOVE(&cur.waiters, w, entry);
		imsgev_compose(engine, IMSG_CACHE_SAVE_RESULT, w->id, 0, -1,
		    &res, sizeof(res));
		free(w);
	}
	cur.active = 0;

	if (next_pending)
		cache_save_start();
	else if (error == EMFILE && !shutting_down) {
		/* Descriptors come back as connections end: soon again. */
		tv.tv_sec = SAVE_RETRY;
		tv.tv_usec = 0;
		evtimer_del(&interval_ev);
		evtimer_add(&interval_ev, &tv);
		log_info("cache save: trying again in %d s", SAVE_RETRY);
	} else if (shutting_down) {
		evtimer_del(&shutdown_ev);
		children_stopped = 1;
		shutdown_done();
	}
}

/* Long paths make long messages: cut them, scambackctl shows what fits. */
static void
result_text(struct ctl_result *res, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
}

static int
cache_fsync_dir(void)
{
	int	fd, rv;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rv = fsync(fd);
	close(fd);
	return (rv);
}

/*
 * Temporary files of a save that a crash interrupted: they are never
 * read, so remove them rather than let them fill the disk.
 */
static void
cache_remove_stale(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 base[PATH_MAX], prefix[NAME_MAX + 1], buf[PATH_MAX];
	size_t		 plen;

	strlcpy(buf, path, sizeof(buf));
	strlcpy(base, basename(buf), sizeof(base));
	if (snprintf(prefix, sizeof(prefix), "%s" TMP_SUFFIX, base) >=
	    (int)sizeof(prefix))
		return;
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    strlen(de->d_name) != plen + strlen(TMP_XS))
			continue;
		if (snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(buf))
			continue;
		if (unlink(buf) == 0)
			log_info("removed %s, left by an interrupted save",
			    buf);
	}
	closedir(d);
}

/* The engine asks for a file to save into: id is scambackctl's, or 0. */
void
parent_cache_save(uint32_t id)
{
	cache_save_request(id);
}

/* The engine has written the file, or failed to. */
void
parent_cache_saved(const struct cache_save_done *done)
{
	/* A shutdown save given up on may still end. */
	if (!cur.active && shutting_down)
		return;
	if (!cur.active)
		fatalx("%s: IMSG_CACHE_SAVE_DONE without a save", __func__);
	/* EMFILE: the engine had no descriptor left to take the file. */
	cache_save_end(done->error, done->entries, done->error == EMFILE ?
	    "handing the file to the engine" : done->error != 0 ? "writing" :
	    NULL);
}
