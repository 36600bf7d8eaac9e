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
 * DNS for the access rules (SPEC section 11).  The engine asks, the
 * prober looks up (resolver.c, c-ares), the answer comes back as an imsg.
 * dns.c keeps the answers with their TTL, merges identical lookups in
 * flight into one, and lets libmilter's threads wait for an answer,
 * bounded, as pending.c does for probes.  It knows nothing of imsg or
 * libmilter: the engine moves struct dns_req and struct dns_res.
 */

#ifndef DNS_H
#define DNS_H

#include <netinet/in.h>

#include <stdint.h>
#include <time.h>

#define DNS_ADDRS_MAX		16	/* addresses kept per answer */
#define DNS_NAMES_MAX		8	/* MX or NS host names per answer */
#define DNS_TTL_MAX		(60 * 60)	/* no answer is kept longer */
#define DNS_TTL_NEGATIVE	300	/* NXDOMAIN/NODATA without an SOA */
#define DNS_TTL_TEMPFAIL	30	/* a temporary failure is kept */
#define DNS_CACHE_MAX		10000	/* answers kept, in flight included */

/* What is asked about a domain (the sender's, for mail-from). */
enum dns_kind {
	DNS_RESOLVABLE,		/* does it take mail: MX, else A or AAAA */
	DNS_MX,			/* its mail servers: names and addresses */
	DNS_NS			/* its name servers: names and addresses */
};

/* Flags of a lookup. */
#define DNS_PARENT	0x01	/* DNS_RESOLVABLE: as smap, drop leftmost
				   labels down to two until one resolves */
#define DNS_FRESH	0x02	/* dns_notify: ignore the cache (scambackctl
				   check rules); the answer refills it */

enum dns_result {
	DNS_OK,			/* found: addrs and names filled */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* it exists, without such records */
	DNS_NULLMX,		/* RFC 7505 null MX: it takes no mail */
	DNS_TEMPFAIL,		/* SERVFAIL, timeout, no answer in time */
	DNS_BADNAME,		/* not a domain name: never asked */
	DNS_UNSUPPORTED		/* octets >= 0x80 (SMTPUTF8): not asked */
};

struct dns_addr {
	int			 af;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}			 addr;
};

struct dns_answer {
	enum dns_result		 result;
	uint32_t		 ttl;		/* seconds, as received */
	/* The domain that answered: with DNS_PARENT maybe a parent. */
	char			 name[HOSTNAME_LEN];
	uint32_t		 naddrs;
	struct dns_addr		 addrs[DNS_ADDRS_MAX];
	uint32_t		 nnames;	/* DNS_MX, DNS_NS: host names */
	char			 names[DNS_NAMES_MAX][HOSTNAME_LEN];
};

/* Names. */
#define DNS_NAME_OK		0
#define DNS_NAME_BAD		1	/* not a domain name */
#define DNS_NAME_UTF8		2	/* octets >= 0x80 */
#define DNS_NAME_LITERAL	3	/* [192.0.2.1], [IPv6:2001:db8::1] */

/*
 * Check a domain as it came from MAIL FROM: LDH labels of 1 to 63
 * octets, 253 at most, one trailing dot allowed.  DNS_NAME_OK puts it
 * in out lowercase without the trailing dot; DNS_NAME_LITERAL puts the
 * address in *lit (may be NULL).
 */
int	 dns_name_check(const char *, char *, size_t, struct dns_addr *);

/* Names for logs and scambackctl. */
const char	*dns_kind_name(enum dns_kind);
const char	*dns_result_name(enum dns_result);

/*
 * The answer for a domain, from a libmilter thread: from the cache, or
 * from the lookup in flight (joined) or started now, waiting at most ms
 * milliseconds.  Returns 1 with *ans filled, or 0 when the wait ended
 * first (*ans is then a DNS_TEMPFAIL); the lookup goes on and fills the
 * cache.  ms 0 never waits, so the event thread may call it too.
 * A name that fails dns_name_check() is answered at once (BADNAME,
 * UNSUPPORTED; a literal is DNS_OK with its address for DNS_RESOLVABLE
 * and DNS_MX, DNS_NODATA for DNS_NS).
 */
int	 dns_lookup(enum dns_kind, int, const char *, uint32_t,
	    struct dns_answer *);

/* Any thread: start the lookup unless cached or in flight (MAIL FROM). */
void	 dns_prefetch(enum dns_kind, int, const char *);

/*
 * Event thread only: done(arg, answer) runs once, in the event thread,
 * when the answer is there; before dns_notify() returns when it was
 * cached (unless DNS_FRESH).  For scambackctl check rules.
 */
void	 dns_notify(enum dns_kind, int, const char *,
	    void (*)(void *, const struct dns_answer *), void *);

/* How long a libmilter thread should wait: dns timeout and a margin. */
uint32_t dns_wait_ms(const struct scamback_conf *);

/* Counters for show stats. */
struct dns_stats {
	uint64_t		 lookups;	/* dns_lookup and prefetch calls */
	uint64_t		 hits;		/* answered from the cache */
	uint64_t		 merged;	/* joined a lookup in flight */
	uint64_t		 sent;		/* requests to the prober */
	uint64_t		 tempfail;	/* DNS_TEMPFAIL answers */
	uint64_t		 timed_out;	/* waits that ended first */
	uint64_t		 entries;	/* in the cache now */
};
void	 dns_get_stats(struct dns_stats *);

/* The wire: engine -> prober, IMSG_DNS_REQ. */
struct dns_req {
	uint32_t		 id;
	enum dns_kind		 kind;
	int			 flags;		/* DNS_PARENT */
	uint32_t		 timeout_ms;	/* the prober gives up then */
	char			 name[HOSTNAME_LEN];	/* dns_name_check()ed */
};

/* prober -> engine, IMSG_DNS_RES. */
struct dns_res {
	uint32_t		 id;
	struct dns_answer	 answer;
};

/*
 * The engine's side of the wire.  wake() runs in the calling thread,
 * without locks, when a request is queued onto an empty queue: the
 * event thread must then take until dns_take() says it is empty.
 */
void	 dns_init(void (*)(void));
void	 dns_configure(uint32_t);	/* dns timeout, seconds */
int	 dns_take(struct dns_req *);
/* An answer: 0 for an unknown id (given up), else 1. */
int	 dns_done(const struct dns_res *);
/* Answer DNS_TEMPFAIL to requests the prober left unanswered too long. */
size_t	 dns_sweep(void);
/* Event thread: every lookup the prober has not answered is queued again. */
size_t	 dns_requeue(void);
/* Drop expired answers; dns_flush all of them (other resolvers). */
size_t	 dns_expire(void);
void	 dns_flush(void);
/* A received answer made safe: strings ended, counts bounded. */
int	 dns_answer_sane(struct dns_answer *);

#endif /* DNS_H */
