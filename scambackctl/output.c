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


/* The text printers: columns for people. */

#include <sys/types.h>

#include <inttypes.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"
#include "printable.h"
#include "scambackctl.h"

static void	show_head(struct parse_result *);
static void	show_cache_entry(struct ctl_cache_entry *, time_t);
static void	show_backend(struct ctl_backend *, time_t);
static void	show_stats(struct ctl_stats *, time_t);
static void	show_store(struct parse_result *, struct ctl_store *, time_t);
static void	show_check(struct ctl_check *);
static void	show_rule(struct ctl_rule *, time_t);
static void	show_rules_result(struct parse_result *,
		    struct ctl_rules_result *);
static void	show_result(struct parse_result *, struct ctl_result *);
static void	show_tail(struct parse_result *);
static const char *fmt_time(int64_t, char *, size_t);

const struct output show_output = {
	.head = show_head,
	.cache_entry = show_cache_entry,
	.backend = show_backend,
	.stats = show_stats,
	.store = show_store,
	.check = show_check,
	.rule = show_rule,
	.rules_result = show_rules_result,
	.result = show_result,
	.tail = show_tail,
};

/* "2d03h", "5h07m", "4m12s", "9s": two units are enough to read. */
const char *
fmt_duration(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", secs / 86400,
		    secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", secs / 3600,
		    secs % 3600 / 60);
	else if (secs >= 60)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", secs / 60,
		    secs % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", secs);
	return (buf);
}

const char *
fmt_host_state(enum host_state s)
{
	switch (s) {
	case HOST_UP:
		return ("up");
	case HOST_BACKOFF:
		return ("backoff");
	case HOST_UNRESOLVED:
		return ("unresolved");
	default:
		return ("unknown");
	}
}

const char *
fmt_store_state(enum store_state s)
{
	switch (s) {
	case STORE_NONE:
		return ("none");
	case STORE_CONNECTING:
		return ("connecting");
	case STORE_UP:
		return ("up");
	case STORE_DOWN:
		return ("down");
	default:
		return ("unknown");
	}
}

static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strlcpy(buf, "never", len);
	return (buf);
}

static void
show_head(struct parse_result *res)
{
	if (res->action == SHOW_CACHE)
		printf("%-40s %-7s %10s %8s\n", "address", "state",
		    "expires in", "hits");
}

static void
show_cache_entry(struct ctl_cache_entry *e, time_t now)
{
	char	buf[32], abuf[ADDR_LEN];

	/* Addresses come from the MTA: nothing in them reaches a terminal. */
	printf("%-40s %-7s %10s %8u\n",
	    printable(e->address, abuf, sizeof(abuf)),
	    policy_verdict_name(e->state),
	    fmt_duration(e->expires - now, buf, sizeof(buf)), e->hits);
}

static void
show_backend(struct ctl_backend *b, time_t now)
{
	struct ctl_host	*h;
	char		 buf[32];
	uint32_t	 i;

	printf("backend %s: sessions %u open, %u idle, %u max; %u queued\n",
	    b->name, b->sessions_open, b->sessions_idle, b->sessions_limit,
	    b->queued);
	for (i = 0; i < b->nhosts && i < CTL_MAX_HOSTS; i++) {
		h = &b->hosts[i];
		printf("  host %s port %u: %s", h->name, h->port,
		    fmt_host_state(h->state));
		if (h->state == HOST_BACKOFF)
			printf(" for %s", fmt_duration(h->backoff_until - now,
			    buf, sizeof(buf)));
		if (h->last_error[0] != '\0')
			printf(" (last error: %s)", h->last_error);
		printf("\n");
	}
	printf("  probes %" PRIu64 ", catch-all shortcuts %" PRIu64 ": %"
	    PRIu64 " valid, %" PRIu64 " invalid, %" PRIu64 " unknown; "
	    "latency mean %u ms, p99 %u ms\n", b->probes, b->shortcuts,
	    b->valid, b->invalid, b->unknown, b->latency_mean_ms,
	    b->latency_p99_ms);
}

/*
 * The counters of show stats, in the order both printers give them.
 * The text label is the JSON name with its group: "verdicts valid" is
 * "verdicts": { "valid" }, "waits timed out" is "waits_timed_out".
 */
const struct stat_field stat_fields[] = {
	{ NULL,		"lookups",	offsetof(struct ctl_stats, lookups) },
	{ NULL,		"hits_valid",	offsetof(struct ctl_stats, hits_valid) },
	{ NULL,		"hits_invalid",
	    offsetof(struct ctl_stats, hits_invalid) },
	{ NULL,		"misses",	offsetof(struct ctl_stats, misses) },
	{ NULL,		"probes",	offsetof(struct ctl_stats, probes) },
	{ NULL,		"catchall_shortcuts",
	    offsetof(struct ctl_stats, catchall) },
	{ NULL,		"coalesced",	offsetof(struct ctl_stats, coalesced) },
	{ NULL,		"waits_timed_out",
	    offsetof(struct ctl_stats, waits_timed_out) },
	{ NULL,		"probes_pending",
	    offsetof(struct ctl_stats, probes_pending) },
	{ "verdicts",	"valid",	offsetof(struct ctl_stats, verdict_valid) },
	{ "verdicts",	"invalid",
	    offsetof(struct ctl_stats, verdict_invalid) },
	{ "verdicts",	"unknown",
	    offsetof(struct ctl_stats, verdict_unknown) },
	{ "verdicts",	"impossible",	offsetof(struct ctl_stats, impossible) },
	{ "skipped",	"from",		offsetof(struct ctl_stats, skip_from) },
	{ "skipped",	"local",	offsetof(struct ctl_stats, skip_local) },
	{ "skipped",	"daemon",	offsetof(struct ctl_stats, skip_daemon) },
	{ "skipped",	"authenticated",
	    offsetof(struct ctl_stats, skip_auth) },
	{ "skipped",	"no_domain",
	    offsetof(struct ctl_stats, skip_nodomain) },
	{ "skipped",	"unmatched",
	    offsetof(struct ctl_stats, skip_unmatched) },
	{ "skipped",	"bad_address",
	    offsetof(struct ctl_stats, skip_bad_address) },
	{ "dns",	"lookups",	offsetof(struct ctl_stats, dns_lookups) },
	{ "dns",	"hits",		offsetof(struct ctl_stats, dns_hits) },
	{ "dns",	"merged",	offsetof(struct ctl_stats, dns_merged) },
	{ "dns",	"queries",	offsetof(struct ctl_stats, dns_queries) },
	{ "dns",	"tempfail",	offsetof(struct ctl_stats, dns_tempfail) },
	{ "dns",	"waits_timed_out",
	    offsetof(struct ctl_stats, dns_timed_out) },
	{ "dns",	"answers",	offsetof(struct ctl_stats, dns_answers) },
	{ NULL,		NULL,		0 }
};

uint64_t
stat_value(const struct ctl_stats *s, const struct stat_field *f)
{
	uint64_t	v;

	memcpy(&v, (const char *)s + f->off, sizeof(v));
	return (v);
}

/* "verdicts", "no_domain": "verdicts no domain" */
static const char *
stat_label(const struct stat_field *f, char *buf, size_t len)
{
	char	*p;

	snprintf(buf, len, "%s%s%s", f->group != NULL ? f->group : "",
	    f->group != NULL ? " " : "", f->key);
	for (p = buf; *p != '\0'; p++)
		if (*p == '_')
			*p = ' ';
	return (buf);
}

static void
show_stats(struct ctl_stats *s, time_t now)
{
	const struct stat_field	*f;
	char			 buf[32], tbuf[32], lbuf[48];

	printf("%-24s %s\n", "uptime", fmt_duration(now - s->started, buf,
	    sizeof(buf)));
	printf("%-24s %" PRIu64 " of %" PRIu64 "\n", "cache entries",
	    s->cache_entries, s->cache_size);
	for (f = stat_fields; f->key != NULL; f++)
		printf("%-24s %" PRIu64 "\n", stat_label(f, lbuf,
		    sizeof(lbuf)), stat_value(s, f));
	if (s->cache_saved_at > 0)
		printf("%-24s %" PRIu64 ", last %s (%s ago)\n", "cache saves",
		    s->cache_saves, fmt_time(s->cache_saved_at, tbuf,
		    sizeof(tbuf)), fmt_duration(now - s->cache_saved_at, buf,
		    sizeof(buf)));
	else
		printf("%-24s %" PRIu64 "\n", "cache saves", s->cache_saves);
}

/* The shared store, after the backends or the figures. */
static void
show_store(struct parse_result *res, struct ctl_store *s, time_t now)
{
	char	buf[32];

	if (res->action == SHOW_STATS)
		printf("\n");
	printf("shared store %s port %u prefix \"%s\": %s for %s",
	    s->address, s->port, s->prefix, fmt_store_state(s->state),
	    fmt_duration(now - s->since, buf, sizeof(buf)));
	if (s->state == STORE_DOWN && s->retry_at > 0)
		printf(", next try in %s", fmt_duration(s->retry_at - now, buf,
		    sizeof(buf)));
	printf("\n");
	printf("  lookups %" PRIu64 ": %" PRIu64 " hits, %" PRIu64
	    " catch-all, %" PRIu64 " misses, %" PRIu64 " lock waits, %"
	    PRIu64 " alone\n", s->lookups, s->hits, s->catchall_hits,
	    s->misses, s->lock_waits, s->alone);
	printf("  stored %" PRIu64 ", flushed %" PRIu64 ", errors %" PRIu64
	    "; round trip mean %u us, p99 %u us\n", s->stored, s->flushed,
	    s->errors, s->rtt_mean_us, s->rtt_p99_us);
	if (s->last_error[0] != '\0')
		printf("  last error: %s\n", s->last_error);
}

static void
show_check(struct ctl_check *c)
{
	struct probe_res	*r = &c->res;
	char			 abuf[ADDR_LEN];

	printf("%s: %s", printable(c->address, abuf, sizeof(abuf)),
	    policy_verdict_name(r->verdict));
	if (r->catchall)
		printf(" (the domain accepts any recipient)");
	printf("\n");
	if (c->backend[0] == '\0') {
		printf("  not verified: %s\n", r->text);
		return;
	}
	printf("  backend %s: ", c->backend);
	if (r->code != 0)
		printf("%d%s%s %s", r->code, r->enhanced[0] != '\0' ? " " : "",
		    r->enhanced, r->text);
	else
		printf("no answer: %s", r->text);
	printf(" (%u ms)\n", c->elapsed_ms);
}

/* As pfctl -vsr: the rule, then its counters. */
static void
show_rule(struct ctl_rule *r, time_t now)
{
	char	buf[32];

	if (r->nr == 1 && r->dryrun)
		printf("# rules dry-run: nothing is refused\n");
	printf("@%u %s\n", r->nr, r->text);
	printf("  [ Evaluations: %-8" PRIu64 " Matches: %-8" PRIu64
	    " Refused: %-8" PRIu64 " Deferred: %-6" PRIu64 " Last: %s ]\n",
	    r->evaluations, r->matches, r->refused, r->deferred,
	    r->last > 0 ? fmt_duration(now - r->last, buf, sizeof(buf)) :
	    "never");
}

/* Which rule decides a made-up session, and what the MTA would hear. */
static void
show_rules_result(struct parse_result *res, struct ctl_rules_result *r)
{
	struct ctl_check_rules	*s = &res->session;
	char			 buf[ADDR_LEN];

	printf("client %s", s->client);
	if (s->name[0] != '\0')
		printf(" name %s", printable(s->name, buf, sizeof(buf)));
	else if (s->unknown)
		printf(" name unknown");
	if (s->helo[0] != '\0')
		printf(" helo %s", printable(s->helo, buf, sizeof(buf)));
	if (s->sender_set)
		printf(" mail-from <%s>", s->sender[0] != '\0' ?
		    printable(s->sender, buf, sizeof(buf)) : "");
	printf(" rcpt-to <%s>\n", printable(s->rcpt, buf, sizeof(buf)));
	if (r->nr == 0)
		printf("no rule decides: the recipient is verified\n");
	else
		printf("rule %u: %s\n", r->nr, r->rule);
	if (strcmp(r->verdict, "pass") == 0)
		printf("pass: %s\n", r->noverify ? "accepted, not verified" :
		    "the recipient is verified");
	else if (r->reply[0] != '\0')
		printf("%s: %s\n", r->verdict, r->reply);
	if (r->value[0] != '\0')
		printf("value: %s\n", r->value);
	if (r->permanent != 0)
		printf("rule %u: set permanent applies to the session\n",
		    r->permanent);
	if (r->dryrun)
		printf("rules dry-run: nothing would be refused\n");
	if (r->note[0] != '\0')
		printf("note: %s\n", r->note);
}

static void
show_result(struct parse_result *res, struct ctl_result *r)
{
	if (r->text[0] != '\0')
		printf("%s\n", r->text);
}

static void
show_tail(struct parse_result *res)
{
}
