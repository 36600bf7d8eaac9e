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
 * The questions of the access rules, asked by the prober (resolve.c's
 * c-ares) for the engine (dns.c), one request, one answer:
 *
 * resolvable	MX; a null MX (RFC 7505) ends it; without MX records, A
 *		and AAAA.  With DNS_PARENT a domain that does not resolve
 *		gives way to its parent, down to two labels (smap).
 * mx		the MX hosts' names and addresses; without MX records the
 *		domain itself (RFC 5321 5.1, the implicit MX).
 * ns		the NS hosts' names and addresses of the domain, or of the
 *		closest parent (down to two labels) that has NS records.
 *
 * Every lookup ends by its deadline (dns timeout) with DNS_TEMPFAIL at
 * the latest; c-ares's queries still out then finish unheard.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/nameser.h>

#include <ares.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "dns.h"
#include "dnsmsg.h"
#include "resolve.h"

struct lookup {
	struct dns_req		 req;
	struct dns_res		 res;
	char			 name[HOSTNAME_LEN];	/* the domain now */
	int			 step;
	int			 implicit;	/* mx: the domain is its MX */
	int			 queries;	/* c-ares queries out */
	int			 done;		/* answer sent */
	int			 tempfail;	/* a question of the step failed */
	enum dns_result		 first;		/* parent: the domain's own */
	int			 has_first;
	uint32_t		 ttl;
	struct event		 deadline;
};

enum lookup_step {
	STEP_MX,		/* resolvable, mx: the MX question */
	STEP_NS,		/* ns: the NS question */
	STEP_ADDR		/* A and AAAA of the domain or its hosts */
};

/* One c-ares question of a lookup. */
struct subq {
	struct lookup		*l;
	int			 type;
	char			 name[HOSTNAME_LEN];
};

static void	lookup_ask(struct lookup *, const char *, int);
static void	lookup_answered(void *, int, const unsigned char *, int);
static void	lookup_mx(struct lookup *, const struct dnsmsg *);
static void	lookup_ns(struct lookup *, const struct dnsmsg *);
static void	lookup_addr(struct lookup *, int, const struct dnsmsg *);
static void	lookup_ask_addrs(struct lookup *);
static void	lookup_addr_done(struct lookup *);
static void	lookup_hosts(struct lookup *, const struct dnsmsg *);
static int	lookup_up(struct lookup *);
static int	lookup_parent(struct lookup *, enum dns_result);
static void	lookup_end(struct lookup *, enum dns_result);
static void	lookup_deadline(int, short, void *);
static void	lookup_ttl(struct lookup *, const struct dnsmsg *);
static void	lookup_maybe_free(struct lookup *);

static void	(*send_res)(const struct dns_res *);

void
dnslookup_init(void (*send)(const struct dns_res *))
{
	send_res = send;
}

void
dnslookup_start(const struct dns_req *req)
{
	struct lookup	*l;
	struct timeval	 tv;
	char		 q[HOSTNAME_LEN];

	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal(NULL);
	l->req = *req;
	l->res.id = req->id;
	l->ttl = DNS_TTL_MAX;
	strlcpy(l->res.answer.name, req->name, sizeof(l->res.answer.name));
	evtimer_set(&l->deadline, lookup_deadline, l);
	tv.tv_sec = req->timeout_ms / 1000;
	tv.tv_usec = (req->timeout_ms % 1000) * 1000;
	evtimer_add(&l->deadline, &tv);

	/* The engine checked it; a name that fails here is no question. */
	if (dns_name_check(req->name, q, sizeof(q), NULL) != DNS_NAME_OK ||
	    (req->kind != DNS_RESOLVABLE && req->kind != DNS_MX &&
	    req->kind != DNS_NS)) {
		log_warnx("dns: bad request %u", req->id);
		lookup_end(l, DNS_TEMPFAIL);
		lookup_maybe_free(l);
		return;
	}
	strlcpy(l->name, q, sizeof(l->name));
	if (req->kind == DNS_NS) {
		l->step = STEP_NS;
		lookup_ask(l, l->name, ns_t_ns);
	} else {
		l->step = STEP_MX;
		lookup_ask(l, l->name, ns_t_mx);
	}
}

static void
lookup_ask(struct lookup *l, const char *name, int type)
{
	struct subq	*sq;

	if ((sq = calloc(1, sizeof(*sq))) == NULL)
		fatal(NULL);
	sq->l = l;
	sq->type = type;
	strlcpy(sq->name, name, sizeof(sq->name));
	l->queries++;
	resolve_query(name, type, lookup_answered, sq);
}

static void
lookup_answered(void *arg, int status, const unsigned char *abuf, int alen)
{
	struct subq	*sq = arg;
	struct lookup	*l = sq->l;
	struct dnsmsg	 m;

	l->queries--;
	if (!l->done) {
		if (abuf == NULL || alen <= 0) {
			memset(&m, 0, sizeof(m));
			m.status = DNSMSG_TEMPFAIL;
		} else
			dnsmsg_parse(abuf, alen, sq->name, sq->type, &m);
		log_debug("dns: %u %s %s: %s", l->req.id, sq->name,
		    sq->type == ns_t_mx ? "MX" : sq->type == ns_t_ns ? "NS" :
		    sq->type == ns_t_a ? "A" : "AAAA",
		    m.status == DNSMSG_OK ? "ok" : m.status == DNSMSG_NXDOMAIN ?
		    "nxdomain" : m.status == DNSMSG_NODATA ? "nodata" :
		    ares_strerror(status));
		switch (sq->type) {
		case ns_t_mx:
			lookup_mx(l, &m);
			break;
		case ns_t_ns:
			lookup_ns(l, &m);
			break;
		default:
			lookup_addr(l, sq->type, &m);
			break;
		}
	}
	free(sq);
	lookup_maybe_free(l);
}

static void
lookup_mx(struct lookup *l, const struct dnsmsg *m)
{
	lookup_ttl(l, m);
	switch (m->status) {
	case DNSMSG_OK:
		/* RFC 7505: one MX, preference 0, host ".". */
		if (m->nrr == 1 && m->rrs[0].host[0] == '\0' &&
		    m->rrs[0].pref == 0) {
			lookup_end(l, DNS_NULLMX);
			return;
		}
		lookup_hosts(l, m);
		if (l->req.kind == DNS_RESOLVABLE) {
			lookup_end(l, DNS_OK);
			return;
		}
		break;
	case DNSMSG_NODATA:
		/* resolvable: the domain's own addresses; mx: implicit MX. */
		if (l->req.kind == DNS_MX) {
			l->implicit = 1;
			strlcpy(l->res.answer.names[0], l->name,
			    sizeof(l->res.answer.names[0]));
			l->res.answer.nnames = 1;
		}
		break;
	case DNSMSG_NXDOMAIN:
		if (!lookup_parent(l, DNS_NXDOMAIN))
			lookup_end(l, l->first);
		return;
	default:
		lookup_end(l, DNS_TEMPFAIL);
		return;
	}
	if (l->req.kind == DNS_RESOLVABLE) {
		l->step = STEP_ADDR;
		l->tempfail = 0;
		lookup_ask(l, l->name, ns_t_a);
		lookup_ask(l, l->name, ns_t_aaaa);
	} else
		lookup_ask_addrs(l);
}

static void
lookup_ns(struct lookup *l, const struct dnsmsg *m)
{
	lookup_ttl(l, m);
	switch (m->status) {
	case DNSMSG_OK:
		lookup_hosts(l, m);
		lookup_ask_addrs(l);
		break;
	case DNSMSG_NODATA:
		/* Not a zone's apex: its zone's name servers. */
		if (!lookup_up(l)) {
			lookup_end(l, DNS_NODATA);
			return;
		}
		lookup_ask(l, l->name, ns_t_ns);
		break;
	case DNSMSG_NXDOMAIN:
		lookup_end(l, DNS_NXDOMAIN);
		break;
	default:
		lookup_end(l, DNS_TEMPFAIL);
		break;
	}
}

/* MX or NS hosts, MX by preference, at most DNS_NAMES_MAX. */
static void
lookup_hosts(struct lookup *l, const struct dnsmsg *m)
{
	struct dns_answer	*a = &l->res.answer;
	uint16_t		 prefs[DNS_NAMES_MAX];
	size_t			 i;
	uint32_t		 j, k;

	a->nnames = 0;
	for (i = 0; i < m->nrr; i++) {
		if (m->rrs[i].host[0] == '\0')
			continue;
		for (j = 0; j < a->nnames; j++)
			if (strcmp(a->names[j], m->rrs[i].host) == 0)
				break;
		if (j < a->nnames)
			continue;
		for (j = 0; j < a->nnames && prefs[j] <= m->rrs[i].pref; j++)
			;
		if (j == DNS_NAMES_MAX)
			continue;
		k = a->nnames < DNS_NAMES_MAX ? a->nnames++ : a->nnames - 1;
		for (; k > j; k--) {
			memcpy(a->names[k], a->names[k - 1],
			    sizeof(a->names[k]));
			prefs[k] = prefs[k - 1];
		}
		strlcpy(a->names[j], m->rrs[i].host, sizeof(a->names[j]));
		prefs[j] = m->rrs[i].pref;
	}
}

/* mx, ns: the addresses of the hosts found. */
static void
lookup_ask_addrs(struct lookup *l)
{
	uint32_t	i;

	l->step = STEP_ADDR;
	l->tempfail = 0;
	for (i = 0; i < l->res.answer.nnames; i++) {
		lookup_ask(l, l->res.answer.names[i], ns_t_a);
		lookup_ask(l, l->res.answer.names[i], ns_t_aaaa);
	}
	if (l->queries == 0)
		lookup_addr_done(l);
}

/*
 * mx, ns: every address question answered.  A host without addresses
 * is no failure as long as one host has some; the implicit MX without
 * addresses is a domain without mail servers.
 */
static void
lookup_addr_done(struct lookup *l)
{
	if (l->res.answer.naddrs > 0)
		lookup_end(l, DNS_OK);
	else if (l->tempfail)
		lookup_end(l, DNS_TEMPFAIL);
	else if (l->implicit)
		lookup_end(l, DNS_NODATA);
	else
		lookup_end(l, DNS_OK);
}

static void
lookup_addr(struct lookup *l, int type, const struct dnsmsg *m)
{
	struct dns_answer	*a = &l->res.answer;
	struct dns_addr		 d;
	size_t			 i;
	uint32_t		 j;

	switch (m->status) {
	case DNSMSG_OK:
		lookup_ttl(l, m);
		for (i = 0; i < m->nrr; i++) {
			memset(&d, 0, sizeof(d));
			d.af = type == ns_t_a ? AF_INET : AF_INET6;
			if (d.af == AF_INET)
				d.addr.v4 = m->rrs[i].addr.v4;
			else
				d.addr.v6 = m->rrs[i].addr.v6;
			for (j = 0; j < a->naddrs; j++)
				if (memcmp(&a->addrs[j], &d, sizeof(d)) == 0)
					break;
			if (j == a->naddrs && a->naddrs < DNS_ADDRS_MAX)
				a->addrs[a->naddrs++] = d;
		}
		break;
	case DNSMSG_NXDOMAIN:
	case DNSMSG_NODATA:
		if (l->req.kind == DNS_RESOLVABLE)
			lookup_ttl(l, m);
		break;
	default:
		l->tempfail = 1;
		break;
	}
	if (l->queries > 0)
		return;
	if (l->req.kind != DNS_RESOLVABLE) {
		lookup_addr_done(l);
		return;
	}
	if (a->naddrs > 0)
		lookup_end(l, DNS_OK);
	else if (l->tempfail)
		lookup_end(l, DNS_TEMPFAIL);
	else if (!lookup_parent(l, DNS_NODATA))
		lookup_end(l, l->first);
}

/* The parent domain, if it keeps two labels at least. */
static int
lookup_up(struct lookup *l)
{
	char	*dot, *p;

	if ((dot = strchr(l->name, '.')) == NULL ||
	    (p = strchr(dot + 1, '.')) == NULL)
		return (0);
	memmove(l->name, dot + 1, strlen(dot + 1) + 1);
	return (1);
}

/* resolvable parent: nothing here, ask the parent.  0: no more to ask. */
static int
lookup_parent(struct lookup *l, enum dns_result r)
{
	if (!l->has_first) {
		l->first = r;
		l->has_first = 1;
	}
	if (!(l->req.flags & DNS_PARENT) || !lookup_up(l))
		return (0);
	l->step = STEP_MX;
	l->tempfail = 0;
	lookup_ask(l, l->name, ns_t_mx);
	return (1);
}

static void
lookup_ttl(struct lookup *l, const struct dnsmsg *m)
{
	uint32_t	ttl;

	if (m->has_ttl)
		ttl = m->ttl;
	else if (m->status == DNSMSG_NXDOMAIN || m->status == DNSMSG_NODATA)
		ttl = DNS_TTL_NEGATIVE;
	else
		return;
	if (ttl < l->ttl)
		l->ttl = ttl;
}

static void
lookup_end(struct lookup *l, enum dns_result r)
{
	struct dns_answer	*a = &l->res.answer;

	if (l->done)
		return;
	l->done = 1;
	evtimer_del(&l->deadline);
	a->result = r;
	switch (r) {
	case DNS_OK:
	case DNS_NULLMX:
		strlcpy(a->name, l->name, sizeof(a->name));
		a->ttl = l->ttl;
		break;
	case DNS_TEMPFAIL:
		a->ttl = DNS_TTL_TEMPFAIL;
		a->naddrs = a->nnames = 0;
		break;
	default:
		a->ttl = l->ttl;
		a->naddrs = a->nnames = 0;
		break;
	}
	if (r != DNS_OK)
		a->naddrs = 0;
	log_debug("dns: %u %s %s%s: %s, ttl %u, %u names, %u addresses",
	    l->req.id, dns_kind_name(l->req.kind), l->req.name,
	    l->req.flags & DNS_PARENT ? " parent" : "", dns_result_name(r),
	    a->ttl, a->nnames, a->naddrs);
	send_res(&l->res);
}

static void
lookup_deadline(int fd, short event, void *arg)
{
	struct lookup	*l = arg;

	log_debug("dns: %u %s %s: no answer in %u ms", l->req.id,
	    dns_kind_name(l->req.kind), l->req.name, l->req.timeout_ms);
	lookup_end(l, DNS_TEMPFAIL);
	lookup_maybe_free(l);
}

static void
lookup_maybe_free(struct lookup *l)
{
	if (l->done && l->queries == 0)
		free(l);
}
