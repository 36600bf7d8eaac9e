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
 * Fuzz target for what the resolver reads from outside: DNS answers
 * (dnsmsg.c, from any name server or whoever spoofs one), resolv.conf
 * and the hosts file (resolvconf.c), and the names the engine checks
 * before it asks (dns.c).
 *
 *	make fuzz && regress/fuzz/fuzz_dns corpus/
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The input is parsed as an answer to "example.net" of each type the
 * rules ask, as a resolv.conf and a hosts file, and (up to its first
 * NUL) as a domain.  Nothing may crash or read out of bounds; an answer
 * keeps at most DNSMSG_RR_MAX records, its MX and NS hosts are host
 * names, a checked name is lowercase LDH of at most 253 octets.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/nameser.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "dns.h"
#include "dnsmsg.h"
#include "resolvconf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_answer(const uint8_t *data, size_t len, int type)
{
	struct dnsmsg	m;
	char		out[HOSTNAME_LEN];
	size_t		i;

	dnsmsg_parse(data, len, "example.net", type, &m);
	if (m.nrr > DNSMSG_RR_MAX || m.status > DNSMSG_TEMPFAIL ||
	    (m.status == DNSMSG_OK) != (m.nrr > 0))
		abort();
	if (type != ns_t_mx && type != ns_t_ns)
		return;
	for (i = 0; i < m.nrr; i++) {
		if (type == ns_t_mx && m.rrs[i].host[0] == '\0')
			continue;
		if (dns_name_check(m.rrs[i].host, out, sizeof(out), NULL) !=
		    DNS_NAME_OK || strcmp(out, m.rrs[i].host) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int	 types[] = { ns_t_mx, ns_t_ns, ns_t_a,
				    ns_t_aaaa };
	struct scamback_conf	*conf;
	struct resolver_conf	*r;
	struct sockaddr_storage	 ss[4];
	struct hosts		*h;
	char			*s, out[HOSTNAME_LEN];
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		check_answer(data, len, types[i]);

	if ((conf = config_new()) == NULL)
		abort();
	resolvconf_parse(conf, (const char *)data, len);
	n = 0;
	TAILQ_FOREACH(r, &conf->resolvers, entry) {
		if (r->ss.ss_family != AF_INET && r->ss.ss_family != AF_INET6)
			abort();
		n++;
	}
	if (n < 1 || n > MAX_RESOLVERS || conf->dns_ndots > 15 ||
	    strlen(conf->dns_search) >= sizeof(conf->dns_search))
		abort();
	config_free(conf);

	h = hosts_parse((const char *)data, len);
	n = hosts_lookup(h, "localhost", 25, ss, 4);
	if (n < 0 || n > 4)
		abort();
	hosts_free(h);

	if ((s = strndup((const char *)data, len)) == NULL)
		abort();
	if (dns_name_check(s, out, sizeof(out), NULL) == DNS_NAME_OK) {
		if (strlen(out) > 253)
			abort();
		for (i = 0; out[i] != '\0'; i++)
			if (out[i] >= 'A' && out[i] <= 'Z')
				abort();
	}
	free(s);
	return (0);
}

#include "fuzzmain.h"
