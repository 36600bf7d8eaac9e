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
 * A DNS answer as the rules need it (dnsmsg.c): the records of one type
 * for the name asked (through CNAMEs), with the smallest TTL, or why there
 * are none (NXDOMAIN, no data, with the negative TTL of the SOA).  Pure:
 * bytes in, a struct out, whatever the bytes are.
 */

#ifndef DNSMSG_H
#define DNSMSG_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define DNSMSG_RR_MAX		32	/* records of the type kept */

enum dnsmsg_status {
	DNSMSG_OK,		/* records of the type: rrs[0..nrr) */
	DNSMSG_NXDOMAIN,
	DNSMSG_NODATA,
	DNSMSG_TEMPFAIL		/* SERVFAIL, REFUSED, truncated, garbage */
};

struct dnsmsg_rr {
	uint16_t		 pref;			/* MX */
	union {
		struct in_addr	 v4;			/* A */
		struct in6_addr	 v6;			/* AAAA */
	}			 addr;
	char			 host[HOSTNAME_LEN];	/* MX, NS; "" for
							   MX "." (null MX) */
};

struct dnsmsg {
	enum dnsmsg_status	 status;
	uint32_t		 ttl;		/* smallest of those used;
						   negative: the SOA's */
	int			 has_ttl;	/* 0: no TTL in the answer */
	size_t			 nrr;
	struct dnsmsg_rr	 rrs[DNSMSG_RR_MAX];
};

/*
 * The answer in buf to the question (name, type A, AAAA, MX or NS).
 * MX and NS host names that are not host names are left out.
 */
void	 dnsmsg_parse(const unsigned char *, size_t, const char *, int,
	    struct dnsmsg *);

#endif /* DNSMSG_H */
