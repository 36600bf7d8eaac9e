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

#ifndef SCAMBACK_H
#define SCAMBACK_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <imsg.h>

#define SCAMBACK_CONF		"/etc/scam-back.conf"
#define SCAMBACK_SOCKET		"/var/run/scam-back.sock"
#define SCAMBACK_USER		"_scamback"
#define SCAMBACK_LISTEN		"unix:/var/spool/scam/scam-back.sock"
#define SCAMBACK_CACHEFILE	"/var/db/scam-back/cache"

/* The fd a child finds its socketpair to the parent on. */
#define PARENT_SOCK_FILENO	3
#define LOG_SOCK_FILENO		4	/* a child's log lines, to the parent */

#define NAME_LEN		64	/* backend names, daemon names */
#define HOSTNAME_LEN		256	/* host and domain names */
#define ADDR_LEN		256	/* addresses: 254 octets + NUL, rounded */
#define REPLY_TEXT_LEN		256	/* backend reply text kept for show/check */
#define SPEC_LEN		(PATH_MAX + 32)	/* libmilter connection spec */

/* Defaults of SPEC section 5. */
#define DEFAULT_VALID_EXPIRE	(24 * 60 * 60)
#define DEFAULT_INVALID_EXPIRE	(50 * 60)
#define DEFAULT_SAVE_INTERVAL	(5 * 60)
#define DEFAULT_CACHE_SIZE	1000000
#define DEFAULT_TIMEOUT_CONNECT	2
#define DEFAULT_TIMEOUT_REPLY	3
#define DEFAULT_BACKOFF		60
#define DEFAULT_DNS_TIMEOUT	5
#define DEFAULT_DNS_PORT	53
#define DEFAULT_SESSIONS	10
#define DEFAULT_PORT		25
#define DEFAULT_LISTEN_MODE	0660
#define DEFAULT_SHARE_PORT	6379
#define DEFAULT_SHARE_PREFIX	"scam-back:"
#define DEFAULT_SAVE_SIZE	8192
#define DEFAULT_SAVE_MAX_FILES	1000

enum scamback_proc {
	PROC_PARENT,
	PROC_ENGINE,
	PROC_PROBER,
	PROC_MAX
};

/*
 * Every message between the processes and on the control socket.  Names say
 * who talks to whom: PARENT_*, ENGINE_*, PROBE_* between processes, CTL_* on
 * the control socket (scambackctl <-> engine), RECONF_* carry a
 * configuration from the parent to both children.
 */
enum imsg_type {
	IMSG_NONE,

	/* parent -> children: configuration, in this order */
	IMSG_RECONF_CONF,		/* struct scamback_conf (lists empty) */
	IMSG_RECONF_LISTEN,		/* struct listen_conf */
	IMSG_RECONF_BACKEND,		/* struct backend_conf */
	IMSG_RECONF_HOST,		/* struct host_conf, of the last backend */
	IMSG_RECONF_DOMAIN,		/* struct domain_conf */
	IMSG_RECONF_SKIP_FROM,		/* struct skip_net */
	IMSG_RECONF_SKIP_DAEMON,	/* struct skip_daemon */
	IMSG_RECONF_TABLE,		/* struct table_conf */
	IMSG_RECONF_RESOLVER,		/* struct resolver_conf */
	IMSG_RECONF_ATABLE,		/* struct atable_conf (rules.h) */
	IMSG_RECONF_AENTRY,		/* flags, key, NUL, value, NUL: of
					   the last access table */
	IMSG_RECONF_RULE,		/* struct rule_conf (rules.h) */
	IMSG_RECONF_END,		/* none: apply */

	/* parent -> children */
	IMSG_SOCKET_IPC,		/* fd: the engine <-> prober socketpair */
	IMSG_CONTROL_FD,		/* fd: the listening control socket */
	IMSG_START,			/* none: privileges dropped, go */
	IMSG_STOP,			/* none: stop */
	IMSG_LOG_VERBOSE,		/* int: new verbosity */

	/* cache file: parent <-> engine */
	IMSG_CACHE_LOAD,		/* parent -> engine, fd to read (-1: none) */
	IMSG_CACHE_SAVE_REQ,		/* engine -> parent: open a temp file */
	IMSG_CACHE_SAVE_FD,		/* parent -> engine, fd to write (-1: failed) */
	IMSG_CACHE_SAVE_DONE,		/* engine -> parent, struct cache_save_done */
	IMSG_CACHE_SAVE_RESULT,		/* parent -> engine, struct ctl_result */

	/* messages a save rule keeps: engine -> parent */
	IMSG_SAVE_START,		/* struct save_hdr */
	IMSG_SAVE_DATA,			/* the message's octets, in pieces */
	IMSG_SAVE_END,			/* none */

	/* reload requested over the control socket: engine <-> parent */
	IMSG_RELOAD_REQ,		/* engine -> parent */
	IMSG_RELOAD_RESULT,		/* parent -> engine, struct ctl_result */

	/* engine <-> prober */
	IMSG_PROBE_REQ,			/* struct probe_req */
	IMSG_PROBE_RES,			/* struct probe_res */
	IMSG_PROBE_BACKENDS,		/* engine -> prober: send backend figures */
	IMSG_PROBE_BACKEND,		/* prober -> engine, struct ctl_backend */
	IMSG_PROBE_BACKENDS_END,	/* prober -> engine */
	IMSG_DNS_REQ,			/* engine -> prober, struct dns_req */
	IMSG_DNS_RES,			/* prober -> engine, struct dns_res */
	IMSG_PROBE_UNBACKOFF,		/* engine -> prober: char[NAME_LEN] */
	IMSG_PROBE_UNBACKOFF_DONE,	/* prober -> engine: uint32_t hosts */
	IMSG_PROBE_STORE_REQ,		/* engine -> prober: store figures */
	IMSG_PROBE_STORE,		/* prober -> engine, struct ctl_store */
	IMSG_PROBE_FLUSH,		/* engine -> prober, struct ctl_filter */
	IMSG_PROBE_FLUSH_RESULT,	/* prober -> engine, struct ctl_result */
	IMSG_PROBE_FLUSHED,		/* prober -> engine, struct ctl_filter:
					   another gateway flushed */

	/* scambackctl <-> engine */
	IMSG_CTL_SHOW_CACHE,		/* struct ctl_filter */
	IMSG_CTL_SHOW_BACKENDS,
	IMSG_CTL_SHOW_STATS,
	IMSG_CTL_FLUSH_CACHE,		/* struct ctl_filter */
	IMSG_CTL_FLUSH_BACKOFF,		/* char[NAME_LEN]: "" every backend */
	IMSG_CTL_SAVE_CACHE,
	IMSG_CTL_CHECK,			/* struct ctl_filter (address) */
	IMSG_CTL_RELOAD,
	IMSG_CTL_LOG_VERBOSE,		/* int */
	IMSG_CTL_CACHE_ENTRY,		/* struct ctl_cache_entry */
	IMSG_CTL_BACKEND,		/* struct ctl_backend */
	IMSG_CTL_STATS,			/* struct ctl_stats */
	IMSG_CTL_CHECK_RESULT,		/* struct ctl_check */
	IMSG_CTL_STORE,			/* struct ctl_store */
	IMSG_CTL_SHOW_RULES,
	IMSG_CTL_CHECK_RULES,		/* struct ctl_check_rules */
	IMSG_CTL_RULE,			/* struct ctl_rule, one a rule */
	IMSG_CTL_RULES_RESULT,		/* struct ctl_rules_result */
	IMSG_CTL_RESULT,		/* struct ctl_result */
	IMSG_CTL_END,

	/* children -> parent: started, the parent may detach */
	IMSG_MILTER_READY,		/* struct milter_ready: it listens */
	IMSG_PROBER_READY,		/* none */

	/* a prober restarted by a reload */
	IMSG_PROBER_SWITCHED,		/* engine -> parent: the old one may go */
	IMSG_SPAWN_LOG,			/* parent -> spawner, fd: its log socket */
	IMSG_SPAWN,			/* parent -> spawner, int proc, fd */
	IMSG_SPAWNED			/* spawner -> parent, pid_t (-1: failed) */
};

/*
 * The milter socket listens.  For a unix socket, the inode the engine
 * created: the parent removes the path at a clean stop only while it is
 * still this socket, not a later daemon's.  Zero for TCP.
 */
struct milter_ready {
	uint64_t		 dev;
	uint64_t		 ino;
};

/* sockfile.c: a unix socket on its way into place */
struct sockplace {
	const char		*what;		/* for messages */
	char			 path[PATH_MAX];	/* where it goes */
	char			 dir[PATH_MAX];	/* private, beside it, or "" */
	char			 tmp[PATH_MAX];	/* bind here */
	char			 name[NAME_MAX + 1];	/* of tmp, in dfd */
	int			 dfd;		/* tmp's directory */
};
struct stat;
int	sock_prepare(struct sockplace *, const char *, const char *);
int	sock_place(struct sockplace *, uid_t, gid_t, mode_t, struct stat *);
void	sock_abort(struct sockplace *);
void	sock_remove(const char *, uint64_t, uint64_t, const char *);

/*
 * Configuration.  The structs travel as imsg payloads (the list pointers
 * are meaningless on the other side and are reset there), so they hold
 * fixed-size arrays, not pointers.
 */
enum listen_family {
	LISTEN_UNIX,
	LISTEN_INET,
	LISTEN_INET6
};

struct listen_conf {
	char			 spec[SPEC_LEN];	/* libmilter spec as written */
	enum listen_family	 family;
	char			 path[PATH_MAX];	/* LISTEN_UNIX */
	char			 owner[NAME_LEN];	/* "" when not given */
	char			 group[NAME_LEN];
	mode_t			 mode;
	int			 mode_set;
};

enum probe_protocol {
	PROTO_ESMTP,
	PROTO_SMTP
};

enum tls_mode {
	TLSMODE_NO,
	TLSMODE_YES,
	TLSMODE_REQUIRE
};

enum catchall_mode {
	CATCHALL_IGNORE,
	CATCHALL_DETECT
};

struct host_conf {
	TAILQ_ENTRY(host_conf)	 entry;
	char			 name[HOSTNAME_LEN];	/* literal or DNS name */
	uint16_t		 port;
};
TAILQ_HEAD(host_list, host_conf);

struct backend_conf {
	TAILQ_ENTRY(backend_conf) entry;
	struct host_list	 hosts;
	char			 name[NAME_LEN];
	uint32_t		 id;			/* index, 0 .. n-1 */
	enum probe_protocol	 protocol;
	enum tls_mode		 tls;
	char			 tls_ca[PATH_MAX];	/* "" for the default */
	int			 tls_noverify;
	uint32_t		 sessions;
	enum catchall_mode	 catchall;
	uint32_t		 table;			/* 0: written by hand, else
							   the table_conf id + 1 */
};
TAILQ_HEAD(backend_list, backend_conf);

enum domain_match {
	DOMAIN_EXACT,
	DOMAIN_SUBDOMAINS,	/* the domain and every subdomain */
	DOMAIN_ALL
};

struct domain_conf {
	TAILQ_ENTRY(domain_conf) entry;
	char			 name[HOSTNAME_LEN];	/* lowercase; "" for all */
	enum domain_match	 match;
	char			 backend[NAME_LEN];
	uint32_t		 backend_id;
	uint32_t		 table;			/* as in backend_conf */
};
TAILQ_HEAD(domain_list, domain_conf);

struct skip_net {
	TAILQ_ENTRY(skip_net)	 entry;
	int			 af;			/* AF_INET, AF_INET6 */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}			 addr;
	uint8_t			 prefixlen;
};
TAILQ_HEAD(skip_net_list, skip_net);

struct skip_daemon {
	TAILQ_ENTRY(skip_daemon) entry;
	char			 name[NAME_LEN];
};
TAILQ_HEAD(skip_daemon_list, skip_daemon);

enum table_type {
	TABLE_MAILERTABLE,
	TABLE_TRANSPORT
};

/* A mailertable or transport file whose entries became backends/domains. */
struct table_conf {
	TAILQ_ENTRY(table_conf)	 entry;
	enum table_type		 type;
	char			 path[PATH_MAX];
	uint32_t		 id;
};
TAILQ_HEAD(table_list, table_conf);

/* cache share (SPEC section 12): verdicts shared through a Redis store. */
enum share_type {
	SHARE_NONE,
	SHARE_REDIS
};

#define SHARE_PASSWORD_LEN	128
#define SHARE_PREFIX_LEN	64

struct share_conf {
	enum share_type		 type;
	char			 address[HOSTNAME_LEN];	/* an address literal */
	uint16_t		 port;
	char			 password[SHARE_PASSWORD_LEN];	/* "": no AUTH */
	char			 prefix[SHARE_PREFIX_LEN];
};
/* Access tables and rules (SPEC section 11): rules.h has the structs. */
TAILQ_HEAD(atable_list, atable_conf);
TAILQ_HEAD(rule_list, rule_conf);

enum prefer_family {
	PREFER_INET,
	PREFER_INET6
};

enum unreachable_policy {
	UNREACHABLE_ACCEPT,
	UNREACHABLE_TEMPFAIL
};

enum invalid_action {
	INVALID_REJECT,
	INVALID_DISCARD
};

/*
 * A name server: "dns resolver" in the configuration, else one of
 * /etc/resolv.conf's (system), as the parent read it at start or reload.
 */
struct resolver_conf {
	TAILQ_ENTRY(resolver_conf) entry;
	struct sockaddr_storage	 ss;			/* address and port */
	int			 system;
};
TAILQ_HEAD(resolver_list, resolver_conf);

/* What a rule that needs DNS does when the lookup fails for now. */
enum dns_failure {
	DNS_FAILURE_TEMPFAIL,
	DNS_FAILURE_ACCEPT
};

struct scamback_conf {
	struct listen_conf	 listen;
	char			 user[NAME_LEN];
	char			 hostname[HOSTNAME_LEN];	/* "" : gethostname() */
	char			 probe_sender[ADDR_LEN];	/* "" : <> */

	char			 cache_file[PATH_MAX];		/* "" : none */
	uint32_t		 valid_expire;			/* seconds */
	uint32_t		 invalid_expire;
	uint32_t		 save_interval;			/* 0: off */
	uint32_t		 cache_size;			/* entries */

	uint32_t		 timeout_connect;		/* seconds */
	uint32_t		 timeout_reply;
	uint32_t		 backoff;			/* 0: off */
	enum prefer_family	 prefer;
	enum unreachable_policy	 unreachable;
	enum invalid_action	 invalid;

	uint32_t		 dns_timeout;			/* seconds */
	enum dns_failure	 dns_failure;
	uint32_t		 dns_ndots;			/* resolv.conf */
	char			 dns_search[HOSTNAME_LEN];	/* resolv.conf:
							   "a.example b.example" */

	int			 skip_authenticated;
	int			 skip_local;
	int			 skip_daemon_set;	/* 0: default list applies */

	struct share_conf	 share;
	int			 rules_dryrun;
	int			 rules_flags;	/* RF_*, the receiver's */
	char			*save_dir;	/* the parent's; NULL: none
						   (an imsg holds no more) */
	uint32_t		 save_size;		/* octets */
	uint32_t		 save_max_files;

	struct backend_list	 backends;
	struct domain_list	 domains;
	struct skip_net_list	 skip_from;
	struct skip_daemon_list	 skip_daemons;
	struct table_list	 tables;
	struct resolver_list	 resolvers;
	struct atable_list	 atables;
	struct rule_list	 rules;
};

/*
 * Verdicts (SPEC section 6).  UNKNOWN is never cached as invalid and never
 * becomes a 5xx.
 */
enum verdict {
	VERDICT_UNKNOWN,
	VERDICT_VALID,
	VERDICT_INVALID
};

/* engine -> prober */
struct probe_req {
	uint32_t		 id;
	uint32_t		 backend_id;
	int			 bypass;		/* ctl check: no catch-all shortcut */
	char			 address[ADDR_LEN];	/* normalised */
	char			 backend[NAME_LEN];	/* "": by backend_id; else by
							   name, safe across reloads */
};

/* prober -> engine */
struct probe_res {
	uint32_t		 id;
	enum verdict		 verdict;
	int			 code;			/* SMTP reply code, 0: none */
	int			 catchall;		/* domain accepts anything */
	int			 shortcut;		/* so known: no RCPT asked */
	int			 shared;		/* from the shared store */
	uint32_t		 expire;		/* seconds to cache it;
							   0: the configured */
	char			 enhanced[16];		/* "5.1.1" or "" */
	char			 text[REPLY_TEXT_LEN];	/* reply or error text */
};

/* The start of a refused message a save rule keeps (engine -> parent). */
struct save_hdr {
	uint32_t		 rule;
	uint32_t		 len;			/* octets to come */
	char			 sender[ADDR_LEN];
	char			 rcpt[ADDR_LEN];
	char			 client[INET6_ADDRSTRLEN];
};

/* Control socket payloads. */
enum ctl_state_filter {
	CTL_STATE_ANY,
	CTL_STATE_VALID,
	CTL_STATE_INVALID
};

struct ctl_filter {
	enum ctl_state_filter	 state;
	char			 match[ADDR_LEN];	/* "", "addr" or "@domain" */
};

struct ctl_cache_entry {
	char			 address[ADDR_LEN];
	enum verdict		 state;
	int64_t			 expires;		/* UNIX time */
	uint32_t		 hits;
};

struct ctl_result {
	int			 ok;			/* 1 success, 0 failure */
	uint64_t		 count;			/* entries affected */
	char			 text[1024];		/* message or errors */
};

struct ctl_check {
	char			 address[ADDR_LEN];
	char			 backend[NAME_LEN];
	struct probe_res	 res;
	uint32_t		 elapsed_ms;
};

/* scambackctl check rules: a made-up session. */
struct ctl_check_rules {
	char			 client[INET6_ADDRSTRLEN];
	char			 name[HOSTNAME_LEN];	/* "" : not given */
	int			 unknown;		/* name unknown */
	char			 helo[HOSTNAME_LEN];	/* "" : not given */
	char			 sender[ADDR_LEN];	/* "" : <> or none */
	int			 sender_set;
	char			 rcpt[ADDR_LEN];
};

#define CTL_RULE_LEN		1024	/* a rule as -nv prints it */

/* scambackctl show rules: one rule and its counters. */
struct ctl_rule {
	uint32_t		 nr;
	int			 dryrun;
	uint64_t		 evaluations;
	uint64_t		 matches;
	uint64_t		 refused;
	uint64_t		 deferred;
	int64_t			 last;			/* UNIX time, 0 never */
	char			 text[CTL_RULE_LEN];
};

/* What the rules decide for a check rules session. */
struct ctl_rules_result {
	uint32_t		 nr;			/* 0: no rule decides */
	char			 verdict[16];		/* pass reject defer
							   disconnect none */
	int			 noverify;
	int			 dryrun;
	uint32_t		 permanent;		/* set permanent rule */
	char			 rule[CTL_RULE_LEN];
	char			 reply[512];
	char			 value[256];
	char			 note[256];
};

enum host_state {
	HOST_UP,
	HOST_BACKOFF,
	HOST_UNRESOLVED
};

struct ctl_host {
	char			 name[HOSTNAME_LEN];
	uint16_t		 port;
	enum host_state		 state;
	int64_t			 backoff_until;		/* UNIX time */
	char			 last_error[REPLY_TEXT_LEN];
};

#define CTL_MAX_HOSTS		8

struct ctl_backend {
	char			 name[NAME_LEN];
	uint32_t		 nhosts;
	struct ctl_host		 hosts[CTL_MAX_HOSTS];
	uint32_t		 sessions_open;
	uint32_t		 sessions_idle;
	uint32_t		 sessions_limit;
	uint32_t		 queued;
	uint64_t		 probes;
	uint64_t		 valid;
	uint64_t		 invalid;
	uint64_t		 unknown;
	uint64_t		 shortcuts;		/* catch-all, no probe */
	uint32_t		 latency_mean_ms;
	uint32_t		 latency_p99_ms;
};

struct ctl_stats {
	int64_t			 started;		/* UNIX time */
	uint64_t		 cache_entries;
	uint64_t		 cache_size;
	uint64_t		 lookups;
	uint64_t		 hits_valid;
	uint64_t		 hits_invalid;
	uint64_t		 misses;
	uint64_t		 probes;
	uint64_t		 catchall;		/* shortcuts, no probe */
	uint64_t		 coalesced;
	uint64_t		 verdict_valid;
	uint64_t		 verdict_invalid;
	uint64_t		 verdict_unknown;
	uint64_t		 skip_from;
	uint64_t		 skip_local;
	uint64_t		 skip_daemon;
	uint64_t		 skip_auth;
	uint64_t		 skip_nodomain;
	uint64_t		 skip_unmatched;
	uint64_t		 skip_bad_address;
	uint64_t		 impossible;		/* refused, 5.1.3 */
	uint64_t		 waits_timed_out;
	uint64_t		 cache_saves;
	int64_t			 cache_saved_at;
	uint64_t		 probes_pending;	/* in flight now */
	uint64_t		 dns_lookups;		/* the rules' questions */
	uint64_t		 dns_hits;		/* answered by the cache */
	uint64_t		 dns_merged;		/* joined one in flight */
	uint64_t		 dns_queries;		/* sent to the prober */
	uint64_t		 dns_tempfail;		/* failed for now */
	uint64_t		 dns_timed_out;		/* waits that ended first */
	uint64_t		 dns_answers;		/* kept now */
};

enum store_state {
	STORE_NONE,		/* no cache share */
	STORE_CONNECTING,
	STORE_UP,
	STORE_DOWN		/* working alone, trying again later */
};

/* The shared store as the prober sees it: show stats, show backends. */
struct ctl_store {
	char			 address[HOSTNAME_LEN];
	uint16_t		 port;
	char			 prefix[SHARE_PREFIX_LEN];
	enum store_state	 state;
	int64_t			 since;			/* UNIX time of the change */
	int64_t			 retry_at;		/* STORE_DOWN: next try */
	char			 last_error[REPLY_TEXT_LEN];
	uint64_t		 lookups;
	uint64_t		 hits;			/* verdicts of the store */
	uint64_t		 catchall_hits;		/* domains known catch-all */
	uint64_t		 misses;		/* ours to probe */
	uint64_t		 lock_waits;		/* waited for another gateway */
	uint64_t		 alone;			/* the store could not answer */
	uint64_t		 stored;
	uint64_t		 flushed;
	uint64_t		 errors;
	uint32_t		 rtt_mean_us;		/* lookups' round trips */
	uint32_t		 rtt_p99_us;
};

/* config.c */
struct scamback_conf	*config_new(void);
void			 config_free(struct scamback_conf *);
void			 config_clear_lists(struct scamback_conf *);
int			 config_send(struct imsgbuf *, struct scamback_conf *,
			    int);
int			 config_recv(struct scamback_conf **, struct imsg *);
const char		*config_sender(const struct scamback_conf *);
FILE			*config_fopen(const char *, const char **);
int			 config_cache_path(const char *, const char **);
struct backend_conf	*config_backend_byname(struct scamback_conf *,
			    const char *);
struct backend_conf	*config_backend_byid(struct scamback_conf *, uint32_t);
struct backend_conf	*config_backend_new(const char *);
void			 config_backend_free(struct backend_conf *);
struct domain_conf	*config_domain_find(struct scamback_conf *,
			    const char *, enum domain_match);
int			 config_domains_equal(struct scamback_conf *,
			    struct scamback_conf *);
int			 config_resolvers_equal(struct scamback_conf *,
			    struct scamback_conf *);

/* parse.y */
#define SCAMBACK_OPT_VERBOSE	0x01
#define SCAMBACK_OPT_NOACTION	0x02	/* -n: no user, group or DNS checks */
#define MAX_EXPIRE		(365 * 24 * 60 * 60)
#define MAX_TIMEOUT		60
#define MAX_BACKOFF		(24 * 60 * 60)
#define MAX_SESSIONS		1000
#define MAX_CACHE_SIZE		100000000
#define MAX_DNS_TIMEOUT		15
#define MAX_RESOLVERS		8
#define MAX_SAVE_SIZE		(1024 * 1024)
#define MAX_SAVE_FILES		1000000
struct scamback_conf	*parse_config(const char *, int);
int			 cmdline_symset(char *);
const char		*parse_readfile(size_t);

/* util.c: what parse.y, maptable.c and legacy.c share */
void			 conf_begin(int);
void			 conf_capture(char *, size_t);
int			 conf_errors(void);
void			 conf_vmsg(const char *, int, const char *,
			    const char *, va_list);
void			 conf_error(const char *, int, const char *, ...)
			    __attribute__((__format__ (printf, 3, 4)));
void			 conf_warn(const char *, int, const char *, ...)
			    __attribute__((__format__ (printf, 3, 4)));
int			 conf_verbose(void);
int			 parse_time(const char *, uint32_t *);
int			 parse_cidr(const char *, struct skip_net *);
int			 parse_domain(const char *, char *, size_t);
int			 parse_sender(const char *, char *, size_t);
int			 valid_hostname(const char *);
int			 valid_host(const char *);
char			*trim(char *);

/* maptable.c: mailertable and transport files */
int			 maptable_load(struct scamback_conf *,
			    struct table_conf *, const char **);

/* legacy.c: scam-back -m */
int			 legacy_convert(const char *, int, char **);

/* migrate.c: scam-back -m for Obtuse smtpd and smap access controls */
int			 migrate_convert(const char *, int, char **);

/* printconf.c */
void			 print_config(struct scamback_conf *);
void			 print_access(struct scamback_conf *, int);

/* An imsg channel driven by libevent, as in bgpd and ntpd. */
struct imsgev {
	struct imsgbuf		 ibuf;
	struct event		 ev;
	void			(*handler)(int, short, void *);
	void			*data;
	short			 events;
};

/* What a child receives from the parent before IMSG_START. */
struct child_start {
	struct scamback_conf	*conf;
	int			 ipc_fd;	/* to the other child */
	int			 control_fd;	/* engine: control socket */
	int			 cache_fd;	/* engine: cache file, or -1 */
};

/* privsep.c */
pid_t			 start_child(enum scamback_proc, const char *, int, int, int,
			    int);
void			 drop_privileges(enum scamback_proc, const char *);
__dead void		 exec_child(enum scamback_proc, const char *, int, int,
			    int, int);
const char		*proc_title(enum scamback_proc);
const char		*child_status(int, char *, size_t);
void			 imsgev_init(struct imsgev *, int,
			    void (*)(int, short, void *), void *);
void			 imsgev_set(struct imsgev *,
			    void (*)(int, short, void *), void *);
void			 imsgev_add(struct imsgev *);
void			 child_startup(struct imsgbuf *, enum scamback_proc,
			    struct child_start *);
void			 child_stderr(int);
void			 child_ready(struct imsgbuf *, uint32_t,
			    const void *, size_t);
void			 imsgev_clear(struct imsgev *);
int			 imsgev_compose(struct imsgev *, uint32_t, uint32_t,
			    pid_t, int, const void *, size_t);
int			 imsgev_read(struct imsgev *, short);

/* engine.c */
__dead void		 engine_main(int, int);

/* prober.c */
__dead void		 prober_main(int, int);

#endif /* SCAMBACK_H */
