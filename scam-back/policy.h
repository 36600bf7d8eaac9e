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
 * The policy of SPEC section 6 as pure functions of the configuration and
 * the recipient: address.c (normalisation, client addresses, CIDR) and
 * policy.c (skip rules, domain matching, verdict to reply).  Nothing here
 * knows libmilter, threads or imsg, so all of it is unit-tested directly.
 */

#ifndef POLICY_H
#define POLICY_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#define ADDR_MAX		254	/* longest address probed (RFC 5321) */

/* addr_normalise() results */
#define ADDR_OK			0
#define ADDR_NODOMAIN		1	/* no domain part: not verified */
#define ADDR_IMPOSSIBLE		2	/* a domain, but cannot be a mailbox */
#define ADDR_BAD		3	/* junk with no domain */

/* A client address; af 0 when unknown (local submission, unix socket). */
struct client_addr {
	int			 af;
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}			 a;
};

/* address.c */
int	addr_normalise(const char *, char *, size_t, size_t *,
	    const char **);
int	addr_path(const char *, char *, size_t);
int	addr_domain_match(const char *, const char *, int);
void	client_from_sockaddr(struct client_addr *, const struct sockaddr *);
int	client_from_string(struct client_addr *, const char *);
int	client_is_local(const struct client_addr *);
int	client_in_net(const struct client_addr *, const struct skip_net *);
const char *client_string(const struct client_addr *, char *, size_t);

/* Why a recipient was not verified. */
enum policy_skip {
	SKIP_NONE,			/* verify it */
	SKIP_FROM,			/* client in skip from */
	SKIP_LOCAL,			/* loopback or unknown client */
	SKIP_DAEMON,			/* {daemon_name} in skip daemon */
	SKIP_AUTH,			/* authenticated session */
	SKIP_NODOMAIN,			/* recipient without a domain */
	SKIP_UNMATCHED,			/* domain not verified */
	SKIP_BAD			/* unusable address: logged */
};

/*
 * The MTA's milter timeout is 10 s for sendmail: every RCPT is answered
 * before 9 s, the access rules' DNS waits and delays included.
 */
#define POLICY_WAIT_CAP_MS	9000

/* What libmilter knows at RCPT time. */
struct rcpt_query {
	const struct client_addr *client;
	const char		*daemon;	/* {daemon_name}, NULL: none */
	const char		*auth;		/* {auth_authen}, NULL: none */
	const char		*qid;		/* i, the queue id; NULL: none */
	const char		*rcpt;		/* RCPT TO argument */
	uint32_t		 wait_ms;	/* most a probe is waited for,
						   0: policy_wait_ms() */
};

/*
 * With impossible set (why the address cannot be a mailbox) and skip
 * SKIP_NONE, the recipient is in a verified domain and is refused
 * without a probe; address then holds only its domain.
 */
struct rcpt_decision {
	enum policy_skip	 skip;
	const char		*impossible;
	char			 address[ADDR_LEN];	/* normalised */
	uint32_t		 backend_id;
	char			 backend[NAME_LEN];	/* its name */
};

/* What the MTA is told. */
enum policy_action {
	ACTION_CONTINUE,
	ACTION_REJECT,			/* 550 5.1.1, or 5.1.3 */
	ACTION_TEMPFAIL,		/* 451 4.4.3 */
	ACTION_DISCARD			/* continue now, delete at EOM */
};

struct policy_reply {
	enum policy_action	 action;
	const char		*rcode;		/* NULL for continue/discard */
	const char		*xcode;
	char			 text[2 * ADDR_LEN + 64];
};

/*
 * policy.c.  A domain index makes domain matching cost a few tree
 * lookups however many domains a mailertable brings; where one is NULL
 * the configuration's list is scanned.
 */
struct domain_index;
struct domain_index *domain_index_new(const struct scamback_conf *);
void	domain_index_free(struct domain_index *);
const struct domain_conf *policy_domain(const struct scamback_conf *,
	    const struct domain_index *, const char *);
void	policy_decide(const struct scamback_conf *,
	    const struct domain_index *, const struct rcpt_query *,
	    struct rcpt_decision *);
struct ctl_check;
const struct domain_conf *policy_check(const struct scamback_conf *,
	    const struct domain_index *, const char *, struct ctl_check *);
void	policy_reply(const struct scamback_conf *, enum verdict, const char *,
	    struct policy_reply *);
void	policy_reply_impossible(const struct scamback_conf *,
	    struct policy_reply *);
int	policy_verifies(const struct scamback_conf *,
	    const struct domain_index *, const char *);
const char *policy_skip_name(enum policy_skip);

/* The daemons skipped without skip daemon, NULL at the end. */
extern const char *const policy_default_skip_daemons[];
const char *policy_action_name(enum policy_action);
const char *policy_verdict_name(enum verdict);
uint32_t policy_wait_ms(const struct scamback_conf *);

#endif /* POLICY_H */
