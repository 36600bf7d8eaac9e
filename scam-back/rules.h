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
 * Access rules (SPEC section 11): one ordered list, first match wins.
 * rules.c walks the list for what is known of a session (pure: the DNS
 * answers and the protected domains come through callbacks); reply.c
 * turns a rule's reply into what the MTA is told.
 */

#ifndef RULES_H
#define RULES_H

/* Needs scam-back.h, policy.h and table.h first. */

#define RULE_MAX_CONDS		8
#define RULE_REPLY_LEN		512	/* a reply as written */
#define RULE_MAX_DELAY		9	/* seconds: below sendmail's 10 s */
#define RULE_TABLE_DOMAINS	UINT32_MAX	/* <domains>, built in */

enum rule_action {
	RULE_PASS,
	RULE_REJECT,
	RULE_DISCONNECT,
	RULE_MATCH
};

/* When a rule acts; RCPT by default (Postfix's smtpd_delay_reject). */
enum rule_stage {
	STAGE_CONNECT,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA		/* end of message: save rules refuse here */
};

enum cond_type {
	COND_FROM_ANY,
	COND_FROM_LOCAL,
	COND_FROM_KNOWN,
	COND_FROM_UNKNOWN,
	COND_FROM_RDNS,		/* table optional: the PTR name */
	COND_FROM_TABLE,
	COND_HELO,
	COND_AUTH,		/* table optional: the AUTH name */
	COND_MAIL_TABLE,
	COND_MAIL_UNQUALIFIED,
	COND_MAIL_UNRESOLVABLE,
	COND_MAIL_MX,
	COND_MAIL_NS,
	COND_RCPT
};

struct rule_cond {
	uint8_t			 type;		/* enum cond_type */
	uint8_t			 negate;
	uint8_t			 parent;	/* unresolvable parent */
	uint8_t			 pad;
	uint32_t		 table;		/* id + 1, 0: none, or
						   RULE_TABLE_DOMAINS */
	const struct table	*t;		/* the table, this process's;
						   NULL: looked up by id */
};

#define RULE_F_NOVERIFY		0x01
#define RULE_F_SAVE		0x02
#define RULE_F_LOG		0x04

/*
 * Counters for show rules.  libmilter's threads add to them at every
 * RCPT: each thread to one of RULE_SHARDS copies, a cache line each, so
 * that the threads do not fight over the lines; show rules adds up.
 */
#define RULE_SHARDS		16

struct rule_counters {
	uint64_t		 evaluations;
	uint64_t		 matches;
	uint64_t		 refused;
	uint64_t		 deferred;	/* TEMP: decided 4xx or later */
	int64_t			 last;		/* UNIX time of the last match */
	uint64_t		 pad[3];	/* 64 octets */
};

/* What the rules of a configuration need (rules_flags()). */
#define RF_RESOLVABLE		0x01	/* mail-from unresolvable */
#define RF_PARENT		0x02	/* mail-from unresolvable parent */
#define RF_MX			0x04
#define RF_NS			0x08
#define RF_DNS			(RF_RESOLVABLE | RF_PARENT | RF_MX | RF_NS)
#define RF_SAVE			0x10
#define RF_CONNECT		0x20	/* a rule acts on connect */
#define RF_EARLY		0x40	/* on connect, helo or mail */

/* Travels as an imsg payload: fixed arrays, no pointers but the list's. */
struct rule_conf {
	TAILQ_ENTRY(rule_conf)	 entry;
	uint32_t		 nr;		/* 1, 2, ... as listed */
	uint8_t			 action;	/* enum rule_action */
	uint8_t			 stage;		/* enum rule_stage */
	uint8_t			 flags;		/* RULE_F_* */
	uint8_t			 ncond;
	struct rule_cond	 cond[RULE_MAX_CONDS];
	uint32_t		 delay;		/* seconds */
	char			 reply[RULE_REPLY_LEN];	/* "" : default */
	char			 permanent[RULE_REPLY_LEN]; /* set permanent */
	struct rule_counters	 counters[RULE_SHARDS];
};

/* An access table as the configuration names it. */
struct atable_conf {
	TAILQ_ENTRY(atable_conf) entry;
	char			 name[TABLE_NAME_LEN];
	char			 path[PATH_MAX];	/* "" : written inline */
	uint32_t		 id;
	uint32_t		 count;			/* entries */
	struct table		*table;			/* this process's */
};

/* {client_resolve}, as both MTAs write it; NONE when the MTA said nothing. */
enum client_resolve {
	RESOLVE_NONE,
	RESOLVE_OK,
	RESOLVE_FAIL,
	RESOLVE_FORGED,
	RESOLVE_TEMP
};

/* What a DNS question found (the prober asks; the engine caches). */
enum rdns_status {
	RDNS_OK,		/* resolvable; servers found */
	RDNS_NOTFOUND,		/* NXDOMAIN, or no MX, A or AAAA */
	RDNS_NULLMX,		/* RFC 7505: the domain takes no mail */
	RDNS_TEMP		/* SERVFAIL, timeout: try later */
};

#define RULE_MAX_SERVERS	16
#define RULE_MAX_SERVER_ADDRS	32

/* The MX or NS hosts of a domain and their addresses. */
struct rule_servers {
	size_t			 nnames;
	char			 names[RULE_MAX_SERVERS][256];
	size_t			 naddrs;
	struct client_addr	 addrs[RULE_MAX_SERVER_ADDRS];
};

/*
 * The answers rules need from outside: the DNS (which may wait, bounded)
 * and the domains scam-back protects.  arg is the callbacks' own.
 */
struct rules_env {
	void			*arg;
	enum rdns_status	(*resolvable)(void *, const char *, int);
	enum rdns_status	(*servers)(void *, const char *, int,
				    struct rule_servers *);
	int			(*protected)(void *, const char *);
	int			 dns_failure_accept;
	int			 dryrun;
	int			 count;		/* keep counters (not for
						   scambackctl check rules) */
	/* a rule that would have refused in dry-run, or a logged match */
	void			(*note)(void *, const struct rule_conf *, int,
				    const char *);
};

/* What is known of a session; NULL for what is not known yet. */
struct rules_session {
	enum rule_stage		 stage;
	const struct client_addr *client;
	const char		*client_name;	/* {client_name} */
	const char		*client_ptr;	/* {client_ptr} */
	enum client_resolve	 resolve;
	const char		*helo;
	const char		*auth;		/* {auth_authen} */
	const char		*sender;	/* "" : <> */
	const char		*rcpt;
};

/* Why a rule could not be decided. */
enum rules_temp {
	TEMP_NONE,
	TEMP_CLIENT,		/* {client_resolve} TEMP */
	TEMP_DNS_DOMAIN,	/* sender domain: SERVFAIL, timeout */
	TEMP_DNS_SERVERS	/* MX or NS: SERVFAIL, timeout */
};

enum rules_verdict {
	RV_NONE,		/* no rule decided: verify as without rules */
	RV_PASS,
	RV_REJECT,
	RV_DISCONNECT,
	RV_DEFER		/* an undecided reject: 4xx, unless invalid */
};

struct rules_result {
	enum rules_verdict	 verdict;
	const struct rule_conf	*rule;		/* the deciding rule */
	const char		*value;		/* its table entry's value */
	enum rules_temp		 temp;		/* RV_DEFER: why */
	int			 undecided_pass; /* a 5xx becomes a 4xx */
	int			 nullmx;	/* the reply names null MX */
	const struct rule_conf	*permanent;	/* set permanent matched */
};

/* rules.c */
void	rules_eval(const struct rule_list *, const struct atable_list *,
	    const struct rules_session *, const struct rules_env *,
	    struct rules_result *);
enum client_resolve rules_resolve(const char *, const char *);
const char *rules_action_name(enum rule_action);
const char *rules_stage_name(enum rule_stage);
enum rule_stage rules_cond_stage(enum cond_type);
struct atable_conf *rules_table_byid(const struct atable_list *, uint32_t);
int	rules_need_body(const struct rule_list *);
int	rules_flags(const struct rule_conf *);
void	rules_counters(const struct rule_conf *, struct rule_counters *);

/* printconf.c: a rule as -nv prints it, without the newline */
void	print_rule(FILE *, const struct scamback_conf *,
	    const struct rule_conf *);

/* rulesconf.c: tables and rules as the grammar builds them (parent) */
struct atable_conf *rulesconf_table(struct scamback_conf *, const char *);
struct atable_conf *rulesconf_table_byname(struct scamback_conf *,
	    const char *);
int	rulesconf_table_file(struct atable_conf *, const char *,
	    const char **);
const char *rulesconf_check(const struct rule_conf *);

/* reply.c: replies as written, checked, defaulted and expanded */
struct reply_parts {
	char			 rcode[4];
	char			 xcode[16];	/* "" : none */
	const char		*text;		/* the rest, with escapes */
};

struct reply_vars {
	const char		*sender;
	const char		*rcpt;
	const char		*client_addr;
	const char		*client_name;
	const char		*helo;
	const char		*auth;
	const char		*value;
	uint32_t		 rule;
};

int	reply_split(const char *, struct reply_parts *);
const char *reply_check(const char *, enum rule_action, int);
const char *reply_default(const struct rule_conf *, const struct rules_result *);
const char *reply_temp(enum rules_temp);
int	reply_expand(const char *, const struct reply_vars *, int, char *,
	    size_t);
int	reply_soften(const char *, char *, size_t);

#endif /* RULES_H */
