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
 * What the prober's files share, and only they: prober.c (the process,
 * its imsg and configuration), session.c (SMTP sessions to the backends,
 * with TLS and I/O), host.c (host names, backoff), probe.c (probes, their
 * deadlines, catch-all detection), backend.c (the state: backends,
 * hosts, CA files), share.c (the cache the gateways share, SPEC
 * section 12) and store.c (its connection to the store); the resolver
 * has its own header, resolve.h.
 */

#ifndef PROBER_H
#define PROBER_H

#include "resolvconf.h"
#include "resolve.h"

#define PROBER_QUEUE_MAX	1024	/* probes waiting, per backend */
#define PROBER_IDLE		5	/* seconds an idle session stays open */
#define PROBER_RESOLVE_EVERY	300	/* seconds between resolutions */
#define PROBER_ADDRS_MAX	RESOLVE_ADDRS_MAX	/* per host name */
#define PROBER_LATENCIES	1024	/* probe times kept for the p99 */
#define PROBER_DOMAINS_MAX	100000	/* catch-all states, per backend */
#define PROBER_CAP_TIME		60	/* seconds below a backend's own
					   connection limit */
#define PROBER_NOTLS_MIN	60	/* tls yes: plaintext after a failed
					   handshake, at least this long */

struct store_lookup;

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
	PROBE_HELD,		/* in domain->held: answer after detection */
	PROBE_SHARED		/* asking the shared store (lookup) */
};

struct probe {
	TAILQ_ENTRY(probe)	 entry;
	enum probe_where	 where;
	struct backend		*backend;
	struct session		*session;
	struct domain		*domain;	/* catch-all detection pending */
	struct store_lookup	*lookup;	/* PROBE_SHARED */
	uint32_t		 id;
	int			 bypass;
	int			 internal;	/* the random local part */
	int			 retried;
	int			 asked;		/* a backend was asked */
	int			 locked;	/* ours in the shared store */
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
	TAILQ_ENTRY(session)	 flush_entry;
	int			 flushing;	/* on the flush queue */
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
	uint32_t		 nshared;	/* probes asking the store */
	uint32_t		 cap;		/* sessions the backend takes */
	uint64_t		 cap_until;	/* ms */
	struct domain_tree	 domains;
	uint32_t		 ndomains;
	int			 retired;
	int			 dispatching;
	struct event		 free_ev;
	char			 logged[REPLY_TEXT_LEN];

	/* show backends; a reload that replaces the backend keeps them */
	struct {
		uint64_t	 probes;
		uint64_t	 valid;
		uint64_t	 invalid;
		uint64_t	 unknown;
		uint64_t	 shortcuts;	/* catch-all: known, not asked */
		uint64_t	 latency_sum;
		uint32_t	 latency[PROBER_LATENCIES];
	}			 fig;
};
TAILQ_HEAD(backend_head, backend);

/*
 * The files call downwards only: prober.c (the process) uses session.c,
 * which uses host.c and probe.c, which use backend.c; each tells the one
 * above through a callback it was given, never by name.
 */

/* session.c: sessions, and the hand-over of queued probes to them */
void	 session_init(void);
void	 session_dispatch(struct backend *);
void	 session_retire(struct backend *);

/* host.c: host names resolved, hosts put in backoff */
void	 host_init(void (*)(struct host *));
void	 host_resolve(struct host *);
void	 host_failed(struct session *, struct host *);

/* probe.c: probes, their deadlines, catch-all detection */
void	 probe_init(void (*)(struct probe_res *));
struct probe *probe_new(struct backend *, uint32_t, const char *);
void	 probe_enqueue(struct probe *, int);
void	 probe_unlink(struct probe *);
void	 probe_done(struct probe *, struct probe_res *);
void	 probe_answer(struct probe *, struct probe_res *);
void	 probe_shared(struct probe *, struct probe_res *);
void	 probe_unknown(struct probe *, const char *);
void	 probe_fail_queue(struct backend *, const char *);

/* backend.c: the prober's state, backends, hosts, catch-all domains */
extern struct scamback_conf	*prober_conf;
extern struct backend_head	 backends;
extern char			 local_name[HOSTNAME_LEN];

uint64_t now_ms(void);
void	 textf(char *, size_t, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));
void	 ca_preload(struct scamback_conf *);
struct backend *backend_new(struct backend_conf *, struct scamback_conf *);
int	 backend_same(struct backend *, struct backend_conf *,
	    struct scamback_conf *);
void	 backend_maybe_free(struct backend *);
int	 backend_usable(struct backend *);
int	 backend_has_addr(const struct sockaddr *, socklen_t);
void	 backend_log(struct backend *, const char *);
uint32_t backend_unbackoff(const char *);
void	 backend_figures(struct backend *, struct ctl_backend *);
int	 host_in_backoff(struct host *, uint64_t);
struct domain *domain_get(struct backend *, const char *);
void	 domain_unref(struct backend *, struct domain *);
void	 domain_prune(struct backend *, int);

/*
 * dest.c: where the prober may connect.  Backend hosts' addresses are
 * allowed as they are (the function dest_init() is given knows them: it
 * is backend.c's); other parts of the prober register the addresses
 * of their own job under a kind (dest_clear() the kind and dest_add()
 * again on a new configuration) and connect through dest_connect(),
 * which fails with EACCES for any other address or port.
 */
enum dest_kind {
	DEST_RESOLVER,		/* name servers */
	DEST_STORE,		/* the shared cache's store */
	DEST_MAX
};
void	 dest_init(int (*)(const struct sockaddr *, socklen_t));
int	 dest_same(const struct sockaddr_storage *, const struct sockaddr *,
	    socklen_t);
void	 dest_clear(enum dest_kind);
int	 dest_add(enum dest_kind, const struct sockaddr *, socklen_t);
int	 dest_allowed(const struct sockaddr *, socklen_t);
int	 dest_connect(int, const struct sockaddr *, socklen_t);

/*
 * share.c, over store.c's connection: verdicts shared with the other
 * gateways through a Redis store.  The prober asks before it probes; the
 * store answers with a verdict, or gives the probe to this gateway (a
 * lock in the store), or makes it wait for the gateway that probes.  A
 * store that is down or slow is left alone for a while: every answer
 * comes within STORE_WAIT_MS.
 */
#define STORE_WAIT_MS		100	/* the longest a verdict waits for it */
#define STORE_FLUSH_MS		2000	/* each step of a flush */
#define STORE_RETRY_MIN		1	/* seconds before trying again, */
#define STORE_RETRY_MAX		30	/* doubled after each failure */

enum store_outcome {
	STORE_ALONE,		/* the store cannot help: probe alone */
	STORE_HIT,		/* a verdict, with ttl seconds left */
	STORE_CATCHALL,		/* the domain takes any recipient: valid */
	STORE_PROBE		/* ours to probe: the lock is ours */
};

/* What a STORE_PROBE answer says of the address's domain. */
enum store_domain {
	STORE_DOMAIN_NONE,	/* not asked, or another gateway checks it */
	STORE_DOMAIN_DETECT,	/* ours to check for a catch-all */
	STORE_DOMAIN_NORMAL	/* checked: not a catch-all, for dttl s */
};

struct store_answer {
	enum store_outcome	 outcome;
	enum verdict		 verdict;	/* STORE_HIT */
	uint32_t		 ttl;		/* seconds left; 0: no expiry */
	enum store_domain	 domain;	/* STORE_PROBE */
	uint32_t		 dttl;
	int			 waited;	/* for another gateway's probe */
};

/*
 * The event loop, a name for this gateway in the store's locks, and the
 * function that flushes the local cache when another gateway flushed.
 */
void	 store_init(struct event_base *, const char *,
	    void (*)(const struct ctl_filter *));

/* A configuration: connects, reconnects or closes as it changed. */
void	 store_configure(const struct share_conf *, uint32_t);

/*
 * Look an address up; domain (lowercase) when its catch-all state is
 * wanted, else NULL.  Returns NULL when the store cannot answer now:
 * probe alone.  Otherwise done() comes later from the event loop, once.
 */
struct store_lookup *store_lookup(const char *, const char *,
	    void (*)(void *, const struct store_answer *), void *);
void	 store_cancel(struct store_lookup *);	/* done() will not come */

/*
 * A probe's verdict: valid and invalid are stored for lifetime seconds;
 * any verdict releases this gateway's lock so that the others stop
 * waiting.  A domain's catch-all check likewise.
 */
void	 store_verdict(const char *, enum verdict, uint32_t);
void	 store_domain(const char *, enum verdict, uint32_t);

/*
 * scambackctl flush cache: remove the entries from the store and tell
 * the other gateways.  done(arg, ok, count, text) comes from the loop.
 */
void	 store_flush(const struct ctl_filter *,
	    void (*)(void *, int, uint64_t, const char *), void *);

void	 store_figures(struct ctl_store *);

/*
 * store.c, for share.c: the connection, its commands with their
 * deadlines (fn gets the reply, or NULL once the store failed) and the
 * store failing.  Keys are prefix + kind + ':' + name.
 */
#define STORE_KEY_LEN		(SHARE_PREFIX_LEN + 16 + ADDR_LEN)

struct store_cmd;
struct redisReply;

int	 store_configured(void);	/* a store is configured */
int	 store_usable(void);		/* and may be asked now */
struct store_cmd *store_send(uint32_t, void (*)(void *, struct redisReply *),
	    void *, int, const char **);
struct store_cmd *store_publish(const struct ctl_filter *,
	    void (*)(void *, struct redisReply *), void *);
void	 store_forget(struct store_cmd *);	/* fn gets arg NULL */
void	 store_fail(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 store_checked(void *, struct redisReply *);
void	 store_key(char *, const char *, const char *);
const char *store_owner(void);
uint32_t store_lock_ms(void);
uint64_t store_now_us(void);
void	 store_link_figures(struct ctl_store *);

#endif /* PROBER_H */
