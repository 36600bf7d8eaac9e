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
 * Fuzz target for access tables and rule replies (SPEC sections 10, 11).
 *
 *	make fuzz && regress/fuzz/fuzz_table corpus/
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * An input is a table file, then a line "%%", then strings to look up,
 * one a line; the first of them is also expanded as a reply.  The table
 * is loaded as the parent loads one; every string is looked up as a
 * client, a host, a sender and an AUTH name, and through a small rule
 * list that uses the table in every condition.  Nothing may crash, read
 * out of bounds or leak; a reply -n accepts must expand within its
 * buffer.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
ignore(void *arg, int lineno, const char *msg)
{
}

static enum rdns_status
dns_resolvable(void *arg, const char *dom, int parent)
{
	return (dom[0] == 'n' ? RDNS_NOTFOUND : dom[0] == 't' ? RDNS_TEMP :
	    dom[0] == 'z' ? RDNS_NULLMX : RDNS_OK);
}

static enum rdns_status
dns_servers(void *arg, const char *dom, int ns, struct rule_servers *srv)
{
	srv->nnames = 1;
	strlcpy(srv->names[0], dom, sizeof(srv->names[0]));
	srv->naddrs = 1;
	client_from_string(&srv->addrs[0], "192.0.2.1");
	return (dom[0] == 't' ? RDNS_TEMP : RDNS_OK);
}

static int
dns_protected(void *arg, const char *dom)
{
	return (strlen(dom) % 2);
}

static void
lookups(struct table *t, const char *s)
{
	static const enum cond_type	 types[] = { COND_FROM_TABLE,
	    COND_FROM_RDNS, COND_HELO, COND_AUTH, COND_MAIL_TABLE,
	    COND_MAIL_MX, COND_MAIL_NS, COND_RCPT };
	struct client_addr		 a;
	struct atable_list		 tables;
	struct atable_conf		 tc;
	struct rule_list		 rules;
	struct rule_conf		 r[10];
	struct rules_session		 sess;
	struct rules_env		 env;
	struct rules_result		 res;
	struct reply_vars		 v;
	struct reply_parts		 parts;
	const char			*val;
	char				 out[512];
	size_t				 i;

	if (client_from_string(&a, s) == -1)
		client_from_string(&a, "203.0.113.1");
	(void)table_match_client(t, &a, s, &val);
	(void)table_match_host(t, s, NULL, &val);
	(void)table_match_host(t, NULL, &a, &val);
	(void)table_match_mail(t, s, 0, &val);
	(void)table_match_mail(t, s, 1, &val);
	(void)table_match_string(t, s, &val);

	TAILQ_INIT(&tables);
	memset(&tc, 0, sizeof(tc));
	tc.table = t;
	TAILQ_INSERT_TAIL(&tables, &tc, entry);
	TAILQ_INIT(&rules);
	memset(r, 0, sizeof(r));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		r[i].nr = i + 1;
		r[i].action = i % 3 == 0 ? RULE_MATCH : RULE_REJECT;
		r[i].stage = STAGE_RCPT;
		r[i].ncond = 2;
		r[i].cond[0].type = types[i];
		r[i].cond[0].table = 1;
		r[i].cond[0].negate = i % 2;
		r[i].cond[1].type = COND_MAIL_UNRESOLVABLE;
		r[i].cond[1].parent = i % 2;
		TAILQ_INSERT_TAIL(&rules, &r[i], entry);
	}
	memset(&sess, 0, sizeof(sess));
	sess.stage = STAGE_RCPT;
	sess.client = &a;
	sess.client_name = s;
	sess.client_ptr = s;
	sess.resolve = rules_resolve(s[0] == 'T' ? "TEMP" : NULL, s);
	sess.helo = s;
	sess.auth = s;
	sess.sender = s;
	sess.rcpt = s;
	memset(&env, 0, sizeof(env));
	env.resolvable = dns_resolvable;
	env.servers = dns_servers;
	env.protected = dns_protected;
	rules_eval(&rules, &tables, &sess, &env, &res);

	memset(&v, 0, sizeof(v));
	v.sender = v.rcpt = v.client_addr = v.client_name = v.helo = s;
	v.auth = v.value = s;
	if (res.rule != NULL) {
		v.rule = res.rule->nr;
		if (reply_split(reply_default(res.rule, &res), &parts) == 0)
			(void)reply_expand(parts.text, &v, 1, out,
			    sizeof(out));
	}
	if (reply_check(s, RULE_REJECT, 0) == NULL &&
	    reply_split(s, &parts) == 0) {
		(void)reply_expand(parts.text, &v, 1, out, sizeof(out));
		if (strlen(out) >= sizeof(out))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table	*t;
	char		*buf, *sep, *p, *nl;
	size_t		 tlen;

	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((sep = strstr(buf, "\n%%\n")) != NULL)
		tlen = sep - buf + 1;
	else
		tlen = size;
	if ((t = table_new("fuzz")) == NULL)
		err(1, NULL);
	(void)table_load_buf(t, buf, tlen, ignore, NULL);
	if (sep != NULL) {
		for (p = sep + 4; p < buf + size; p = nl + 1) {
			if ((nl = memchr(p, '\n', buf + size - p)) == NULL)
				nl = buf + size;
			*nl = '\0';
			lookups(t, p);
		}
	}
	table_free(t);
	free(buf);
	return (0);
}

#include "fuzzmain.h"
