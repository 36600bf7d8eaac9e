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
 * DNS answers (RFC 1035 section 4), read for the records the rules use.
 * Names are read here, not by c-ares's ares_expand_name, which lets a
 * NUL inside a label cut the name short ("good.example\\000.evil" would
 * read "good.example."): a label with any octet but letters, digits, '-'
 * and '_' makes a name that matches nothing.  An answer's records count
 * only on the chain of CNAMEs from the name asked; the negative TTL is
 * the authority SOA's (RFC 2308).
 */

#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scam-back.h"
#include "dns.h"
#include "dnsmsg.h"

#define DNSMSG_CNAMES	8	/* CNAMEs followed at most */
#define DNSMSG_JUMPS	64	/* compression pointers in one name */

static int	get16(const unsigned char *, size_t, size_t, uint16_t *);
static int	get32(const unsigned char *, size_t, size_t, uint32_t *);
static int	name_at(const unsigned char *, size_t, size_t, char *, size_t,
		    size_t *);
static void	ttl_min(struct dnsmsg *, uint32_t);

static int
get16(const unsigned char *buf, size_t len, size_t off, uint16_t *v)
{
	if (off > len || len - off < 2)
		return (-1);
	*v = (uint16_t)buf[off] << 8 | buf[off + 1];
	return (0);
}

static int
get32(const unsigned char *buf, size_t len, size_t off, uint32_t *v)
{
	if (off > len || len - off < 4)
		return (-1);
	*v = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
	    (uint32_t)buf[off + 2] << 8 | buf[off + 3];
	return (0);
}

/*
 * The name at off (RFC 1035 4.1.4: labels and compression pointers),
 * lowercase with dots, "" for the root; *next is the offset after it in
 * place.  Returns 0, 1 for a name with octets other than letters,
 * digits, '-' and '_' (a NUL or a dot inside a label would make one
 * name look like another: such a name matches nothing), or -1 when it
 * cannot be read: past the end, a pointer loop, longer than size.
 */
static int
name_at(const unsigned char *buf, size_t len, size_t off, char *out,
    size_t size, size_t *next)
{
	size_t		 pos = off, n = 0, i;
	unsigned char	 c, ch;
	int		 jumps = 0, odd = 0;

	*next = 0;
	for (;;) {
		if (pos >= len)
			return (-1);
		c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++jumps > DNSMSG_JUMPS)
				return (-1);
			if (*next == 0)
				*next = pos + 2;
			pos = (size_t)(c & 0x3f) << 8 | buf[pos + 1];
			continue;
		}
		if ((c & 0xc0) != 0)
			return (-1);	/* extended label types */
		if (c == 0)
			break;
		if (c > len - pos - 1 || n + c + 2 > size)
			return (-1);
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < c; i++) {
			ch = buf[pos + 1 + i];
			if (ch >= 'A' && ch <= 'Z')
				ch += 'a' - 'A';
			else if ((ch < 'a' || ch > 'z') &&
			    (ch < '0' || ch > '9') && ch != '-' && ch != '_') {
				odd = 1;
				ch = '?';
			}
			out[n++] = ch;
		}
		pos += 1 + c;
	}
	out[n] = '\0';
	if (*next == 0)
		*next = pos + 1;
	return (odd);
}

static void
ttl_min(struct dnsmsg *m, uint32_t ttl)
{
	/* RFC 2181 8: a TTL with the top bit set is zero. */
	if (ttl > INT32_MAX)
		ttl = 0;
	if (!m->has_ttl || ttl < m->ttl)
		m->ttl = ttl;
	m->has_ttl = 1;
}

void
dnsmsg_parse(const unsigned char *buf, size_t len, const char *qname,
    int qtype, struct dnsmsg *m)
{
	struct dnsmsg_rr	*rr;
	char			 owner[HOSTNAME_LEN], target[HOSTNAME_LEN];
	char			 chain[HOSTNAME_LEN], tmp[HOSTNAME_LEN];
	uint16_t		 flags, qd, an, ns, type, class, rdlen, pref;
	uint32_t		 ttl, minimum;
	size_t			 off = 12, next, rd, i;
	int			 rcode, cnames = 0, pass, changed, odd;

	memset(m, 0, sizeof(*m));
	m->status = DNSMSG_TEMPFAIL;
	if (get16(buf, len, 2, &flags) == -1 ||
	    get16(buf, len, 4, &qd) == -1 || get16(buf, len, 6, &an) == -1 ||
	    get16(buf, len, 8, &ns) == -1)
		goto fail;
	/* A truncated answer is no answer: c-ares retries over TCP. */
	if ((flags & 0x8000) == 0 || (flags & 0x0200) != 0)
		goto fail;
	rcode = flags & 0x000f;
	if (rcode != ns_r_noerror && rcode != ns_r_nxdomain)
		goto fail;
	for (i = 0; i < qd; i++) {
		if (name_at(buf, len, off, tmp, sizeof(tmp), &next) == -1)
			goto fail;
		off = next + 4;
	}
	if (off > len)
		goto fail;
	strlcpy(chain, qname, sizeof(chain));

	/*
	 * Two passes over the answer section: CNAMEs may come in any order,
	 * so the chain is followed until it stops changing, then the
	 * records of the type on it are taken.
	 */
	for (pass = 0; pass < DNSMSG_CNAMES + 2; pass++) {
		changed = 0;
		next = off;
		for (i = 0; i < an; i++) {
			if (name_at(buf, len, next, owner, sizeof(owner),
			    &next) == -1 ||
			    get16(buf, len, next, &type) == -1 ||
			    get16(buf, len, next + 2, &class) == -1 ||
			    get32(buf, len, next + 4, &ttl) == -1 ||
			    get16(buf, len, next + 8, &rdlen) == -1)
				goto fail;
			rd = next + 10;
			if (rd > len || len - rd < rdlen)
				goto fail;
			next = rd + rdlen;
			if (class != ns_c_in || strcasecmp(owner, chain) != 0)
				continue;
			if (type == ns_t_cname && qtype != ns_t_cname) {
				if (cnames == DNSMSG_CNAMES ||
				    (odd = name_at(buf, len, rd, target,
				    sizeof(target), &rd)) == -1)
					goto fail;
				if (odd)
					continue;	/* leads nowhere */
				ttl_min(m, ttl);
				strlcpy(chain, target, sizeof(chain));
				cnames++;
				changed = 1;
				break;
			}
			if (type != qtype || m->nrr == DNSMSG_RR_MAX)
				continue;
			rr = &m->rrs[m->nrr];
			memset(rr, 0, sizeof(*rr));
			switch (type) {
			case ns_t_a:
				if (rdlen != 4)
					goto fail;
				memcpy(&rr->addr.v4, buf + rd, 4);
				break;
			case ns_t_aaaa:
				if (rdlen != 16)
					goto fail;
				memcpy(&rr->addr.v6, buf + rd, 16);
				break;
			case ns_t_mx:
				if (get16(buf, len, rd, &pref) == -1 ||
				    rdlen < 3 ||
				    name_at(buf, len, rd + 2, rr->host,
				    sizeof(rr->host), &rd) == -1)
					goto fail;
				rr->pref = pref;
				/* "." is the null MX; others must be names. */
				if (rr->host[0] != '\0' &&
				    dns_name_check(rr->host, tmp, sizeof(tmp),
				    NULL) != DNS_NAME_OK)
					continue;
				break;
			case ns_t_ns:
				if (name_at(buf, len, rd, rr->host,
				    sizeof(rr->host), &rd) == -1)
					goto fail;
				if (dns_name_check(rr->host, tmp, sizeof(tmp),
				    NULL) != DNS_NAME_OK)
					continue;
				break;
			default:
				continue;
			}
			ttl_min(m, ttl);
			m->nrr++;
		}
		if (!changed)
			break;
		/* The chain moved: start over for the new name. */
		m->nrr = 0;
	}
	if (m->nrr > 0) {
		m->status = DNSMSG_OK;
		return;
	}
	m->status = rcode == ns_r_nxdomain ? DNSMSG_NXDOMAIN : DNSMSG_NODATA;

	/* The negative TTL: the authority section's SOA. */
	for (i = 0; i < ns; i++) {
		if (name_at(buf, len, next, owner, sizeof(owner), &next) == -1 ||
		    get16(buf, len, next, &type) == -1 ||
		    get32(buf, len, next + 4, &ttl) == -1 ||
		    get16(buf, len, next + 8, &rdlen) == -1)
			break;
		rd = next + 10;
		if (rd > len || len - rd < rdlen)
			break;
		next = rd + rdlen;
		if (type != ns_t_soa ||
		    name_at(buf, len, rd, tmp, sizeof(tmp), &rd) == -1 ||
		    name_at(buf, len, rd, tmp, sizeof(tmp), &rd) == -1 ||
		    get32(buf, len, rd + 16, &minimum) == -1 ||
		    rd + 20 > next)
			continue;
		m->has_ttl = 0;
		ttl_min(m, ttl < minimum ? ttl : minimum);
		break;
	}
	return;

fail:
	/* Whatever was read is no answer. */
	memset(m, 0, sizeof(*m));
	m->status = DNSMSG_TEMPFAIL;
}
