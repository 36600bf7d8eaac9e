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
 * Fuzz target for the address parser and the policy around it (SPEC
 * section 10: macros and RCPT arguments from the MTA are hostile input).
 *
 *	clang -fsanitize=fuzzer,address ...	libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The input up to its first NUL is a RCPT argument, as libmilter hands it
 * over, and also a {client_addr} value.  A normalised address must be
 * short enough, printable, have a lowercase domain after its last '@'
 * and normalise to itself; the reply text must double every '%' and stay
 * within its buffer; the decision must match the rules.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct scamback_conf	*conf;
static struct domain_index	*idx;

static void
add_domain(const char *name, enum domain_match m, uint32_t id)
{
	struct domain_conf	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		abort();
	strlcpy(d->name, name, sizeof(d->name));
	d->match = m;
	d->backend_id = id;
	snprintf(d->backend, sizeof(d->backend), "b%u", id);
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);
}

static void
setup(void)
{
	struct skip_net	*n;

	if ((conf = config_new()) == NULL)
		abort();
	add_domain("example.net", DOMAIN_EXACT, 1);
	add_domain("example.org", DOMAIN_SUBDOMAINS, 2);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		abort();
	n->af = AF_INET;
	n->addr.v4.s_addr = htonl(0xc0000200);	/* 192.0.2.0/24 */
	n->prefixlen = 24;
	TAILQ_INSERT_TAIL(&conf->skip_from, n, entry);
	add_domain("deep.example.org", DOMAIN_SUBDOMAINS, 3);
	add_domain("x.example.net", DOMAIN_EXACT, 4);
	if ((idx = domain_index_new(conf)) == NULL)
		abort();
}

static void
check_normalised(const char *out, size_t domoff)
{
	char		 again[ADDR_LEN];
	size_t		 len, off2, i;

	len = strlen(out);
	if (len == 0 || len > ADDR_MAX || domoff == 0 || domoff >= len ||
	    out[domoff - 1] != '@' || strchr(out + domoff, '@') != NULL)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	for (i = domoff; i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			abort();
	if (addr_normalise(out, again, sizeof(again), &off2, NULL) != ADDR_OK ||
	    strcmp(out, again) != 0 || off2 != domoff)
		abort();
}

static void
check_reply(const char *address)
{
	struct policy_reply	 r;
	const char		*p;
	size_t			 n;

	policy_reply(conf, VERDICT_INVALID, address, &r);
	if (r.action != ACTION_REJECT ||
	    strnlen(r.text, sizeof(r.text)) == sizeof(r.text) ||
	    strchr(r.text, '\r') != NULL || strchr(r.text, '\n') != NULL)
		abort();
	/* libmilter formats the text: every '%' comes in pairs. */
	for (p = r.text; (p = strchr(p, '%')) != NULL; p += n) {
		n = strspn(p, "%");
		if (n % 2 != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcpt_decision	 dec;
	struct rcpt_query	 q;
	struct client_addr	 c;
	char			*s, out[ADDR_LEN], small[16], buf[64];
	const char		*why;
	size_t			 domoff;
	int			 rc;

	if (conf == NULL)
		setup();
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	rc = addr_normalise(s, out, sizeof(out), &domoff, &why);
	if (rc == ADDR_OK) {
		check_normalised(out, domoff);
		check_reply(out);
		if (why != NULL)
			abort();
	} else if (rc == ADDR_IMPOSSIBLE) {
		/* The domain alone, bounded, and a reason. */
		if (why == NULL || domoff != 0 || out[0] == '\0' ||
		    strlen(out) >= sizeof(out))
			abort();
	} else if (rc != ADDR_NODOMAIN && rc != ADDR_BAD)
		abort();
	/* A buffer too small is refused, never overrun. */
	rc = addr_normalise(s, small, sizeof(small), &domoff, NULL);
	if (rc == ADDR_OK)
		check_normalised(small, domoff);
	else if (rc == ADDR_IMPOSSIBLE && strlen(small) >= sizeof(small))
		abort();

	/* The same bytes as {client_addr}. */
	if (client_from_string(&c, s) == 0) {
		if (c.af != AF_INET && c.af != AF_INET6)
			abort();
		client_string(&c, buf, sizeof(buf));
	} else if (c.af != 0 || !client_is_local(&c))
		abort();

	/* A remote client: the decision follows the address alone. */
	(void)client_from_string(&c, "203.0.113.5");
	q.client = &c;
	q.daemon = NULL;
	q.auth = NULL;
	q.qid = NULL;
	q.rcpt = s;
	policy_decide(conf, idx, &q, &dec);
	rc = addr_normalise(s, out, sizeof(out), &domoff, NULL);
	switch (dec.skip) {
	case SKIP_NONE:
		/* Refused without a probe: in a verified domain. */
		if (dec.impossible != NULL) {
			if (rc != ADDR_IMPOSSIBLE ||
			    policy_domain(conf, NULL, out) == NULL)
				abort();
			break;
		}
		if (rc != ADDR_OK || strcmp(dec.address, out) != 0 ||
		    policy_domain(conf, NULL, out + domoff) == NULL ||
		    (dec.backend_id < 1 || dec.backend_id > 4) ||
		    policy_domain(conf, NULL, out + domoff)->backend_id !=
		    dec.backend_id)
			abort();
		break;
	case SKIP_UNMATCHED:
		if (rc != ADDR_OK || policy_domain(conf, NULL, out + domoff) != NULL)
			abort();
		break;
	case SKIP_NODOMAIN:
		if (rc != ADDR_NODOMAIN)
			abort();
		break;
	case SKIP_BAD:
		if (rc != ADDR_BAD && (rc != ADDR_IMPOSSIBLE ||
		    policy_domain(conf, NULL, out) != NULL))
			abort();
		break;
	default:
		abort();
	}
	free(s);
	return (0);
}

#include "fuzzmain.h"
