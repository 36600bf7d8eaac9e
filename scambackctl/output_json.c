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


/* The JSON printers: one document per command, for scripts. */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scam-back.h"
#include "policy.h"
#include "scambackctl.h"

static void	json_head(struct parse_result *);
static void	json_cache_entry(struct ctl_cache_entry *, time_t);
static void	json_backend(struct ctl_backend *, time_t);
static void	json_stats(struct ctl_stats *, time_t);
static void	json_store(struct parse_result *, struct ctl_store *, time_t);
static void	json_check(struct ctl_check *);
static void	json_rule(struct ctl_rule *, time_t);
static void	json_rules_result(struct parse_result *,
		    struct ctl_rules_result *);
static void	json_result(struct parse_result *, struct ctl_result *);
static void	json_tail(struct parse_result *);

const struct output json_output = {
	.head = json_head,
	.cache_entry = json_cache_entry,
	.backend = json_backend,
	.stats = json_stats,
	.store = json_store,
	.check = json_check,
	.rule = json_rule,
	.rules_result = json_rules_result,
	.result = json_result,
	.tail = json_tail,
};

static void
json_head(struct parse_result *res)
{
	json_do_start();
	switch (res->action) {
	case SHOW_CACHE:
		json_do_array("cache");
		break;
	case SHOW_BACKENDS:
		json_do_array("backends");
		break;
	case SHOW_RULES:
		json_do_array("rules");
		break;
	default:
		break;
	}
}

static void
json_cache_entry(struct ctl_cache_entry *e, time_t now)
{
	json_do_object("");
	json_do_string("address", e->address);
	json_do_string("state", policy_verdict_name(e->state));
	json_do_int("expires", e->expires);
	json_do_int("expires_in", e->expires > now ? e->expires - now : 0);
	json_do_uint("hits", e->hits);
	json_do_end();
}

static void
json_backend(struct ctl_backend *b, time_t now)
{
	struct ctl_host	*h;
	uint32_t	 i;

	json_do_object("");
	json_do_string("name", b->name);
	json_do_array("hosts");
	for (i = 0; i < b->nhosts && i < CTL_MAX_HOSTS; i++) {
		h = &b->hosts[i];
		json_do_object("");
		json_do_string("name", h->name);
		json_do_uint("port", h->port);
		json_do_string("state", fmt_host_state(h->state));
		if (h->state == HOST_BACKOFF) {
			json_do_int("backoff_until", h->backoff_until);
			json_do_int("backoff_for", h->backoff_until > now ?
			    h->backoff_until - now : 0);
		}
		json_do_string("last_error", h->last_error);
		json_do_end();
	}
	json_do_end();
	json_do_object("sessions");
	json_do_uint("open", b->sessions_open);
	json_do_uint("idle", b->sessions_idle);
	json_do_uint("limit", b->sessions_limit);
	json_do_end();
	json_do_uint("queued", b->queued);
	json_do_uint("probes", b->probes);
	json_do_uint("catchall_shortcuts", b->shortcuts);
	json_do_uint("valid", b->valid);
	json_do_uint("invalid", b->invalid);
	json_do_uint("unknown", b->unknown);
	json_do_uint("latency_mean_ms", b->latency_mean_ms);
	json_do_uint("latency_p99_ms", b->latency_p99_ms);
	json_do_end();
}

static void
json_stats(struct ctl_stats *s, time_t now)
{
	const struct stat_field	*f;

	json_do_object("stats");
	json_do_int("started", s->started);
	json_do_int("uptime", now - s->started);
	json_do_uint("cache_entries", s->cache_entries);
	json_do_uint("cache_size", s->cache_size);
	for (f = stat_fields; f->key != NULL; f++) {
		/* A group opens where it starts, closes where it ends. */
		if (f->group != NULL && (f == stat_fields ||
		    f[-1].group == NULL || strcmp(f[-1].group, f->group) != 0))
			json_do_object(f->group);
		json_do_uint(f->key, stat_value(s, f));
		if (f->group != NULL && (f[1].key == NULL ||
		    f[1].group == NULL || strcmp(f[1].group, f->group) != 0))
			json_do_end();
	}
	json_do_uint("cache_saves", s->cache_saves);
	json_do_int("cache_saved_at", s->cache_saved_at);
	json_do_end();
}

/* "store" beside "backends" or "stats". */
static void
json_store(struct parse_result *res, struct ctl_store *s, time_t now)
{
	if (res->action == SHOW_BACKENDS)
		json_do_end();		/* the backends */
	json_do_object("store");
	json_do_string("address", s->address);
	json_do_uint("port", s->port);
	json_do_string("prefix", s->prefix);
	json_do_string("state", fmt_store_state(s->state));
	json_do_int("since", s->since);
	if (s->state == STORE_DOWN && s->retry_at > 0)
		json_do_int("retry_at", s->retry_at);
	json_do_string("last_error", s->last_error);
	json_do_uint("lookups", s->lookups);
	json_do_uint("hits", s->hits);
	json_do_uint("catchall_hits", s->catchall_hits);
	json_do_uint("misses", s->misses);
	json_do_uint("lock_waits", s->lock_waits);
	json_do_uint("alone", s->alone);
	json_do_uint("stored", s->stored);
	json_do_uint("flushed", s->flushed);
	json_do_uint("errors", s->errors);
	json_do_uint("rtt_mean_us", s->rtt_mean_us);
	json_do_uint("rtt_p99_us", s->rtt_p99_us);
	json_do_end();
}

static void
json_check(struct ctl_check *c)
{
	json_do_object("check");
	json_do_string("address", c->address);
	json_do_string("verdict", policy_verdict_name(c->res.verdict));
	json_do_string("backend", c->backend);
	json_do_uint("code", c->res.code > 0 ? c->res.code : 0);
	json_do_string("enhanced", c->res.enhanced);
	json_do_string("text", c->res.text);
	json_do_bool("catchall", c->res.catchall);
	json_do_uint("elapsed_ms", c->elapsed_ms);
	json_do_end();
}

static void
json_rule(struct ctl_rule *r, time_t now)
{
	json_do_object("");
	json_do_uint("number", r->nr);
	json_do_string("rule", r->text);
	json_do_uint("evaluations", r->evaluations);
	json_do_uint("matches", r->matches);
	json_do_uint("refused", r->refused);
	json_do_uint("deferred", r->deferred);
	json_do_int("last", r->last);
	json_do_bool("dry_run", r->dryrun);
	json_do_end();
}

static void
json_rules_result(struct parse_result *res, struct ctl_rules_result *r)
{
	json_do_object("check_rules");
	json_do_uint("rule", r->nr);
	json_do_string("text", r->rule);
	json_do_string("verdict", r->verdict);
	json_do_bool("noverify", r->noverify);
	json_do_string("reply", r->reply);
	json_do_string("value", r->value);
	json_do_uint("permanent_rule", r->permanent);
	json_do_bool("dry_run", r->dryrun);
	json_do_string("note", r->note);
	json_do_end();
}

static void
json_result(struct parse_result *res, struct ctl_result *r)
{
	json_do_object("result");
	json_do_bool("ok", r->ok);
	json_do_uint("count", r->count);
	json_do_string("message", r->text);
	json_do_end();
}

static void
json_tail(struct parse_result *res)
{
	json_do_finish();
}
