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
 * The prober's one resolver: c-ares, driven from the prober's libevent
 * loop (its sockets through ares_sock_state_cb and ares_process_fd, its
 * retransmissions through one timer).  It resolves backend host names
 * (the hosts file first, read once before the sandbox) and asks the
 * questions of the access rules (dnslookup.c).  The name servers come
 * with each configuration from the parent; c-ares opens its sockets
 * through functions of ours, which connect through the prober's one way
 * out (dest.c), where those servers are registered.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ares.h>
#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#include "resolvconf.h"

#define RESOLVE_TRY_MS		1000	/* c-ares doubles it at each round */
#define RESOLVE_TRIES		4	/* 1 + 2 + 4 + 8 s: MAX_DNS_TIMEOUT */
#define RESOLVE_EDNS		1232	/* octets: no fragments (DNS flag day) */

struct resolve_query {
	TAILQ_ENTRY(resolve_query) entry;	/* deferred */
	char			 name[HOSTNAME_LEN];
	uint16_t		 port;
	int			 type;		/* 0: host name, else qtype */
	void			(*cb)(void *, const struct sockaddr_storage *,
				    int, const char *);
	void			(*qcb)(void *, int, const unsigned char *,
				    int);
	void			*arg;
	int			 prefer6;
	int			 starting;	/* inside ares_*() */
	int			 status;	/* ARES_ status of the end */
	struct ares_addrinfo	*ai;
};
TAILQ_HEAD(resolve_queue, resolve_query);

struct resolve_sock {
	LIST_ENTRY(resolve_sock) entry;
	int			 fd;
	struct event		 ev;
};

static void	resolve_sock_state(void *, ares_socket_t, int, int);
static void	resolve_sock_event(int, short, void *);
static void	resolve_timer(int, short, void *);
static void	resolve_timer_update(void);
static void	resolve_go(struct resolve_query *);
static void	resolve_finished(void);
static int	resolve_apply_servers(void);
static void	resolve_switch(int, short, void *);
static void	resolve_host_done(void *, int, int, struct ares_addrinfo *);
static void	resolve_host_finish(struct resolve_query *);
static void	resolve_query_done(void *, int, int, unsigned char *, int);
static void	resolve_late(int, short, void *);
static ares_socket_t resolve_socket(int, int, int, void *);
static int	resolve_close(ares_socket_t, void *);
static int	resolve_connect(ares_socket_t, const struct sockaddr *,
		    ares_socklen_t, void *);
static ares_ssize_t resolve_recvfrom(ares_socket_t, void *, size_t, int,
		    struct sockaddr *, ares_socklen_t *, void *);
static ares_ssize_t resolve_sendv(ares_socket_t, const struct iovec *, int,
		    void *);

static const struct ares_socket_functions resolve_funcs = {
	resolve_socket,
	resolve_close,
	resolve_connect,
	resolve_recvfrom,
	resolve_sendv
};

static ares_channel		 channel;
static struct event		 timer_ev;
static struct event		 switch_ev;	/* new servers, when idle */
static LIST_HEAD(, resolve_sock) socks = LIST_HEAD_INITIALIZER(socks);
static struct hosts		*hosts;
/* The servers c-ares uses, and those it will use once it is idle. */
static struct sockaddr_storage	 servers[MAX_RESOLVERS], wanted[MAX_RESOLVERS];
static int			 nservers, nwanted, servers_changed;
/* c-ares takes new servers only without queries: new ones wait. */
static struct resolve_queue	 deferred = TAILQ_HEAD_INITIALIZER(deferred);
static int			 outstanding;

/*
 * Before the sandbox: c-ares seeds its query ids from /dev/urandom here,
 * and the hosts file is read; afterwards neither could be opened.  The
 * search list and ndots are resolv.conf's as the parent read it at start.
 */
void
resolve_init(struct event_base *base, const struct scamback_conf *conf)
{
	struct ares_options	 o;
	char			 search[HOSTNAME_LEN], *p, *s;
	char			*domains[8];
	int			 ndomains = 0, r;

	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		fatalx("ares_library_init: %s", ares_strerror(r));
	hosts = hosts_load(HOSTS_FILE);

	strlcpy(search, conf->dns_search, sizeof(search));
	for (s = search; ndomains < 8 && (p = strsep(&s, " ")) != NULL;)
		if (*p != '\0')
			domains[ndomains++] = p;

	/*
	 * Every option is set, so that c-ares reads no file of its own:
	 * lookups "b" (DNS only; the hosts file is ours), no sort list,
	 * no server until the configuration gives them.
	 */
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_EDNS;
	o.timeout = RESOLVE_TRY_MS;
	o.tries = RESOLVE_TRIES;
	o.ndots = conf->dns_ndots;
	o.domains = domains;
	o.ndomains = ndomains;
	o.lookups = "b";
	o.sock_state_cb = resolve_sock_state;
	o.nsort = 0;
	o.ednspsz = RESOLVE_EDNS;
	o.nservers = 0;
	if ((r = ares_init_options(&channel, &o, ARES_OPT_FLAGS |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
	    ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_SORTLIST | ARES_OPT_EDNSPSZ | ARES_OPT_SERVERS)) !=
	    ARES_SUCCESS)
		fatalx("ares_init_options: %s", ares_strerror(r));
	ares_set_socket_functions(channel, &resolve_funcs, NULL);
	evtimer_set(&timer_ev, resolve_timer, NULL);
	event_base_set(base, &timer_ev);
	evtimer_set(&switch_ev, resolve_switch, NULL);
	event_base_set(base, &switch_ev);
	resolve_configure(conf);
}

/* The name servers of a configuration; taken once c-ares is idle. */
void
resolve_configure(const struct scamback_conf *conf)
{
	struct resolver_conf	*rc;
	int			 n = 0;

	TAILQ_FOREACH(rc, &conf->resolvers, entry)
		if (n < MAX_RESOLVERS)
			wanted[n++] = rc->ss;
	if (n == 0)
		resolve_literal("127.0.0.1", DEFAULT_DNS_PORT, &wanted[n++]);
	if (n == nservers &&
	    memcmp(wanted, servers, n * sizeof(servers[0])) == 0) {
		servers_changed = 0;
		return;
	}
	nwanted = n;
	servers_changed = 1;
	resolve_switch(-1, 0, NULL);
}

/*
 * c-ares takes new servers only when no query of its own is left, and
 * not from inside its callbacks: the switch happens from the event loop,
 * once every query of ours has ended; queries asked meanwhile wait.
 */
static void
resolve_switch(int fd, short event, void *arg)
{
	struct resolve_query	*q;
	struct timeval		 tv = { 0, 50000 };

	if (!servers_changed || outstanding > 0)
		return;
	if (resolve_apply_servers() == -1) {
		evtimer_add(&switch_ev, &tv);
		return;
	}
	while ((q = TAILQ_FIRST(&deferred)) != NULL) {
		TAILQ_REMOVE(&deferred, q, entry);
		resolve_go(q);
	}
}

static int
resolve_apply_servers(void)
{
	struct ares_addr_port_node	 nodes[MAX_RESOLVERS];
	struct sockaddr_in		*sin;
	struct sockaddr_in6		*sin6;
	char				 buf[HOSTNAME_LEN + 8];
	int				 i, r;

	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < nwanted; i++) {
		nodes[i].next = i + 1 < nwanted ? &nodes[i + 1] : NULL;
		nodes[i].family = wanted[i].ss_family;
		if (wanted[i].ss_family == AF_INET) {
			sin = (struct sockaddr_in *)&wanted[i];
			memcpy(&nodes[i].addr.addr4, &sin->sin_addr,
			    sizeof(sin->sin_addr));
			nodes[i].udp_port = nodes[i].tcp_port =
			    ntohs(sin->sin_port);
		} else {
			sin6 = (struct sockaddr_in6 *)&wanted[i];
			memcpy(&nodes[i].addr.addr6, &sin6->sin6_addr,
			    sizeof(sin6->sin6_addr));
			nodes[i].udp_port = nodes[i].tcp_port =
			    ntohs(sin6->sin6_port);
		}
	}
	if ((r = ares_set_servers_ports(channel, nodes)) == ARES_ENOTIMP)
		return (-1);	/* c-ares still busy */
	if (r != ARES_SUCCESS)
		fatalx("ares_set_servers_ports: %s", ares_strerror(r));
	memcpy(servers, wanted, sizeof(servers));
	nservers = nwanted;
	servers_changed = 0;
	dest_clear(DEST_RESOLVER);
	for (i = 0; i < nservers; i++) {
		if (dest_add(DEST_RESOLVER, (struct sockaddr *)&servers[i],
		    servers[i].ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6)) == -1)
			fatal("dest_add");
		log_debug("dns: name server %s",
		    resolve_ntop(&servers[i], buf, sizeof(buf)));
	}
	return (0);
}

/* A query of ours ended: after the last one new servers may come in. */
static void
resolve_finished(void)
{
	struct timeval	tv = { 0, 0 };

	if (--outstanding == 0 && servers_changed)
		evtimer_add(&switch_ev, &tv);
}

/* Start a query now, or once the new servers are in. */
static void
resolve_go(struct resolve_query *q)
{
	struct ares_addrinfo_hints	 hints;
	char				 serv[8];

	if (servers_changed) {
		TAILQ_INSERT_TAIL(&deferred, q, entry);
		return;
	}
	outstanding++;
	q->starting = 1;
	if (q->type == 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		/* RFC 6724 sorting would connect(2) to each address. */
		hints.ai_flags = ARES_AI_NOSORT | ARES_AI_NUMERICSERV;
		snprintf(serv, sizeof(serv), "%u", q->port);
		ares_getaddrinfo(channel, q->name, serv, &hints,
		    resolve_host_done, q);
	} else
		ares_query(channel, q->name, ns_c_in, q->type,
		    resolve_query_done, q);
	q->starting = 0;
	resolve_timer_update();
}

/*
 * c-ares may call back before ares_*() returns (an error, a number): the
 * caller hears of it from the event loop instead, never from inside its
 * own call.
 */
static void
resolve_late(int fd, short event, void *arg)
{
	struct resolve_query	*q = arg;

	if (q->type == 0) {
		resolve_host_finish(q);
		return;
	}
	if (q->qcb != NULL)
		q->qcb(q->arg, q->status, NULL, 0);
	free(q);
	resolve_finished();
}

static struct resolve_query *
resolve_new(const char *name, void *arg)
{
	struct resolve_query	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal(NULL);
	strlcpy(q->name, name, sizeof(q->name));
	q->arg = arg;
	return (q);
}

/*
 * Resolve a backend's host name to TCP addresses, both families, the
 * preferred one first.  cb(arg, addrs, n, NULL) or cb(arg, NULL, 0,
 * error) runs once: before this returns when the hosts file knows the
 * name (NULL is returned then), else later from the event loop, and this
 * returns a handle for resolve_cancel().
 */
struct resolve_query *
resolve_start(const char *name, uint16_t port, int prefer6,
    void (*cb)(void *, const struct sockaddr_storage *, int, const char *),
    void *arg)
{
	struct resolve_query	*q;
	struct sockaddr_storage	 addrs[RESOLVE_ADDRS_MAX];
	int			 n;

	if ((n = hosts_lookup(hosts, name, port, addrs,
	    RESOLVE_ADDRS_MAX)) > 0) {
		cb(arg, addrs, n, NULL);
		return (NULL);
	}
	q = resolve_new(name, arg);
	q->port = port;
	q->prefer6 = prefer6;
	q->cb = cb;
	resolve_go(q);
	return (q);
}

/* The callback will not run; the query frees itself when c-ares is done. */
void
resolve_cancel(struct resolve_query *q)
{
	q->cb = NULL;
	q->qcb = NULL;
}

/*
 * One question as it is (no search list, no hosts file): cb(arg,
 * status, answer, length) runs once, from the event loop, with an ARES_
 * status and the answer, which may be NULL on a timeout or an
 * unreachable server.
 */
struct resolve_query *
resolve_query(const char *name, int type,
    void (*cb)(void *, int, const unsigned char *, int), void *arg)
{
	struct resolve_query	*q;

	q = resolve_new(name, arg);
	q->type = type;
	q->qcb = cb;
	resolve_go(q);
	return (q);
}

static void
resolve_query_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct resolve_query	*q = arg;
	struct timeval		 now = { 0, 0 };

	if (q->starting) {
		q->status = status;
		if (event_once(-1, EV_TIMEOUT, resolve_late, q, &now) == -1)
			fatalx("event_once");
		return;
	}
	if (q->qcb != NULL && status != ARES_EDESTRUCTION)
		q->qcb(q->arg, status, abuf, alen);
	free(q);
	resolve_finished();
}

static void
resolve_host_done(void *arg, int status, int timeouts,
    struct ares_addrinfo *res)
{
	struct resolve_query	*q = arg;
	struct timeval		 now = { 0, 0 };

	q->status = status;
	q->ai = res;
	if (q->starting) {
		if (event_once(-1, EV_TIMEOUT, resolve_late, q, &now) == -1)
			fatalx("event_once");
		return;
	}
	resolve_host_finish(q);
}

static void
resolve_host_finish(struct resolve_query *q)
{
	struct sockaddr_storage		 addrs[RESOLVE_ADDRS_MAX];
	struct ares_addrinfo		*res = q->ai;
	struct ares_addrinfo_node	*ai;
	int				 n = 0, i, pass, fam, status = q->status;

	if (status == ARES_SUCCESS && res != NULL) {
		/* The preferred family first, each in the resolver's order. */
		for (pass = 0; pass < 2; pass++) {
			fam = (pass == 0) == (q->prefer6 != 0) ?
			    AF_INET6 : AF_INET;
			for (ai = res->nodes; ai != NULL &&
			    n < RESOLVE_ADDRS_MAX; ai = ai->ai_next) {
				if (ai->ai_family != fam ||
				    ai->ai_addrlen > sizeof(addrs[0]))
					continue;
				memset(&addrs[n], 0, sizeof(addrs[n]));
				memcpy(&addrs[n], ai->ai_addr, ai->ai_addrlen);
				for (i = 0; i < n; i++)
					if (memcmp(&addrs[i], &addrs[n],
					    sizeof(addrs[n])) == 0)
						break;
				if (i == n)
					n++;
			}
		}
	}
	if (res != NULL)
		ares_freeaddrinfo(res);

	if (q->cb != NULL && status != ARES_EDESTRUCTION) {
		if (status != ARES_SUCCESS)
			q->cb(q->arg, NULL, 0, ares_strerror(status));
		else if (n == 0)
			q->cb(q->arg, NULL, 0, "no address");
		else
			q->cb(q->arg, addrs, n, NULL);
	}
	free(q);
	resolve_finished();
}

/* c-ares wants to hear about a socket, or no longer. */
static void
resolve_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolve_sock	*s;

	LIST_FOREACH(s, &socks, entry)
		if (s->fd == fd)
			break;
	if (s != NULL)
		event_del(&s->ev);
	if (!readable && !writable) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			fatal(NULL);
		s->fd = fd;
		LIST_INSERT_HEAD(&socks, s, entry);
	}
	event_set(&s->ev, fd, (readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0) | EV_PERSIST, resolve_sock_event, s);
	event_add(&s->ev, NULL);
}

static void
resolve_sock_event(int fd, short events, void *arg)
{
	/* arg may be freed by c-ares's calls: only fd is used. */
	ares_process_fd(channel, (events & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	resolve_timer_update();
}

static void
resolve_timer(int fd, short events, void *arg)
{
	ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolve_timer_update();
}

static void
resolve_timer_update(void)
{
	struct timeval	tv;

	if (ares_timeout(channel, NULL, &tv) == NULL)
		evtimer_del(&timer_ev);
	else
		evtimer_add(&timer_ev, &tv);
}

static ares_socket_t
resolve_socket(int domain, int type, int protocol, void *arg)
{
	return (socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
}

static int
resolve_close(ares_socket_t fd, void *arg)
{
	return (close(fd));
}

/* Through the prober's one way out: only to the name servers. */
static int
resolve_connect(ares_socket_t fd, const struct sockaddr *sa,
    ares_socklen_t len, void *arg)
{
	return (dest_connect(fd, sa, len));
}

static ares_ssize_t
resolve_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	return (recvfrom(fd, buf, len, flags, from, fromlen));
}

static ares_ssize_t
resolve_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *arg)
{
	return (writev(fd, iov, n));
}
