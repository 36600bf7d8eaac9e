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
 * never touch an imsgbuf.  Cache hits never leave the calling thread; a
 * miss waits, bounded, in pending.c for the probe the event thread sends.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "cache.h"
#include "cachefile.h"
#include "policy.h"
#include "verdict.h"
#include "table.h"
#include "rules.h"
#include "pending.h"
#include "dns.h"
#include "printable.h"
#include "access.h"
#include "save.h"

#define EXPIRE_INTERVAL		60	/* seconds between cache sweeps */
#define SWEEP_INTERVAL		5	/* seconds between pending sweeps */
#define PROBE_LOST_AFTER	60	/* a probe unanswered this long is lost */

/* A scambackctl check in flight. */
struct check {
	void			(*done)(uint32_t, struct ctl_check *);
	uint32_t		 peerid;
	struct timespec		 t0;
	struct ctl_check	 cc;
};

static void	engine_stop(void);
static void	engine_prober_switch(int);
static void	engine_old_prober(int, short, void *);
static void	engine_rcpt(const struct rcpt_query *, const char *,
		    struct policy_reply *);
static void	engine_check(const char *, uint32_t,
		    void (*)(uint32_t, struct ctl_check *));
static void	engine_stats(struct ctl_stats *);
static void	engine_cache_saved(int64_t);
static void	engine_cache_written(const struct cache_save_done *);
static void	engine_dispatch_imsg(int, short, void *);
static void	*engine_event_thread(void *);
static void	engine_stop_timeout(int, short, void *);
static void	engine_reconf(struct scamback_conf *);
static int	engine_protected(const char *);
static int	engine_keep_entry(const char *, void *);
static void	engine_wake(void);
static void	engine_send(int, short, void *);
static void	engine_probe_done(struct probe_res *);
static void	engine_flushed(struct ctl_filter *);
static int	engine_shared(void);
static void	engine_sweep(int, short, void *);
static void	engine_expire(int, short, void *);

struct scamback_conf	*engine_conf;
pthread_rwlock_t	 engine_conf_lock = PTHREAD_RWLOCK_INITIALIZER;
struct cache		*engine_cache;

/* Counters for show stats, updated with atomic adds from any thread. */
static struct ctl_stats		 stats;
#define STAT_INC(f)	__atomic_add_fetch(&stats.f, 1, __ATOMIC_RELAXED)
#define STAT_GET(f)	__atomic_load_n(&stats.f, __ATOMIC_RELAXED)

static struct scamback_conf	*new_conf;
/* engine_conf's domains indexed; swapped with it under engine_conf_lock. */
static struct domain_index	*engine_domains;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_prober;
static int			 stopping;
static struct event		 stop_ev;
static struct event		 wake_ev;
static struct event		 sweep_ev;
static struct event		 expire_ev;
static int			 old_prober_fd = -1;	/* replaced */
static struct event		 old_prober_ev;

__dead void
engine_main(int debug, int verbose)
{
	struct child_start	 st;
	struct control_engine	 ce;
	pthread_t		 tid;
	sigset_t		 set;
	struct timeval		 tv;
	struct milter_ready	 ready;
	const char		*promises = "stdio unix recvfd";

	log_init(debug, LOG_MAIL);
	/* Chrooted, it cannot reach the log daemon: the parent does. */
	if (!debug)
		log_relay(LOG_SOCK_FILENO);
	log_setverbose(verbose);
	log_procinit(proc_title(PROC_ENGINE));
	child_stderr(debug);
	/* At once, so that ps and pgrep know the child before it is ready. */
	setproctitle("%s", proc_title(PROC_ENGINE));

	if (imsgbuf_init(&iev_parent.ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev_parent.ibuf);
	child_startup(&iev_parent.ibuf, PROC_ENGINE, &st);
	engine_conf = st.conf;

	/* The milter socket is opened while root, then root is gone. */
	milter_init(&engine_conf->listen, engine_rcpt, &ready);
	drop_privileges(PROC_ENGINE, engine_conf->user);

	/* No file at all: every descriptor comes from the parent. */
	if (unveil("/", "") == -1)
		fatal("unveil /");
	if (unveil(NULL, NULL) == -1)
		fatal("unveil");
	/*
	 * accept(2) on a TCP milter socket needs "inet" on OpenBSD.  On
	 * Linux "unix" allows accept(2) on any socket, and "inet" would let
	 * the engine send UDP anywhere: it goes without.
	 */
#ifdef __OpenBSD__
	if (engine_conf->listen.family != LISTEN_UNIX)
		promises = "stdio unix inet recvfd";
#endif
	if (pledge(promises, NULL) == -1)
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
	imsgev_set(&iev_parent, engine_dispatch_imsg, &iev_parent);
	imsgev_init(&iev_prober, st.ipc_fd, engine_dispatch_imsg,
	    &iev_prober);

	/* libmilter's threads make the event thread run engine_send(). */
	event_set(&wake_ev, -1, 0, engine_send, NULL);
	evtimer_set(&sweep_ev, engine_sweep, NULL);
	tv.tv_sec = SWEEP_INTERVAL;
	tv.tv_usec = 0;
	evtimer_add(&sweep_ev, &tv);
	evtimer_set(&expire_ev, engine_expire, NULL);
	tv.tv_sec = EXPIRE_INTERVAL;
	evtimer_add(&expire_ev, &tv);

	stats.started = time(NULL);
	engine_cache = cache_new(engine_conf->cache_size);
	if ((engine_domains = domain_index_new(engine_conf)) == NULL)
		fatal("domain index");
	pending_init(engine_cache, engine_wake);
	dns_init(engine_wake);
	dns_configure(engine_conf->dns_timeout);
	access_init(&engine_conf, &engine_conf_lock, engine_protected);
	save_init(&iev_parent);
	cachefile_load(engine_cache, st.cache_fd, engine_conf->valid_expire,
	    engine_conf->invalid_expire);
	if (st.control_fd != -1) {
		ce.cache = engine_cache;
		ce.parent = &iev_parent;
		ce.prober = &iev_prober;
		ce.stats = engine_stats;
		ce.shared = engine_shared;
		ce.check = engine_check;
		control_listen(st.control_fd, &ce);
	}

	/* Up: the parent may detach (before the event thread shares it). */
	child_ready(&iev_parent.ibuf, IMSG_MILTER_READY, &ready,
	    sizeof(ready));
	if (pthread_create(&tid, NULL, engine_event_thread, NULL) != 0)
		fatalx("cannot start the event thread");

	/* Asked to stop, libmilter may end either way: that is no failure. */
	if (milter_run() != 0 && !__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
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
 * Sessions under way get a moment, then the engine exits; those still
 * open are the MTA's to retry.  libmilter is not told (smfi_stop()): its
 * listener would then remove a unix socket by its path, a stat(2) and an
 * unlink(2) that the pledged engine may not make and that, in the
 * chroot, would miss the socket anyway.  The parent removes it.
 */
static void
engine_stop(void)
{
	struct timeval	tv = { 1, 0 };

	if (stopping)
		return;
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	log_debug("stopping on the parent's request");
	evtimer_set(&stop_ev, engine_stop_timeout, NULL);
	evtimer_add(&stop_ev, &tv);
}

static void
engine_stop_timeout(int fd, short event, void *arg)
{
	log_debug("exiting");
	exit(0);
}

/*
 * Every message from the parent and the prober: each type comes from one
 * of them only.  Anything else, or a malformed payload, is a bug or a
 * compromise: fatal.
 */
static void
engine_dispatch_imsg(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct probe_res	 res;
	struct ctl_result	 result;
	struct ctl_backend	 cb;
	struct cache_save_done	 saved;
	struct dns_res		 dres;
	struct ctl_store	 cs;
	struct ctl_filter	 f;
	ssize_t			 n;
	uint32_t		 hosts;
	int			 from_parent = iev == &iev_parent, v, sfd;

	if (!imsgev_read(iev, event)) {
		/* The parent is gone: so are we, at once. */
		if (from_parent)
			_exit(0);
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
		case IMSG_RECONF_CONF:
		case IMSG_RECONF_LISTEN:
		case IMSG_RECONF_BACKEND:
		case IMSG_RECONF_HOST:
		case IMSG_RECONF_DOMAIN:
		case IMSG_RECONF_SKIP_FROM:
		case IMSG_RECONF_SKIP_DAEMON:
		case IMSG_RECONF_TABLE:
		case IMSG_RECONF_RESOLVER:
		case IMSG_RECONF_ATABLE:
		case IMSG_RECONF_AENTRY:
		case IMSG_RECONF_RULE:
		case IMSG_RECONF_END:
			if (!from_parent)
				fatalx("configuration from the prober");
			if (config_recv(&new_conf, &imsg) == 1) {
				engine_reconf(new_conf);
				new_conf = NULL;
			}
			break;
		case IMSG_STOP:
			if (!from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_STOP");
			engine_stop();
			break;
		case IMSG_SOCKET_IPC:
			if (!from_parent || imsg_get_len(&imsg) != 0 ||
			    (sfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_SOCKET_IPC");
			engine_prober_switch(sfd);
			break;
		case IMSG_LOG_VERBOSE:
			if (!from_parent ||
			    imsg_get_data(&imsg, &v, sizeof(v)) == -1)
				fatalx("bad IMSG_LOG_VERBOSE");
			log_setverbose(v);
			break;
		case IMSG_CACHE_SAVE_FD:
			if (!from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_CACHE_SAVE_FD");
			/*
			 * The parent always sends one: out of descriptors,
			 * the kernel could not hand it over (MSG_CTRUNC).
			 * This save fails; the parent tries again.
			 */
			if ((sfd = imsg_get_fd(&imsg)) == -1) {
				log_warnx("cache save: the file did not arrive "
				    "from the parent: out of descriptors");
				memset(&saved, 0, sizeof(saved));
				saved.error = EMFILE;
				engine_cache_written(&saved);
				break;
			}
			cachefile_save(engine_cache, sfd, engine_cache_written);
			break;
		case IMSG_CACHE_SAVE_RESULT:
		case IMSG_RELOAD_RESULT:
			if (!from_parent || imsg_get_data(&imsg, &result,
			    sizeof(result)) == -1)
				fatalx("bad %s", imsg_get_type(&imsg) ==
				    IMSG_RELOAD_RESULT ? "IMSG_RELOAD_RESULT" :
				    "IMSG_CACHE_SAVE_RESULT");
			result.text[sizeof(result.text) - 1] = '\0';
			/* A periodic save (id 0) has no scambackctl waiting. */
			if (imsg_get_type(&imsg) == IMSG_CACHE_SAVE_RESULT &&
			    imsg_get_id(&imsg) == 0) {
				if (result.ok)
					engine_cache_saved(time(NULL));
			} else
				control_result(imsg_get_id(&imsg), &result);
			break;
		case IMSG_PROBE_RES:
			if (from_parent ||
			    imsg_get_data(&imsg, &res, sizeof(res)) == -1 ||
			    (res.verdict != VERDICT_UNKNOWN &&
			    res.verdict != VERDICT_VALID &&
			    res.verdict != VERDICT_INVALID))
				fatalx("bad IMSG_PROBE_RES");
			res.enhanced[sizeof(res.enhanced) - 1] = '\0';
			res.text[sizeof(res.text) - 1] = '\0';
			engine_probe_done(&res);
			break;
		case IMSG_PROBE_BACKEND:
			if (from_parent ||
			    imsg_get_data(&imsg, &cb, sizeof(cb)) == -1)
				fatalx("bad IMSG_PROBE_BACKEND");
			control_backend(imsg_get_id(&imsg), &cb);
			break;
		case IMSG_PROBE_BACKENDS_END:
			if (from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBE_BACKENDS_END");
			control_backends_end(imsg_get_id(&imsg));
			break;
		case IMSG_DNS_RES:
			if (from_parent ||
			    imsg_get_data(&imsg, &dres, sizeof(dres)) == -1 ||
			    !dns_answer_sane(&dres.answer))
				fatalx("bad IMSG_DNS_RES");
			if (!dns_done(&dres))
				log_debug("answer to forgotten DNS lookup %u",
				    dres.id);
			break;
		case IMSG_PROBE_UNBACKOFF_DONE:
			if (from_parent ||
			    imsg_get_data(&imsg, &hosts, sizeof(hosts)) == -1)
				fatalx("bad IMSG_PROBE_UNBACKOFF_DONE");
			memset(&result, 0, sizeof(result));
			result.ok = 1;
			result.count = hosts;
			snprintf(result.text, sizeof(result.text), "%u host%s "
			    "taken out of backoff", hosts, hosts == 1 ? "" : "s");
			control_result(imsg_get_id(&imsg), &result);
			break;
		case IMSG_PROBE_STORE:
			if (from_parent ||
			    imsg_get_data(&imsg, &cs, sizeof(cs)) == -1)
				fatalx("bad IMSG_PROBE_STORE");
			cs.address[sizeof(cs.address) - 1] = '\0';
			cs.prefix[sizeof(cs.prefix) - 1] = '\0';
			cs.last_error[sizeof(cs.last_error) - 1] = '\0';
			control_store(imsg_get_id(&imsg), &cs);
			break;
		case IMSG_PROBE_FLUSH_RESULT:
			if (from_parent ||
			    imsg_get_data(&imsg, &result, sizeof(result)) == -1)
				fatalx("bad IMSG_PROBE_FLUSH_RESULT");
			result.text[sizeof(result.text) - 1] = '\0';
			control_flushed(imsg_get_id(&imsg), &result);
			break;
		case IMSG_PROBE_FLUSHED:
			if (from_parent ||
			    imsg_get_data(&imsg, &f, sizeof(f)) == -1 ||
			    (f.state != CTL_STATE_ANY &&
			    f.state != CTL_STATE_VALID &&
			    f.state != CTL_STATE_INVALID))
				fatalx("bad IMSG_PROBE_FLUSHED");
			f.match[sizeof(f.match) - 1] = '\0';
			engine_flushed(&f);
			break;
		default:
			fatalx("%s: unexpected imsg %u from the %s", __func__,
			    imsg_get_type(&imsg), from_parent ? "parent" :
			    "prober");
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

/*
 * A new configuration, at any time: MTA sessions go on.  Verdicts cached
 * for domains no longer verified go; lifetimes apply to new entries.
 */
static void
engine_reconf(struct scamback_conf *conf)
{
	struct scamback_conf	*old;
	struct domain_index	*idx, *oldidx;
	size_t			 dropped = 0;

	/* Without an index the domain list is scanned: slower, not wrong. */
	if ((idx = domain_index_new(conf)) == NULL)
		log_warn("%s: domain index", __func__);
	pthread_rwlock_wrlock(&engine_conf_lock);
	old = engine_conf;
	oldidx = engine_domains;
	engine_conf = conf;
	engine_domains = idx;
	pthread_rwlock_unlock(&engine_conf_lock);

	if (old->cache_size != conf->cache_size)
		cache_resize(engine_cache, conf->cache_size);
	if (!config_domains_equal(old, conf))
		dropped = cache_filter(engine_cache, engine_keep_entry, idx);
	dns_configure(conf->dns_timeout);
	/* Other name servers may answer otherwise. */
	if (!config_resolvers_equal(old, conf))
		dns_flush();
	if (strcmp(old->listen.spec, conf->listen.spec) != 0 ||
	    strcmp(old->user, conf->user) != 0)
		log_warnx("listen on and user take effect at the next start");
	domain_index_free(oldidx);
	config_free(old);
	log_info("new configuration applied; %zu cached verdicts dropped",
	    dropped);
}

/* <domains> for the access rules; engine_conf_lock is held. */
static int
engine_protected(const char *domain)
{
	return (policy_domain(engine_conf, engine_domains, domain) != NULL);
}

/* Runs with a cache shard locked: reads only the configuration. */
static int
engine_keep_entry(const char *address, void *arg)
{
	struct domain_index	*idx = arg;

	return (policy_verifies(engine_conf, idx, address));
}

/*
 * The verdict for one recipient, from a libmilter thread.  Cache hits
 * never leave this thread; a miss waits, bounded, for a probe.
 */
static void
engine_rcpt(const struct rcpt_query *q, const char *from,
    struct policy_reply *r)
{
	struct rcpt_decision	 dec;
	enum verdict		 v;
	enum pending_source	 source = SOURCE_CACHE;
	uint32_t		 wait_ms;
	char			 cbuf[INET6_ADDRSTRLEN], rbuf[80];
	char			 why[PENDING_WHY_LEN] = "";

	pthread_rwlock_rdlock(&engine_conf_lock);
	policy_decide(engine_conf, engine_domains, q, &dec);
	wait_ms = policy_wait_ms(engine_conf);
	/* What the access rules left of the RCPT's time. */
	if (q->wait_ms > 0 && q->wait_ms < wait_ms)
		wait_ms = q->wait_ms;
	pthread_rwlock_unlock(&engine_conf_lock);

	if (dec.skip != SKIP_NONE) {
		switch (dec.skip) {
		case SKIP_FROM:
			STAT_INC(skip_from);
			break;
		case SKIP_LOCAL:
			STAT_INC(skip_local);
			break;
		case SKIP_DAEMON:
			STAT_INC(skip_daemon);
			break;
		case SKIP_AUTH:
			STAT_INC(skip_auth);
			break;
		case SKIP_NODOMAIN:
			STAT_INC(skip_nodomain);
			break;
		case SKIP_UNMATCHED:
			STAT_INC(skip_unmatched);
			break;
		default:
			STAT_INC(skip_bad_address);
			break;
		}
		/* An address that cannot be verified is worth a line. */
		if (dec.skip == SKIP_BAD)
			log_info("skip to=<%s> client=%s reason=%s",
			    verdict_rcpt(q->rcpt, rbuf, sizeof(rbuf)),
			    client_string(q->client, cbuf, sizeof(cbuf)),
			    policy_skip_name(dec.skip));
		else if (log_getverbose() > 0)
			log_debug("skip to=<%s> client=%s reason=%s",
			    verdict_rcpt(q->rcpt, rbuf, sizeof(rbuf)),
			    client_string(q->client, cbuf, sizeof(cbuf)),
			    policy_skip_name(dec.skip));
		memset(r, 0, sizeof(*r));
		r->action = ACTION_CONTINUE;
		return;
	}
	if (dec.impossible != NULL) {
		STAT_INC(impossible);
		pthread_rwlock_rdlock(&engine_conf_lock);
		policy_reply_impossible(engine_conf, r);
		pthread_rwlock_unlock(&engine_conf_lock);
		verdict_log(r->action, verdict_rcpt(q->rcpt,
		    rbuf, sizeof(rbuf)), from, q, "impossible", "reason",
		    dec.impossible, NULL);
		return;
	}

	STAT_INC(lookups);
	if (cache_lookup(engine_cache, dec.address, time(NULL), &v)) {
		if (v == VERDICT_VALID)
			STAT_INC(hits_valid);
		else
			STAT_INC(hits_invalid);
	} else {
		STAT_INC(misses);
		v = pending_wait(dec.address, dec.backend_id, dec.backend,
		    wait_ms, &source, why);
		if (source == SOURCE_COALESCED)
			STAT_INC(coalesced);
		else if (source == SOURCE_TIMEOUT)
			STAT_INC(waits_timed_out);
	}

	switch (v) {
	case VERDICT_VALID:
		STAT_INC(verdict_valid);
		break;
	case VERDICT_INVALID:
		STAT_INC(verdict_invalid);
		break;
	default:
		STAT_INC(verdict_unknown);
		break;
	}
	pthread_rwlock_rdlock(&engine_conf_lock);
	policy_reply(engine_conf, v, dec.address, r);
	pthread_rwlock_unlock(&engine_conf_lock);
	verdict_log(r->action, dec.address, from, q,
	    policy_verdict_name(v), "source", pending_source_name(source),
	    why);
}

/* A libmilter thread queued a probe: get the event thread to send it. */
static void
engine_wake(void)
{
	event_active(&wake_ev, EV_TIMEOUT, 1);
}

/*
 * Event thread: send the queued probes.  They are written at once, not
 * on the loop's next turn: waiting for writability costs two epoll_ctl
 * and a wakeup per batch.  What the socket does not take, or an error,
 * is left to the prober's event.
 */
static void
engine_send(int fd, short event, void *arg)
{
	struct probe_req	req;
	struct dns_req		dreq;

	while (pending_take(&req)) {
		if (imsg_compose(&iev_prober.ibuf, IMSG_PROBE_REQ, 0, 0, -1,
		    &req, sizeof(req)) == -1)
			fatal("%s: imsg_compose", __func__);
	}
	while (dns_take(&dreq))
		if (imsg_compose(&iev_prober.ibuf, IMSG_DNS_REQ, dreq.id, 0,
		    -1, &dreq, sizeof(dreq)) == -1)
			fatal("%s: imsg_compose", __func__);
	if (imsgbuf_queuelen(&iev_prober.ibuf) > 0 &&
	    (imsgbuf_write(&iev_prober.ibuf) == -1 ||
	    imsgbuf_queuelen(&iev_prober.ibuf) > 0))
		imsgev_add(&iev_prober);
}

/*
 * Event thread: a reload restarted the prober, here is the new one.  The
 * old one is heard no more (what it still says is read and dropped until
 * it goes); what it had not answered goes to the new one, and the parent
 * may then stop it.  The configuration that came just before is the new
 * prober's too.
 */
static void
engine_prober_switch(int fd)
{
	size_t	probes, lookups;

	if (old_prober_fd != -1) {
		event_del(&old_prober_ev);
		close(old_prober_fd);
	}
	old_prober_fd = iev_prober.ibuf.fd;
	event_del(&iev_prober.ev);
	imsgbuf_clear(&iev_prober.ibuf);
	event_set(&old_prober_ev, old_prober_fd, EV_READ | EV_PERSIST,
	    engine_old_prober, NULL);
	event_add(&old_prober_ev, NULL);

	imsgev_init(&iev_prober, fd, engine_dispatch_imsg, &iev_prober);
	probes = pending_requeue();
	lookups = dns_requeue();
	engine_send(-1, 0, NULL);
	if (imsgev_compose(&iev_parent, IMSG_PROBER_SWITCHED, 0, 0, -1,
	    NULL, 0) == -1)
		fatal("%s: imsg_compose", __func__);
	log_info("new prober: %zu probe%s and %zu DNS lookup%s in flight "
	    "sent to it again", probes, probes == 1 ? "" : "s", lookups,
	    lookups == 1 ? "" : "s");
}

/* The replaced prober's last words are not listened to. */
static void
engine_old_prober(int fd, short event, void *arg)
{
	char	buf[4096];
	ssize_t	n;

	if ((n = read(fd, buf, sizeof(buf))) > 0 ||
	    (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	event_del(&old_prober_ev);
	close(old_prober_fd);
	old_prober_fd = -1;
}

/* Event thread: an answer from the prober. */
static void
engine_probe_done(struct probe_res *res)
{
	struct check	*ck;
	struct timespec	 t1;
	void		*arg;

	/* What the prober knew already is no probe of the backend. */
	if (res->shortcut)
		STAT_INC(catchall);
	else
		STAT_INC(probes);
	if (!pending_done(res, engine_conf->valid_expire,
	    engine_conf->invalid_expire, &arg)) {
		/* Given up on by the sweep: the answer comes too late. */
		log_debug("answer to forgotten probe %u", res->id);
		return;
	}
	if ((ck = arg) == NULL)
		return;
	ck->cc.res = *res;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck->cc.elapsed_ms = (t1.tv_sec - ck->t0.tv_sec) * 1000 +
	    (t1.tv_nsec - ck->t0.tv_nsec) / 1000000;
	ck->done(ck->peerid, &ck->cc);
	free(ck);
}

/* Event thread, which alone replaces the configuration. */
static int
engine_shared(void)
{
	return (engine_conf->share.type != SHARE_NONE);
}

/* Another gateway flushed the shared store: the same goes from here. */
static void
engine_flushed(struct ctl_filter *f)
{
	size_t	n;

	n = cache_flush(engine_cache, f->state, f->match);
	log_info("flushed %zu cache entr%s as another gateway did", n,
	    n == 1 ? "y" : "ies");
}

/*
 * scambackctl check: probe now, whatever the cache says, and let the
 * answer update it.  Event thread.
 */
static void
engine_check(const char *address, uint32_t peerid,
    void (*done)(uint32_t, struct ctl_check *))
{
	struct ctl_check		 cc;
	const struct domain_conf	*d;
	struct check			*ck;

	if ((d = policy_check(engine_conf, engine_domains, address,
	    &cc)) == NULL) {
		done(peerid, &cc);
		return;
	}

	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		fatal(NULL);
	ck->done = done;
	ck->peerid = peerid;
	ck->cc = cc;
	clock_gettime(CLOCK_MONOTONIC, &ck->t0);
	pending_check(cc.address, d->backend_id, d->backend, ck);
	engine_send(-1, 0, NULL);
}

/*
 * A probe the prober never answers (it must, within its timeouts) would
 * make every later RCPT for the address wait in vain: give it up.
 */
static void
engine_sweep(int fd, short event, void *arg)
{
	struct probe_res	 res;
	struct timeval		 tv = { SWEEP_INTERVAL, 0 };
	uint32_t		 lost[64];
	size_t			 i, n;

	n = pending_lost(time(NULL) - PROBE_LOST_AFTER, lost, 64);
	for (i = 0; i < n; i++) {
		log_warnx("probe %u had no answer from the prober", lost[i]);
		memset(&res, 0, sizeof(res));
		res.id = lost[i];
		res.verdict = VERDICT_UNKNOWN;
		strlcpy(res.text, "no answer from the prober",
		    sizeof(res.text));
		engine_probe_done(&res);
	}
	dns_sweep();
	evtimer_add(&sweep_ev, &tv);
}

static void
engine_expire(int fd, short event, void *arg)
{
	struct timeval	tv = { EXPIRE_INTERVAL, 0 };
	size_t		n;

	if ((n = cache_expire(engine_cache, time(NULL))) > 0)
		log_debug("%zu cached verdicts expired", n);
	if ((n = dns_expire()) > 0)
		log_debug("%zu DNS answers expired", n);
	evtimer_add(&expire_ev, &tv);
}

static void
engine_stats(struct ctl_stats *st)
{
	struct dns_stats	ds;

	memset(st, 0, sizeof(*st));
	st->started = stats.started;
	st->cache_entries = engine_cache != NULL ?
	    cache_count(engine_cache) : 0;
	pthread_rwlock_rdlock(&engine_conf_lock);
	if (engine_conf != NULL)
		st->cache_size = engine_conf->cache_size;
	pthread_rwlock_unlock(&engine_conf_lock);
	st->lookups = STAT_GET(lookups);
	st->hits_valid = STAT_GET(hits_valid);
	st->hits_invalid = STAT_GET(hits_invalid);
	st->misses = STAT_GET(misses);
	st->probes = STAT_GET(probes);
	st->catchall = STAT_GET(catchall);
	st->coalesced = STAT_GET(coalesced);
	st->verdict_valid = STAT_GET(verdict_valid);
	st->verdict_invalid = STAT_GET(verdict_invalid);
	st->verdict_unknown = STAT_GET(verdict_unknown);
	st->skip_from = STAT_GET(skip_from);
	st->skip_local = STAT_GET(skip_local);
	st->skip_daemon = STAT_GET(skip_daemon);
	st->skip_auth = STAT_GET(skip_auth);
	st->skip_nodomain = STAT_GET(skip_nodomain);
	st->skip_unmatched = STAT_GET(skip_unmatched);
	st->skip_bad_address = STAT_GET(skip_bad_address);
	st->impossible = STAT_GET(impossible);
	st->waits_timed_out = STAT_GET(waits_timed_out);
	st->cache_saves = STAT_GET(cache_saves);
	st->cache_saved_at = STAT_GET(cache_saved_at);
	st->probes_pending = pending_count();
	dns_get_stats(&ds);
	st->dns_lookups = ds.lookups;
	st->dns_hits = ds.hits;
	st->dns_merged = ds.merged;
	st->dns_queries = ds.sent;
	st->dns_tempfail = ds.tempfail;
	st->dns_timed_out = ds.timed_out;
	st->dns_answers = ds.entries;
}

/* The parent reports each completed periodic save, for show stats. */
static void
engine_cache_saved(int64_t when)
{
	STAT_INC(cache_saves);
	__atomic_store_n(&stats.cache_saved_at, when, __ATOMIC_RELAXED);
}

/* cachefile.c has written the file: the parent renames and answers. */
static void
engine_cache_written(const struct cache_save_done *done)
{
	if (imsgev_compose(&iev_parent, IMSG_CACHE_SAVE_DONE, 0, 0, -1,
	    done, sizeof(*done)) == -1)
		fatal("%s: imsg_compose", __func__);
}
