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
 * The milter engine: libmilter's threads ask for verdicts; this process
 * owns the recipient cache and asks the prober on a miss.  Its event
 * thread talks imsg with the parent and the prober; libmilter's threads
 * never touch an imsgbuf.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "cache.h"

static void	engine_startup_imsg(struct imsg *, void *);
static void	engine_dispatch_parent(int, short, void *);
static void	engine_dispatch_prober(int, short, void *);
static void	*engine_event_thread(void *);
static void	 engine_stop_timeout(int, short, void *);

struct scamback_conf	*engine_conf;
pthread_rwlock_t	 engine_conf_lock = PTHREAD_RWLOCK_INITIALIZER;
struct cache		*engine_cache;

/* Counters for show stats, updated with atomic adds from any thread. */
static struct ctl_stats		 stats;

static struct scamback_conf	*pending_conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_prober;
static int			 prober_fd = -1;
static int			 control_fd = -1;
static int			 cache_fd = -1;
static int			 stopping;
static struct event		 stop_ev;

__dead void
engine_main(int debug, int verbose)
{
	pthread_t	 tid;
	sigset_t	 set;

	log_init(debug, LOG_MAIL);
	log_setverbose(verbose);
	log_procinit(proc_title(PROC_ENGINE));

	if (imsgbuf_init(&iev_parent.ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev_parent.ibuf);
	child_startup(&iev_parent.ibuf, engine_startup_imsg, NULL);
	if (engine_conf == NULL || prober_fd == -1)
		fatalx("incomplete start from the parent");

	/* The milter socket is opened while root, then root is gone. */
	milter_init(&engine_conf->listen);
	drop_privileges(PROC_ENGINE, engine_conf->user);

	if (pledge("stdio unix inet recvfd", NULL) == -1)
		fatal("pledge");

	/*
	 * Stopping is the parent's business (IMSG_STOP): no thread created
	 * from here on takes TERM, HUP or INT.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("pthread_sigmask");
	signal(SIGPIPE, SIG_IGN);

	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads");
	event_init();
	imsgev_set(&iev_parent, engine_dispatch_parent, NULL);
	imsgev_init(&iev_prober, prober_fd, engine_dispatch_prober, NULL);
	if (cache_fd != -1) {
		close(cache_fd);
		cache_fd = -1;
	}
	if (control_fd != -1) {
		close(control_fd);
		control_fd = -1;
	}

	if (pthread_create(&tid, NULL, engine_event_thread, NULL) != 0)
		fatalx("cannot start the event thread");

	if (milter_run() != 0)
		fatalx("libmilter failed");
	log_debug("libmilter stopped");
	exit(0);
}

static void *
engine_event_thread(void *arg)
{
	event_dispatch();
	fatalx("event loop ended");
}

/*
 * libmilter's listener notices smfi_stop() only when its poll times out,
 * seconds later; sessions still open are the MTA's to retry.  Give them
 * a moment, then go.
 */
void
engine_stop(void)
{
	struct timeval	tv = { 1, 0 };

	if (stopping)
		return;
	stopping = 1;
	log_debug("stopping on the parent's request");
	milter_stop();
	evtimer_set(&stop_ev, engine_stop_timeout, NULL);
	evtimer_add(&stop_ev, &tv);
}

static void
engine_stop_timeout(int fd, short event, void *arg)
{
	log_debug("exiting");
	exit(0);
}

/* Messages before IMSG_START: configuration and descriptors. */
static void
engine_startup_imsg(struct imsg *imsg, void *arg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_IPC:
		if (prober_fd != -1 || (prober_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		break;
	case IMSG_CONTROL_FD:
		if (control_fd != -1 || (control_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_CONTROL_FD");
		break;
	case IMSG_CACHE_LOAD:
		if (cache_fd != -1)
			fatalx("bad IMSG_CACHE_LOAD");
		cache_fd = imsg_get_fd(imsg);
		break;
	default:
		if (config_recv(&pending_conf, imsg) == 1) {
			if (engine_conf != NULL)
				fatalx("second configuration at start");
			engine_conf = pending_conf;
			pending_conf = NULL;
		}
		break;
	}
}

static void
engine_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct scamback_conf	*old;
	struct imsg		 imsg;
	ssize_t			 n;

	if (!imsgev_read(iev, event)) {
		/* The parent is gone: so are we, at once. */
		_exit(0);
	}

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		case IMSG_STOP:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_STOP");
			engine_stop();
			break;
		case IMSG_LOG_VERBOSE:
			{
				int	v;

				if (imsg_get_data(&imsg, &v, sizeof(v)) == -1)
					fatalx("bad IMSG_LOG_VERBOSE");
				log_setverbose(v);
			}
			break;
		default:
			if (config_recv(&pending_conf, &imsg) == 1) {
				pthread_rwlock_wrlock(&engine_conf_lock);
				old = engine_conf;
				engine_conf = pending_conf;
				pthread_rwlock_unlock(&engine_conf_lock);
				pending_conf = NULL;
				config_free(old);
				log_debug("new configuration applied");
			}
			break;
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

static void
engine_dispatch_prober(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (!imsgev_read(iev, event)) {
		if (stopping) {
			event_del(&iev->ev);
			return;
		}
		fatalx("lost the prober");
	}

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		default:
			fatalx("%s: unexpected imsg %u", __func__,
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

struct imsgev *
engine_parent(void)
{
	return (&iev_parent);
}

struct imsgev *
engine_prober(void)
{
	return (&iev_prober);
}

void
engine_stats(struct ctl_stats *st)
{
	uint64_t	*dst, *src;
	size_t		 i, n;

	/* Every field but the two times is a uint64_t counter. */
	memset(st, 0, sizeof(*st));
	dst = &st->cache_entries;
	src = &stats.cache_entries;
	n = (uint64_t *)&st->cache_saved_at - dst;
	for (i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	st->started = stats.started;
	st->cache_saved_at = __atomic_load_n(&stats.cache_saved_at,
	    __ATOMIC_RELAXED);
	if (engine_cache != NULL)
		st->cache_entries = cache_count(engine_cache);
	pthread_rwlock_rdlock(&engine_conf_lock);
	if (engine_conf != NULL)
		st->cache_size = engine_conf->cache_size;
	pthread_rwlock_unlock(&engine_conf_lock);
}

/* cachefile.c reports each completed save for show stats. */
void
engine_cache_saved(int64_t when)
{
	__atomic_add_fetch(&stats.cache_saves, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&stats.cache_saved_at, when, __ATOMIC_RELAXED);
}

void
engine_check(const char *address, uint32_t peerid,
    void (*done)(uint32_t, struct ctl_check *))
{
	struct ctl_check	cc;

	memset(&cc, 0, sizeof(cc));
	strlcpy(cc.address, address, sizeof(cc.address));
	cc.res.verdict = VERDICT_UNKNOWN;
	strlcpy(cc.res.text, "probes are not wired yet", sizeof(cc.res.text));
	done(peerid, &cc);
}
