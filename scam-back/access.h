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
 * The access rules in the milter engine (access.c): what one MTA session
 * has said so far, the rule walk at each stage with the DNS answers it
 * needs, the replies, set permanent, delay, and the start of a message a
 * save rule keeps.  milter.c calls it from libmilter's threads and turns
 * its answers into replies; it knows nothing of libmilter.
 */

#ifndef ACCESS_H
#define ACCESS_H

/* Needs <pthread.h>, scam-back.h, policy.h, table.h, rules.h, dns.h. */

/* The macros of the MTA a stage passes on (NULL: not sent). */
struct access_macros {
	const char		*client_addr;
	const char		*client_name;
	const char		*client_ptr;
	const char		*client_resolve;
	const char		*auth;
};

enum access_action {
	ACC_CONTINUE,		/* nothing refused; at RCPT: verify */
	ACC_NOVERIFY,		/* RCPT: accept without verification */
	ACC_SAVE,		/* RCPT: accept; the message is refused at
				   end of data and its start kept */
	ACC_DEFER,		/* RCPT: verify; if not invalid, the 4xx */
	ACC_REJECT,		/* the 5xx */
	ACC_TEMPFAIL,		/* the 4xx */
	ACC_DISCONNECT		/* the 421: the MTA ends the session */
};

/* What the MTA is told.  text has its '%' doubled for smfi_setreply. */
struct access_reply {
	enum access_action	 action;
	char			 rcode[4];
	char			 xcode[16];
	char			 text[512];
};

struct access;

struct access	*access_new(void);
void		 access_free(struct access *);
void		 access_client(struct access *, const struct client_addr *);
void		 access_macros(struct access *, const struct access_macros *);
void		 access_helo(struct access *, const char *);
void		 access_mail(struct access *, const char *);
void		 access_message_end(struct access *);

/* The rules at a stage; rcpt for STAGE_RCPT only.  1: a reply to give. */
int		 access_stage(struct access *, enum rule_stage, const char *,
		    uint32_t, struct access_reply *);
/* What the rules see of the session, and what a result tells the MTA. */
void		 access_session(struct access *, enum rule_stage,
		    const char *, struct rules_session *);
int		 access_reply_of(struct access *, const struct rules_result *,
		    enum rule_stage, const char *, struct access_reply *,
		    char *, size_t);

/* A 4xx (verification's) becomes set permanent's 5xx, if one holds. */
int		 access_permanent(struct access *, const char *,
		    struct access_reply *);

/* A save rule: collect the message's start; at end of data, hand it over. */
int		 access_saving(struct access *);
void		 access_save_header(struct access *, const char *,
		    const char *);
void		 access_save_body(struct access *, const unsigned char *,
		    size_t);
int		 access_save_eom(struct access *, struct access_reply *);

/* Which steps the MTA must send: HELO for rules, headers for save rules. */
int		 access_have_rules(void);
int		 access_rules_flags(void);

/*
 * The engine's configuration and its lock, and whether it verifies this
 * (lowercase) domain (<domains>); access_conf() is for the event thread.
 */
void		 access_init(struct scamback_conf **, pthread_rwlock_t *,
		    int (*)(const char *));
const struct scamback_conf *access_conf(void);

/*
 * One walk of the rules with the DNS answers it has collected: a walk
 * that needs an answer not yet cached notes it as missing (the rules
 * then see a temporary failure) and the caller gets the answer, without
 * holding the configuration, and walks again.
 */
#define WALK_ANSWERS	4

struct walk_answer {
	enum dns_kind		 kind;
	int			 flags;
	char			 dom[HOSTNAME_LEN];
	struct dns_answer	 ans;
};

struct walk {
	struct walk_answer	 ans[WALK_ANSWERS];
	int			 nans;
	int			 fresh;		/* not from the cache */
	int			 missing;
	struct walk_answer	 miss;		/* what was missing */
};

/*
 * arg is what the callbacks get: a struct whose first member is the
 * struct walk.  count: keep the rules' counters; note: rules_env's.
 */
void	walk_eval(void *, const struct scamback_conf *,
	    const struct rules_session *, int, void (*)(void *,
	    const struct rule_conf *, int, const char *),
	    struct rules_result *);
void	walk_answer(struct walk *, const struct walk_answer *,
	    const struct dns_answer *);
int	rules_text(const struct scamback_conf *, const struct rule_conf *,
	    char *, size_t);

/* rulesctl.c: scambackctl show rules and check rules (event thread) */
void	rulesctl_show(void (*)(void *, struct ctl_rule *), void *);
void	rulesctl_check(const struct ctl_check_rules *, uint32_t,
	    void (*)(uint32_t, struct ctl_rules_result *));

#endif /* ACCESS_H */
