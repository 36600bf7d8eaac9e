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


/* What scambackctl's files share: the parsed command and the printers. */

#ifndef SCAMBACKCTL_H
#define SCAMBACKCTL_H

#include <time.h>

enum actions {
	NONE,
	SHOW,
	SHOW_CACHE,
	SHOW_BACKENDS,
	SHOW_STATS,
	FLUSH,
	FLUSH_CACHE,
	FLUSH_BACKOFF,
	SAVE,
	SAVE_CACHE,
	CHECK,
	SHOW_RULES,
	CHECK_RULES,
	RELOAD,
	LOG,
	LOG_VERBOSE,
	LOG_BRIEF
};

struct parse_result {
	enum actions		 action;
	struct ctl_filter	 filter;	/* show/flush cache, check */
	char			 name[NAME_LEN];	/* flush backoff */
	struct ctl_check_rules	 session;	/* check rules */
};

/* parser.c */
struct parse_result	*parse(int, char *[], void (*)(const char *, ...),
			    void (*)(const char *));

/*
 * One printer per output format, as bgpctl's output.c and output_json.c:
 * head before the first reply, one call per reply, tail after END.
 */
struct output {
	void	(*head)(struct parse_result *);
	void	(*cache_entry)(struct ctl_cache_entry *, time_t);
	void	(*backend)(struct ctl_backend *, time_t);
	void	(*stats)(struct ctl_stats *, time_t);
	void	(*store)(struct parse_result *, struct ctl_store *, time_t);
	void	(*check)(struct ctl_check *);
	void	(*rule)(struct ctl_rule *, time_t);
	void	(*rules_result)(struct parse_result *,
		    struct ctl_rules_result *);
	void	(*result)(struct parse_result *, struct ctl_result *);
	void	(*tail)(struct parse_result *);
};

extern const struct output	show_output;	/* output.c */
extern const struct output	json_output;	/* output_json.c */

/* output.c: show stats's counters, for both printers */
struct stat_field {
	const char	*group;		/* JSON object, or NULL */
	const char	*key;		/* NULL ends the table */
	size_t		 off;		/* of a uint64_t in ctl_stats */
};
extern const struct stat_field	stat_fields[];
uint64_t	stat_value(const struct ctl_stats *, const struct stat_field *);

/* output.c: shared helpers */
const char	*fmt_duration(int64_t, char *, size_t);
const char	*fmt_host_state(enum host_state);
const char	*fmt_store_state(enum store_state);

/* json.c: a small JSON writer on stdout */
void	json_do_start(void);
void	json_do_finish(void);
void	json_do_array(const char *);
void	json_do_object(const char *);
void	json_do_end(void);
void	json_do_string(const char *, const char *);
void	json_do_uint(const char *, uint64_t);
void	json_do_int(const char *, int64_t);
void	json_do_bool(const char *, int);
void	json_do_error(const char *, const char *const *, size_t);

/*
 * scambackctl.c: a complaint, on standard error, or with -j as the
 * "error" (and "valid") of a JSON document on standard output.
 */
void	ctl_error(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	ctl_valid(const char *);
__dead void	ctl_fatal(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));

#endif /* SCAMBACKCTL_H */
