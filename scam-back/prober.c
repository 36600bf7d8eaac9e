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
 * The prober: asks the backends over SMTP whether recipients exist.
 * Single-threaded on libevent; it never blocks.
 *
 * A probe waits in its backend's queue until a session can take it.
 * Sessions are opened on demand, at most `sessions' per backend, each
 * trying the backend's hosts in order (skipping those in backoff), and
 * stay open for the next probes until idle for PROBER_IDLE seconds; the
 * SMTP dialogue itself is smtp.c's.  Every probe has its own deadline,
 * within the engine's wait (SPEC section 6), whatever its session does.
 *
 * A session that fails before it is ready (refused, no banner, MAIL FROM
 * refused, TLS) answers the waiting probes when no other session works,
 * so that a dead backend answers at once instead of opening session after
 * session; a backend in backoff on every host answers at once too.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <tls.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#ifndef __OpenBSD__
#include "sandbox.h"
#endif

struct backend;
struct session;
struct domain;

struct host {
	TAILQ_ENTRY(host)	 entry;
	struct backend		*backend;
	char			 name[HOSTNAME_LEN];
	char			 tlsname[HOSTNAME_LEN];	/* for verification */
	uint16_t		 port;
	int			 literal;
	struct sockaddr_storage	 addrs[PROBER_ADDRS_MAX];
	int			 naddrs;
	struct resolve_query	*query;
	struct event		 resolve_ev;	/* the next resolution */
	uint64_t		 backoff_until;	/* ms, monotonic */
	uint64_t		 notls_until;
	char			 last_error[REPLY_TEXT_LEN];
};
TAILQ_HEAD(host_head, host);

enum probe_where {
	PROBE_NOWHERE,
	PROBE_QUEUED,		/* in backend->queue */
	PROBE_INFLIGHT,		/* in session->probes, RCPT sent */
	PROBE_HELD		/* in domain->held: answer after detection */
};

struct probe {
	TAILQ_ENTRY(probe)	 entry;
	enum probe_where	 where;
	struct backend		*backend;
	struct session		*session;
	struct domain		*domain;	/* catch-all detection pending */
	uint32_t		 id;
	int			 bypass;
	int			 internal;	/* the random local part */
	int			 retried;
	uint64_t		 start;		/* ms */
	struct event		 deadline;
	struct probe_res	 res;		/* held result */
	int			 has_res;
	char			 address[ADDR_LEN];
};
TAILQ_HEAD(probe_head, probe);

enum domain_state {
	DOMAIN_NONE,		/* detect on the next probe */
	DOMAIN_CHECKING,
	DOMAIN_CATCHALL,
	DOMAIN_NORMAL
};

struct domain {
	RB_ENTRY(domain)	 entry;
	char			 name[HOSTNAME_LEN];
	enum domain_state	 state;
	uint64_t		 expires;	/* ms */
	int			 refs;		/* probes pointing here */
	int			 logged;	/* "accepts any recipient" */
	struct probe_head	 held;
	int			 code;
	char			 enhanced[16];
	char			 text[REPLY_TEXT_LEN];
};
RB_HEAD(domain_tree, domain);

enum session_state {
	SS_START,
	SS_RESOLVE,
	SS_CONNECT,
	SS_HANDSHAKE,
	SS_SMTP,
	SS_CLOSING
};

enum session_timer {
	T_NONE,
	T_START,
	T_RESOLVE,
	T_CONNECT,
	T_HANDSHAKE,
	T_REPLY,
	T_IDLE
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	struct backend		*backend;
	struct host		*host;
	int			 addr;		/* index in host->addrs */
	enum session_state	 state;
	int			 fd;
	struct tls		*tls;
	struct event		 ev_read;
	struct event		 ev_write;
	struct event		 ev_timer;
	enum session_timer	 timer;
	unsigned int		 timer_replies;
	int			 read_wants_write;
	int			 write_wants_read;
	int			 ready_once;
	int			 tls_fallback;
	uint32_t		 served;
	char			 error[REPLY_TEXT_LEN];	/* of the last host */
	struct smtp		 smtp;
	struct probe_head	 probes;
	char			 peer[HOSTNAME_LEN + 64];
};
TAILQ_HEAD(session_head, session);

struct backend {
	TAILQ_ENTRY(backend)	 entry;
	struct backend_conf	 conf;		/* its host list is not used */
	char			 helo[HOSTNAME_LEN];
	char			 sender[ADDR_LEN];
	struct tls_config	*tls_config;
	char			 tls_error[REPLY_TEXT_LEN];
	struct host_head	 hosts;
	struct session_head	 sessions;
	uint32_t		 nsessions;
	struct probe_head	 queue;
	uint32_t		 nqueued;
	uint32_t		 nqueued_internal;
	uint32_t		 cap;		/* sessions the backend takes */
	uint64_t		 cap_until;	/* ms */
	struct domain_tree	 domains;
	uint32_t		 ndomains;
	int			 retired;
	int			 dispatching;
	struct event		 free_ev;
	char			 logged[REPLY_TEXT_LEN];

	uint64_t		 probes;
	uint64_t		 valid;
	uint64_t		 invalid;
	uint64_t		 unknown;
	uint64_t		 latency_sum;
	uint32_t		 latency[PROBER_LATENCIES];
};
TAILQ_HEAD(backend_head, backend);

/* CA bundles, read before the sandbox. */
struct ca_file {
	TAILQ_ENTRY(ca_file)	 entry;
	char			 path[PATH_MAX];
	uint8_t			*mem;
	size_t			 len;
};
TAILQ_HEAD(ca_head, ca_file);

static void	prober_startup_imsg(struct imsg *, void *);
static void	prober_dispatch_parent(int, short, void *);
static void	prober_dispatch_engine(int, short, void *);
static void	prober_apply(struct scamback_conf *);
static void	prober_request(struct probe_req *);
static void	prober_backends(uint32_t);
static void	prober_prune(int, short, void *);
static void	prober_answer_later(void);
static void	prober_answer_flush(int, short, void *);
static uint64_t	now_ms(void);
static void	textf(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	ca_preload(struct scamback_conf *);
static struct ca_file *ca_find(const char *);
static const char *ca_path(const struct backend_conf *);
#ifndef __OpenBSD__
static void	sandbox_ports(struct scamback_conf *, int);
#endif

static struct backend *backend_new(struct backend_conf *,
		    struct scamback_conf *);
static int	backend_same(struct backend *, struct backend_conf *,
		    struct scamback_conf *);
static void	backend_tls_setup(struct backend *);
static void	backend_retire(struct backend *);
static void	backend_maybe_free(struct backend *);
static void	backend_free(int, short, void *);
static void	backend_dispatch(struct backend *);
static int	backend_usable(struct backend *);
static struct session *backend_pick(struct backend *);
static void	backend_log(struct backend *, const char *);
static void	backend_fail_queue(struct backend *, const char *);
static void	backend_figures(struct backend *, struct ctl_backend *);

static struct host *host_new(struct backend *, struct host_conf *);
static void	host_free(struct host *);
static void	host_resolve(struct host *);
static void	host_resolve_timer(int, short, void *);
static void	host_resolved(void *, const struct sockaddr_storage *, int,
		    const char *);
static int	host_in_backoff(struct host *, uint64_t);
static void	host_failed(struct session *, struct host *);

static struct probe *probe_new(struct backend *, uint32_t, const char *);
static void	probe_enqueue(struct probe *, int);
static void	probe_unlink(struct probe *);
static void	probe_done(struct probe *, struct probe_res *);
static void	probe_answer(struct probe *, struct probe_res *);
static void	probe_unknown(struct probe *, const char *);
static void	probe_free(struct probe *);
static void	probe_deadline(int, short, void *);

static struct domain *domain_get(struct backend *, const char *);
static void	domain_unref(struct backend *, struct domain *);
static void	domain_detected(struct backend *, struct domain *,
		    struct probe_res *);
static void	domain_prune(struct backend *, int);
static int	domain_cmp(struct domain *, struct domain *);

static void	session_new(struct backend *);
static void	session_try_host(struct session *, struct host *);
static int	session_connect(struct session *);
static void	session_connected(struct session *);
static void	session_connect_failed(struct session *, const char *);
static int	session_starttls(struct session *);
static int	session_handshake(struct session *);
static void	session_tls_failed(struct session *, char *);
static void	session_io(int, short, void *);
static int	session_read(struct session *);
static int	session_write(struct session *);
static void	session_update(struct session *);
static void	session_timer_set(struct session *, enum session_timer,
		    unsigned int);
static void	session_timeout(int, short, void *);
static void	session_send(struct session *, struct probe *);
static void	session_rcpt(struct smtp *, void *, int,
		    const struct smtp_reply *);
static void	session_close(struct session *);
static void	session_fail(struct session *, const char *, int);
static void	session_free(struct session *);

RB_PROTOTYPE_STATIC(domain_tree, domain, entry, domain_cmp)
RB_GENERATE_STATIC(domain_tree, domain, entry, domain_cmp)

static struct scamback_conf	*prober_conf;
static struct scamback_conf	*pending_conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_engine;
static int			 engine_fd = -1;
static struct backend_head	 backends = TAILQ_HEAD_INITIALIZER(backends);
static struct ca_head		 ca_files = TAILQ_HEAD_INITIALIZER(ca_files);
static char			 local_name[HOSTNAME_LEN];
static struct event		 prune_ev;
static struct event		 answer_ev;	/* answers go out */
static int			 answer_due;

__dead void
prober_main(int debug, int verbose)
{
	struct event_base	*base;
	struct timeval		 tv = { 60, 0 };

	log_init(debug, LOG_MAIL);
	log_setverbose(verbose);
	log_procinit(proc_title(PROC_PROBER));
	/* At once, so that ps and pgrep know the child before it is ready. */
	setproctitle("%s", proc_title(PROC_PROBER));

	if (imsgbuf_init(&iev_parent.ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev_parent.ibuf);
	child_startup(&iev_parent.ibuf, prober_startup_imsg, NULL);
	if (prober_conf == NULL || engine_fd == -1)
		fatalx("incomplete start from the parent");

	base = event_init();

	/* Everything that reads a file happens now, before the sandbox. */
	resolve_init(base);
	if (tls_init() == -1)
		fatalx("tls_init");
	ca_preload(prober_conf);
	if (gethostname(local_name, sizeof(local_name)) == -1 ||
	    local_name[0] == '\0')
		strlcpy(local_name, "localhost", sizeof(local_name));

	drop_privileges(PROC_PROBER, prober_conf->user);

	/* No file after start: Landlock denies what "dns" lets seccomp pass. */
	if (unveil("/", "") == -1)
		fatal("unveil /");
#ifndef __OpenBSD__
	sandbox_ports(prober_conf, 1);
#endif
	if (pledge("stdio inet dns", NULL) == -1)
		fatal("pledge");
#ifdef SANDBOX_TEST
	sandbox_test("prober", SANDBOX_TEST_PLEDGED);
#endif

	signal(SIGPIPE, SIG_IGN);
	imsgev_set(&iev_parent, prober_dispatch_parent, NULL);
	imsgev_init(&iev_engine, engine_fd, prober_dispatch_engine, NULL);
	event_set(&answer_ev, -1, 0, prober_answer_flush, NULL);

	prober_apply(prober_conf);
	evtimer_set(&prune_ev, prober_prune, NULL);
	evtimer_add(&prune_ev, &tv);

	event_dispatch();
	fatalx("event loop ended");
}

static void
prober_startup_imsg(struct imsg *imsg, void *arg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_IPC:
		if (engine_fd != -1 || (engine_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		break;
	default:
		if (config_recv(&pending_conf, imsg) == 1) {
			if (prober_conf != NULL)
				fatalx("second configuration at start");
			prober_conf = pending_conf;
			pending_conf = NULL;
		}
		break;
	}
}

static void
prober_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct scamback_conf	*old;
	ssize_t			 n;
	int			 v;

	if (!imsgev_read(iev, event))
		exit(0);	/* the parent is gone */

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		case IMSG_STOP:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_STOP");
			exit(0);
		case IMSG_LOG_VERBOSE:
			if (imsg_get_data(&imsg, &v, sizeof(v)) == -1)
				fatalx("bad IMSG_LOG_VERBOSE");
			log_setverbose(v);
			break;
		default:
			if (config_recv(&pending_conf, &imsg) == 1) {
				old = prober_conf;
				prober_conf = pending_conf;
				pending_conf = NULL;
#ifndef __OpenBSD__
				sandbox_ports(prober_conf, 0);
#endif
				prober_apply(prober_conf);
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
prober_dispatch_engine(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct probe_req	 req;
	ssize_t			 n;

	if (!imsgev_read(iev, event))
		fatalx("lost the milter engine");

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		case IMSG_PROBE_REQ:
			if (imsg_get_data(&imsg, &req, sizeof(req)) == -1)
				fatalx("bad IMSG_PROBE_REQ");
			req.address[sizeof(req.address) - 1] = '\0';
			req.backend[sizeof(req.backend) - 1] = '\0';
			prober_request(&req);
			break;
		case IMSG_PROBE_BACKENDS:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBE_BACKENDS");
			prober_backends(imsg_get_id(&imsg));
			break;
		default:
			fatalx("%s: unexpected imsg %u", __func__,
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Messages for logs and the engine: a long one is cut, never overflowed. */
static void
textf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/*
 * The CA bundles of every backend that verifies, and the system's: after
 * the sandbox no file can be opened, so a reload can only use these.
 */
static void
ca_preload(struct scamback_conf *conf)
{
	struct backend_conf	*bc;
	struct ca_file		*ca;
	const char		*paths[2];
	int			 i;

	paths[0] = tls_default_ca_cert_file();
	paths[1] = NULL;
	for (i = 0; paths[i] != NULL; i++) {
		if (ca_find(paths[i]) != NULL)
			continue;
		if ((ca = calloc(1, sizeof(*ca))) == NULL)
			fatal(NULL);
		strlcpy(ca->path, paths[i], sizeof(ca->path));
		/* The system bundle may be missing; say so only when used. */
		ca->mem = tls_load_file(ca->path, &ca->len, NULL);
		TAILQ_INSERT_TAIL(&ca_files, ca, entry);
	}
	TAILQ_FOREACH(bc, &conf->backends, entry) {
		if (bc->tls == TLSMODE_NO || bc->tls_noverify ||
		    ca_find(ca_path(bc)) != NULL)
			continue;
		if ((ca = calloc(1, sizeof(*ca))) == NULL)
			fatal(NULL);
		strlcpy(ca->path, ca_path(bc), sizeof(ca->path));
		if ((ca->mem = tls_load_file(ca->path, &ca->len, NULL)) ==
		    NULL)
			log_warn("backend %s: tls ca %s", bc->name, ca->path);
		TAILQ_INSERT_TAIL(&ca_files, ca, entry);
	}
}

static struct ca_file *
ca_find(const char *path)
{
	struct ca_file	*ca;

	TAILQ_FOREACH(ca, &ca_files, entry)
		if (strcmp(ca->path, path) == 0)
			return (ca);
	return (NULL);
}

static const char *
ca_path(const struct backend_conf *bc)
{
	return (bc->tls_ca[0] != '\0' ? bc->tls_ca :
	    tls_default_ca_cert_file());
}

#ifndef __OpenBSD__
/*
 * Landlock (ABI >= 4) lets the prober connect to the backends' ports as
 * they were at start, and to 53 for DNS: nothing else, and it binds
 * nothing.  A reload cannot add a port; say so, its connections fail.
 */
static void
sandbox_ports(struct scamback_conf *conf, int start)
{
	static uint8_t		 allowed[65536 / 8];
	struct backend_conf	*bc;
	struct host_conf	*hc;
	uint16_t		 port;

	/* Even without a backend, "inet" must not mean every port. */
	if (start && sandbox_net_deny() == -1)
		fatal("sandbox_net_deny");
	TAILQ_FOREACH(bc, &conf->backends, entry) {
		TAILQ_FOREACH(hc, &bc->hosts, entry) {
			port = hc->port != 0 ? hc->port : DEFAULT_PORT;
			if (start) {
				if (sandbox_net_connect(port) == -1)
					fatal("sandbox: port %u", port);
				allowed[port / 8] |= 1 << (port % 8);
			} else if (sandbox_landlock_abi() >= 4 &&
			    (allowed[port / 8] & (1 << (port % 8))) == 0)
				log_warnx("backend %s: host %s port %u: the "
				    "sandbox allows only the ports of the "
				    "backends at start; restart scam-back to "
				    "probe it", bc->name, hc->name, port);
		}
	}
}
#endif

/*
 * A new configuration.  Backends whose sessions would look the same keep
 * their sessions, queue and catch-all knowledge; the others are retired:
 * they finish what they hold, close their sessions when idle and go.
 */
static void
prober_apply(struct scamback_conf *conf)
{
	struct backend		*b, *next, *old;
	struct backend_conf	*bc;
	struct backend_head	 keep = TAILQ_HEAD_INITIALIZER(keep);

	TAILQ_FOREACH(bc, &conf->backends, entry) {
		old = NULL;
		TAILQ_FOREACH(b, &backends, entry)
			if (!b->retired && strcmp(b->conf.name, bc->name) == 0)
				old = b;
		if (old != NULL && backend_same(old, bc, conf)) {
			old->conf.id = bc->id;
			old->conf.sessions = bc->sessions;
			old->conf.catchall = bc->catchall;
			old->conf.table = bc->table;
			TAILQ_REMOVE(&backends, old, entry);
			TAILQ_INSERT_TAIL(&keep, old, entry);
			continue;
		}
		b = backend_new(bc, conf);
		TAILQ_INSERT_TAIL(&keep, b, entry);
	}
	for (b = TAILQ_FIRST(&backends); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if (!b->retired)
			backend_retire(b);
	}
	/* Current backends first, retired ones after them. */
	while ((b = TAILQ_LAST(&keep, backend_head)) != NULL) {
		TAILQ_REMOVE(&keep, b, entry);
		TAILQ_INSERT_HEAD(&backends, b, entry);
	}
	TAILQ_FOREACH(b, &backends, entry)
		if (!b->retired)
			backend_dispatch(b);
}

static void
prober_prune(int fd, short event, void *arg)
{
	struct timeval	 tv = { 60, 0 };
	struct backend	*b;

	TAILQ_FOREACH(b, &backends, entry) {
		domain_prune(b, 0);
		backend_maybe_free(b);
	}
	evtimer_add(&prune_ev, &tv);
}

/*
 * Answers are written once per turn of the loop, after every reply read
 * in it is handled: one write for many, and no change of the engine
 * socket's events unless the socket is full.
 */
static void
prober_answer_later(void)
{
	if (!answer_due) {
		answer_due = 1;
		event_active(&answer_ev, EV_TIMEOUT, 1);
	}
}

static void
prober_answer_flush(int fd, short event, void *arg)
{
	answer_due = 0;
	if (imsgbuf_queuelen(&iev_engine.ibuf) > 0 &&
	    (imsgbuf_write(&iev_engine.ibuf) == -1 ||
	    imsgbuf_queuelen(&iev_engine.ibuf) > 0))
		imsgev_add(&iev_engine);
}

/* The engine asks.  Whatever happens, it gets one answer per request. */
static void
prober_request(struct probe_req *req)
{
	struct backend		*b, *found = NULL;
	struct probe		*p, *det;
	struct domain		*d = NULL;
	struct probe_res	 res;
	const char		*at;
	char			 local[24];
	uint64_t		 now = now_ms();
	size_t			 i;
	static const char	 chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	TAILQ_FOREACH(b, &backends, entry) {
		if (b->retired)
			continue;
		if (req->backend[0] != '\0' ?
		    strcmp(b->conf.name, req->backend) == 0 :
		    b->conf.id == req->backend_id) {
			found = b;
			break;
		}
	}
	if ((b = found) == NULL) {
		memset(&res, 0, sizeof(res));
		res.id = req->id;
		res.verdict = VERDICT_UNKNOWN;
		if (req->backend[0] != '\0')
			textf(res.text, sizeof(res.text), "no backend %s",
			    req->backend);
		else
			textf(res.text, sizeof(res.text), "no backend "
			    "number %u", req->backend_id);
		log_warnx("probe %s: %s", req->address, res.text);
		imsgev_compose(&iev_engine, IMSG_PROBE_RES, req->id, 0, -1,
		    &res, sizeof(res));
		return;
	}

	p = probe_new(b, req->id, req->address);
	p->bypass = req->bypass;
	if ((at = strrchr(p->address, '@')) == NULL || at[1] == '\0' ||
	    !smtp_address_ok(p->address)) {
		probe_unknown(p, "address not probed: not a plain address");
		return;
	}

	if (b->conf.catchall == CATCHALL_DETECT && !p->bypass &&
	    (d = domain_get(b, at + 1)) != NULL) {
		if ((d->state == DOMAIN_CATCHALL || d->state == DOMAIN_NORMAL) &&
		    now >= d->expires)
			d->state = DOMAIN_NONE;	/* look again */
		switch (d->state) {
		case DOMAIN_CATCHALL:
			memset(&res, 0, sizeof(res));
			res.verdict = VERDICT_VALID;
			res.catchall = 1;
			res.code = d->code;
			strlcpy(res.enhanced, d->enhanced,
			    sizeof(res.enhanced));
			strlcpy(res.text, d->text, sizeof(res.text));
			probe_answer(p, &res);
			return;
		case DOMAIN_NORMAL:
			break;
		case DOMAIN_NONE:
			/* A local part nobody has: accepted means any is. */
			for (i = 0; i < 12; i++)
				local[i] = chars[arc4random_uniform(
				    sizeof(chars) - 1)];
			local[i] = '\0';
			det = probe_new(b, 0, "");
			textf(det->address, sizeof(det->address),
			    "scamback-%s@%s", local, d->name);
			det->internal = 1;
			det->domain = d;
			d->refs++;
			d->state = DOMAIN_CHECKING;
			log_debug("backend %s: catch-all check of %s with %s",
			    b->conf.name, d->name, det->address);
			probe_enqueue(det, 0);
			/* FALLTHROUGH */
		case DOMAIN_CHECKING:
			if (d->state == DOMAIN_CHECKING) {
				p->domain = d;
				d->refs++;
			}
			break;
		}
	}
	probe_enqueue(p, 0);
	backend_dispatch(b);
}

static void
prober_backends(uint32_t peerid)
{
	struct backend		*b;
	struct ctl_backend	 cb;

	TAILQ_FOREACH(b, &backends, entry) {
		if (b->retired)
			continue;
		backend_figures(b, &cb);
		imsgev_compose(&iev_engine, IMSG_PROBE_BACKEND, peerid, 0, -1,
		    &cb, sizeof(cb));
	}
	imsgev_compose(&iev_engine, IMSG_PROBE_BACKENDS_END, peerid, 0, -1,
	    NULL, 0);
}

static int
latency_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

static void
backend_figures(struct backend *b, struct ctl_backend *cb)
{
	struct host	*h;
	struct session	*s;
	struct ctl_host	*ch;
	uint32_t	 lat[PROBER_LATENCIES];
	uint64_t	 now = now_ms();
	size_t		 n;

	memset(cb, 0, sizeof(*cb));
	strlcpy(cb->name, b->conf.name, sizeof(cb->name));
	TAILQ_FOREACH(h, &b->hosts, entry) {
		if (cb->nhosts == CTL_MAX_HOSTS)
			break;
		ch = &cb->hosts[cb->nhosts++];
		strlcpy(ch->name, h->name, sizeof(ch->name));
		ch->port = h->port;
		if (host_in_backoff(h, now)) {
			ch->state = HOST_BACKOFF;
			ch->backoff_until = time(NULL) +
			    (h->backoff_until - now + 999) / 1000;
		} else if (h->naddrs == 0)
			ch->state = HOST_UNRESOLVED;
		else
			ch->state = HOST_UP;
		strlcpy(ch->last_error, h->last_error, sizeof(ch->last_error));
	}
	cb->sessions_open = b->nsessions;
	TAILQ_FOREACH(s, &b->sessions, entry)
		if (s->state == SS_SMTP && smtp_idle(&s->smtp))
			cb->sessions_idle++;
	cb->sessions_limit = b->conf.sessions;
	cb->queued = b->nqueued;
	cb->probes = b->probes;
	cb->valid = b->valid;
	cb->invalid = b->invalid;
	cb->unknown = b->unknown;
	if (b->probes > 0) {
		cb->latency_mean_ms = b->latency_sum / b->probes;
		n = b->probes < PROBER_LATENCIES ? b->probes : PROBER_LATENCIES;
		memcpy(lat, b->latency, n * sizeof(lat[0]));
		qsort(lat, n, sizeof(lat[0]), latency_cmp);
		cb->latency_p99_ms = lat[(n * 99 + 99) / 100 - 1];
	}
}

static struct backend *
backend_new(struct backend_conf *bc, struct scamback_conf *conf)
{
	struct backend		*b;
	struct host_conf	*hc;
	struct host		*h;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal(NULL);
	b->conf = *bc;
	TAILQ_INIT(&b->conf.hosts);
	if (b->conf.sessions == 0)
		b->conf.sessions = 1;
	strlcpy(b->helo, conf->hostname[0] != '\0' ? conf->hostname :
	    local_name, sizeof(b->helo));
	strlcpy(b->sender, config_sender(conf), sizeof(b->sender));
	/* The parser checks these; a command must never be smuggled. */
	if (!smtp_address_ok(b->helo) || strchr(b->helo, ' ') != NULL)
		strlcpy(b->helo, "localhost", sizeof(b->helo));
	if (!smtp_address_ok(b->sender))
		b->sender[0] = '\0';
	TAILQ_INIT(&b->hosts);
	TAILQ_INIT(&b->sessions);
	TAILQ_INIT(&b->queue);
	RB_INIT(&b->domains);
	evtimer_set(&b->free_ev, backend_free, b);
	TAILQ_FOREACH(hc, &bc->hosts, entry) {
		h = host_new(b, hc);
		TAILQ_INSERT_TAIL(&b->hosts, h, entry);
	}
	if (b->conf.tls != TLSMODE_NO)
		backend_tls_setup(b);
	log_debug("backend %s: %s", b->conf.name, TAILQ_EMPTY(&b->hosts) ?
	    "no hosts" : "ready");
	return (b);
}

/* Would a session opened now look like one opened before? */
static int
backend_same(struct backend *b, struct backend_conf *bc,
    struct scamback_conf *conf)
{
	struct host		*h;
	struct host_conf	*hc;

	if (strcmp(b->helo, conf->hostname[0] != '\0' ? conf->hostname :
	    local_name) != 0 || strcmp(b->sender, config_sender(conf)) != 0 ||
	    b->conf.protocol != bc->protocol || b->conf.tls != bc->tls ||
	    b->conf.tls_noverify != bc->tls_noverify ||
	    strcmp(b->conf.tls_ca, bc->tls_ca) != 0)
		return (0);
	h = TAILQ_FIRST(&b->hosts);
	TAILQ_FOREACH(hc, &bc->hosts, entry) {
		if (h == NULL || strcmp(h->name, hc->name) != 0 ||
		    h->port != hc->port)
			return (0);
		h = TAILQ_NEXT(h, entry);
	}
	return (h == NULL);
}

static void
backend_tls_setup(struct backend *b)
{
	struct ca_file	*ca;

	if ((b->tls_config = tls_config_new()) == NULL)
		fatalx("tls_config_new");
	if (b->conf.tls_noverify) {
		tls_config_insecure_noverifycert(b->tls_config);
		tls_config_insecure_noverifyname(b->tls_config);
		return;
	}
	ca = ca_find(ca_path(&b->conf));
	if (ca == NULL || ca->mem == NULL) {
		textf(b->tls_error, sizeof(b->tls_error), "CA file %s %s",
		    ca_path(&b->conf), ca == NULL ? "was not read at start-up "
		    "(restart scam-back to use it)" : "could not be read");
		log_warnx("backend %s: %s", b->conf.name, b->tls_error);
	} else if (tls_config_set_ca_mem(b->tls_config, ca->mem,
	    ca->len) == -1) {
		textf(b->tls_error, sizeof(b->tls_error), "CA file %s: %s",
		    ca->path, tls_config_error(b->tls_config));
		log_warnx("backend %s: %s", b->conf.name, b->tls_error);
	} else
		return;
	tls_config_free(b->tls_config);
	b->tls_config = NULL;
}

static void
backend_retire(struct backend *b)
{
	struct session	*s, *next;

	log_debug("backend %s: configuration changed, retiring sessions",
	    b->conf.name);
	b->retired = 1;
	for (s = TAILQ_FIRST(&b->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state == SS_SMTP && smtp_idle(&s->smtp) &&
		    TAILQ_EMPTY(&b->queue))
			session_close(s);
	}
	backend_maybe_free(b);
}

/* Deferred: the caller may still walk the backend's lists. */
static void
backend_maybe_free(struct backend *b)
{
	struct timeval	tv = { 0, 0 };

	if (b->retired && TAILQ_EMPTY(&b->sessions) &&
	    TAILQ_EMPTY(&b->queue))
		evtimer_add(&b->free_ev, &tv);
}

static void
backend_free(int fd, short event, void *arg)
{
	struct backend	*b = arg;
	struct host	*h;

	if (!TAILQ_EMPTY(&b->sessions) || !TAILQ_EMPTY(&b->queue))
		return;
	domain_prune(b, 1);
	if (b->ndomains > 0)
		return;		/* held probes; their deadlines come back */
	while ((h = TAILQ_FIRST(&b->hosts)) != NULL) {
		TAILQ_REMOVE(&b->hosts, h, entry);
		host_free(h);
	}
	if (b->tls_config != NULL)
		tls_config_free(b->tls_config);
	TAILQ_REMOVE(&backends, b, entry);
	log_debug("backend %s: retired", b->conf.name);
	free(b);
}

static int
backend_usable(struct backend *b)
{
	struct host	*h;
	uint64_t	 now = now_ms();

	TAILQ_FOREACH(h, &b->hosts, entry)
		if (!host_in_backoff(h, now))
			return (1);
	return (0);
}

/* An idle session first, else the least busy that can take a RCPT. */
static struct session *
backend_pick(struct backend *b)
{
	struct session	*s, *best = NULL;

	TAILQ_FOREACH(s, &b->sessions, entry) {
		if (s->state != SS_SMTP || !smtp_can_rcpt(&s->smtp))
			continue;
		if (s->smtp.nrcpt == 0)
			return (s);
		if (best == NULL || s->smtp.nrcpt < best->smtp.nrcpt)
			best = s;
	}
	return (best);
}

/*
 * Hand queued probes to sessions that can take them; open sessions for
 * the rest, up to the limit, or answer at once when every host is in
 * backoff.
 */
static void
backend_dispatch(struct backend *b)
{
	struct session	*s;
	struct probe	*p;
	struct host	*h;
	uint32_t	 nsetup = 0, want, limit;
	char		 text[REPLY_TEXT_LEN];
	const char	*last = NULL;

	if (b->dispatching)
		return;
	b->dispatching = 1;

	while ((p = TAILQ_FIRST(&b->queue)) != NULL &&
	    (s = backend_pick(b)) != NULL) {
		probe_unlink(p);
		session_send(s, p);
	}

	if (!TAILQ_EMPTY(&b->queue)) {
		TAILQ_FOREACH(s, &b->sessions, entry)
			if (s->state != SS_CLOSING &&
			    (s->state != SS_SMTP || !s->ready_once))
				nsetup++;
		if (TAILQ_EMPTY(&b->hosts)) {
			textf(text, sizeof(text), "backend %s has no hosts",
			    b->conf.name);
			backend_fail_queue(b, text);
		} else if (!backend_usable(b)) {
			if (TAILQ_EMPTY(&b->sessions)) {
				TAILQ_FOREACH(h, &b->hosts, entry)
					if (h->last_error[0] != '\0')
						last = h->last_error;
				textf(text, sizeof(text), "every host of "
				    "backend %s is in backoff%s%s",
				    b->conf.name, last ? "; last error: " : "",
				    last ? last : "");
				backend_fail_queue(b, text);
			}
		} else {
			/*
			 * A session per waiting probe, up to the limit; a
			 * catch-all check goes with the probe that caused it.
			 */
			want = b->nqueued - b->nqueued_internal;
			if (want == 0)
				want = 1;
			limit = b->conf.sessions;
			if (b->cap_until > now_ms() && b->cap < limit)
				limit = b->cap;
			while (b->nsessions < limit && nsetup < want) {
				session_new(b);
				nsetup++;
			}
		}
	}
	b->dispatching = 0;
}

/* Answer unknown every queued probe. */
static void
backend_fail_queue(struct backend *b, const char *text)
{
	struct probe	*p;

	while ((p = TAILQ_FIRST(&b->queue)) != NULL)
		probe_unknown(p, text);
	backend_maybe_free(b);
}

/*
 * Backend trouble is logged once, with the reply text, until it changes
 * or a session works again: a dead backend must not flood the log.
 */
static void
backend_log(struct backend *b, const char *text)
{
	/* The same, or said already with more words. */
	if (strncmp(b->logged, text, strlen(text)) == 0)
		return;
	strlcpy(b->logged, text, sizeof(b->logged));
	log_warnx("backend %s: %s", b->conf.name, text);
}

static struct host *
host_new(struct backend *b, struct host_conf *hc)
{
	struct host	*h;
	size_t		 len;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal(NULL);
	h->backend = b;
	strlcpy(h->name, hc->name, sizeof(h->name));
	h->port = hc->port != 0 ? hc->port : DEFAULT_PORT;
	strlcpy(h->tlsname, h->name, sizeof(h->tlsname));
	len = strlen(h->tlsname);
	if (len >= 2 && h->tlsname[0] == '[' && h->tlsname[len - 1] == ']') {
		memmove(h->tlsname, h->tlsname + 1, len - 2);
		h->tlsname[len - 2] = '\0';
	}
	evtimer_set(&h->resolve_ev, host_resolve_timer, h);
	if (resolve_literal(h->name, h->port, &h->addrs[0])) {
		h->literal = 1;
		h->naddrs = 1;
	} else
		host_resolve(h);
	return (h);
}

static void
host_free(struct host *h)
{
	if (h->query != NULL)
		resolve_cancel(h->query);
	evtimer_del(&h->resolve_ev);
	free(h);
}

static void
host_resolve(struct host *h)
{
	if (h->literal || h->query != NULL)
		return;
	h->query = resolve_start(h->name, h->port,
	    prober_conf->prefer == PREFER_INET6, host_resolved, h);
}

static void
host_resolve_timer(int fd, short event, void *arg)
{
	host_resolve(arg);
}

/* Names are looked up again every few minutes; sessions may wait. */
static void
host_resolved(void *arg, const struct sockaddr_storage *addrs, int n,
    const char *err)
{
	struct host	*h = arg;
	struct backend	*b = h->backend;
	struct session	*s, *next;
	struct timeval	 tv = { PROBER_RESOLVE_EVERY, 0 };
	char		 buf[HOSTNAME_LEN + 16];

	h->query = NULL;
	if (err != NULL) {
		textf(h->last_error, sizeof(h->last_error),
		    "cannot resolve %s: %s", h->name, err);
		backend_log(b, h->last_error);
		/* Keep the addresses we had: stale beats none. */
		if (h->naddrs > 0)
			evtimer_add(&h->resolve_ev, &tv);
	} else {
		memcpy(h->addrs, addrs, n * sizeof(addrs[0]));
		h->naddrs = n;
		log_debug("backend %s: %s is %s%s", b->conf.name, h->name,
		    resolve_ntop(&addrs[0], buf, sizeof(buf)),
		    n > 1 ? " and more" : "");
		evtimer_add(&h->resolve_ev, &tv);
	}

	for (s = TAILQ_FIRST(&b->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state != SS_RESOLVE || s->host != h)
			continue;
		s->state = SS_START;
		evtimer_del(&s->ev_timer);
		s->timer = T_NONE;
		if (h->naddrs == 0) {
			host_failed(s, h);
			session_try_host(s, TAILQ_NEXT(h, entry));
		} else
			session_try_host(s, h);
	}
}

static int
host_in_backoff(struct host *h, uint64_t now)
{
	return (h->backoff_until > now);
}

/*
 * Every address of the host failed, its last_error says how; the session
 * (if any) remembers it for when no host is left.
 */
static void
host_failed(struct session *s, struct host *h)
{
	struct backend	*b = h->backend;
	char		 text[REPLY_TEXT_LEN + 64];

	if (s != NULL)
		strlcpy(s->error, h->last_error, sizeof(s->error));

	if (prober_conf->backoff == 0) {
		backend_log(b, h->last_error);
		return;
	}
	h->backoff_until = now_ms() + (uint64_t)prober_conf->backoff * 1000;
	textf(text, sizeof(text), "%s; skipping %s for %u s",
	    h->last_error, h->name, prober_conf->backoff);
	backend_log(b, text);
}

static struct probe *
probe_new(struct backend *b, uint32_t id, const char *address)
{
	struct probe	*p;
	struct timeval	 tv;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal(NULL);
	p->backend = b;
	p->id = id;
	p->start = now_ms();
	strlcpy(p->address, address, sizeof(p->address));
	/* Within the engine's wait: connect + 2 replies (+ 1 s margin). */
	tv.tv_sec = prober_conf->timeout_connect +
	    2 * prober_conf->timeout_reply;
	tv.tv_usec = 0;
	evtimer_set(&p->deadline, probe_deadline, p);
	evtimer_add(&p->deadline, &tv);
	return (p);
}

static void
probe_enqueue(struct probe *p, int head)
{
	struct backend	*b = p->backend;
	char		 text[REPLY_TEXT_LEN];

	if (b->nqueued >= PROBER_QUEUE_MAX) {
		textf(text, sizeof(text), "backend %s: %d probes waiting "
		    "already", b->conf.name, PROBER_QUEUE_MAX);
		probe_unknown(p, text);
		return;
	}
	p->where = PROBE_QUEUED;
	if (head)
		TAILQ_INSERT_HEAD(&b->queue, p, entry);
	else
		TAILQ_INSERT_TAIL(&b->queue, p, entry);
	b->nqueued++;
	if (p->internal)
		b->nqueued_internal++;
}

static void
probe_unlink(struct probe *p)
{
	switch (p->where) {
	case PROBE_QUEUED:
		TAILQ_REMOVE(&p->backend->queue, p, entry);
		p->backend->nqueued--;
		if (p->internal)
			p->backend->nqueued_internal--;
		break;
	case PROBE_INFLIGHT:
		TAILQ_REMOVE(&p->session->probes, p, entry);
		smtp_forget(&p->session->smtp, p);
		p->session = NULL;
		break;
	case PROBE_HELD:
		TAILQ_REMOVE(&p->domain->held, p, entry);
		break;
	case PROBE_NOWHERE:
		break;
	}
	p->where = PROBE_NOWHERE;
}

/* A result for a probe: hold it while its domain is being checked. */
static void
probe_done(struct probe *p, struct probe_res *res)
{
	struct domain	*d = p->domain;

	probe_unlink(p);
	if (p->internal) {
		domain_detected(p->backend, d, res);
		probe_free(p);
		return;
	}
	if (d != NULL && d->state == DOMAIN_CHECKING) {
		p->res = *res;
		p->has_res = 1;
		p->where = PROBE_HELD;
		TAILQ_INSERT_TAIL(&d->held, p, entry);
		return;
	}
	if (d != NULL && d->state == DOMAIN_CATCHALL)
		res->catchall = 1;
	probe_answer(p, res);
}

static void
probe_answer(struct probe *p, struct probe_res *res)
{
	struct backend	*b = p->backend;
	uint64_t	 ms = now_ms() - p->start;

	probe_unlink(p);
	if (p->internal) {
		probe_free(p);
		return;
	}
	res->id = p->id;
	if (imsg_compose(&iev_engine.ibuf, IMSG_PROBE_RES, p->id, 0, -1,
	    res, sizeof(*res)) == -1)
		fatal("%s: imsg_compose", __func__);
	prober_answer_later();

	b->latency[b->probes % PROBER_LATENCIES] = ms;
	b->latency_sum += ms;
	b->probes++;
	switch (res->verdict) {
	case VERDICT_VALID:
		b->valid++;
		break;
	case VERDICT_INVALID:
		b->invalid++;
		break;
	default:
		b->unknown++;
		break;
	}
	log_debug("probe %s backend %s: %s %d %s \"%s\"%s %llu ms",
	    p->address, b->conf.name, res->verdict == VERDICT_VALID ? "valid" :
	    res->verdict == VERDICT_INVALID ? "invalid" : "unknown",
	    res->code, res->enhanced, res->text,
	    res->catchall ? " catch-all" : "", (unsigned long long)ms);
	probe_free(p);
}

static void
probe_unknown(struct probe *p, const char *text)
{
	struct probe_res	res;

	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_UNKNOWN;
	strlcpy(res.text, text, sizeof(res.text));
	probe_done(p, &res);
}

static void
probe_free(struct probe *p)
{
	evtimer_del(&p->deadline);
	if (p->domain != NULL)
		domain_unref(p->backend, p->domain);
	free(p);
}

/* The engine will not wait longer: answer with what there is. */
static void
probe_deadline(int fd, short event, void *arg)
{
	struct probe	*p = arg;
	struct backend	*b = p->backend;
	char		 text[REPLY_TEXT_LEN];

	if (p->has_res) {
		probe_answer(p, &p->res);
		return;
	}
	if (p->where == PROBE_INFLIGHT)
		textf(text, sizeof(text), "%s: no reply to RCPT TO in time",
		    p->session->peer);
	else
		textf(text, sizeof(text), "backend %s: no session in time "
		    "(%u s)", b->conf.name, prober_conf->timeout_connect +
		    2 * prober_conf->timeout_reply);
	if (p->domain != NULL && p->domain->state == DOMAIN_CHECKING &&
	    !p->internal) {
		/* Do not wait for the catch-all check either. */
		probe_unlink(p);
		domain_unref(b, p->domain);
		p->domain = NULL;
	}
	probe_unknown(p, text);
	backend_maybe_free(b);
}

static int
domain_cmp(struct domain *a, struct domain *b)
{
	return (strcmp(a->name, b->name));
}

static struct domain *
domain_get(struct backend *b, const char *name)
{
	struct domain	 key, *d;
	size_t		 i;

	for (i = 0; name[i] != '\0' && i < sizeof(key.name) - 1; i++)
		key.name[i] = tolower((unsigned char)name[i]);
	key.name[i] = '\0';
	if ((d = RB_FIND(domain_tree, &b->domains, &key)) != NULL)
		return (d);
	if (b->ndomains >= PROBER_DOMAINS_MAX) {
		domain_prune(b, 0);
		if (b->ndomains >= PROBER_DOMAINS_MAX)
			return (NULL);	/* probe without the check */
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal(NULL);
	strlcpy(d->name, key.name, sizeof(d->name));
	TAILQ_INIT(&d->held);
	RB_INSERT(domain_tree, &b->domains, d);
	b->ndomains++;
	return (d);
}

static void
domain_unref(struct backend *b, struct domain *d)
{
	d->refs--;
}

/* all: every domain no probe points at; else only expired ones. */
static void
domain_prune(struct backend *b, int all)
{
	struct domain	*d, *next;
	uint64_t	 now = now_ms();

	for (d = RB_MIN(domain_tree, &b->domains); d != NULL; d = next) {
		next = RB_NEXT(domain_tree, &b->domains, d);
		if (d->refs > 0 || !TAILQ_EMPTY(&d->held))
			continue;
		if (!all && d->state != DOMAIN_NONE && now < d->expires)
			continue;
		RB_REMOVE(domain_tree, &b->domains, d);
		b->ndomains--;
		free(d);
	}
}

/*
 * The random local part was answered.  Accepted: the domain takes any
 * recipient, for the valid lifetime.  Refused: per-address answers mean
 * something, for as long.  Unknown: nothing learnt, check again next time.
 */
static void
domain_detected(struct backend *b, struct domain *d, struct probe_res *res)
{
	struct probe		*p;
	struct probe_res	 r;
	uint64_t		 life = (uint64_t)prober_conf->valid_expire *
	    1000;

	switch (res->verdict) {
	case VERDICT_VALID:
		d->state = DOMAIN_CATCHALL;
		d->expires = now_ms() + life;
		d->code = res->code;
		strlcpy(d->enhanced, res->enhanced, sizeof(d->enhanced));
		textf(d->text, sizeof(d->text), "domain %s accepts any "
		    "recipient", d->name);
		if (!d->logged)
			log_info("backend %s: domain %s accepts any recipient "
			    "(%d %s %s)", b->conf.name, d->name, res->code,
			    res->enhanced, res->text);
		d->logged = 1;
		break;
	case VERDICT_INVALID:
		d->state = DOMAIN_NORMAL;
		d->expires = now_ms() + life;
		if (d->logged)
			log_info("backend %s: domain %s no longer accepts any "
			    "recipient", b->conf.name, d->name);
		d->logged = 0;
		break;
	default:
		d->state = DOMAIN_NONE;
		log_debug("backend %s: catch-all check of %s: %s",
		    b->conf.name, d->name, res->text);
		break;
	}

	while ((p = TAILQ_FIRST(&d->held)) != NULL) {
		r = p->res;
		if (d->state == DOMAIN_CATCHALL)
			r.catchall = 1;
		probe_answer(p, &r);
	}
}

static void
session_new(struct backend *b)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal(NULL);
	s->backend = b;
	s->fd = -1;
	s->state = SS_START;
	TAILQ_INIT(&s->probes);
	evtimer_set(&s->ev_timer, session_timeout, s);
	TAILQ_INSERT_TAIL(&b->sessions, s, entry);
	b->nsessions++;
	/* Connect from the event loop: failures never reach our caller. */
	session_timer_set(s, T_START, 0);
}

/* Try host h, then those after it; hosts in backoff are skipped. */
static void
session_try_host(struct session *s, struct host *h)
{
	struct backend	*b = s->backend;
	uint64_t	 now = now_ms();

	for (; h != NULL; h = TAILQ_NEXT(h, entry)) {
		if (host_in_backoff(h, now))
			continue;
		s->host = h;
		if (h->naddrs == 0) {
			host_resolve(h);
			if (h->query != NULL) {
				s->state = SS_RESOLVE;
				session_timer_set(s, T_RESOLVE,
				    prober_conf->timeout_connect +
				    prober_conf->timeout_reply);
				return;
			}
			if (h->naddrs == 0) {
				host_failed(s, h);
				continue;
			}
		}
		s->addr = 0;
		if (session_connect(s) == 0)
			return;
		host_failed(s, h);
	}
	if (s->error[0] == '\0')
		textf(s->error, sizeof(s->error), "every host of backend %s "
		    "is in backoff", b->conf.name);
	session_fail(s, s->error, 0);
}

/* Connect to the current address or the next ones; -1 if none is left. */
static int
session_connect(struct session *s)
{
	struct host		*h = s->host;
	struct sockaddr_storage	*ss;
	socklen_t		 len;
	int			 one = 1;

	for (; s->addr < h->naddrs; s->addr++) {
		ss = &h->addrs[s->addr];
		resolve_ntop(ss, s->peer, sizeof(s->peer));
		len = ss->ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if ((s->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			textf(h->last_error, sizeof(h->last_error),
			    "socket for %s: %s", s->peer, strerror(errno));
			continue;
		}
		/* Commands go out whole; Nagle would only hold them back. */
		if (setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1)
			log_warn("TCP_NODELAY");
		if (connect(s->fd, (struct sockaddr *)ss, len) == -1 &&
		    errno != EINPROGRESS) {
			textf(h->last_error, sizeof(h->last_error),
			    "connect to %s: %s", s->peer, strerror(errno));
			close(s->fd);
			s->fd = -1;
			continue;
		}
		log_debug("backend %s: connecting to %s", s->backend->conf.name,
		    s->peer);
		s->state = SS_CONNECT;
		event_set(&s->ev_read, s->fd, EV_READ | EV_PERSIST,
		    session_io, s);
		event_set(&s->ev_write, s->fd, EV_WRITE, session_io, s);
		event_add(&s->ev_write, NULL);
		session_timer_set(s, T_CONNECT, prober_conf->timeout_connect);
		return (0);
	}
	return (-1);
}

static void
session_connected(struct session *s)
{
	struct backend	*b = s->backend;
	struct host	*h = s->host;
	socklen_t	 len = sizeof(int);
	int		 error, tls = b->conf.tls;
	char		 text[REPLY_TEXT_LEN];

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error != 0) {
		textf(text, sizeof(text), "connect to %s: %s", s->peer,
		    strerror(error));
		session_connect_failed(s, text);
		return;
	}
	h->backoff_until = 0;

	/* tls yes: after a failed handshake, plaintext for a while. */
	if (tls == TLSMODE_YES && (h->notls_until > now_ms() ||
	    b->tls_config == NULL))
		tls = TLSMODE_NO;
	s->state = SS_SMTP;
	smtp_init(&s->smtp, b->conf.protocol == PROTO_ESMTP, tls, b->helo,
	    b->sender, session_rcpt, s);
	event_add(&s->ev_read, NULL);
	log_debug("backend %s: connected to %s", b->conf.name, s->peer);
	session_update(s);
}

static void
session_connect_failed(struct session *s, const char *text)
{
	struct host	*h = s->host;

	strlcpy(h->last_error, text, sizeof(h->last_error));
	event_del(&s->ev_read);
	event_del(&s->ev_write);
	close(s->fd);
	s->fd = -1;
	s->addr++;
	s->state = SS_START;
	if (session_connect(s) == 0)
		return;
	host_failed(s, h);
	session_try_host(s, TAILQ_NEXT(h, entry));
}

/* Returns -1 when the session is gone. */
static int
session_starttls(struct session *s)
{
	struct backend	*b = s->backend;
	char		 text[REPLY_TEXT_LEN];

	if (b->tls_config == NULL) {
		textf(text, sizeof(text), "STARTTLS with %s: %s", s->peer,
		    b->tls_error);
		session_fail(s, text, 0);
		return (-1);
	}
	if ((s->tls = tls_client()) == NULL)
		fatalx("tls_client");
	if (tls_configure(s->tls, b->tls_config) == -1 ||
	    tls_connect_socket(s->tls, s->fd, s->host->tlsname) == -1) {
		textf(text, sizeof(text), "TLS with %s: %s", s->peer,
		    tls_error(s->tls));
		session_fail(s, text, 0);
		return (-1);
	}
	s->state = SS_HANDSHAKE;
	session_timer_set(s, T_HANDSHAKE, prober_conf->timeout_connect);
	return (session_handshake(s));
}

/* Returns -1 when the session is gone. */
static int
session_handshake(struct session *s)
{
	char		 text[REPLY_TEXT_LEN];

	switch (tls_handshake(s->tls)) {
	case 0:
		log_debug("backend %s: %s with %s", s->backend->conf.name,
		    tls_conn_version(s->tls), s->peer);
		s->state = SS_SMTP;
		evtimer_del(&s->ev_timer);
		s->timer = T_NONE;
		smtp_tls_done(&s->smtp);
		session_update(s);
		return (0);
	case TLS_WANT_POLLIN:
		return (0);
	case TLS_WANT_POLLOUT:
		event_add(&s->ev_write, NULL);
		return (0);
	}
	textf(text, sizeof(text), "TLS handshake with %s: %s", s->peer,
	    tls_error(s->tls));
	session_tls_failed(s, text);
	return (-1);
}

/* tls yes is opportunistic: after a failure the next sessions go without. */
static void
session_tls_failed(struct session *s, char *text)
{
	unsigned int	secs;

	if (s->smtp.tls_want == TLSMODE_YES) {
		secs = prober_conf->backoff > PROBER_NOTLS_MIN ?
		    prober_conf->backoff : PROBER_NOTLS_MIN;
		s->host->notls_until = now_ms() + (uint64_t)secs * 1000;
		s->tls_fallback = 1;
		strlcat(text, "; without TLS for a while", REPLY_TEXT_LEN);
	}
	session_fail(s, text, 0);
}

static void
session_io(int fd, short event, void *arg)
{
	struct session	*s = arg;
	struct backend	*b = s->backend;

	switch (s->state) {
	case SS_CONNECT:
		if (event & EV_WRITE)
			session_connected(s);
		return;
	case SS_HANDSHAKE:
		(void)session_handshake(s);
		return;
	case SS_SMTP:
	case SS_CLOSING:
		break;
	default:
		return;
	}

	if (((event & EV_READ) && !s->write_wants_read) ||
	    ((event & EV_WRITE) && s->read_wants_write)) {
		if (session_read(s) == -1)
			return;
		if (s->state == SS_HANDSHAKE)
			return;
	}
	if ((event & EV_WRITE) || ((event & EV_READ) && s->write_wants_read))
		if (session_write(s) == -1)
			return;
	backend_dispatch(b);
	session_update(s);
}

/* Returns -1 when the session is gone. */
static int
session_read(struct session *s)
{
	char		 buf[8192], text[REPLY_TEXT_LEN];
	ssize_t		 n;
#ifdef TCP_QUICKACK
	int		 one = 1;
#endif

	for (;;) {
		if (s->tls != NULL) {
			n = tls_read(s->tls, buf, sizeof(buf));
			if (n == TLS_WANT_POLLIN)
				break;
			if (n == TLS_WANT_POLLOUT) {
				s->read_wants_write = 1;
				break;
			}
			if (n == -1) {
				textf(text, sizeof(text), "TLS read from "
				    "%s: %s", s->peer, tls_error(s->tls));
				session_fail(s, text, 1);
				return (-1);
			}
		} else if ((n = read(s->fd, buf, sizeof(buf))) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			textf(text, sizeof(text), "read from %s: %s",
			    s->peer, strerror(errno));
			session_fail(s, text, 1);
			return (-1);
		}
		s->read_wants_write = 0;
		if (n == 0) {
			if (s->state == SS_CLOSING ||
			    s->smtp.state == SMTP_ST_QUIT) {
				session_free(s);
				return (-1);
			}
			textf(text, sizeof(text), "%s closed the "
			    "connection%s%s", s->peer, smtp_waiting(&s->smtp) ?
			    " instead of answering " : "",
			    smtp_waiting(&s->smtp) ?
			    smtp_cmd_name(smtp_awaiting(&s->smtp)) : "");
			session_fail(s, text, 1);
			return (-1);
		}
		switch (smtp_feed(&s->smtp, buf, n)) {
		case SMTP_OK:
#ifdef TCP_QUICKACK
			/*
			 * More replies to come: acknowledge this one now.  A
			 * backend that leaves Nagle on holds the next reply
			 * until our delayed ACK (40 ms) when the RCPTs it
			 * answers went out in separate segments.
			 */
			if (smtp_waiting(&s->smtp) && setsockopt(s->fd,
			    IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) == -1)
				log_warn("TCP_QUICKACK");
#endif
			if (s->smtp.state == SMTP_ST_READY && !s->ready_once) {
				s->ready_once = 1;
				s->backend->logged[0] = '\0';
			}
			break;
		case SMTP_STARTTLS:
			return (session_starttls(s));
		case SMTP_CLOSED:
			session_free(s);
			return (-1);
		default:
			textf(text, sizeof(text), "%s: %s", s->peer,
			    s->smtp.errtext);
			if (s->smtp.error == SMTP_ERR_TLS)
				session_tls_failed(s, text);
			else
				session_fail(s, text, 0);
			return (-1);
		}
	}
	return (0);
}

/* Returns -1 when the session is gone. */
static int
session_write(struct session *s)
{
	char		 text[REPLY_TEXT_LEN];
	ssize_t		 n;

	s->write_wants_read = 0;
	while (s->smtp.outlen > 0) {
		if (s->tls != NULL) {
			n = tls_write(s->tls, s->smtp.out, s->smtp.outlen);
			if (n == TLS_WANT_POLLOUT)
				break;
			if (n == TLS_WANT_POLLIN) {
				s->write_wants_read = 1;
				break;
			}
			if (n == -1) {
				textf(text, sizeof(text), "TLS write to "
				    "%s: %s", s->peer, tls_error(s->tls));
				session_fail(s, text, 1);
				return (-1);
			}
		} else if ((n = write(s->fd, s->smtp.out,
		    s->smtp.outlen)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			textf(text, sizeof(text), "write to %s: %s",
			    s->peer, strerror(errno));
			session_fail(s, text, 1);
			return (-1);
		}
		smtp_consume(&s->smtp, n);
	}
	return (0);
}

/* Events and timers for what the session waits for now. */
static void
session_update(struct session *s)
{
	struct backend	*b = s->backend;

	if (s->state != SS_SMTP && s->state != SS_CLOSING)
		return;
	if ((s->smtp.outlen > 0 && !s->write_wants_read) ||
	    s->read_wants_write)
		event_add(&s->ev_write, NULL);

	if (smtp_waiting(&s->smtp)) {
		/* Each reply gets the whole timeout, a drip does not. */
		if (s->timer != T_REPLY ||
		    s->timer_replies != s->smtp.nreplies) {
			s->timer_replies = s->smtp.nreplies;
			session_timer_set(s, T_REPLY,
			    prober_conf->timeout_reply);
		}
	} else if (s->state == SS_SMTP && smtp_idle(&s->smtp)) {
		if (b->retired && TAILQ_EMPTY(&b->queue))
			session_close(s);
		else if (s->timer != T_IDLE)
			session_timer_set(s, T_IDLE, PROBER_IDLE);
	}
}

static void
session_timer_set(struct session *s, enum session_timer t, unsigned int secs)
{
	struct timeval	tv;

	tv.tv_sec = secs;
	tv.tv_usec = 0;
	s->timer = t;
	evtimer_del(&s->ev_timer);
	evtimer_add(&s->ev_timer, &tv);
}

static void
session_timeout(int fd, short event, void *arg)
{
	struct session	*s = arg;
	struct host	*h = s->host;
	enum session_timer t = s->timer;
	char		 text[REPLY_TEXT_LEN];

	s->timer = T_NONE;
	switch (t) {
	case T_START:
		session_try_host(s, TAILQ_FIRST(&s->backend->hosts));
		break;
	case T_RESOLVE:
		textf(h->last_error, sizeof(h->last_error),
		    "cannot resolve %s: timed out", h->name);
		s->state = SS_START;
		host_failed(s, h);
		session_try_host(s, TAILQ_NEXT(h, entry));
		break;
	case T_CONNECT:
		textf(text, sizeof(text), "connect to %s: timed out",
		    s->peer);
		session_connect_failed(s, text);
		break;
	case T_HANDSHAKE:
		textf(text, sizeof(text), "TLS handshake with %s: timed "
		    "out", s->peer);
		session_fail(s, text, 0);
		break;
	case T_REPLY:
		if (s->state == SS_CLOSING) {
			session_free(s);
			break;
		}
		textf(text, sizeof(text), "%s: no %s reply in %u s",
		    s->peer, smtp_cmd_name(smtp_awaiting(&s->smtp)),
		    prober_conf->timeout_reply);
		session_fail(s, text, 0);
		break;
	case T_IDLE:
		session_close(s);
		break;
	case T_NONE:
		break;
	}
}

static void
session_send(struct session *s, struct probe *p)
{
	p->where = PROBE_INFLIGHT;
	p->session = s;
	TAILQ_INSERT_TAIL(&s->probes, p, entry);
	smtp_rcpt(&s->smtp, p->address, p);
	session_update(s);
}

/* smtp.c's callback: the reply to one RCPT. */
static void
session_rcpt(struct smtp *smtp, void *tag, int how,
    const struct smtp_reply *r)
{
	struct session		*s = smtp->arg;
	struct probe		*p = tag;
	struct probe_res	 res;

	s->served++;
	if (p == NULL)
		return;		/* its deadline passed */
	TAILQ_REMOVE(&s->probes, p, entry);
	p->where = PROBE_NOWHERE;
	p->session = NULL;
	if (how == SMTP_RCPT_RETRY) {
		probe_enqueue(p, 1);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.verdict = smtp_verdict(r);
	res.code = r->code;
	strlcpy(res.enhanced, r->enhanced, sizeof(res.enhanced));
	strlcpy(res.text, r->text, sizeof(res.text));
	probe_done(p, &res);
}

/* Politely: QUIT, then close on its reply, EOF or the reply timeout. */
static void
session_close(struct session *s)
{
	if (s->state != SS_SMTP || !smtp_idle(&s->smtp)) {
		session_free(s);
		return;
	}
	log_debug("backend %s: closing idle session to %s",
	    s->backend->conf.name, s->peer);
	smtp_quit(&s->smtp);
	s->state = SS_CLOSING;
	session_update(s);
}

/*
 * The session is unusable.  Its probes in flight are answered unknown,
 * except on a connection that served before and was lost: the backend
 * may have closed it as idle just as we wrote, so they go again, once.
 * A session that never got ready answers the waiting probes when no
 * other session works (the backend is down: no new session per probe);
 * when others work, the backend limits connections itself, and we open
 * no more than those for a while.
 */
static void
session_fail(struct session *s, const char *text, int lost)
{
	struct backend	*b = s->backend;
	struct session	*t;
	struct probe	*p;
	uint64_t	 now = now_ms();
	uint32_t	 working = 0;

	backend_log(b, text);
	while ((p = TAILQ_FIRST(&s->probes)) != NULL) {
		probe_unlink(p);
		if (lost && s->served > 0 && !p->retried) {
			p->retried = 1;
			probe_enqueue(p, 1);
		} else
			probe_unknown(p, text);
	}
	if (!s->ready_once && !s->tls_fallback) {
		TAILQ_FOREACH(t, &b->sessions, entry)
			if (t != s && t->state == SS_SMTP && t->ready_once)
				working++;
		if (working == 0)
			backend_fail_queue(b, text);
		else if (b->cap_until <= now || working < b->cap) {
			/* It has its own limit: stay below it for a while. */
			b->cap = working;
			b->cap_until = now + PROBER_CAP_TIME * 1000;
			log_info("backend %s: %u sessions for %d s (%s)",
			    b->conf.name, working, PROBER_CAP_TIME, text);
		}
	}
	session_free(s);
}

static void
session_free(struct session *s)
{
	struct backend	*b = s->backend;
	struct probe	*p;

	while ((p = TAILQ_FIRST(&s->probes)) != NULL)
		probe_unknown(p, "session closed");
	evtimer_del(&s->ev_timer);
	if (s->fd != -1) {
		event_del(&s->ev_read);
		event_del(&s->ev_write);
		if (s->tls != NULL) {
			(void)tls_close(s->tls);
			tls_free(s->tls);
		}
		close(s->fd);
	}
	TAILQ_REMOVE(&b->sessions, s, entry);
	b->nsessions--;
	free(s);

	backend_dispatch(b);
	backend_maybe_free(b);
}
