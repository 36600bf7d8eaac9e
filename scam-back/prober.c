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
 * Single-threaded on libevent; it never blocks.  This file is the
 * process: its start, its imsg with the parent and the engine, new
 * configurations and the answers that go back to the engine.  The
 * backends are backend.c's, the probes probe.c's, the sessions
 * session.c's and the SMTP dialogue smtp.c's.
 *
 * A probe waits in its backend's queue until a session can take it.
 * Sessions are opened on demand, at most `sessions' per backend, each
 * trying the backend's hosts in order (skipping those in backoff), and
 * stay open for the next probes until idle for PROBER_IDLE seconds.
 * Every probe has its own deadline, within the engine's wait (SPEC
 * section 6), whatever its session does.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <tls.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#include "dns.h"
#include "policy.h"
#include "printable.h"
#include "sandbox.h"

static void	prober_dispatch_imsg(int, short, void *);
static void	prober_apply(struct scamback_conf *);
static void	prober_request(struct probe_req *);
static void	prober_shared(void *, const struct store_answer *);
static void	prober_start(struct probe *, int);
static void	prober_backends(uint32_t);
static void	prober_store(uint32_t);
static void	prober_flush(uint32_t, struct ctl_filter *);
static void	prober_flush_done(void *, int, uint64_t, const char *);
static void	prober_flushed(const struct ctl_filter *);
static void	prober_prune(int, short, void *);
static void	prober_answer_later(void);
static void	prober_answer_flush(int, short, void *);
static void	prober_dns_answer(const struct dns_res *);
static void	prober_ports(struct scamback_conf *, int);
static void	prober_answer(struct probe_res *);

static struct scamback_conf	*pending_conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_engine;
static struct event		 prune_ev;
static struct event		 answer_ev;	/* answers go out */
static int			 answer_due;

__dead void
prober_main(int debug, int verbose)
{
	struct child_start	 st;
	struct event_base	*base;
	struct timeval		 tv = { 60, 0 };

	log_init(debug, LOG_MAIL);
	/* Chrooted, it cannot reach the log daemon: the parent does. */
	if (!debug)
		log_relay(LOG_SOCK_FILENO);
	log_setverbose(verbose);
	log_procinit(proc_title(PROC_PROBER));
	child_stderr(debug);
	/* At once, so that ps and pgrep know the child before it is ready. */
	setproctitle("%s", proc_title(PROC_PROBER));

	if (imsgbuf_init(&iev_parent.ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev_parent.ibuf);
	child_startup(&iev_parent.ibuf, PROC_PROBER, &st);
	prober_conf = st.conf;

	base = event_init();

	/* Connections go to the backends' hosts (and what dest.c adds). */
	dest_init(backend_has_addr);

	/* Everything that reads a file happens now, before the sandbox. */
	resolve_init(base, prober_conf);
	if (tls_init() == -1)
		fatalx("tls_init");
	ca_preload(prober_conf);
	if (gethostname(local_name, sizeof(local_name)) == -1 ||
	    local_name[0] == '\0')
		strlcpy(local_name, "localhost", sizeof(local_name));

	drop_privileges(PROC_PROBER, prober_conf->user);
	store_init(base, local_name, prober_flushed);

	/* No file after start: Landlock denies what "dns" lets seccomp pass. */
	if (unveil("/", "") == -1)
		fatal("unveil /");
	prober_ports(prober_conf, 1);
	/* A client only: nothing may reach the prober (see dest.c). */
	if (sandbox_net_client() == -1)
		fatal("sandbox_net_client");
	if (pledge("stdio inet dns", NULL) == -1)
		fatal("pledge");

	signal(SIGPIPE, SIG_IGN);
	child_ready(&iev_parent.ibuf, IMSG_PROBER_READY, NULL, 0);
	imsgev_set(&iev_parent, prober_dispatch_imsg, NULL);
	imsgev_init(&iev_engine, st.ipc_fd, prober_dispatch_imsg, NULL);
	event_set(&answer_ev, -1, 0, prober_answer_flush, NULL);
	session_init();
	dnslookup_init(prober_dns_answer);

	probe_init(prober_answer);
	prober_apply(prober_conf);
	evtimer_set(&prune_ev, prober_prune, NULL);
	evtimer_add(&prune_ev, &tv);

	event_dispatch();
	fatalx("event loop ended");
}

/*
 * Every message from the parent and the engine: each type comes from one
 * of them only.  Anything else, or a malformed payload, is a bug or a
 * compromise: fatal.
 */
static void
prober_dispatch_imsg(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct scamback_conf	*old;
	struct probe_req	 req;
	struct dns_req		 dreq;
	struct ctl_filter	 filter;
	ssize_t			 n;
	uint32_t		 hosts;
	char			 name[NAME_LEN];
	int			 from_parent = iev == &iev_parent, v;

	if (!imsgev_read(iev, event)) {
		if (from_parent)
			exit(0);	/* the parent is gone */
		fatalx("lost the milter engine");
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
		case IMSG_RECONF_END:
			if (!from_parent)
				fatalx("configuration from the engine");
			if (config_recv(&pending_conf, &imsg) == 1) {
				old = prober_conf;
				prober_conf = pending_conf;
				pending_conf = NULL;
				prober_ports(prober_conf, 0);
				resolve_configure(prober_conf);
				prober_apply(prober_conf);
				config_free(old);
				log_debug("new configuration applied");
			}
			break;
		case IMSG_STOP:
			if (!from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_STOP");
			exit(0);
		case IMSG_LOG_VERBOSE:
			if (!from_parent ||
			    imsg_get_data(&imsg, &v, sizeof(v)) == -1)
				fatalx("bad IMSG_LOG_VERBOSE");
			log_setverbose(v);
			break;
		case IMSG_PROBE_REQ:
			if (from_parent ||
			    imsg_get_data(&imsg, &req, sizeof(req)) == -1)
				fatalx("bad IMSG_PROBE_REQ");
			req.address[sizeof(req.address) - 1] = '\0';
			req.backend[sizeof(req.backend) - 1] = '\0';
			prober_request(&req);
			break;
		case IMSG_PROBE_BACKENDS:
			if (from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBE_BACKENDS");
			prober_backends(imsg_get_id(&imsg));
			break;
		case IMSG_DNS_REQ:
			if (from_parent ||
			    imsg_get_data(&imsg, &dreq, sizeof(dreq)) == -1)
				fatalx("bad IMSG_DNS_REQ");
			dreq.name[sizeof(dreq.name) - 1] = '\0';
			dnslookup_start(&dreq);
			break;
		case IMSG_PROBE_UNBACKOFF:
			if (from_parent ||
			    imsg_get_data(&imsg, name, sizeof(name)) == -1)
				fatalx("bad IMSG_PROBE_UNBACKOFF");
			name[sizeof(name) - 1] = '\0';
			hosts = backend_unbackoff(name);
			imsgev_compose(&iev_engine, IMSG_PROBE_UNBACKOFF_DONE,
			    imsg_get_id(&imsg), 0, -1, &hosts, sizeof(hosts));
			break;
		case IMSG_PROBE_STORE_REQ:
			if (from_parent || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBE_STORE_REQ");
			prober_store(imsg_get_id(&imsg));
			break;
		case IMSG_PROBE_FLUSH:
			if (from_parent ||
			    imsg_get_data(&imsg, &filter, sizeof(filter)) == -1 ||
			    (filter.state != CTL_STATE_ANY &&
			    filter.state != CTL_STATE_VALID &&
			    filter.state != CTL_STATE_INVALID))
				fatalx("bad IMSG_PROBE_FLUSH");
			filter.match[sizeof(filter.match) - 1] = '\0';
			prober_flush(imsg_get_id(&imsg), &filter);
			break;
		default:
			fatalx("%s: unexpected imsg %u from the %s", __func__,
			    imsg_get_type(&imsg), from_parent ? "parent" :
			    "engine");
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

/*
 * The prober connects to its backends' ports and its name servers' (DNS
 * over TCP) as they were at start, and to 53 for DNS: nothing else, and
 * it binds nothing (where the kernel can confine ports: Landlock ABI >= 4,
 * through compat/).  A reload cannot add a port; say so, its connections
 * fail.
 */
static int
prober_port(uint16_t port, int start)
{
	if (start) {
		if (sandbox_net_connect(port) == -1)
			fatal("sandbox: port %u", port);
		return (1);
	}
	return (sandbox_net_allowed(port));
}

static void
prober_ports(struct scamback_conf *conf, int start)
{
	struct backend_conf	*bc;
	struct host_conf	*hc;
	struct resolver_conf	*rc;
	uint16_t		 port;
	char			 buf[HOSTNAME_LEN + 8];

	/* Even without a backend, "inet" must not mean every port. */
	if (start && sandbox_net_deny() == -1)
		fatal("sandbox_net_deny");
	if (conf->share.type != SHARE_NONE) {
		port = conf->share.port;
		if (start) {
			if (sandbox_net_connect(port) == -1)
				fatal("sandbox: port %u", port);
		} else if (!sandbox_net_allowed(port))
			log_warnx("cache share: port %u: the sandbox allows "
			    "only the ports of the start; restart scam-back "
			    "to share through it", port);
	}
	TAILQ_FOREACH(bc, &conf->backends, entry) {
		TAILQ_FOREACH(hc, &bc->hosts, entry) {
			port = hc->port != 0 ? hc->port : DEFAULT_PORT;
			if (!prober_port(port, start))
				log_warnx("backend %s: host %s port %u: the "
				    "sandbox allows only the ports of the "
				    "backends at start; restart scam-back to "
				    "probe it", bc->name, hc->name, port);
		}
	}
	TAILQ_FOREACH(rc, &conf->resolvers, entry) {
		port = ntohs(((struct sockaddr_in *)&rc->ss)->sin_port);
		if (!prober_port(port, start))
			log_warnx("dns resolver %s: the sandbox allows TCP "
			    "only to the name servers' ports at start; "
			    "restart scam-back for answers over TCP",
			    resolve_ntop(&rc->ss, buf, sizeof(buf)));
	}
}

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
	struct host		*h;
	struct backend_head	 keep = TAILQ_HEAD_INITIALIZER(keep);
	uint32_t		 lock;

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
		/* A backend changed by a reload keeps its figures. */
		if (old != NULL)
			b->fig = old->fig;
		/* Names are looked up now, not when the first probe waits. */
		TAILQ_FOREACH(h, &b->hosts, entry)
			host_resolve(h);
		TAILQ_INSERT_TAIL(&keep, b, entry);
	}
	for (b = TAILQ_FIRST(&backends); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if (!b->retired)
			session_retire(b);
	}
	/* Current backends first, retired ones after them. */
	while ((b = TAILQ_LAST(&keep, backend_head)) != NULL) {
		TAILQ_REMOVE(&keep, b, entry);
		TAILQ_INSERT_HEAD(&backends, b, entry);
	}
	TAILQ_FOREACH(b, &backends, entry)
		if (!b->retired)
			session_dispatch(b);
	/*
	 * A lock lasts as long as a probe may take (probe_new), but never
	 * longer than a RCPT waits for its verdict: a gateway that died
	 * with the lock holds up the others' mail no longer than that.
	 */
	lock = conf->timeout_connect + 2 * conf->timeout_reply;
	if (lock > policy_wait_ms(conf) / 1000)
		lock = policy_wait_ms(conf) / 1000;
	store_configure(&conf->share, lock);
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

/* probe.c's answers go out with the others of this turn. */
static void
prober_answer(struct probe_res *res)
{
	if (imsg_compose(&iev_engine.ibuf, IMSG_PROBE_RES, res->id, 0, -1,
	    res, sizeof(*res)) == -1)
		fatal("%s: imsg_compose", __func__);
	prober_answer_later();
}

/* A DNS answer for the access rules, likewise. */
static void
prober_dns_answer(const struct dns_res *res)
{
	if (imsg_compose(&iev_engine.ibuf, IMSG_DNS_RES, res->id, 0, -1,
	    res, sizeof(*res)) == -1)
		fatal("%s: imsg_compose", __func__);
	prober_answer_later();
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
	struct probe		*p;
	struct domain		*d = NULL;
	struct probe_res	 res;
	const char		*at;
	char			 abuf[ADDR_LEN];

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
		log_warnx("probe %s: %s", printable(req->address, abuf,
		    sizeof(abuf)), res.text);
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

	/*
	 * The shared store before the backend, unless this gateway knows
	 * the domain takes anything; it tells of the domain only when this
	 * gateway knows nothing of it.  A check bypasses it.
	 */
	if (b->conf.catchall == CATCHALL_DETECT && !p->bypass)
		d = domain_get(b, at + 1);
	if (!p->bypass && (d == NULL || d->state != DOMAIN_CATCHALL ||
	    now_ms() >= d->expires) &&
	    (p->lookup = store_lookup(p->address, d != NULL &&
	    (d->state == DOMAIN_NONE || (d->state != DOMAIN_CHECKING &&
	    now_ms() >= d->expires)) ? d->name : NULL, prober_shared,
	    p)) != NULL) {
		p->where = PROBE_SHARED;
		b->nshared++;
		return;
	}
	prober_start(p, 1);
}

/* What the shared store said: a verdict, or whether and how to probe. */
static void
prober_shared(void *arg, const struct store_answer *ans)
{
	struct probe		*p = arg;
	struct backend		*b = p->backend;
	struct domain		*d = NULL;
	struct probe_res	 res;
	const char		*at = strrchr(p->address, '@');
	char			 dbuf[HOSTNAME_LEN];
	uint64_t		 life;
	int			 detect = 1;

	p->lookup = NULL;
	p->where = PROBE_NOWHERE;
	b->nshared--;
	if (b->conf.catchall == CATCHALL_DETECT)
		d = domain_get(b, at + 1);

	switch (ans->outcome) {
	case STORE_HIT:
	case STORE_CATCHALL:
		memset(&res, 0, sizeof(res));
		res.verdict = ans->verdict;
		res.expire = ans->ttl;
		if (ans->outcome == STORE_HIT)
			textf(res.text, sizeof(res.text), "shared store%s",
			    ans->waited ? ", after another gateway's probe" :
			    "");
		else {
			res.catchall = 1;
			textf(res.text, sizeof(res.text), "shared store: "
			    "domain %s accepts any recipient",
			    printable(at + 1, dbuf, sizeof(dbuf)));
			if (d != NULL && d->state != DOMAIN_CHECKING) {
				life = ans->ttl > 0 ? ans->ttl :
				    prober_conf->valid_expire;
				d->state = DOMAIN_CATCHALL;
				d->expires = now_ms() + life * 1000;
				strlcpy(d->text, res.text, sizeof(d->text));
			}
		}
		probe_shared(p, &res);
		backend_maybe_free(b);
		return;
	case STORE_PROBE:
		p->locked = 1;
		if (d != NULL && d->state == DOMAIN_NONE) {
			if (ans->domain == STORE_DOMAIN_NORMAL) {
				life = ans->dttl > 0 ? ans->dttl :
				    prober_conf->valid_expire;
				d->state = DOMAIN_NORMAL;
				d->expires = now_ms() + life * 1000;
			} else if (ans->domain == STORE_DOMAIN_NONE)
				detect = 0;	/* another gateway checks it */
		}
		break;
	case STORE_ALONE:
		break;
	}
	if (b->retired) {
		probe_unknown(p, "backend retired by a reload");
		backend_maybe_free(b);
		return;
	}
	prober_start(p, detect);
}

/*
 * Probe it: at once when the domain is known to take anything; else on
 * the backend, after a catch-all check of its domain when none was made
 * (and detect allows one).
 */
static void
prober_start(struct probe *p, int detect)
{
	struct backend		*b = p->backend;
	struct probe		*det;
	struct domain		*d = NULL;
	struct probe_res	 res;
	const char		*at = strrchr(p->address, '@');
	char			 local[24], abuf[ADDR_LEN], dbuf[ADDR_LEN];
	uint64_t		 now = now_ms();
	size_t			 i;
	static const char	 chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

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
			res.shortcut = 1;
			res.code = d->code;
			strlcpy(res.enhanced, d->enhanced,
			    sizeof(res.enhanced));
			strlcpy(res.text, d->text, sizeof(res.text));
			probe_answer(p, &res);
			return;
		case DOMAIN_NORMAL:
			break;
		case DOMAIN_NONE:
			if (!detect)
				break;
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
			    b->conf.name, printable(d->name, abuf,
			    sizeof(abuf)), printable(det->address, dbuf,
			    sizeof(dbuf)));
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
	session_dispatch(b);
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
	if (prober_conf->share.type != SHARE_NONE)
		prober_store(peerid);
	imsgev_compose(&iev_engine, IMSG_PROBE_BACKENDS_END, peerid, 0, -1,
	    NULL, 0);
}

static void
prober_store(uint32_t peerid)
{
	struct ctl_store	cs;

	store_figures(&cs);
	imsgev_compose(&iev_engine, IMSG_PROBE_STORE, peerid, 0, -1, &cs,
	    sizeof(cs));
}

/* scambackctl flush cache: the store's part; the engine did its own. */
static void
prober_flush(uint32_t peerid, struct ctl_filter *f)
{
	store_flush(f, prober_flush_done, (void *)(uintptr_t)peerid);
}

static void
prober_flush_done(void *arg, int ok, uint64_t count, const char *text)
{
	struct ctl_result	res;

	memset(&res, 0, sizeof(res));
	res.ok = ok;
	res.count = count;
	strlcpy(res.text, text, sizeof(res.text));
	imsgev_compose(&iev_engine, IMSG_PROBE_FLUSH_RESULT,
	    (uint32_t)(uintptr_t)arg, 0, -1, &res, sizeof(res));
}

/* Another gateway flushed its cache and the store: so does the engine. */
static void
prober_flushed(const struct ctl_filter *f)
{
	imsgev_compose(&iev_engine, IMSG_PROBE_FLUSHED, 0, 0, -1, f,
	    sizeof(*f));
}
